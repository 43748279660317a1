"""How the client authenticates to the provider's token-side endpoints.

One setting per blueprint, ``token_endpoint_auth_method``, names the method
(OpenID Connect Core 9, RFC 7523, RFC 8414):

``client_secret_basic``
    HTTP Basic with the client ID and secret, each form-urlencoded first
    (RFC 6749 2.3.1), so that a secret with ``:`` or ``%`` works.
``client_secret_post``
    ``client_id`` and ``client_secret`` in the form body.
``client_secret_jwt``
    A fresh JWT assertion signed with the client secret (HMAC).
``private_key_jwt``
    A fresh JWT assertion signed with the client's private key.
``none``
    Only ``client_id`` in the body: a public client (PKCE protects the code).

This module only decides and builds; :mod:`._token_endpoint` sends. JWT
signing lives in :mod:`.oidc.client_auth`, imported only when a JWT method is
used, so that plain OAuth 2 apps need neither PyJWT nor cryptography.
"""

from __future__ import annotations

import dataclasses
import typing as t

import requests.auth

from ._basic_auth import BasicAuth
from ._basic_auth import ClientAuthError

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import AnyBlueprint

#: The client authentication methods a blueprint can use.
METHODS: t.Final[tuple[str, ...]] = (
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
)

_SECRET_METHODS = frozenset(
    ("client_secret_basic", "client_secret_post", "client_secret_jwt")
)


@dataclasses.dataclass(frozen=True)
class ClientAuth:
    """What one token-side request carries to authenticate the client."""

    #: The method used.
    method: str
    #: Form fields to add to the request body.
    fields: dict[str, str]
    #: The :mod:`requests` auth to send the request with, or ``None``.
    auth: requests.auth.AuthBase | None
    #: Builds the same authentication afresh (a new JWT assertion), for a
    #: request sent again; ``None`` when it never changes.
    renew: t.Callable[[], ClientAuth] | None = None

    def renewed(self) -> ClientAuth:
        """This authentication as a request sent again must carry it."""
        return self.renew() if self.renew is not None else self

    def fetch_token_kwargs(self, client_secret: str | None) -> dict[str, t.Any]:
        """The keyword arguments that make requests-oauthlib's ``fetch_token``
        authenticate this way.

        :param client_secret: The client secret.
        """
        if self.auth is not None:
            return {"auth": self.auth, "include_client_id": False}
        extra = {k: v for k, v in self.fields.items() if k != "client_id"}
        extra.pop("client_secret", None)
        return {
            "include_client_id": True,
            "client_secret": client_secret
            if self.method == "client_secret_post"
            else None,
            **extra,
        }


def _can_use(blueprint: AnyBlueprint, method: str) -> bool:
    if method in _SECRET_METHODS:
        return bool(blueprint.client_secret)
    if method == "private_key_jwt":
        return bool(blueprint.client_signing_key)
    if method == "none":
        return not blueprint.client_secret and not blueprint.client_signing_key
    return False


def configured_method(blueprint: AnyBlueprint) -> str | None:
    """The method the blueprint was told to use, checked; ``None`` if unset.

    :raises ClientAuthError: for a name that is not in :data:`METHODS`.
    """
    method = getattr(blueprint, "token_endpoint_auth_method", None)
    if not method:
        return None
    if method not in METHODS:
        raise ClientAuthError(
            f"Unknown token_endpoint_auth_method {method!r} on the blueprint"
            f" {blueprint.name!r}; use one of {', '.join(METHODS)}."
        )
    return str(method)


def resolve_method(blueprint: AnyBlueprint) -> str | None:
    """The method the blueprint uses, or ``None`` for Flask-Dance 7.1's
    behaviour (plain OAuth 2 without a setting).

    The configured method wins. Otherwise, with an issuer, the first method of
    the provider's ``token_endpoint_auth_methods_supported`` that the
    blueprint has a secret or key for; a blueprint with a private key and no
    secret uses ``private_key_jwt``.

    :raises ClientAuthError: for an unknown configured method.
    :raises flask_dance.consumer.oidc.OIDCError: when discovery fails.
    """
    method = configured_method(blueprint)
    if method is not None:
        return method
    if blueprint.issuer:
        from . import _openid

        meta = _openid.metadata(blueprint)
        supported = meta.token_endpoint_auth_methods_supported if meta else None
        for name in supported or ():
            if name in METHODS and _can_use(blueprint, name):
                return name
    if blueprint.client_signing_key and not blueprint.client_secret:
        return "private_key_jwt"
    return None


def effective_method(blueprint: AnyBlueprint) -> str:
    """The method to use where Flask-Dance 7.1 had no rule of its own
    (revocation, introspection, PAR, client credentials): the resolved one,
    else Basic with a secret, else ``none``."""
    method = resolve_method(blueprint)
    if method is not None:
        return method
    if blueprint.client_secret:
        return "client_secret_basic"
    if blueprint.client_signing_key:
        return "private_key_jwt"
    return "none"


