"""OpenID Connect for the OAuth 2 blueprint: discovery, the nonce, id_token
validation after the code exchange and after a refresh, userinfo, and the
endpoints of revocation and logout.

The validation itself lives in :mod:`flask_dance.consumer.oidc`; this module
only connects it to a blueprint, and imports it lazily so that apps without
OpenID Connect need neither PyJWT nor cryptography.
"""

from __future__ import annotations

import collections
import logging
import os
import secrets
import typing as t

import flask
import requests
from werkzeug.wrappers import Response

from ._oidc_errors import OIDCError
from ._urls import safe_next_url

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import AnyBlueprint
    from .oidc import ProviderMetadata
    from .oidc import TokenChecks

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import OAuth2Host
else:
    OAuth2Host = object

log: logging.Logger = logging.getLogger(__name__)

#: Key of the validated id_token claims inside a stored token.
CLAIMS_KEY = "id_token_claims"


def new_nonce() -> str:
    """A fresh nonce: 256 bits from the OS's generator."""
    return secrets.token_urlsafe(32)


def allow_insecure() -> bool:
    """Whether plain-HTTP provider URLs are allowed (development only)."""
    return bool(os.environ.get("OAUTHLIB_INSECURE_TRANSPORT"))


def scope_has_openid(scope: t.Any) -> bool:
    """Whether ``scope`` (a string or a list) asks for ``openid``."""
    if not scope:
        return False
    words = scope.split() if isinstance(scope, str) else list(scope)
    return "openid" in words


def plain_session(blueprint: AnyBlueprint) -> requests.Session:
    """A session without any user's token, on the blueprint's shared pool,
    for discovery and key-set requests."""
    session = requests.Session()
    session.adapters = collections.OrderedDict(blueprint._shared_adapters())
    return session


def metadata(blueprint: AnyBlueprint) -> ProviderMetadata | None:
    """The issuer's metadata, discovered on first use and cached; ``None``
    when the blueprint has no issuer.

    :raises flask_dance.consumer.oidc.DiscoveryError: when discovery fails.
    """
    if not blueprint.issuer:
        return None
    from .oidc import get_provider_metadata

    return get_provider_metadata(
        blueprint.issuer,
        session=plain_session(blueprint),
        timeout=blueprint.timeout or 10.0,
        allow_insecure=allow_insecure(),
    )


def check_callback_issuer(blueprint: AnyBlueprint, iss: str | None) -> None:
    """RFC 9207: an ``iss`` on the callback must name our issuer, and is
    required when the provider says it sends one.

    :raises flask_dance.consumer.oidc.AuthorizationResponseError: on mismatch.
    """
    if not blueprint.issuer:
        return
    from .oidc import check_authorization_response_iss

    meta = metadata(blueprint)
    check_authorization_response_iss(
        iss,
        expected_issuer=blueprint.issuer,
        required=bool(meta is not None and meta.requires_iss_parameter()),
    )


def _resolver(blueprint: AnyBlueprint) -> t.Any:
    from .oidc import get_jwks_cache

    meta = metadata(blueprint)
    jwks_uri = blueprint.jwks_url or (meta.jwks_uri if meta is not None else None)
    if not jwks_uri:
        from .oidc import JWKSError

        raise JWKSError(
            "jwks_unavailable",
            "The provider announces no 'jwks_uri': pass 'jwks_url' to the blueprint.",
        )
    return get_jwks_cache(jwks_uri, allow_insecure=allow_insecure()).resolver(
        plain_session(blueprint), timeout=blueprint.timeout or 10.0
    )


def _expected_issuer(blueprint: AnyBlueprint) -> str:
    if blueprint.issuer:
        return str(blueprint.issuer)
    raise RuntimeError(
        f"The blueprint {blueprint.name!r} asks for 'openid' but has no 'issuer';"
        " pass issuer='https://...' so that id_tokens can be validated."
    )


def token_checks(blueprint: AnyBlueprint) -> TokenChecks:
    """What every token the provider signs for ``blueprint`` is checked
    against: its issuer, its client ID, the provider's published keys, and the
    algorithms and audiences the blueprint accepts.

    :raises RuntimeError: when the blueprint has no issuer.
    :raises flask_dance.consumer.oidc.JWKSError: without a key set URL.
    """
    return {
        "issuer": _expected_issuer(blueprint),
        "client_id": str(blueprint.client_id),
        "jwks": _resolver(blueprint),
        "allowed_algs": blueprint.id_token_algorithms,
        "trusted_audiences": blueprint.trusted_audiences,
    }


