from __future__ import annotations

import base64
import typing as t
from urllib.parse import unquote_plus

import jwt
import pytest
import requests
import responses as responses_lib
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from freezegun import freeze_time

from dance_helpers import private_pem
from flask_dance.consumer.oidc import APPLE_AUDIENCE
from flask_dance.consumer.oidc import AppleClientSecret
from flask_dance.consumer.oidc import client_assertion_params
from flask_dance.consumer.oidc import CLIENT_ASSERTION_TYPE
from flask_dance.consumer.oidc import client_secret_basic_header
from flask_dance.consumer.oidc import ClientSecretBasic
from flask_dance.consumer.oidc import make_apple_client_secret
from flask_dance.consumer.oidc import make_client_assertion

TOKEN_URL = "https://idp.example.com/token"


def decode_basic(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    assert scheme == "Basic"
    user, _, password = base64.b64decode(value).decode().partition(":")
    return user, password


# --- C21: client_secret_basic --------------------------------------------


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [
        ("plain", "s3cret"),
        ("client:id", "pa:ss%word"),
        ("id with space", "a+b=c&d/é"),
    ],
)
def test_c21_client_secret_basic_form_urlencodes(client_id: str, secret: str) -> None:
    user, password = decode_basic(client_secret_basic_header(client_id, secret))
    assert ":" not in user
    assert ":" not in password
    assert unquote_plus(user) == client_id
    assert unquote_plus(password) == secret


def test_c21_client_secret_basic_exact_value() -> None:
    header = client_secret_basic_header("s6BhdRkqt3", "7Fjfp0ZBr1KtDRbnfVdmIw:%")
    user, password = decode_basic(header)
    assert (user, password) == ("s6BhdRkqt3", "7Fjfp0ZBr1KtDRbnfVdmIw%3A%25")


def test_c21_client_secret_basic_auth_object(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.post(TOKEN_URL, json={})
    auth = ClientSecretBasic("client", "pa:ss")
    requests.post(TOKEN_URL, data={"grant_type": "authorization_code"}, auth=auth)
    header = responses.calls[0].request.headers["Authorization"]
    assert decode_basic(header) == ("client", "pa%3Ass")
    assert "pa:ss" not in repr(auth)


# --- C21: private_key_jwt ------------------------------------------------


def test_c21_private_key_jwt_claims(rsa_key: rsa.RSAPrivateKey) -> None:
    with freeze_time("2024-01-01 00:00:00"):
        assertion = make_client_assertion(
            "client-123", TOKEN_URL, rsa_key, kid="key-1", lifetime=120
        )
        claims = jwt.decode(
            assertion, rsa_key.public_key(), algorithms=["RS256"], audience=TOKEN_URL
        )
    header = jwt.get_unverified_header(assertion)
    assert header["kid"] == "key-1"
    assert header["alg"] == "RS256"
    assert claims["iss"] == claims["sub"] == "client-123"
    assert claims["aud"] == TOKEN_URL
    assert claims["iat"] == 1704067200
    assert claims["exp"] == claims["iat"] + 120
    assert len(claims["jti"]) >= 32


def test_c21_private_key_jwt_jti_unique(ec_key: ec.EllipticCurvePrivateKey) -> None:
    jtis = {
        jwt.decode(
            make_client_assertion("c", TOKEN_URL, ec_key, alg="ES256"),
            options={"verify_signature": False},
        )["jti"]
        for _ in range(20)
    }
    assert len(jtis) == 20


def test_c21_private_key_jwt_pem_key(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assertion = make_client_assertion("c", TOKEN_URL, pem.decode(), alg="PS256")
    assert jwt.decode(
        assertion, rsa_key.public_key(), algorithms=["PS256"], audience=TOKEN_URL
    )


@pytest.mark.parametrize("alg", ["none", "HS256", "XX1"])
def test_c21_private_key_jwt_refuses_non_asymmetric_alg(
    rsa_key: rsa.RSAPrivateKey, alg: str
) -> None:
    with pytest.raises(ValueError, match="asymmetric"):
        make_client_assertion("c", TOKEN_URL, rsa_key, alg=alg)


def test_client_assertion_params() -> None:
    assert client_assertion_params("abc") == {
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": "abc",
    }
    assert CLIENT_ASSERTION_TYPE == (
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    )


# --- Sign in with Apple --------------------------------------------------


@pytest.fixture
def apple_pem(ec_key: ec.EllipticCurvePrivateKey) -> str:
    return private_pem(ec_key)


def test_apple_client_secret_claims(
    apple_pem: str, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    secret = make_apple_client_secret(
        "TEAM123",
        "com.example.web",
        "KEY123",
        apple_pem,
        lifetime=600,
        now=1_700_000_000,
    )
    header = jwt.get_unverified_header(secret)
    assert header == {"alg": "ES256", "kid": "KEY123", "typ": "JWT"}
    claims = jwt.decode(
        secret,
        ec_key.public_key(),
        algorithms=["ES256"],
        audience=APPLE_AUDIENCE,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "iss": "TEAM123",
        "sub": "com.example.web",
        "aud": "https://appleid.apple.com",
        "iat": 1_700_000_000,
        "exp": 1_700_000_600,
    }


@pytest.mark.parametrize("lifetime", [0, -1, 15777001])
def test_apple_client_secret_lifetime_bounds(apple_pem: str, lifetime: int) -> None:
    with pytest.raises(ValueError, match="lifetime"):
        make_apple_client_secret("T", "c", "K", apple_pem, lifetime=lifetime)
    with pytest.raises(ValueError, match="lifetime"):
        AppleClientSecret("T", "c", "K", apple_pem, lifetime=lifetime)


@pytest.mark.parametrize("curve", [ec.SECP384R1(), None])
def test_apple_client_secret_needs_p256(
    rsa_key: rsa.RSAPrivateKey, curve: ec.EllipticCurve | None
) -> None:
    key: t.Any = rsa_key if curve is None else ec.generate_private_key(curve)
    with pytest.raises(ValueError, match="P-256"):
        make_apple_client_secret("T", "c", "K", key)


def test_apple_client_secret_cached_and_renewed(apple_pem: str) -> None:
    provider = AppleClientSecret(
        "TEAM", "com.example.web", "KEY", apple_pem, lifetime=3600, renew_before=300
    )
    with freeze_time("2024-01-01 00:00:00") as frozen:
        first = provider()
        frozen.tick(3299)
        assert provider() == first
        frozen.tick(1)
        second = provider()
        assert second != first
        claims = jwt.decode(second, options={"verify_signature": False})
        assert claims["iat"] == 1704067200 + 3300
        assert claims["exp"] == claims["iat"] + 3600
        assert provider() == second
    assert repr(provider) == "<AppleClientSecret team_id='TEAM'>"


def test_apple_client_secret_renew_before_must_be_shorter(apple_pem: str) -> None:
    with pytest.raises(ValueError, match="renew_before"):
        AppleClientSecret("T", "c", "K", apple_pem, lifetime=300, renew_before=300)
