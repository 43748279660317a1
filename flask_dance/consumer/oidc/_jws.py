"""Verify a compact JWS against a local algorithm allowlist.

Shared by ID token and logout token validation. The key comes from the
client's key resolver (asymmetric algorithms) or from the client secret
(``HS*``, only when explicitly allowed); never from the token itself, and a
public key is never used as an HMAC secret.
"""

from __future__ import annotations

import collections.abc as cabc
import hashlib
import hmac
import json
import typing as t

import jwt
from jwt.algorithms import OKPAlgorithm

from .errors import IDTokenError
from .errors import JWKSError
from .jwks import KeyResolver
from .jwks import StaticJWKS

_HMAC_HASHES: dict[str, t.Callable[..., t.Any]] = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}

# Short keys are refused by the instance's options: PyJWT before 2.12 reads
# this option there, not from the options of a single call.
_jws = jwt.PyJWS(options={"enforce_minimum_key_length": True})
# RFC 9864's fully-specified name; the key resolver only hands out Ed25519
# keys for it.
_jws.register_algorithm("Ed25519", OKPAlgorithm())

#: A key resolver, a JWKS document, or nothing (``HS*`` only).
Keys: t.TypeAlias = KeyResolver | cabc.Mapping[str, t.Any] | None


class Verified(t.NamedTuple):
    """A JWS whose signature checked out."""

    header: dict[str, t.Any]
    claims: dict[str, t.Any]
    #: The verification key; ``None`` for an ``HS*`` token.
    key: jwt.PyJWK | None


def _resolver(jwks: Keys) -> KeyResolver:
    if jwks is None:
        raise JWKSError(
            "jwks_unavailable",
            "No key set was given to verify the token; pass 'jwks'.",
        )
    if isinstance(jwks, cabc.Mapping):
        return StaticJWKS(jwks)
    return jwks


def verify_jws(
    token: str,
    *,
    what: str,
    jwks: Keys,
    allowed_algs: cabc.Collection[str],
    client_secret: str | None,
) -> Verified:
    """Check the signature of ``token`` and return its header and claims.

    :param token: The compact JWS.
    :param what: ``"ID token"`` or ``"logout token"``, for messages.
    :param jwks: A key resolver, or a JWKS document.
    :param allowed_algs: The local allowlist of ``alg`` values.
    :param client_secret: The HMAC key, used only for an allowed ``HS*`` alg.
    :raises IDTokenError: ``"invalid_token"``, ``"alg_not_allowed"`` or
        ``"invalid_signature"``.
    :raises JWKSError: when no key can be found for the token.
    """
    if not isinstance(token, str):
        raise IDTokenError("invalid_token", f"The {what} is not a string.")
    try:
        header = _jws.get_unverified_header(token)
    except jwt.PyJWTError:
        raise IDTokenError(
            "invalid_token", f"The {what} is not a well-formed JWS."
        ) from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none" or alg not in allowed_algs:
        raise IDTokenError(
            "alg_not_allowed",
            f"The {what} is signed with the algorithm {alg!r}, which is not in"
            f" the allowed list {sorted(allowed_algs)!r}.",
            claim="alg",
        )
    kid = header.get("kid")
    key: jwt.PyJWK | None = None
    try:
        if alg in _HMAC_HASHES:
            if client_secret is None:
                raise IDTokenError(
                    "alg_not_allowed",
                    f"The {what} uses '{alg}', which needs the client secret;"
                    " none was given.",
                    claim="alg",
                )
            decoded = _jws.decode_complete(token, options={"verify_signature": False})
            signing_input = token.encode("ascii").rsplit(b".", 1)[0]
            expected = hmac.new(
                client_secret.encode("utf-8"), signing_input, _HMAC_HASHES[alg]
            ).digest()
            if not hmac.compare_digest(expected, decoded["signature"]):
                raise jwt.InvalidSignatureError("Signature verification failed")
        else:
            key = _resolver(jwks)(kid, alg)
            decoded = _jws.decode_complete(
                token,
                # (a PyJWK must name the token's alg; PyJWT calls it EdDSA)
                key.key if alg == "Ed25519" else key,
                algorithms=[alg],
                options={"enforce_minimum_key_length": True},
            )
    except jwt.InvalidSignatureError:
        raise IDTokenError(
            "invalid_signature", f"The signature of the {what} is not valid."
        ) from None
    except jwt.InvalidKeyError as exc:
        raise IDTokenError(
            "invalid_signature", f"The key for the {what} is not acceptable: {exc}"
        ) from None
    except jwt.InvalidAlgorithmError as exc:
        raise IDTokenError(
            "alg_not_allowed", f"The {what} algorithm is refused: {exc}", claim="alg"
        ) from None
    except (jwt.PyJWTError, UnicodeError):
        raise IDTokenError(
            "invalid_token", f"The {what} is not a well-formed JWS."
        ) from None
    try:
        claims = json.loads(decoded["payload"])
    except (ValueError, RecursionError):
        claims = None
    if not isinstance(claims, dict):
        raise IDTokenError(
            "invalid_token", f"The payload of the {what} is not a JSON object."
        )
    return Verified(header, claims, key)
