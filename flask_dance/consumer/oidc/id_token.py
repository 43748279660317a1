"""ID token validation (OpenID Connect Core 3.1.3.7, 3.1.3.8, 5.3.2, 12.2)."""

from __future__ import annotations

import base64
import collections.abc as cabc
import hashlib
import hmac
import math
import time
import typing as t

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .._jose import ASYMMETRIC_ALGS
from ._jws import Keys
from ._jws import verify_jws
from .errors import IDTokenError
from .errors import UserinfoError

#: Signature algorithms accepted by default. ``none`` and ``HS*`` are not.
DEFAULT_ALLOWED_ALGS: t.Final[tuple[str, ...]] = ASYMMETRIC_ALGS

#: Clock skew tolerated on ``exp``, ``iat``, ``nbf`` and ``auth_time``, in seconds.
DEFAULT_LEEWAY: t.Final[float] = 60.0

#: Oldest ``iat`` accepted, in seconds before now.
DEFAULT_MAX_IAT_AGE: t.Final[float] = 600.0

#: ``typ`` header values that mark a JWT as something other than an ID token.
_FOREIGN_TYPES = frozenset(
    {"logout+jwt", "application/logout+jwt", "at+jwt", "application/at+jwt"}
)


def _number(
    claims: cabc.Mapping[str, t.Any], name: str, *, required: bool
) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise IDTokenError(
                "missing_claim", f"The token has no '{name}' claim.", claim=name
            )
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IDTokenError(
            "invalid_token", f"The '{name}' claim is not a number.", claim=name
        )
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        number = math.inf
    if not math.isfinite(number):
        # NaN passes every comparison and Infinity never expires.
        raise IDTokenError(
            "invalid_token", f"The '{name}' claim is not a finite number.", claim=name
        )
    return number


def audiences(claims: cabc.Mapping[str, t.Any]) -> list[str]:
    """Return the ``aud`` claim as a list of strings.

    :raises IDTokenError: ``"invalid_audience"`` when it is missing or malformed.
    """
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud):
        return list(aud)
    raise IDTokenError(
        "invalid_audience",
        "The token's 'aud' claim is missing or malformed.",
        claim="aud",
    )


