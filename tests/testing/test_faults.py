from __future__ import annotations

import hashlib
import hmac
import json
import time
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import jwt
import pytest
import requests

from flask_dance.testing import LocalProvider
from flask_dance.testing._crypto import b64url

from .conftest import verify_id_token


def _claims(id_token: str) -> dict[str, t.Any]:
    claims: dict[str, t.Any] = jwt.decode(id_token, options={"verify_signature": False})
    return claims


def test_deny_all(provider: LocalProvider, flow: t.Any) -> None:
    provider.faults.deny_all = True
    response = requests.get(flow.auth_url(), allow_redirects=False, timeout=5)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["the-state"]
    assert "code" not in query


def test_authorize_error_with_description(provider: LocalProvider, flow: t.Any) -> None:
    provider.faults.authorize_error = "temporarily_unavailable"
    provider.faults.authorize_error_description = "<script>alert(1)</script>"
    result = flow.approve()
    assert result.error == "temporarily_unavailable"
    assert result.params["error_description"] == "<script>alert(1)</script>"


def test_deny_all_with_form_post(provider: LocalProvider, flow: t.Any) -> None:
    provider.faults.deny_all = True
    result = provider.authorize(flow.auth_url(response_mode="form_post"))
    assert result.method == "POST"
    assert result.error == "access_denied"


def test_response_iss_override_and_omission(
    provider: LocalProvider, flow: t.Any
) -> None:
    provider.faults.response_iss = "https://evil.example"
    assert flow.approve().params["iss"] == "https://evil.example"
    provider.faults.response_iss = None
    provider.faults.omit_response_iss = True
    result = flow.approve()
    assert result.code
    assert "iss" not in result.params


@pytest.mark.parametrize("error", ["invalid_grant", "invalid_client", "server_error"])
def test_token_error(provider: LocalProvider, flow: t.Any, error: str) -> None:
    provider.faults.token_error = error
    result = flow.approve()
    response = flow.exchange(result.code)
    assert response.status_code == (401 if error == "invalid_client" else 400)
    assert response.json() == {"error": error}
    assert provider.calls["exchange"] == 1


def test_token_error_spares_refresh(provider: LocalProvider, flow: t.Any) -> None:
    token = flow.dance()
    provider.faults.token_error = "invalid_grant"
    assert flow.refresh(token["refresh_token"]).status_code == 200


