"""Client authentication at the token endpoint.

- ``client_secret_basic`` done right (RFC 6749 2.3.1): both parts are
  form-urlencoded before base64, so a secret with ``:`` or ``%`` works (the
  builder is :func:`flask_dance.consumer._client_auth.basic_header`).
- ``private_key_jwt`` and ``client_secret_jwt`` assertions (RFC 7523, OIDC
  Core 9), and the client's signing key read from a PEM or a JWK.
- The ES256 client secret of Sign in with Apple, cached and renewed before
  it expires.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json
import secrets
import threading
import time
import typing as t

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed448
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from jwt.algorithms import OKPAlgorithm
from jwt.utils import base64url_encode

from .._basic_auth import basic_header
from .._basic_auth import BasicAuth
from .._basic_auth import ClientAuthError
from .._jose import ASYMMETRIC_ALGS

#: ``client_assertion_type`` of a JWT client assertion (RFC 7523 2.2).
CLIENT_ASSERTION_TYPE: t.Final[str] = (
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

#: Audience of an Apple client secret.
APPLE_AUDIENCE: t.Final[str] = "https://appleid.apple.com"

#: Longest lifetime Apple accepts for a client secret (6 months), in seconds.
APPLE_MAX_LIFETIME: t.Final[int] = 15777000

_ASYMMETRIC_ALGS = frozenset(ASYMMETRIC_ALGS)

_HMAC_ALGS = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}

#: Signs with RFC 9864's ``Ed25519`` name too, which PyJWT does not know.
_signer = jwt.PyJWS()
_signer.register_algorithm("Ed25519", OKPAlgorithm())

#: A private key: PEM text, or a :mod:`cryptography` key object.
PrivateKey: t.TypeAlias = (
    str
    | bytes
    | rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)


#: Return the ``Authorization`` header value for ``client_secret_basic``.
client_secret_basic_header = basic_header


class ClientSecretBasic(BasicAuth):
    """A :mod:`requests` auth sending ``client_secret_basic`` correctly.

    Pass it as ``auth=`` to the token request.

    :param client_id: The client ID.
    :param client_secret: The client secret.
    """

    def __repr__(self) -> str:
        return "<ClientSecretBasic>"


def _assertion_claims(
    client_id: str, audience: str, lifetime: int, now: float | None
) -> dict[str, t.Any]:
    issued = int(time.time() if now is None else now)
    return {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": secrets.token_urlsafe(24),
    }


def _sign(claims: dict[str, t.Any], key: t.Any, alg: str, kid: str | None) -> str:
    payload = json.dumps(claims, separators=(",", ":")).encode("utf-8")
    headers = {"kid": kid} if kid else None
    return _signer.encode(payload, key, algorithm=alg, headers=headers)


def make_secret_assertion(
    client_id: str,
    audience: str,
    client_secret: str,
    *,
    alg: str = "HS256",
    lifetime: int = 60,
    now: float | None = None,
) -> str:
    """Return a ``client_secret_jwt`` client assertion (RFC 7523 3, OpenID
    Connect Core 9): an HMAC JWT keyed with the client secret.

    :param client_id: The client ID; used as ``iss`` and ``sub``.
    :param audience: ``aud``: the issuer or the token endpoint URL.
    :param client_secret: The client secret.
    :param alg: ``HS256``, ``HS384`` or ``HS512``.
    :param lifetime: Seconds until ``exp``.
    :param now: The current Unix time (default: the clock).
    :raises ValueError: for another algorithm.
    """
    digest = _HMAC_ALGS.get(alg)
    if digest is None:
        raise ValueError(f"'{alg}' cannot sign a client_secret_jwt assertion.")
    claims = _assertion_claims(client_id, audience, lifetime, now)
    # Signed here rather than by PyJWT, which warns about a short secret: the
    # provider chose it, and the app cannot make it longer.
    header = {"alg": alg, "typ": "JWT"}
    signing_input = b".".join(
        base64url_encode(json.dumps(part, separators=(",", ":")).encode("utf-8"))
        for part in (header, claims)
    )
    mac = hmac.new(client_secret.encode("utf-8"), signing_input, digest).digest()
    return (signing_input + b"." + base64url_encode(mac)).decode("ascii")


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
    claims = _assertion_claims(client_id, audience, lifetime, now)
    return _sign(claims, private_key, alg, kid)


def client_assertion_params(assertion: str) -> dict[str, str]:
    """Return the token request parameters carrying ``assertion``."""
    return {
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
    }


#: The algorithm each key type signs with when the provider names none.
_DEFAULT_ALGS: dict[str, tuple[str, ...]] = {
    "RSA": ("RS256", "PS256", "RS384", "RS512", "PS384", "PS512"),
    "P-256": ("ES256",),
    "P-384": ("ES384",),
    "P-521": ("ES512",),
    "Ed25519": ("EdDSA", "Ed25519"),
    "Ed448": ("EdDSA",),
}


@dataclasses.dataclass(frozen=True)
class SigningKey:
    """The client's private key, ready to sign assertions."""

    #: The :mod:`cryptography` private key.
    key: t.Any
    #: The ``kid`` of the registered public key, if known.
    kid: str | None
    #: The algorithm the JWK names, if any.
    alg: str | None
    #: The key type: ``RSA``, a curve name (``P-256``...), ``Ed25519``.
    kind: str

    def alg_for(self, supported: t.Sequence[str] = ()) -> str:
        """The algorithm to sign with: the JWK's own, else the first of the
        provider's ``supported`` list this key can make, else the key type's
        usual one.

        :param supported: The provider's
            ``token_endpoint_auth_signing_alg_values_supported``.
        """
        if self.alg:
            return self.alg
        usable = _DEFAULT_ALGS[self.kind]
        for alg in supported:
            if alg in usable:
                return alg
        return usable[0]


def _key_kind(key: t.Any) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        names = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
        kind = names.get(key.curve.name)
        if kind is not None:
            return kind
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PrivateKey):
        return "Ed448"
    raise ClientAuthError(
        "The client key must be an RSA, P-256/384/521, Ed25519 or Ed448 private key."
    )


def load_signing_key(value: t.Any) -> SigningKey:
    """Read the client's private key: PEM text or bytes, a private JWK (a
    mapping or its JSON text, whose ``kid`` and ``alg`` are used), or a
    :mod:`cryptography` key object. Parsed keys are cached.

    :param value: The key, as configured.
    :raises ClientAuthError: when it is none of these, or a public key.
    """
    if isinstance(value, t.Mapping):
        return _load_text(json.dumps(dict(value), sort_keys=True))
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        return _load_text(value.strip())
    return SigningKey(value, None, None, _key_kind(value))


@functools.lru_cache(maxsize=32)
def _load_text(text: str) -> SigningKey:
    if text.startswith("{"):
        try:
            jwk = json.loads(text)
            parsed = jwt.PyJWK(jwk)
        except (ValueError, jwt.PyJWTError) as exc:
            raise ClientAuthError(
                f"The client key is not a usable JWK: {exc}"
            ) from None
        if not jwk.get("d"):
            raise ClientAuthError(
                "The client key JWK is a public key; configure the private JWK"
                " (with 'd') and register its public half with the provider."
            )
        return SigningKey(
            parsed.key, jwk.get("kid"), jwk.get("alg"), _key_kind(parsed.key)
        )
    try:
        key = load_pem_private_key(text.encode("utf-8"), password=None)
    except (ValueError, TypeError) as exc:
        raise ClientAuthError(
            "The client key is neither a private JWK nor an unencrypted PEM"
            f" private key: {exc}"
        ) from None
    return SigningKey(key, None, None, _key_kind(key))


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
