"""Checking a JWS signature (consumer/oidc/_jws.py), before any claim is read."""

from __future__ import annotations

import typing as t

import jwt
import pytest

from flask_dance.consumer.oidc import IDTokenError
from flask_dance.consumer.oidc import JWKSError
from flask_dance.consumer.oidc._jws import verify_jws

from .conftest import Sign

SECRET = "a-client-secret-that-is-long-enough-for-hs256"
CLAIMS = {"iss": "https://idp.example.com", "sub": "user-42"}


def verify(token: t.Any, **kwargs: t.Any) -> t.Any:
    options: dict[str, t.Any] = {
        "what": "ID token",
        "jwks": None,
        "allowed_algs": ("RS256", "HS256"),
        "client_secret": SECRET,
        **kwargs,
    }
    return verify_jws(token, **options)


def refused(error: str, token: t.Any, **kwargs: t.Any) -> IDTokenError:
    with pytest.raises(IDTokenError) as exc_info:
        verify(token, **kwargs)
    assert exc_info.value.error == error
    return exc_info.value


def test_a_signed_token_gives_header_claims_and_key(
    sign: Sign, jwks: dict[str, t.Any]
) -> None:
    verified = verify(sign(CLAIMS), jwks=jwks)
    assert verified.claims == CLAIMS
    assert verified.header["kid"] == "rsa-1"
    assert verified.key is not None
    assert verified.key.key_id == "rsa-1"


def test_an_hmac_token_is_checked_with_the_client_secret() -> None:
    verified = verify(jwt.encode(CLAIMS, SECRET, algorithm="HS256"))
    assert verified.claims == CLAIMS
    assert verified.key is None
    other = jwt.encode(CLAIMS, SECRET + "-other", algorithm="HS256")
    assert "signature of the ID token" in str(refused("invalid_signature", other))


def test_an_hmac_token_without_a_client_secret_is_refused() -> None:
    token = jwt.encode(CLAIMS, SECRET, algorithm="HS256")
    assert refused("alg_not_allowed", token, client_secret=None).claim == "alg"


def test_a_tampered_token_is_refused(sign: Sign, jwks: dict[str, t.Any]) -> None:
    header, payload, signature = sign(CLAIMS).split(".")
    other = sign({**CLAIMS, "sub": "admin"}).split(".")[1]
    refused("invalid_signature", f"{header}.{other}.{signature}", jwks=jwks)


@pytest.mark.parametrize("alg", ["none", "RS512"])
def test_an_algorithm_outside_the_allowlist_is_refused(
    alg: str, sign: Sign, jwks: dict[str, t.Any]
) -> None:
    token = (
        jwt.encode(CLAIMS, "", algorithm="none")
        if alg == "none"
        else sign(CLAIMS, alg=alg)
    )
    refused("alg_not_allowed", token, jwks=jwks)


@pytest.mark.parametrize("token", [None, b"a.b.c", "", "not-a-jws", "a.b.c"])
def test_what_is_not_a_jws_is_refused(token: t.Any) -> None:
    refused("invalid_token", token)


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    token = jwt.api_jws.encode(b"[1, 2]", SECRET, algorithm="HS256")
    error = refused("invalid_token", token, what="logout token")
    assert "payload of the logout token" in str(error)


def test_a_public_key_token_needs_a_key_set(sign: Sign) -> None:
    with pytest.raises(JWKSError) as exc_info:
        verify(sign(CLAIMS), jwks=None)
    assert exc_info.value.error == "jwks_unavailable"


def test_a_key_resolver_is_asked_for_the_kid_and_alg(
    sign: Sign, jwks: dict[str, t.Any]
) -> None:
    asked: list[tuple[str | None, str]] = []

    def resolve(kid: str | None, alg: str) -> jwt.PyJWK:
        asked.append((kid, alg))
        return jwt.PyJWK(jwks["keys"][0], algorithm=alg)

    assert verify(sign(CLAIMS), jwks=resolve).claims == CLAIMS
    assert asked == [("rsa-1", "RS256")]
