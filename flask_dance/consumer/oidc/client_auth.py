"""Client authentication at the token endpoint.

- ``client_secret_basic`` done right (RFC 6749 2.3.1): both parts are
  form-urlencoded before base64, so a secret with ``:`` or ``%`` works.
- ``private_key_jwt`` assertions (RFC 7523, OIDC Core 9).
- The ES256 client secret of Sign in with Apple, cached and renewed before
  it expires.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
import typing as t
from urllib.parse import quote_plus

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed448
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from requests import PreparedRequest
from requests.auth import AuthBase

#: ``client_assertion_type`` of a JWT client assertion (RFC 7523 2.2).
CLIENT_ASSERTION_TYPE: t.Final[str] = (
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

#: Audience of an Apple client secret.
APPLE_AUDIENCE: t.Final[str] = "https://appleid.apple.com"

#: Longest lifetime Apple accepts for a client secret (6 months), in seconds.
APPLE_MAX_LIFETIME: t.Final[int] = 15777000

_ASYMMETRIC_ALGS = frozenset(
    {
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "ES512",
        "EdDSA",
    }
)

#: A private key: PEM text, or a :mod:`cryptography` key object.
PrivateKey: t.TypeAlias = (
    str
    | bytes
    | rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)


def client_secret_basic_header(client_id: str, client_secret: str) -> str:
    """Return the ``Authorization`` header value for ``client_secret_basic``.

    :param client_id: The client ID.
    :param client_secret: The client secret.
    """
    pair = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


class ClientSecretBasic(AuthBase):
    """A :mod:`requests` auth sending ``client_secret_basic`` correctly.

    Pass it as ``auth=`` to the token request.

    :param client_id: The client ID.
    :param client_secret: The client secret.
    """

    def __init__(self, client_id: str, client_secret: str) -> None:
        self._header = client_secret_basic_header(client_id, client_secret)

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        r.headers["Authorization"] = self._header
        return r

    def __repr__(self) -> str:
        return "<ClientSecretBasic>"


def make_client_assertion(
    client_id: str,
    audience: str,
    private_key: PrivateKey,
    *,
    alg: str = "RS256",
    kid: str | None = None,
    lifetime: int = 60,
    now: float | None = None,
) -> str:
    """Return a signed ``private_key_jwt`` client assertion (RFC 7523 3).

    Send it as ``client_assertion`` with ``client_assertion_type`` set to
    :data:`CLIENT_ASSERTION_TYPE` (see :func:`client_assertion_params`).

    :param client_id: The client ID; used as ``iss`` and ``sub``.
    :param audience: The token endpoint URL (``aud``).
    :param private_key: The client's private key: PEM text or a
        :mod:`cryptography` key object.
    :param alg: An asymmetric signature algorithm.
    :param kid: The ``kid`` of the registered public key, if any.
    :param lifetime: Seconds until ``exp``; keep it short.
    :param now: The current Unix time (default: the clock).
    :raises ValueError: for ``none``, an ``HS*`` or an unknown algorithm.
    """
    if alg not in _ASYMMETRIC_ALGS:
        raise ValueError(
            f"'{alg}' cannot sign a private_key_jwt assertion; use an asymmetric"
            " algorithm such as 'RS256' or 'ES256'."
        )
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": secrets.token_urlsafe(24),
    }
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, private_key, algorithm=alg, headers=headers)


def client_assertion_params(assertion: str) -> dict[str, str]:
    """Return the token request parameters carrying ``assertion``."""
    return {
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
    }


def _load_ec_p256(private_key: PrivateKey) -> ec.EllipticCurvePrivateKey:
    key: t.Any = private_key
    if isinstance(key, str):
        key = key.encode("utf-8")
    if isinstance(key, bytes):
        key = load_pem_private_key(key, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
        key.curve, ec.SECP256R1
    ):
        raise ValueError(
            "The Apple private key must be the P-256 (ES256) key downloaded"
            " from the Apple developer account."
        )
    return key


def make_apple_client_secret(
    team_id: str,
    client_id: str,
    key_id: str,
    private_key: PrivateKey,
    *,
    lifetime: int = 3600,
    now: float | None = None,
) -> str:
    """Return a Sign in with Apple client secret (an ES256 JWT).

    :param team_id: The Apple developer team ID (``iss``).
    :param client_id: The Services ID (``sub``).
    :param key_id: The ID of the private key (``kid`` header).
    :param private_key: The ``.p8`` key, as PEM text or a key object.
    :param lifetime: Seconds until ``exp``, at most :data:`APPLE_MAX_LIFETIME`.
    :param now: The current Unix time (default: the clock).
    :raises ValueError: for a lifetime out of range or a key that is not P-256.
    """
    if not 0 < lifetime <= APPLE_MAX_LIFETIME:
        raise ValueError(
            f"The lifetime must be between 1 and {APPLE_MAX_LIFETIME} seconds."
        )
    key = _load_ec_p256(private_key)
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": team_id,
        "sub": client_id,
        "aud": APPLE_AUDIENCE,
        "iat": issued,
        "exp": issued + lifetime,
    }
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": key_id})


class AppleClientSecret:
    """A Sign in with Apple client secret, renewed before it expires.

    Call the object to get the current secret. It is thread-safe and signs a
    new secret only when the current one is within ``renew_before`` seconds
    of its expiry.

    :param team_id: The Apple developer team ID.
    :param client_id: The Services ID.
    :param key_id: The ID of the private key.
    :param private_key: The ``.p8`` key, as PEM text or a key object.
    :param lifetime: Lifetime of each secret, in seconds.
    :param renew_before: Renew this many seconds before expiry.
    :raises ValueError: as :func:`make_apple_client_secret`, or when
        ``renew_before`` is not shorter than ``lifetime``.
    """

    def __init__(
        self,
        team_id: str,
        client_id: str,
        key_id: str,
        private_key: PrivateKey,
        *,
        lifetime: int = 3600,
        renew_before: int = 300,
    ) -> None:
        if not 0 < lifetime <= APPLE_MAX_LIFETIME:
            raise ValueError(
                f"The lifetime must be between 1 and {APPLE_MAX_LIFETIME} seconds."
            )
        if not 0 <= renew_before < lifetime:
            raise ValueError("'renew_before' must be shorter than 'lifetime'.")
        self._args = (team_id, client_id, key_id, _load_ec_p256(private_key))
        self._lifetime = lifetime
        self._renew_before = renew_before
        self._secret: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        now = time.time()
        secret = self._secret
        if secret is not None and now < self._expires_at - self._renew_before:
            return secret
        with self._lock:
            if self._secret is None or now >= self._expires_at - self._renew_before:
                self._secret = make_apple_client_secret(
                    *self._args, lifetime=self._lifetime, now=now
                )
                self._expires_at = int(now) + self._lifetime
            return self._secret

    def __repr__(self) -> str:
        return f"<AppleClientSecret team_id={self._args[0]!r}>"
