"""ID token validation (OpenID Connect Core 3.1.3.7, 3.1.3.8, 5.3.2, 12.2)."""

from __future__ import annotations

import base64
import collections.abc as cabc
import hashlib
import hmac
import sys
import typing as t

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ._claims import audiences as audiences
from ._claims import check_registered_claims as check_registered_claims
from ._claims import check_signed_token
from ._claims import DEFAULT_ALLOWED_ALGS as DEFAULT_ALLOWED_ALGS
from ._claims import DEFAULT_LEEWAY as DEFAULT_LEEWAY
from ._claims import DEFAULT_MAX_IAT_AGE as DEFAULT_MAX_IAT_AGE
from ._claims import number_claim
from ._claims import TokenChecks as TokenChecks
from .errors import IDTokenError
from .errors import UserinfoError

# at run time too, so that typing.get_type_hints resolves ``Unpack[...]``
if sys.version_info >= (3, 11):
    from typing import Unpack
elif t.TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

#: ``typ`` header values that mark a JWT as something other than an ID token.
_FOREIGN_TYPES = frozenset(
    {"logout+jwt", "application/logout+jwt", "at+jwt", "application/at+jwt"}
)


def _refuse_foreign_type(header: cabc.Mapping[str, t.Any]) -> None:
    """Refuse a token whose ``typ`` marks it as something other than an ID
    token (a logout token or an access token)."""
    typ = header.get("typ")
    if isinstance(typ, str) and typ.lower() in _FOREIGN_TYPES:
        raise IDTokenError(
            "invalid_token", f"A '{typ}' token is not an ID token.", claim="typ"
        )


def _hash_name(alg: str, key: jwt.PyJWK | None) -> str | None:
    if alg == "Ed25519":
        return "sha512"
    if alg == "EdDSA":
        if key is not None and isinstance(key.key, Ed25519PublicKey):
            return "sha512"
        return None
    if alg[:2] in ("RS", "PS", "ES", "HS"):
        bits = alg[2:]
        if bits in ("256", "384", "512"):
            return f"sha{bits}"
    return None


