from __future__ import annotations

import typing as t

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import ECAlgorithm
from jwt.algorithms import OKPAlgorithm
from jwt.algorithms import RSAAlgorithm

from flask_dance.consumer.oidc import clear_caches


@pytest.fixture(autouse=True)
def _fresh_oidc_caches() -> t.Iterator[None]:
    clear_caches()
    yield
    clear_caches()


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def ec384_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="session")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def _public_jwk(key: t.Any, kid: str, **extra: t.Any) -> dict[str, t.Any]:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        data = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        data = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        data = OKPAlgorithm.to_jwk(public, as_dict=True)
    return {**data, "kid": kid, "use": "sig", **extra}


@pytest.fixture
def public_jwk() -> t.Callable[..., dict[str, t.Any]]:
    """Return the public JWK (with ``kid`` and ``use``) of a private key."""
    return _public_jwk


@pytest.fixture
def jwks(
    rsa_key: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
    ec384_key: ec.EllipticCurvePrivateKey,
    ed_key: ed25519.Ed25519PrivateKey,
) -> dict[str, t.Any]:
    """The provider's published key set."""
    return {
        "keys": [
            _public_jwk(rsa_key, "rsa-1"),
            _public_jwk(ec_key, "ec-1"),
            _public_jwk(ec384_key, "ec384-1"),
            _public_jwk(ed_key, "ed-1"),
        ]
    }


Sign = t.Callable[..., str]


@pytest.fixture
def sign(rsa_key: rsa.RSAPrivateKey) -> Sign:
    """Sign a payload; by default RS256 with the key ``rsa-1``."""

    def signer(
        payload: dict[str, t.Any],
        *,
        key: t.Any = None,
        alg: str = "RS256",
        kid: str | None = "rsa-1",
        headers: dict[str, t.Any] | None = None,
    ) -> str:
        all_headers = {"kid": kid} if kid is not None else {}
        all_headers.update(headers or {})
        return jwt.encode(
            payload,
            rsa_key if key is None else key,
            algorithm=alg,
            headers=all_headers or None,
        )

    return signer
