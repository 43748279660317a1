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


def _verify_id_token(
    provider: LocalProvider, id_token: str, **kw: t.Any
) -> dict[str, t.Any]:
    jwks = requests.get(provider.jwks_url, timeout=5).json()
    header = jwt.get_unverified_header(id_token)
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims: dict[str, t.Any] = jwt.decode(
        id_token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=kw.pop("audience", "test-client"),
        issuer=provider.issuer,
        **kw,
    )
    return claims


def test_discovery_documents(provider: LocalProvider) -> None:
    oidc = requests.get(provider.discovery_url, timeout=5).json()
    oauth = requests.get(
        provider.url + "/.well-known/oauth-authorization-server", timeout=5
    ).json()
    assert oidc == oauth
    assert oidc["issuer"] == provider.issuer == provider.url
    assert oidc["authorization_endpoint"] == provider.url + "/authorize"
    assert oidc["token_endpoint"] == provider.url + "/token"
    assert oidc["userinfo_endpoint"] == provider.url + "/userinfo"
    assert oidc["jwks_uri"] == provider.url + "/jwks.json"
    assert oidc["revocation_endpoint"] == provider.url + "/revoke"
    assert oidc["end_session_endpoint"] == provider.url + "/logout"
    assert oidc["code_challenge_methods_supported"] == ["S256"]
    assert oidc["response_modes_supported"] == ["query", "form_post"]
    assert oidc["response_types_supported"] == ["code"]
    assert oidc["authorization_response_iss_parameter_supported"] is True
    assert oidc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "client_secret_basic" in oidc["token_endpoint_auth_methods_supported"]
    assert provider.calls["discovery"] == 2


def test_jwks_lists_signing_key(provider: LocalProvider) -> None:
    keys = requests.get(provider.jwks_url, timeout=5).json()["keys"]
    assert [k["kid"] for k in keys] == [provider.signing_key.kid]
    assert keys[0]["kty"] == "RSA"
    assert keys[0]["alg"] == "RS256"
    assert "d" not in keys[0]


def test_consent_page(provider: LocalProvider, flow: t.Any) -> None:
    response = requests.get(flow.auth_url(scope="openid email"), timeout=5)
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    page = response.text
    assert "Test Client" in page
    assert "<li>openid</li><li>email</li>" in page
    assert 'name="approve" id="approve"' in page
    assert 'name="deny" id="deny"' in page
    assert 'name="txn"' in page
    assert '<option value="octocat" selected>' in page
    assert provider.calls["authorize"] == 1


def test_consent_page_escapes_client_name(provider: LocalProvider, flow: t.Any) -> None:
    provider.clients["test-client"].name = "<script>alert(1)</script>"
    page = requests.get(flow.auth_url(), timeout=5).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page


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


def test_consent_txn_is_single_use(provider: LocalProvider, flow: t.Any) -> None:
    page = requests.get(flow.auth_url(), timeout=5).text
    txn = page.split('name="txn" value="')[1].split('"')[0]
    data = {"txn": txn, "user": "octocat", "approve": "1"}
    first = requests.post(provider.authorization_url, data=data, allow_redirects=False)
    second = requests.post(provider.authorization_url, data=data, allow_redirects=False)
    assert first.status_code == 302
    assert second.status_code == 400
    forged = requests.post(
        provider.authorization_url,
        data={"txn": "forged", "approve": "1"},
        allow_redirects=False,
    )
    assert forged.status_code == 400


def test_user_picker_selects_the_user(provider: LocalProvider, flow: t.Any) -> None:
    verifier, challenge = flow.pkce_pair()
    result = provider.authorize(
        flow.auth_url(code_challenge=challenge, code_challenge_method="S256"),
        user="monalisa",
    )
    token = flow.exchange(result.code, verifier=verifier).json()
    me = requests.get(
        provider.url + "/user", headers=flow.bearer(token["access_token"])
    )
    assert me.json()["login"] == "monalisa"


@pytest.mark.usefixtures("provider")
def test_login_hint_preselects_user(flow: t.Any) -> None:
    page = requests.get(flow.auth_url(login_hint="monalisa"), timeout=5).text
    assert '<option value="monalisa" selected>' in page


@pytest.mark.usefixtures("provider")
def test_unknown_client_gets_error_page_not_redirect(flow: t.Any) -> None:
    response = requests.get(
        flow.auth_url(client_id="nobody"), allow_redirects=False, timeout=5
    )
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_unregistered_redirect_uri_gets_error_page(provider: LocalProvider) -> None:
    provider.add_client("strict", "s3cret", ["https://app.example/callback"])
    url = (
        requests.Request(
            "GET",
            provider.authorization_url,
            params={
                "response_type": "code",
                "client_id": "strict",
                "redirect_uri": "https://evil.example/callback",
            },
        )
        .prepare()
        .url
    )
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 400
    assert "Location" not in response.headers


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
    claims = _verify_id_token(provider, token["id_token"])
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
    first = _verify_id_token(provider, token["id_token"])
    second = _verify_id_token(provider, new["id_token"])
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