def token_hash(value: str, alg: str, key: jwt.PyJWK | None = None) -> str:
    """Compute an ``at_hash`` / ``c_hash`` value (OIDC Core 3.1.3.6, 3.3.2.11).

    The left half of the hash of ``value``, base64url encoded without padding,
    with the hash function of the token's ``alg``.

    :param value: The access token or the authorization code.
    :param alg: The ID token's ``alg``.
    :param key: The verification key (needed for ``EdDSA``).
    :raises ValueError: for an algorithm with no known hash.
    """
    name = _hash_name(alg, key)
    if name is None:
        raise ValueError(f"No hash function is known for the algorithm '{alg}'.")
    digest = hashlib.new(name, value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def _check_hash(
    claims: cabc.Mapping[str, t.Any],
    claim: str,
    value: str | None,
    alg: str,
    key: jwt.PyJWK | None,
) -> None:
    if value is None or claims.get(claim) is None:
        return
    error = f"invalid_{claim}"
    what = "access token" if claim == "at_hash" else "authorization code"
    given = claims[claim]
    try:
        expected = token_hash(value, alg, key)
    except (ValueError, UnicodeError):
        raise IDTokenError(
            error,
            f"The '{claim}' claim cannot be checked for the algorithm '{alg}'.",
            claim=claim,
        ) from None
    if not isinstance(given, str) or not hmac.compare_digest(
        given.encode("utf-8"), expected.encode("ascii")
    ):
        raise IDTokenError(
            error, f"The {what} does not match the '{claim}' claim.", claim=claim
        )


def validate_id_token(
    id_token: str,
    *,
    nonce: str | None,
    access_token: str | None = None,
    code: str | None = None,
    max_age: float | None = None,
    acr_values: cabc.Collection[str] | None = None,
    **checks: Unpack[TokenChecks],
) -> dict[str, t.Any]:
    """Validate an ID token and return its claims.

    Every rule of OpenID Connect Core 3.1.3.7 that applies to a confidential
    client using the code flow is checked, in this order: signature (with the
    key named by ``kid``, an ``alg`` from the local allowlist that fits the
    key), ``iss``, ``aud``, ``azp``, ``sub``, ``exp``, ``iat``, ``nbf``,
    ``nonce``, ``auth_time``, ``acr``, ``at_hash`` and ``c_hash``. Nothing in
    the token may be trusted until this returns.

    :param id_token: The compact JWS from the token response.
    :param nonce: The nonce sent in the authorization request; when not
        ``None`` the token must carry the same value.
    :param access_token: The access token of the same response; checked
        against ``at_hash`` when the token has one.
    :param code: The authorization code; checked against ``c_hash`` when the
        token has one.
    :param max_age: The ``max_age`` sent in the authorization request; then
        ``auth_time`` is required and must be recent enough.
    :param acr_values: When given, ``acr`` is required and must be one of them.
    :param checks: ``issuer``, ``client_id`` and ``jwks`` (required), and
        ``leeway``, ``max_iat_age``, ``allowed_algs``, ``trusted_audiences``,
        ``client_secret`` and ``now``: see :class:`TokenChecks`.
    :return: The claims.
    :raises IDTokenError: with ``error`` naming the failed rule.
    :raises JWKSError: when the signing key cannot be found or fetched.
    """
    checked = check_signed_token(
        id_token,
        what="ID token",
        check_header=_refuse_foreign_type,
        require_exp=True,
        checks=checks,
    )
    leeway = checks.get("leeway", DEFAULT_LEEWAY)
    header, claims, now = checked.header, checked.claims, checked.now
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise IDTokenError(
            "invalid_subject", "The token has no valid 'sub' claim.", claim="sub"
        )
    if nonce is not None:
        got = claims.get("nonce")
        if not isinstance(got, str) or not hmac.compare_digest(
            got.encode("utf-8"), nonce.encode("utf-8")
        ):
            raise IDTokenError(
                "invalid_nonce",
                "The token's 'nonce' is missing or differs from the one sent.",
                claim="nonce",
            )
    auth_time = number_claim(claims, "auth_time", required=False)
    if max_age is not None:
        if auth_time is None:
            raise IDTokenError(
                "missing_auth_time",
                "'max_age' was requested but the token has no 'auth_time'.",
                claim="auth_time",
            )
        if now > auth_time + max_age + leeway:
            raise IDTokenError(
                "auth_time_too_old",
                f"The user authenticated {int(now - auth_time)} seconds ago, more"
                f" than the requested 'max_age' of {int(max_age)} seconds.",
                claim="auth_time",
            )
    if auth_time is not None and auth_time > now + leeway:
        raise IDTokenError(
            "not_yet_valid",
            "The token's 'auth_time' is in the future.",
            claim="auth_time",
        )
    if acr_values is not None and claims.get("acr") not in acr_values:
        raise IDTokenError(
            "invalid_acr",
            f"The authentication context {claims.get('acr')!r} is not one of the"
            f" requested {sorted(acr_values)!r}.",
            claim="acr",
        )
    alg = t.cast(str, header["alg"])
    _check_hash(claims, "at_hash", access_token, alg, checked.key)
    _check_hash(claims, "c_hash", code, alg, checked.key)
    return claims


def check_refreshed_id_token(
    old_claims: cabc.Mapping[str, t.Any], new_claims: cabc.Mapping[str, t.Any]
) -> None:
    """Check that a refreshed ID token names the same identity (OIDC Core 12.2).

    Validate the new token with :func:`validate_id_token` (``nonce=None``)
    first; this then compares it with the claims of the original one.

    :param old_claims: Claims of the ID token from the original login.
    :param new_claims: Claims of the ID token from the refresh response.
    :raises IDTokenError: ``"refresh_identity_changed"`` naming the claim.
    """

    def changed(name: str) -> IDTokenError:
        return IDTokenError(
            "refresh_identity_changed",
            f"The refreshed ID token has a different '{name}' claim.",
            claim=name,
        )

    for name in ("iss", "sub"):
        if new_claims.get(name) is None or new_claims.get(name) != old_claims.get(name):
            raise changed(name)
    if set(audiences(new_claims)) != set(audiences(old_claims)):
        raise changed("aud")
    for name in ("azp", "auth_time"):
        if name in new_claims and name in old_claims:
            if new_claims[name] != old_claims[name]:
                raise changed(name)
    if "nonce" in new_claims and new_claims["nonce"] != old_claims.get("nonce"):
        raise changed("nonce")


def check_userinfo(
    userinfo: cabc.Mapping[str, t.Any], id_token_claims: cabc.Mapping[str, t.Any]
) -> dict[str, t.Any]:
    """Check that a userinfo response describes the ID token's user (OIDC Core 5.3.2).

    :param userinfo: The decoded userinfo response.
    :param id_token_claims: The validated ID token claims.
    :return: A copy of ``userinfo``.
    :raises UserinfoError: ``"userinfo_sub_mismatch"``.
    """
    if not isinstance(userinfo, cabc.Mapping):
        raise UserinfoError(
            "userinfo_sub_mismatch", "The userinfo response is not a JSON object."
        )
    sub = userinfo.get("sub")
    if not isinstance(sub, str) or sub != id_token_claims.get("sub"):
        raise UserinfoError(
            "userinfo_sub_mismatch",
            "The userinfo 'sub' differs from the ID token's 'sub'; the response"
            " must be ignored.",
        )
    return dict(userinfo)


def identity_key(claims: cabc.Mapping[str, t.Any]) -> tuple[str, str]:
    """Return ``(iss, sub)``, the only stable key of a user (OIDC Core 5.7).

    Key local accounts by this pair, never by ``email``: two providers can
    assert the same address for different people.

    :param claims: Validated ID token claims.
    :raises IDTokenError: ``"missing_claim"`` if either claim is absent.
    """
    iss, sub = claims.get("iss"), claims.get("sub")
    if not isinstance(iss, str) or not isinstance(sub, str) or not iss or not sub:
        raise IDTokenError(
            "missing_claim", "The claims lack 'iss' or 'sub'.", claim="sub"
        )
    return iss, sub
