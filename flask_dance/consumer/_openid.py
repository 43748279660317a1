"""OpenID Connect for the OAuth 2 blueprint: discovery, the nonce, id_token
validation after the code exchange and after a refresh, userinfo, and the
endpoints of revocation and logout.

The validation itself lives in :mod:`flask_dance.consumer.oidc`; this module
only connects it to a blueprint, and imports it lazily so that apps without
OpenID Connect need neither PyJWT nor cryptography.
"""

from __future__ import annotations

import collections
import os
import secrets
import typing as t

import requests

if t.TYPE_CHECKING:  # pragma: no cover
    from .oauth2 import OAuth2ConsumerBlueprint
    from .oidc import ProviderMetadata

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


def plain_session(blueprint: OAuth2ConsumerBlueprint) -> requests.Session:
    """A session without any user's token, on the blueprint's shared pool,
    for discovery and key-set requests."""
    session = requests.Session()
    session.adapters = collections.OrderedDict(blueprint._shared_adapters())
    return session


def metadata(blueprint: OAuth2ConsumerBlueprint) -> ProviderMetadata | None:
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


def check_callback_issuer(blueprint: OAuth2ConsumerBlueprint, iss: str | None) -> None:
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


def _resolver(blueprint: OAuth2ConsumerBlueprint) -> t.Any:
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


def _expected_issuer(blueprint: OAuth2ConsumerBlueprint) -> str:
    if blueprint.issuer:
        return blueprint.issuer
    raise RuntimeError(
        f"The blueprint {blueprint.name!r} asks for 'openid' but has no 'issuer';"
        " pass issuer='https://...' so that id_tokens can be validated."
    )


def key_resolver(blueprint: OAuth2ConsumerBlueprint) -> t.Any:
    """The key resolver of the provider's published keys.

    :raises flask_dance.consumer.oidc.JWKSError: without a key set URL.
    """
    return _resolver(blueprint)


def expected_issuer(blueprint: OAuth2ConsumerBlueprint) -> str:
    """The issuer tokens must name.

    :raises RuntimeError: when the blueprint has none.
    """
    return _expected_issuer(blueprint)


def validate_login_token(
    blueprint: OAuth2ConsumerBlueprint,
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
        issuer=_expected_issuer(blueprint),
        client_id=str(blueprint.client_id),
        jwks=_resolver(blueprint),
        nonce=nonce,
        access_token=token.get("access_token"),
        code=code,
        max_age=max_age,
        allowed_algs=blueprint.id_token_algorithms,
        trusted_audiences=blueprint.trusted_audiences,
    )


def validate_refreshed_token(
    blueprint: OAuth2ConsumerBlueprint,
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
        issuer=_expected_issuer(blueprint),
        client_id=str(blueprint.client_id),
        jwks=_resolver(blueprint),
        nonce=None,
        access_token=new.get("access_token"),
        allowed_algs=blueprint.id_token_algorithms,
        trusted_audiences=blueprint.trusted_audiences,
    )
    if old_claims:
        check_refreshed_id_token(old_claims, claims)
    new[CLAIMS_KEY] = claims


def endpoint(blueprint: OAuth2ConsumerBlueprint, name: str) -> str | None:
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
