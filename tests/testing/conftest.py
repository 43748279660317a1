from __future__ import annotations

import base64
import collections.abc as cabc
import hashlib
import secrets
import typing as t

import jwt
import pytest
import requests

from flask_dance.testing import AuthorizationResult
from flask_dance.testing import LocalProvider
from flask_dance.testing import SigningKey
from flask_dance.testing.pytest_fixtures import local_provider as local_provider
from flask_dance.testing.pytest_fixtures import (
    local_provider_session as local_provider_session,
)
from flask_dance.testing.pytest_fixtures import (
    local_provider_shared as local_provider_shared,
)

REDIRECT_URI = "http://localhost:5000/login/local/authorized"


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def provider(signing_key: SigningKey) -> cabc.Iterator[LocalProvider]:
    with LocalProvider(signing_key=signing_key) as p:
        yield p


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    return verifier, challenge


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def verify_id_token(
    provider: LocalProvider, id_token: str, **kw: t.Any
) -> dict[str, t.Any]:
    """The claims of ``id_token``, checked against the provider's keys for
    ``test-client`` (or ``audience``)."""
    jwks = requests.get(provider.jwks_url, timeout=5).json()
    header = jwt.get_unverified_header(id_token)
    # (a token without a kid is checked with the first key, and fails)
    key = next(k for k in jwks["keys"] if k["kid"] == header.get("kid", k["kid"]))
    claims: dict[str, t.Any] = jwt.decode(
        id_token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=kw.pop("audience", "test-client"),
        issuer=provider.issuer,
        **kw,
    )
    return claims


class Flow:
    """Client-side steps of the OAuth 2 dance, driven with plain requests."""

    redirect_uri = REDIRECT_URI
    client = ("test-client", "test-secret")

    def __init__(self, provider: LocalProvider) -> None:
        self.provider = provider

    pkce_pair = staticmethod(pkce_pair)
    bearer = staticmethod(bearer)

    def auth_url(self, **params: str) -> str:
        query: dict[str, str] = {
            "response_type": "code",
            "client_id": "test-client",
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile email",
            "state": "the-state",
            "nonce": "the-nonce",
        }
        query.update(params)
        query = {k: v for k, v in query.items() if v != ""}
        prepared = requests.Request(
            "GET", self.provider.authorization_url, params=query
        ).prepare()
        return prepared.url or ""

    def approve(self, **params: str) -> AuthorizationResult:
        return self.provider.authorize(self.auth_url(**params))

    def exchange(
        self,
        code: str,
        *,
        verifier: str | None = None,
        redirect_uri: str = REDIRECT_URI,
        auth: tuple[str, str] | None = ("test-client", "test-secret"),
        **extra: str,
    ) -> requests.Response:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
        }
        if verifier is not None:
            data["code_verifier"] = verifier
        data.update(extra)
        return requests.post(self.provider.token_url, data=data, auth=auth, timeout=5)

    def refresh(
        self,
        refresh_token: str,
        auth: tuple[str, str] | None = ("test-client", "test-secret"),
        **extra: str,
    ) -> requests.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        data.update(extra)
        return requests.post(self.provider.token_url, data=data, auth=auth, timeout=5)

    def dance(self, **params: str) -> dict[str, t.Any]:
        """A full code + PKCE dance; returns the token response."""
        verifier, challenge = pkce_pair()
        result = self.approve(
            code_challenge=challenge, code_challenge_method="S256", **params
        )
        assert result.code, result
        response = self.exchange(result.code, verifier=verifier)
        assert response.status_code == 200, response.text
        data: dict[str, t.Any] = response.json()
        return data


@pytest.fixture
def flow(provider: LocalProvider) -> Flow:
    return Flow(provider)
