"""The local provider's web app (flask_dance/testing/_app.py): pages and endpoints."""

from __future__ import annotations

import typing as t

import pytest
import requests

from flask_dance.testing import LocalProvider

from .conftest import verify_id_token


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
    assert info["sub"] == verify_id_token(provider, token["id_token"])["sub"]
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