def validate_login_token(
    blueprint: AnyBlueprint,
    token: dict[str, t.Any],
    *,
    nonce: str | None,
    max_age: int | None,
    code: str | None,
) -> dict[str, t.Any]:
    """Validate the id_token of a token from the code exchange and return
    its claims.

    :raises flask_dance.consumer.oidc.OIDCError: when it is missing or invalid.
    """
    from .oidc import IDTokenError
    from .oidc import validate_id_token

    id_token = token.get("id_token")
    if not id_token:
        raise IDTokenError(
            "missing_claim",
            "The provider answered an OpenID Connect request without an id_token.",
        )
    return validate_id_token(
        id_token,
        nonce=nonce,
        access_token=token.get("access_token"),
        code=code,
        max_age=max_age,
        **token_checks(blueprint),
    )


def validate_refreshed_token(
    blueprint: AnyBlueprint,
    old: t.Mapping[str, t.Any],
    new: dict[str, t.Any],
) -> None:
    """Validate the id_token of a refreshed token, if there is one: same
    issuer, subject and audience as before (OpenID Connect Core 12.2). The
    old claims are carried over when the provider sends no new id_token.

    :raises flask_dance.consumer.oidc.OIDCError: when it is invalid.
    """
    old_claims = old.get(CLAIMS_KEY)
    if not new.get("id_token") or new.get("id_token") == old.get("id_token"):
        if old_claims is not None:
            new[CLAIMS_KEY] = old_claims
            new.setdefault("id_token", old.get("id_token"))
        return
    from .oidc import check_refreshed_id_token
    from .oidc import validate_id_token

    claims = validate_id_token(
        new["id_token"],
        nonce=None,
        access_token=new.get("access_token"),
        **token_checks(blueprint),
    )
    if old_claims:
        check_refreshed_id_token(old_claims, claims)
    new[CLAIMS_KEY] = claims


def endpoint(blueprint: AnyBlueprint, name: str) -> str | None:
    """An endpoint the app set on the blueprint, else the one the metadata
    announces: ``name`` is ``"authorization"``, ``"token"``, ``"userinfo"``,
    ``"revocation"`` or ``"end_session"``."""
    own: str | None = getattr(blueprint, f"{name}_url", None)
    if own:
        return own
    meta = metadata(blueprint)
    if meta is None:
        return None
    value: str | None = getattr(meta, f"{name}_endpoint")
    return value