def check_registered_claims(
    claims: cabc.Mapping[str, t.Any],
    *,
    issuer: str,
    client_id: str,
    trusted_audiences: cabc.Collection[str],
    leeway: float,
    max_iat_age: float,
    now: float,
    require_exp: bool = True,
) -> None:
    """Check ``iss``, ``aud``, ``azp``, ``exp``, ``iat`` and ``nbf``.

    :raises IDTokenError: on the first rule that fails.
    """
    iss = claims.get("iss")
    if iss != issuer:
        raise IDTokenError(
            "invalid_issuer",
            f"The token was issued by {iss!r}, not by the expected issuer '{issuer}'.",
            claim="iss",
        )
    auds = audiences(claims)
    if client_id not in auds:
        raise IDTokenError(
            "invalid_audience",
            f"The token is not meant for this client ('{client_id}' is not in"
            " its 'aud' claim).",
            claim="aud",
        )
    untrusted = [a for a in auds if a != client_id and a not in trusted_audiences]
    if untrusted:
        raise IDTokenError(
            "invalid_audience",
            f"The token is also meant for the untrusted audiences {untrusted!r};"
            " add them to 'trusted_audiences' if they are expected.",
            claim="aud",
        )
    azp = claims.get("azp")
    if azp is not None and azp != client_id:
        raise IDTokenError(
            "invalid_azp",
            f"The token was issued to the party {azp!r}, not to '{client_id}'.",
            claim="azp",
        )
    if azp is None and len(auds) > 1:
        raise IDTokenError(
            "invalid_azp",
            "The token has several audiences but no 'azp' claim.",
            claim="azp",
        )
    exp = _number(claims, "exp", required=require_exp)
    if exp is not None and now >= exp + leeway:
        raise IDTokenError("token_expired", "The token has expired.", claim="exp")
    iat = _number(claims, "iat", required=True)
    assert iat is not None
    if iat > now + leeway:
        raise IDTokenError(
            "not_yet_valid", "The token's 'iat' is in the future.", claim="iat"
        )
    if iat < now - max_iat_age - leeway:
        raise IDTokenError(
            "iat_too_old",
            f"The token was issued {int(now - iat)} seconds ago, more than the"
            f" {int(max_iat_age)} seconds allowed.",
            claim="iat",
        )
    nbf = _number(claims, "nbf", required=False)
    if nbf is not None and now + leeway < nbf:
        raise IDTokenError(
            "not_yet_valid", "The token is not valid yet ('nbf').", claim="nbf"
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
    issuer: str,
    client_id: str,
    jwks: Keys,
    nonce: str | None,
    access_token: str | None = None,
    code: str | None = None,
    max_age: float | None = None,
    acr_values: cabc.Collection[str] | None = None,
    leeway: float = DEFAULT_LEEWAY,
    max_iat_age: float = DEFAULT_MAX_IAT_AGE,
    allowed_algs: cabc.Collection[str] = DEFAULT_ALLOWED_ALGS,
    trusted_audiences: cabc.Collection[str] = (),
    client_secret: str | None = None,
    now: float | None = None,
) -> dict[str, t.Any]:
    """Validate an ID token and return its claims.

    Every rule of OpenID Connect Core 3.1.3.7 that applies to a confidential
    client using the code flow is checked, in this order: signature (with the
    key named by ``kid``, an ``alg`` from the local allowlist that fits the
    key), ``iss``, ``aud``, ``azp``, ``sub``, ``exp``, ``iat``, ``nbf``,
    ``nonce``, ``auth_time``, ``acr``, ``at_hash`` and ``c_hash``. Nothing in
    the token may be trusted until this returns.

    :param id_token: The compact JWS from the token response.
    :param issuer: The expected issuer, compared exactly.
    :param client_id: This client's ID; it must be an audience.
    :param jwks: A key resolver such as :meth:`.JWKSCache.resolver`, or a JWKS
        document (``{"keys": [...]}``). Not used for ``HS*``.
    :param nonce: The nonce sent in the authorization request; when not
        ``None`` the token must carry the same value.
    :param access_token: The access token of the same response; checked
        against ``at_hash`` when the token has one.
    :param code: The authorization code; checked against ``c_hash`` when the
        token has one.
    :param max_age: The ``max_age`` sent in the authorization request; then
        ``auth_time`` is required and must be recent enough.
    :param acr_values: When given, ``acr`` is required and must be one of them.
    :param leeway: Clock skew tolerated, in seconds.
    :param max_iat_age: Oldest ``iat`` accepted, in seconds before now.
    :param allowed_algs: The local allowlist of signature algorithms. ``none``
        is always refused. Add ``HS256`` (or 384, 512) only for a provider that
        signs with the client secret, and pass ``client_secret``.
    :param trusted_audiences: Audiences besides ``client_id`` that may appear.
    :param client_secret: The HMAC key for an allowed ``HS*`` algorithm.
    :param now: The current time as a Unix timestamp (default: the clock).
    :return: The claims.
    :raises IDTokenError: with ``error`` naming the failed rule.
    :raises JWKSError: when the signing key cannot be found or fetched.
    """
    verified = verify_jws(
        id_token,
        what="ID token",
        jwks=jwks,
        allowed_algs=allowed_algs,
        client_secret=client_secret,
    )
    header, claims = verified.header, verified.claims
    typ = header.get("typ")
    if isinstance(typ, str) and typ.lower() in _FOREIGN_TYPES:
        raise IDTokenError(
            "invalid_token", f"A '{typ}' token is not an ID token.", claim="typ"
        )
    if now is None:
        now = time.time()
    check_registered_claims(
        claims,
        issuer=issuer,
        client_id=client_id,
        trusted_audiences=trusted_audiences,
        leeway=leeway,
        max_iat_age=max_iat_age,
        now=now,
    )
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
    auth_time = _number(claims, "auth_time", required=False)
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
    _check_hash(claims, "at_hash", access_token, alg, verified.key)
    _check_hash(claims, "c_hash", code, alg, verified.key)
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
