from __future__ import annotations

import base64
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from oauthlib.oauth2 import WebApplicationClient

from flask_dance.testing import LocalProvider
from flask_dance.testing._crypto import token_hash

from .conftest import verify_id_token


def test_approve_redirects_with_code_state_and_iss(
    provider: LocalProvider, flow: t.Any
) -> None:
    result = flow.approve()
    assert result.method == "GET"
    assert result.redirect_uri == flow.redirect_uri
    assert result.code
    assert result.state == "the-state"
    assert result.params["iss"] == provider.issuer
    assert provider.calls["consent"] == 1


def test_deny_redirects_with_access_denied(
    provider: LocalProvider, flow: t.Any
) -> None:
    result = provider.authorize(flow.auth_url(), approve=False)
    assert result.error == "access_denied"
    assert result.state == "the-state"
    assert result.code is None
    assert result.params["iss"] == provider.issuer


@pytest.mark.usefixtures("provider")
def test_plain_pkce_refused(flow: t.Any) -> None:
    response = requests.get(
        flow.auth_url(code_challenge="x" * 43, code_challenge_method="plain"),
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert query["state"] == ["the-state"]
    # A challenge without a method means "plain" too.
    response = requests.get(
        flow.auth_url(code_challenge="x" * 43), allow_redirects=False, timeout=5
    )
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"]


def test_require_pkce(provider: LocalProvider, flow: t.Any) -> None:
    provider.clients["test-client"].require_pkce = True
    response = requests.get(flow.auth_url(), allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["invalid_request"]


@pytest.mark.usefixtures("provider")
def test_unsupported_response_mode(flow: t.Any) -> None:
    response = requests.get(
        flow.auth_url(response_mode="fragment"), allow_redirects=False, timeout=5
    )
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["invalid_request"]


def test_code_exchange_with_pkce(provider: LocalProvider, flow: t.Any) -> None:
    token = flow.dance()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == "openid profile email"
    assert token["refresh_token"]
    assert token["id_token"]
    assert provider.calls["token"] == 1
    assert provider.calls["exchange"] == 1
    assert provider.calls["refresh"] == 0
    recorded = provider.requests_for("exchange")[0]
    assert recorded.form["redirect_uri"] == flow.redirect_uri
    assert recorded.client_auth == "client_secret_basic"


def test_token_with_oauthlib_client(
    provider: LocalProvider, flow: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    client = WebApplicationClient("test-client")
    verifier = client.create_code_verifier(64)
    challenge = client.create_code_challenge(verifier, "S256")
    url = client.prepare_request_uri(
        provider.authorization_url,
        redirect_uri=flow.redirect_uri,
        scope=["openid"],
        state="s1",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    result = provider.authorize(url)
    body = client.prepare_request_body(
        code=result.code,
        redirect_uri=flow.redirect_uri,
        code_verifier=verifier,
        client_secret="test-secret",
        include_client_id=True,
    )
    response = requests.post(
        provider.token_url,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    token = client.parse_request_body_response(response.text, scope=["openid"])
    assert token["access_token"]
    assert provider.requests_for("token")[0].client_auth == "client_secret_post"


@pytest.mark.usefixtures("provider")
def test_wrong_pkce_verifier_is_invalid_grant(flow: t.Any) -> None:
    _, challenge = flow.pkce_pair()
    result = flow.approve(code_challenge=challenge, code_challenge_method="S256")
    response = flow.exchange(result.code, verifier="w" * 50)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.usefixtures("provider")
def test_missing_pkce_verifier_is_refused(flow: t.Any) -> None:
    _, challenge = flow.pkce_pair()
    result = flow.approve(code_challenge=challenge, code_challenge_method="S256")
    response = flow.exchange(result.code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_code_reuse_is_invalid_grant_and_revokes(
    provider: LocalProvider, flow: t.Any
) -> None:
    verifier, challenge = flow.pkce_pair()
    result = flow.approve(code_challenge=challenge, code_challenge_method="S256")
    first = flow.exchange(result.code, verifier=verifier)
    assert first.status_code == 200
    token = first.json()
    assert provider.is_active(token["access_token"])
    second = flow.exchange(result.code, verifier=verifier)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    # RFC 6749 section 4.1.2: what the code gave out is revoked.
    assert not provider.is_active(token["access_token"])
    assert not provider.is_active(token["refresh_token"])


@pytest.mark.usefixtures("provider")
def test_redirect_uri_must_match(flow: t.Any) -> None:
    result = flow.approve()
    response = flow.exchange(result.code, redirect_uri="http://localhost:5000/other")
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_request", "invalid_grant")


def test_expired_code_is_invalid_grant(provider: LocalProvider, flow: t.Any) -> None:
    provider.code_lifetime = 0
    result = flow.approve()
    response = flow.exchange(result.code)
    assert response.json()["error"] == "invalid_grant"


def test_code_bound_to_client(provider: LocalProvider, flow: t.Any) -> None:
    provider.add_client("other", "other-secret", ["http://localhost:5000/*"])
    result = flow.approve()
    response = flow.exchange(result.code, auth=("other", "other-secret"))
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "auth",
    [("test-client", "wrong"), ("nobody", "test-secret"), None],
    ids=["bad-secret", "unknown-client", "no-auth"],
)
@pytest.mark.usefixtures("provider")
def test_client_authentication_failures(
    flow: t.Any, auth: tuple[str, str] | None
) -> None:
    result = flow.approve()
    response = flow.exchange(result.code, auth=auth)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_client_secret_basic_is_form_urlencoded(
    provider: LocalProvider, flow: t.Any
) -> None:
    provider.add_client("id:with%", "se:cr%et+", ["http://localhost:5000/*"])
    result = provider.authorize(flow.auth_url(client_id="id:with%"))
    raw = base64.b64encode(b"id%3Awith%25:se%3Acr%25et%2B").decode()
    response = requests.post(
        provider.token_url,
        data={
            "grant_type": "authorization_code",
            "code": result.code,
            "redirect_uri": flow.redirect_uri,
        },
        headers={"Authorization": f"Basic {raw}"},
        timeout=5,
    )
    assert response.status_code == 200, response.text


def test_client_secret_post_can_be_disallowed(
    provider: LocalProvider, flow: t.Any
) -> None:
    provider.clients["test-client"].auth_methods = ("client_secret_basic",)
    result = flow.approve()
    response = flow.exchange(
        result.code, auth=None, client_id="test-client", client_secret="test-secret"
    )
    assert response.status_code == 401


def test_public_client_with_pkce(provider: LocalProvider, flow: t.Any) -> None:
    provider.add_client("spa", None, ["http://localhost:5000/*"], require_pkce=True)
    verifier, challenge = flow.pkce_pair()
    result = provider.authorize(
        flow.auth_url(
            client_id="spa", code_challenge=challenge, code_challenge_method="S256"
        )
    )
    response = flow.exchange(result.code, verifier=verifier, auth=None, client_id="spa")
    assert response.status_code == 200, response.text


def _assertion(key: rsa.RSAPrivateKey, provider: LocalProvider, **claims: t.Any) -> str:
    payload = {
        "iss": "jwt-client",
        "sub": "jwt-client",
        "aud": provider.token_url,
        "exp": int(time.time()) + 60,
        "jti": claims.pop("jti", "jti-1"),
    }
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


def test_private_key_jwt(provider: LocalProvider, flow: t.Any) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update(kid="k1", alg="RS256")
    provider.add_client(
        "jwt-client",
        None,
        ["http://localhost:5000/*"],
        jwks={"keys": [jwk]},
        auth_methods=("private_key_jwt",),
    )

    def exchange(assertion: str) -> requests.Response:
        result = provider.authorize(flow.auth_url(client_id="jwt-client"))
        return flow.exchange(
            result.code,
            auth=None,
            client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion=assertion,
        )

    good = _assertion(key, provider)
    assert exchange(good).status_code == 200
    assert provider.requests_for("token")[-1].client_auth == "private_key_jwt"
    # The same jti again is a replay.
    assert exchange(good).status_code == 401
    assert (
        exchange(_assertion(key, provider, jti="j2", aud="https://other")).status_code
        == 401
    )
    assert (
        exchange(_assertion(key, provider, jti="j3", sub="someone")).status_code == 401
    )
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert exchange(_assertion(other, provider, jti="j4")).status_code == 401
    assert exchange(_assertion(key, provider, jti="j5")).status_code == 200


def test_id_token_claims_and_signature(provider: LocalProvider, flow: t.Any) -> None:
    before = int(time.time())
    token = flow.dance()
    claims = verify_id_token(provider, token["id_token"])
    assert claims["iss"] == provider.issuer
    assert claims["sub"] == "1"
    assert claims["aud"] == "test-client"
    assert claims["azp"] == "test-client"
    assert claims["nonce"] == "the-nonce"
    assert claims["email"] == "octocat@example.com"
    assert claims["name"] == "The Octocat"
    assert claims["at_hash"] == token_hash(token["access_token"])
    assert before <= claims["iat"] <= claims["auth_time"] + 5
    assert claims["exp"] == claims["iat"] + 3600
    header = jwt.get_unverified_header(token["id_token"])
    assert header["kid"] == provider.signing_key.kid
    assert header["alg"] == "RS256"


@pytest.mark.usefixtures("provider")
def test_no_id_token_without_openid_scope(flow: t.Any) -> None:
    token = flow.dance(scope="profile")
    assert "id_token" not in token
    assert token["scope"] == "profile"


def test_refresh_rotates(provider: LocalProvider, flow: t.Any) -> None:
    token = flow.dance()
    response = flow.refresh(token["refresh_token"])
    assert response.status_code == 200, response.text
    new = response.json()
    assert new["refresh_token"] != token["refresh_token"]
    assert new["access_token"] != token["access_token"]
    assert provider.calls["refresh"] == 1
    # The old refresh token is spent.
    reuse = flow.refresh(token["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert flow.refresh(new["refresh_token"]).status_code == 200
    assert provider.calls["refresh"] == 3


def test_refresh_issues_id_token_with_same_subject(
    provider: LocalProvider, flow: t.Any
) -> None:
    token = flow.dance()
    new = flow.refresh(token["refresh_token"]).json()
    first = verify_id_token(provider, token["id_token"])
    second = verify_id_token(provider, new["id_token"])
    assert (second["iss"], second["sub"], second["aud"]) == (
        first["iss"],
        first["sub"],
        first["aud"],
    )
    assert second["auth_time"] == first["auth_time"]
    assert "nonce" not in second


def test_concurrent_refresh_with_one_token_wins_once(
    provider: LocalProvider, flow: t.Any
) -> None:
    token = flow.dance()
    provider.faults.delay_on = {"refresh": 0.2}
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(flow.refresh, [token["refresh_token"]] * 2))
    assert sorted(r.status_code for r in responses) == [200, 400]
    assert provider.calls["refresh"] == 2


@pytest.mark.usefixtures("provider")
def test_prompt_none_is_login_required(flow: t.Any) -> None:
    response = requests.get(flow.auth_url(prompt="none"), allow_redirects=False)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["login_required"]


def test_refresh_without_rotation(provider: LocalProvider, flow: t.Any) -> None:
    provider.rotate_refresh_tokens = False
    token = flow.dance()
    new = flow.refresh(token["refresh_token"]).json()
    assert new["refresh_token"] == token["refresh_token"]
    assert flow.refresh(token["refresh_token"]).status_code == 200


def test_refresh_bound_to_client(provider: LocalProvider, flow: t.Any) -> None:
    provider.add_client("other", "other-secret", ["http://localhost:5000/*"])
    token = flow.dance()
    response = flow.refresh(token["refresh_token"], auth=("other", "other-secret"))
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.usefixtures("provider")
def test_refresh_narrower_scope(flow: t.Any) -> None:
    token = flow.dance()
    new = flow.refresh(token["refresh_token"], scope="openid").json()
    assert new["scope"] == "openid"
    wider = flow.refresh(new["refresh_token"], scope="openid admin")
    assert wider.json()["error"] == "invalid_scope"


def test_access_token_expires(provider: LocalProvider, flow: t.Any) -> None:
    provider.access_token_lifetime = 1
    token = flow.dance()
    assert token["expires_in"] == 1
    headers = flow.bearer(token["access_token"])
    assert requests.get(provider.url + "/user", headers=headers).status_code == 200
    provider._oauth2_store.access_tokens[token["access_token"]].expires_at = (
        time.time() - 1
    )
    response = requests.get(provider.url + "/user", headers=headers)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_revocation_of_access_token(provider: LocalProvider, flow: t.Any) -> None:
    token = flow.dance()
    response = requests.post(
        provider.revocation_url,
        data={"token": token["access_token"], "token_type_hint": "access_token"},
        auth=flow.client,
        timeout=5,
    )
    assert response.status_code == 200
    assert provider.calls["revoke"] == 1
    assert provider.requests_for("revoke")[0].client_auth == "client_secret_basic"
    assert (
        requests.get(
            provider.url + "/user", headers=flow.bearer(token["access_token"])
        ).status_code
        == 401
    )
    # The refresh token lives on.
    assert flow.refresh(token["refresh_token"]).status_code == 200


def _revoke(
    provider: LocalProvider, auth: tuple[str, str], token: str, **data: str
) -> requests.Response:
    """Ask the provider to revoke ``token``, as the client ``auth``."""
    return requests.post(
        provider.revocation_url, data={"token": token, **data}, auth=auth, timeout=5
    )


def test_revocation_of_refresh_token_drops_the_grant(
    provider: LocalProvider, flow: t.Any
) -> None:
    token = flow.dance()
    response = _revoke(
        provider, flow.client, token["refresh_token"], token_type_hint="refresh_token"
    )
    assert response.status_code == 200
    assert flow.refresh(token["refresh_token"]).json()["error"] == "invalid_grant"
    assert not provider.is_active(token["access_token"])


def test_revocation_requires_client_auth(provider: LocalProvider, flow: t.Any) -> None:
    token = flow.dance()
    response = _revoke(provider, ("test-client", "wrong"), token["access_token"])
    assert response.status_code == 401
    assert provider.is_active(token["access_token"])


def test_revocation_by_other_client_is_ignored(
    provider: LocalProvider, flow: t.Any
) -> None:
    provider.add_client("other", "other-secret", ["http://localhost:5000/*"])
    token = flow.dance()
    response = _revoke(provider, ("other", "other-secret"), token["access_token"])
    assert response.status_code == 200
    assert provider.is_active(token["access_token"])


def test_password_and_client_credentials_grants_refused(
    provider: LocalProvider,
) -> None:
    for data in (
        {"grant_type": "password", "username": "octocat", "password": "x"},
        {"grant_type": "client_credentials"},
    ):
        response = requests.post(
            provider.token_url,
            data=data,
            auth=("test-client", "test-secret"),
            timeout=5,
        )
        assert response.status_code in (400, 401)
        assert "access_token" not in response.json()


@pytest.mark.usefixtures("provider")
def test_implicit_flow_refused(flow: t.Any) -> None:
    response = requests.get(
        flow.auth_url(response_type="token"), allow_redirects=False, timeout=5
    )
    assert response.status_code == 302
    assert "access_token" not in response.headers["Location"]
    assert "error=" in response.headers["Location"]