def _assertion_audience(blueprint: AnyBlueprint, endpoint: str) -> str:
    """``aud`` of a JWT assertion: the configured one, else the issuer
    identifier (accepted by every endpoint of the server, RFC 7523bis), else
    the token endpoint URL (RFC 7523 3, OpenID Connect Core 9)."""
    own = getattr(blueprint, "client_assertion_audience", None)
    if own:
        return str(own)
    if blueprint.issuer:
        return str(blueprint.issuer)
    return endpoint


def build(
    blueprint: AnyBlueprint, endpoint: str, method: str | None = None
) -> ClientAuth:
    """Build the client authentication of one request to ``endpoint``.

    JWT assertions are signed afresh for each call (a new ``jti``, a short
    ``exp``).

    :param blueprint: The blueprint whose client authenticates.
    :param endpoint: The token endpoint URL (the default ``aud`` of an
        assertion when the blueprint has no issuer).
    :param method: The method; default :func:`effective_method`.
    :raises ClientAuthError: when the secret or key the method needs is missing.
    """
    if method is None:
        method = effective_method(blueprint)
    client_id = str(blueprint.client_id or "")
    if not client_id:
        raise ClientAuthError(
            f"The blueprint {blueprint.name!r} has no client_id to authenticate with."
        )
    secret = blueprint.client_secret
    if method in _SECRET_METHODS and not secret:
        raise ClientAuthError(
            f"token_endpoint_auth_method {method!r} needs a client secret; set"
            f" 'client_secret' on the blueprint {blueprint.name!r}."
        )
    if method == "client_secret_basic":
        return ClientAuth(method, {}, BasicAuth(client_id, str(secret)))
    if method == "client_secret_post":
        fields = {"client_id": client_id, "client_secret": str(secret)}
        return ClientAuth(method, fields, None)
    if method == "none":
        return ClientAuth(method, {"client_id": client_id}, None)
    from .oidc import client_auth as jwt_auth

    audience = _assertion_audience(blueprint, endpoint)
    if method == "client_secret_jwt":
        assertion = jwt_auth.make_secret_assertion(client_id, audience, str(secret))
    elif method == "private_key_jwt":
        if not blueprint.client_signing_key:
            raise ClientAuthError(
                "token_endpoint_auth_method 'private_key_jwt' needs the client's"
                " private key; set 'client_signing_key' on the blueprint"
                f" {blueprint.name!r}"
                " (a PEM or a JWK with its 'kid'), or the"
                f" {blueprint.name.upper()}_OAUTH_CLIENT_KEY_JWK config value."
            )
        signing = jwt_auth.load_signing_key(blueprint.client_signing_key)
        assertion = jwt_auth.make_client_assertion(
            client_id,
            audience,
            signing.key,
            alg=signing.alg_for(_signing_algs(blueprint)),
            kid=getattr(blueprint, "client_signing_key_id", None) or signing.kid,
        )
    else:  # pragma: no cover - configured_method checked the name
        raise ClientAuthError(f"Unknown token_endpoint_auth_method {method!r}.")
    fields = {"client_id": client_id, **jwt_auth.client_assertion_params(assertion)}

    def renew() -> ClientAuth:
        return build(blueprint, endpoint, method)

    return ClientAuth(method, fields, None, renew)


def _signing_algs(blueprint: AnyBlueprint) -> tuple[str, ...]:
    """The assertion signing algorithms the provider announces, if known."""
    if not blueprint.issuer:
        return ()
    from . import _openid

    meta = _openid.metadata(blueprint)
    value = (
        meta.get("token_endpoint_auth_signing_alg_values_supported") if meta else None
    )
    return tuple(v for v in value or () if isinstance(v, str))


def for_request(
    blueprint: t.Any, endpoint: str, *, keep_legacy: bool
) -> ClientAuth | None:
    """The client authentication of a request to ``endpoint``.

    :param blueprint: The blueprint, or whatever a session was built with
        (a mock blueprint in an app's tests gets ``None``).
    :param endpoint: The endpoint URL.
    :param keep_legacy: Return ``None`` when no method is configured or
        discovered, so that the caller does what Flask-Dance 7.1 did.
    :raises ClientAuthError: when the method cannot be used as configured.
    """
    # (a real blueprint sets the attribute; a mock's getattr would invent it)
    own = getattr(blueprint, "__dict__", None)
    if not isinstance(own, dict) or "token_endpoint_auth_method" not in own:
        return None
    method = resolve_method(blueprint)
    if method is None:
        if keep_legacy:
            return None
        method = effective_method(blueprint)
    return build(blueprint, endpoint, method)