def test_refresh_error(provider: LocalProvider, flow: t.Any) -> None:
    token = flow.dance()
    provider.faults.refresh_error = "invalid_grant"
    response = flow.refresh(token["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert provider.calls["refresh"] == 1
    # The code exchange still works.
    assert flow.dance()["access_token"]


def test_token_response_overrides(provider: LocalProvider, flow: t.Any) -> None:
    provider.faults.token_response_overrides = {
        "refresh_token": None,
        "token_type": "mac",
    }
    token = flow.dance()
    assert "refresh_token" not in token
    assert token["token_type"] == "mac"


def test_refresh_response_overrides(provider: LocalProvider, flow: t.Any) -> None:
    provider.faults.refresh_response_overrides = {"refresh_token": None}
    token = flow.dance()
    assert token["refresh_token"]
    new = flow.refresh(token["refresh_token"]).json()
    assert "refresh_token" not in new


@pytest.mark.parametrize(
    ("knob", "value", "claim", "expected"),
    [
        ("id_token_iss", "https://evil.example", "iss", "https://evil.example"),
        ("id_token_aud", "other-client", "aud", "other-client"),
        ("id_token_aud", ["test-client", "other"], "aud", ["test-client", "other"]),
        ("id_token_azp", "other-client", "azp", "other-client"),
        ("id_token_nonce", "wrong-nonce", "nonce", "wrong-nonce"),
        ("id_token_sub", "999", "sub", "999"),
        (
            "id_token_at_hash",
            "AAAAAAAAAAAAAAAAAAAAAA",
            "at_hash",
            "AAAAAAAAAAAAAAAAAAAAAA",
        ),
    ],
)
def test_id_token_claim_knobs(
    provider: LocalProvider,
    flow: t.Any,
    knob: str,
    value: t.Any,
    claim: str,
    expected: t.Any,
) -> None:
    setattr(provider.faults, knob, value)
    token = flow.dance()
    assert _claims(token["id_token"])[claim] == expected
    # Still properly signed: the fault is in the claims only.
    jwks = requests.get(provider.jwks_url, timeout=5).json()
    jwt.decode(
        token["id_token"],
        jwt.PyJWK(jwks["keys"][0]).key,
        algorithms=["RS256"],
        options={"verify_aud": False},
    )


def test_id_token_expired(provider: LocalProvider, flow: t.Any) -> None:
    provider.faults.id_token_expired = True
    token = flow.dance()
    with pytest.raises(jwt.ExpiredSignatureError):
        verify_id_token(provider, token["id_token"])
    claims = _claims(token["id_token"])
    assert claims["exp"] < time.time()
    assert claims["iat"] < claims["exp"]


def test_id_token_time_offsets(provider: LocalProvider, flow: t.Any) -> None:
    provider.faults.id_token_iat_offset = -3600
    provider.faults.id_token_auth_time_offset = -86400
    now = time.time()
    claims = _claims(flow.dance()["id_token"])
    assert claims["iat"] < now - 3500
    assert claims["auth_time"] < now - 86000


def test_id_token_claims_override_and_remove(
    provider: LocalProvider, flow: t.Any
) -> None:
    provider.faults.id_token_claims = {"nonce": None, "hd": "evil.example"}
    claims = _claims(flow.dance()["id_token"])
    assert "nonce" not in claims
    assert claims["hd"] == "evil.example"


def test_refresh_id_token_claims(provider: LocalProvider, flow: t.Any) -> None:
    provider.faults.refresh_id_token_claims = {"sub": "someone-else"}
    token = flow.dance()
    assert _claims(token["id_token"])["sub"] == "1"
    new = flow.refresh(token["refresh_token"]).json()
    assert _claims(new["id_token"])["sub"] == "someone-else"


def _id_token_with(provider: LocalProvider, flow: t.Any, **faults: t.Any) -> str:
    """The ID token of a login while the provider has ``faults``."""
    for name, value in faults.items():
        setattr(provider.faults, name, value)
    return t.cast(str, flow.dance()["id_token"])


def test_id_token_alg_none(provider: LocalProvider, flow: t.Any) -> None:
    id_token = _id_token_with(provider, flow, id_token_alg="none")
    assert jwt.get_unverified_header(id_token) == {"alg": "none", "typ": "JWT"}
    assert id_token.endswith(".")
    with pytest.raises(jwt.InvalidTokenError):
        verify_id_token(provider, id_token)


def test_id_token_alg_hs256_confusion(provider: LocalProvider, flow: t.Any) -> None:
    id_token = _id_token_with(provider, flow, id_token_alg="HS256")
    assert jwt.get_unverified_header(id_token)["alg"] == "HS256"
    signing_input, _, signature = id_token.rpartition(".")
    expected = hmac.new(
        provider.signing_key.public_pem, signing_input.encode(), hashlib.sha256
    ).digest()
    assert signature == b64url(expected)
    with pytest.raises(jwt.InvalidTokenError):
        verify_id_token(provider, id_token)


def test_id_token_unknown_kid(provider: LocalProvider, flow: t.Any) -> None:
    id_token = _id_token_with(provider, flow, id_token_kid="unknown-kid")
    assert jwt.get_unverified_header(id_token)["kid"] == "unknown-kid"


def test_id_token_bad_signature(provider: LocalProvider, flow: t.Any) -> None:
    id_token = _id_token_with(provider, flow, id_token_bad_signature=True)
    assert jwt.get_unverified_header(id_token)["kid"] == provider.signing_key.kid
    with pytest.raises(jwt.InvalidSignatureError):
        verify_id_token(provider, id_token)


def test_omit_id_token(provider: LocalProvider, flow: t.Any) -> None:
    provider.faults.omit_id_token = True
    token = flow.dance()
    assert "id_token" not in token
    assert token["access_token"]


def test_userinfo_knobs(provider: LocalProvider, flow: t.Any) -> None:
    provider.faults.userinfo_sub = "someone-else"
    provider.faults.userinfo_claims = {"email": None, "extra": 1}
    token = flow.dance()
    info = requests.get(
        provider.userinfo_url, headers=flow.bearer(token["access_token"]), timeout=5
    ).json()
    assert info["sub"] == "someone-else"
    assert "email" not in info
    assert info["extra"] == 1


def test_metadata_overrides(provider: LocalProvider) -> None:
    provider.faults.metadata_overrides = {
        "issuer": "https://evil.example",
        "code_challenge_methods_supported": None,
    }
    data = requests.get(provider.discovery_url, timeout=5).json()
    assert data["issuer"] == "https://evil.example"
    assert "code_challenge_methods_supported" not in data


#: Endpoints of the local provider, by the name its faults and counters use:
#: the method and the path.
ENDPOINTS = {
    "discovery": ("GET", "/.well-known/openid-configuration"),
    "jwks": ("GET", "/jwks.json"),
    "token": ("POST", "/token"),
    "revoke": ("POST", "/revoke"),
    "userinfo": ("GET", "/userinfo"),
    "user": ("GET", "/user"),
    "authorize": ("GET", "/authorize"),
    "oauth1_request_token": ("POST", "/oauth1/request_token"),
}


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_status_500_on(provider: LocalProvider, name: str) -> None:
    method, path = ENDPOINTS[name]
    provider.faults.status_500_on = {name}
    response = requests.request(method, provider.url + path, timeout=5)
    assert response.status_code == 500
    assert provider.calls[name] == 1
    provider.faults.reset()
    assert requests.request(method, provider.url + path, timeout=5).status_code != 500


def test_status_500_on_refresh_only(provider: LocalProvider, flow: t.Any) -> None:
    provider.faults.status_500_on = {"refresh"}
    token = flow.dance()
    assert flow.refresh(token["refresh_token"]).status_code == 500
    # The refresh token was not spent by the failed request.
    provider.faults.reset()
    assert flow.refresh(token["refresh_token"]).status_code == 200


@pytest.mark.parametrize("name", ["token", "exchange"])
def test_garbage_on_token(provider: LocalProvider, flow: t.Any, name: str) -> None:
    provider.faults.garbage_on = {name}
    result = flow.approve()
    response = flow.exchange(result.code)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_garbage_on_jwks(provider: LocalProvider) -> None:
    provider.faults.garbage_on = {"jwks", "discovery"}
    for url in (provider.jwks_url, provider.discovery_url):
        response = requests.get(url, timeout=5)
        assert response.status_code == 200
        with pytest.raises(requests.JSONDecodeError):
            response.json()


def test_delay_on_token_is_real(provider: LocalProvider, flow: t.Any) -> None:
    provider.faults.delay_on = {"token": 1.0}
    result = flow.approve()
    with pytest.raises(requests.Timeout):
        requests.post(
            provider.token_url,
            data={"grant_type": "authorization_code", "code": result.code},
            auth=flow.client,
            timeout=0.1,
        )
    start = time.monotonic()
    requests.get(provider.jwks_url, timeout=5)
    # Other endpoints answer meanwhile (threaded server).
    assert time.monotonic() - start < 0.8


def test_stop_interrupts_delay(signing_key: t.Any) -> None:
    provider = LocalProvider(signing_key=signing_key).start()
    provider.faults.delay_on = {"jwks": 30.0}
    url = provider.jwks_url
    with pytest.raises(requests.Timeout):
        requests.get(url, timeout=0.1)
    start = time.monotonic()
    provider.stop()
    assert time.monotonic() - start < 5
