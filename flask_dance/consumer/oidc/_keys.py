"""Choosing and loading a verification key from a JSON Web Key Set: which key
fits a token's ``kid`` and ``alg``, and its parsed form, kept per key set.
:mod:`.jwks` serves the key sets built on it."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

import jwt

from .errors import JWKSError

JWK = cabc.Mapping[str, t.Any]

#: Key type, and allowed curves, that each asymmetric algorithm needs.
_ALG_KEYS: dict[str, tuple[str, frozenset[str] | None]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", frozenset({"P-256"})),
    "ES384": ("EC", frozenset({"P-384"})),
    "ES512": ("EC", frozenset({"P-521"})),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
    # RFC 9864: the fully-specified name of EdDSA with an Ed25519 key.
    "Ed25519": ("OKP", frozenset({"Ed25519"})),
}

#: Algorithm names that mean the same signature for a given key type.
_SAME_ALG = {"EdDSA": "Ed25519", "Ed25519": "EdDSA"}

#: The name PyJWT knows an algorithm by.
_PYJWT_NAMES = {"Ed25519": "EdDSA"}


def _fits(jwk: JWK, alg: str) -> bool:
    kty, curves = _ALG_KEYS[alg]
    if jwk.get("kty") != kty:
        return False
    if curves is not None and jwk.get("crv") not in curves:
        return False
    own = jwk.get("alg")
    if own is None or own == alg:
        return True
    # an "EdDSA" key of curve Ed25519 serves "Ed25519" tokens, and back
    return _SAME_ALG.get(alg) == own and jwk.get("crv") == "Ed25519"


def _usable(jwk: t.Any) -> bool:
    if not isinstance(jwk, cabc.Mapping) or "d" in jwk:
        return False
    if jwk.get("use") not in (None, "sig"):
        return False
    ops = jwk.get("key_ops")
    return ops is None or (isinstance(ops, list) and "verify" in ops)


def select_key(
    keys: cabc.Sequence[JWK], kid: str | None, alg: str, *, source: str | None = None
) -> JWK | None:
    """Pick the signing key for ``kid`` and ``alg`` from a key set.

    Only public signature keys are considered. With a ``kid``, the key with
    that ``kid`` must also fit ``alg`` (key type, curve, and the key's own
    ``alg`` if it names one). Without a ``kid``, the single key that fits
    ``alg`` is chosen.

    :param keys: The ``keys`` member of a JWKS.
    :param kid: The token's ``kid`` header, if any.
    :param alg: The token's ``alg`` header; an asymmetric algorithm.
    :param source: The ``jwks_uri``, for error messages.
    :return: The key, or ``None`` when no key has this ``kid`` (or, without a
        ``kid``, when no key fits), so the caller may re-fetch.
    :raises JWKSError: ``"alg_not_allowed"`` when ``alg`` is not an asymmetric
        algorithm or the key named by ``kid`` does not fit it; ``"unknown_kid"``
        when there is no ``kid`` and several keys fit.
    """
    if alg not in _ALG_KEYS:
        raise JWKSError(
            "alg_not_allowed",
            f"No key set can verify the algorithm '{alg}'.",
            url=source,
        )
    usable = [k for k in keys if _usable(k)]
    if kid is not None:
        named = [k for k in usable if k.get("kid") == kid]
        if not named:
            return None
        for jwk in named:
            if _fits(jwk, alg):
                return jwk
        raise JWKSError(
            "alg_not_allowed",
            f"The key '{kid}' cannot verify the algorithm '{alg}'"
            f" (it is a '{named[0].get('kty')}' key).",
            url=source,
        )
    fitting = [k for k in usable if _fits(k, alg)]
    if len(fitting) > 1:
        raise JWKSError(
            "unknown_kid",
            f"The token names no 'kid' and {len(fitting)} keys fit '{alg}'.",
            url=source,
        )
    return fitting[0] if fitting else None


def parse_key(jwk: JWK, alg: str, source: str | None) -> jwt.PyJWK:
    try:
        return jwt.PyJWK(dict(jwk), algorithm=_PYJWT_NAMES.get(alg, alg))
    except (jwt.PyJWTError, ValueError) as exc:
        # (older cryptography raises ValueError for some malformed keys)
        raise JWKSError(
            "invalid_jwk",
            f"The key '{jwk.get('kid')}' cannot be loaded: {exc}",
            url=source,
        ) from exc


def unknown_kid(kid: str | None, alg: str, source: str | None) -> JWKSError:
    where = f" at '{source}'" if source else ""
    if kid is None:
        msg = f"No key{where} fits the algorithm '{alg}'."
    else:
        msg = f"No key{where} has the 'kid' '{kid}'."
    return JWKSError("unknown_kid", msg, url=source)


def keys_of(document: t.Any, source: str) -> tuple[JWK, ...]:
    keys = document.get("keys") if isinstance(document, cabc.Mapping) else None
    if not isinstance(keys, list):
        raise JWKSError(
            "jwks_unavailable",
            f"The key set at '{source}' has no 'keys' list.",
            url=source,
        )
    return tuple(k for k in keys if isinstance(k, cabc.Mapping))


class ParsedKeys:
    """Parsed :class:`jwt.PyJWK` objects for one immutable key tuple."""

    def __init__(self, keys: tuple[JWK, ...]) -> None:
        self.keys = keys
        self._parsed: dict[tuple[int, str], jwt.PyJWK] = {}

    def get(self, jwk: JWK, alg: str, source: str | None) -> jwt.PyJWK:
        slot = (id(jwk), alg)
        key = self._parsed.get(slot)
        if key is None:
            key = self._parsed[slot] = parse_key(jwk, alg, source)
        return key
