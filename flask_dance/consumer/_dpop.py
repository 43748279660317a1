"""DPoP (RFC 9449): sender-constrained tokens.

Each stored token gets its own key pair (P-256, ``ES256``), made at the code
exchange and kept with the token in the storage under :data:`KEY_FIELD` (so
it is encrypted with the token when ``FLASK_DANCE_TOKEN_KEYS`` is set). Every
request made with the token carries a fresh proof signed with that key
(``htm``, ``htu``, ``iat``, a new ``jti``, and ``ath`` with the access
token): a stolen access token or refresh token is useless without the key.
A server that asks for a nonce (``use_dpop_nonce``) gets the request once
more with it; nonces are remembered per server origin.

Imported only when DPoP is used: it needs PyJWT and cryptography.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import threading
import time
import typing as t
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

if t.TYPE_CHECKING:  # pragma: no cover
    import requests

#: Where a token keeps its DPoP private key (a JWK).
KEY_FIELD: t.Final[str] = "dpop_jwk"

_PUBLIC_MEMBERS = ("kty", "crv", "x", "y")


def new_key() -> dict[str, str]:
    """A new P-256 private key, as a JWK."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk: dict[str, str] = json.loads(ECAlgorithm.to_jwk(key))
    return {name: jwk[name] for name in (*_PUBLIC_MEMBERS, "d")}


@functools.lru_cache(maxsize=256)
def _load(text: str) -> tuple[t.Any, dict[str, str]]:
    jwk = json.loads(text)
    key = ECAlgorithm.from_jwk(jwk)
    return key, {name: jwk[name] for name in _PUBLIC_MEMBERS}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(jwk: t.Mapping[str, str]) -> str:
    """The JWK SHA-256 thumbprint (RFC 7638) of an EC key: ``jkt``."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode("ascii")).digest())


def _htu(url: str) -> str:
    """``htu``: the URL without query and fragment (RFC 9449 4.2)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Nonces:
    """The last DPoP nonce each server origin sent, shared by the sessions
    of one blueprint. Nonces are not secrets: servers hand them to anyone."""

    def __init__(self) -> None:
        self._by_origin: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> str | None:
        """The nonce to send to the server of ``url``, if any."""
        return self._by_origin.get(_origin(url))

    def put(self, url: str, nonce: str) -> None:
        """Remember ``nonce`` for the server of ``url``."""
        with self._lock:
            self._by_origin[_origin(url)] = nonce


class Prover:
    """Makes the DPoP proofs of one key.

    :param jwk: The private key, as a JWK.
    :param nonces: Where server nonces are remembered.
    """

    def __init__(self, jwk: t.Mapping[str, str], nonces: Nonces) -> None:
        self._key, self._public = _load(json.dumps(dict(jwk), sort_keys=True))
        self._nonces = nonces

    def proof(
        self,
        method: str,
        url: str,
        *,
        nonce: str | None = None,
        access_token: str | None = None,
    ) -> str:
        """A new proof for one request.

        :param method: The HTTP method.
        :param url: The request URL.
        :param nonce: The server's nonce; default: the last one it sent.
        :param access_token: The access token the request carries (``ath``).
        """
        claims: dict[str, t.Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": _htu(url),
            "iat": int(time.time()),
        }
        nonce = nonce if nonce is not None else self._nonces.get(url)
        if nonce:
            claims["nonce"] = nonce
        if access_token:
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            claims["ath"] = _b64(digest)
        headers = {"typ": "dpop+jwt", "jwk": self._public}
        return jwt.encode(claims, self._key, algorithm="ES256", headers=headers)

    def remember_nonce(self, url: str, response: requests.Response) -> None:
        """Keep the nonce a server sent with ``response``, if any."""
        nonce = response.headers.get("DPoP-Nonce")
        if nonce:
            self._nonces.put(url, nonce)