def test_user_api(provider: LocalProvider, flow: t.Any) -> None:
    token = flow.dance()
    headers = flow.bearer(token["access_token"])
    me = requests.get(provider.url + "/user", headers=headers, timeout=5)
    assert me.json() == {
        "id": 1,
        "login": "octocat",
        "name": "The Octocat",
        "email": "octocat@example.com",
    }
    emails = requests.get(provider.url + "/user/emails", headers=headers, timeout=5)
    assert emails.json() == [
        {"email": "octocat@example.com", "primary": True, "verified": True}
    ]
    assert provider.calls["user"] == 1
    assert provider.calls["user_emails"] == 1


@pytest.mark.parametrize("path", ["/user", "/user/emails", "/userinfo"])
def test_api_requires_bearer_header(
    provider: LocalProvider, flow: t.Any, path: str
) -> None:
    token = flow.dance()
    missing = requests.get(provider.url + path, timeout=5)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    in_query = requests.get(
        provider.url + path, params={"access_token": token["access_token"]}, timeout=5
    )
    assert in_query.status_code == 401
    wrong = requests.get(provider.url + path, headers=flow.bearer("nope"), timeout=5)
    assert wrong.status_code == 401
    # An id_token is not an access token.
    as_jwt = requests.get(
        provider.url + path, headers=flow.bearer(token["id_token"]), timeout=5
    )
    assert as_jwt.status_code == 401


def test_userinfo(provider: LocalProvider, flow: t.Any) -> None:
    token = flow.dance()
    info = requests.get(
        provider.userinfo_url, headers=flow.bearer(token["access_token"]), timeout=5
    ).json()
    assert info["sub"] == _verify_id_token(provider, token["id_token"])["sub"]
    assert info["email"] == "octocat@example.com"
    assert info["email_verified"] is True
    assert info["preferred_username"] == "octocat"


def test_userinfo_requires_openid_scope(provider: LocalProvider, flow: t.Any) -> None:
    token = flow.dance(scope="profile")
    response = requests.get(
        provider.userinfo_url, headers=flow.bearer(token["access_token"]), timeout=5
    )
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_form_post(provider: LocalProvider, flow: t.Any) -> None:
    page = requests.get(flow.auth_url(response_mode="form_post"), timeout=5).text
    txn = page.split('name="txn" value="')[1].split('"')[0]
    response = requests.post(
        provider.authorization_url,
        data={"txn": txn, "user": "octocat", "approve": "1"},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 200
    assert f'<form method="post" action="{flow.redirect_uri}">' in response.text
    assert "document.forms[0].submit()" in response.text
    result = provider.authorize(flow.auth_url(response_mode="form_post"))
    assert result.method == "POST"
    assert result.url == flow.redirect_uri
    assert set(result.params) == {"code", "state", "iss"}
    assert result.params["iss"] == provider.issuer
    assert flow.exchange(result.code).status_code == 200


def test_form_post_deny(provider: LocalProvider, flow: t.Any) -> None:
    result = provider.authorize(flow.auth_url(response_mode="form_post"), approve=False)
    assert result.method == "POST"
    assert result.error == "access_denied"
    assert result.state == "the-state"


def test_auto_approve(provider: LocalProvider, flow: t.Any) -> None:
    provider.auto_approve = True
    response = requests.get(flow.auth_url(), allow_redirects=False, timeout=5)
    assert response.status_code == 302
    assert "code=" in response.headers["Location"]
    result = flow.approve()
    assert result.code
    assert provider.calls["consent"] == 0


def _end_session(provider: LocalProvider, **params: str) -> requests.Response:
    """Call the provider's end-session endpoint, not following its redirect."""
    return requests.get(
        provider.end_session_url, params=params, allow_redirects=False, timeout=5
    )


def test_logout(provider: LocalProvider, flow: t.Any) -> None:
    provider.clients["test-client"].post_logout_redirect_uris = [
        "http://localhost:5000/bye"
    ]
    token = flow.dance()
    response = _end_session(
        provider,
        id_token_hint=token["id_token"],
        post_logout_redirect_uri="http://localhost:5000/bye",
        state="logout-state",
    )
    assert response.status_code == 302
    assert (
        response.headers["Location"] == "http://localhost:5000/bye?state=logout-state"
    )
    assert provider.calls["logout"] == 1


def test_logout_refuses_unregistered_target(
    provider: LocalProvider, flow: t.Any
) -> None:
    token = flow.dance()
    response = _end_session(
        provider,
        id_token_hint=token["id_token"],
        post_logout_redirect_uri="https://evil.example/",
    )
    assert response.status_code == 400


def test_logout_refuses_forged_hint(provider: LocalProvider, flow: t.Any) -> None:
    provider.faults.id_token_bad_signature = True
    token = flow.dance()
    response = _end_session(provider, id_token_hint=token["id_token"])
    assert response.status_code == 400


def test_logout_without_target_shows_page(provider: LocalProvider) -> None:
    response = requests.get(provider.end_session_url, timeout=5)
    assert response.status_code == 200
    assert "signed out" in response.text


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