class OpenIDMixin(OAuth2Host):
    """What OpenID Connect adds to :class:`~.oauth2.OAuth2ConsumerBlueprint`:
    the claims of the login, userinfo, checked refreshes, and RP-initiated
    logout."""

    @property
    def is_openid(self) -> bool:
        """Whether logins are OpenID Connect logins: an issuer is set, or the
        scope asks for ``openid``. Such logins send a nonce; their id_token is
        validated when :attr:`issuer` is set (without an issuer, such as
        Azure's multi-tenant ``common`` endpoint, it is stored unvalidated and
        no claims are added)."""
        return bool(self.issuer) or scope_has_openid(self.scope)

    def _oidc_failure(self, exc: Exception) -> t.Any:
        reason = f"OpenID Connect check failed: {getattr(exc, 'error', exc)}"
        return self._fail_for(reason, exc, "invalid_id_token")

    def _validate_refreshed_token(
        self, old: t.Mapping[str, t.Any], new: dict[str, t.Any]
    ) -> None:
        if self.issuer:
            validate_refreshed_token(self, old, new)

    @property
    def id_token_claims(self) -> dict[str, t.Any] | None:
        """The validated id_token claims of the current user's login, or
        ``None``. Inside an :data:`~flask_dance.consumer.oauth_authorized`
        receiver, read ``token["id_token_claims"]`` instead."""
        token = self.token
        if isinstance(token, t.Mapping):
            claims = token.get(CLAIMS_KEY)
            return dict(claims) if isinstance(claims, t.Mapping) else None
        return None

    def userinfo(self) -> dict[str, t.Any]:
        """Fetch the current user's claims from the provider's userinfo
        endpoint. Their ``sub`` must equal the id_token's.

        :raises flask_dance.consumer.oidc.OIDCError: on a ``sub`` mismatch.
        :raises requests.HTTPError: when the endpoint answers an error.
        """
        response = self.session.get(self._endpoint("userinfo"))
        response.raise_for_status()
        info: dict[str, t.Any] = response.json()
        claims = self.id_token_claims
        if claims is not None:
            from .oidc import check_userinfo

            check_userinfo(info, claims)
        return info

    def logout(self) -> t.Any:
        """Log the current user out of this provider: revoke the token,
        delete it, and for an OpenID Connect provider with an end-session
        endpoint, redirect there (RP-initiated logout) with the id_token as a
        hint and a state checked on return. ``?next=`` says where to land."""
        self.load_config()
        token = self.token
        next_url = self._requested_next_url() or self._default_next_url()
        if isinstance(token, t.Mapping):
            self.revoke_token(token)
        del self.token
        id_token = token.get("id_token") if isinstance(token, t.Mapping) else None
        try:
            end_session = endpoint(self, "end_session") if id_token else None
        except OIDCError:
            end_session = None
        if not end_session:
            return flask.redirect(next_url)
        from .oidc import build_end_session_url
        from .oidc import new_logout_state

        logout_state = new_logout_state()
        flask.session[self._logout_key] = {"state": logout_state, "next": next_url}
        url = build_end_session_url(
            self._absolute(end_session),
            id_token_hint=id_token,
            post_logout_redirect_uri=self.post_logout_redirect_uri
            or flask.url_for(".logged_out", _external=True),
            state=logout_state,
            client_id=str(self.client_id) if self.client_id else None,
        )
        return flask.redirect(url)

    def _add_logout_routes(
        self,
        logout: bool,
        logout_url: str | None,
        logged_out_url: str | None,
        rule_options: dict[str, t.Any],
    ) -> None:
        """Register the ``logout`` and ``logged_out`` routes when asked for:
        ``logout=True``, or a rule for either."""
        #: Whether the ``logout`` and ``logged_out`` routes are registered.
        self.logout_routes: bool = bool(
            logout or logout_url is not None or logged_out_url is not None
        )
        if self.logout_routes:
            self.add_url_rule(
                (logout_url or "/{bp.name}/logout").format(bp=self),
                endpoint="logout",
                view_func=self._logout_view,
                methods=["GET", "POST"],
                **rule_options,
            )
            self.add_url_rule(
                (logged_out_url or "/{bp.name}/logged-out").format(bp=self),
                endpoint="logged_out",
                view_func=self.logged_out,
                **rule_options,
            )

    @property
    def logout_token(self) -> str:
        """The current browser's token for the ``logout`` route: a request
        to the route logs out only when it carries it, as the
        ``logout_token`` query parameter (``url_for("<name>.logout",
        logout_token=bp.logout_token)``) or form field, so that another site
        can not log your users out."""
        from . import _logout_guard

        return _logout_guard.token_for(self.name)

    def _logout_view(self) -> t.Any:
        """The ``logout`` route: :meth:`logout`, for a request that carries
        :attr:`logout_token`."""
        from . import _logout_guard

        if not _logout_guard.carries_token(self.name):
            log.info("Refused a logout from %r without its token.", self.name)
            return Response(
                "The logout request did not carry its token.",
                403,
                content_type="text/plain; charset=utf-8",
            )
        return self.logout()

    @property
    def _logout_key(self) -> str:
        return f"{self.name}_oauth_logout"

    def logged_out(self) -> t.Any:
        """Where the provider sends the user back after logout: check the
        state, then redirect to where the logout asked to land."""
        from .oidc import check_logout_state

        pending = flask.session.pop(self._logout_key, None)
        expected = pending.get("state") if isinstance(pending, dict) else None
        try:
            check_logout_state(flask.request.args.get("state"), expected)
        except OIDCError as exc:
            return self._oidc_failure(exc)
        next_url = pending.get("next") if isinstance(pending, dict) else None
        return flask.redirect(safe_next_url(next_url) or self._default_next_url())
