from __future__ import annotations

import logging
import socket
import ssl
import typing as t

import jwt
import pytest
import requests

from flask_dance.testing import Client
from flask_dance.testing import LocalProvider
from flask_dance.testing import SigningKey
from flask_dance.testing import User


def test_start_stop_and_context_manager(signing_key: SigningKey) -> None:
    provider = LocalProvider(signing_key=signing_key)
    assert not provider.running
    with pytest.raises(RuntimeError, match="start"):
        provider.url  # noqa: B018
    with provider as started:
        assert started is provider
        assert provider.running
        assert provider.url == f"http://127.0.0.1:{provider.port}"
        assert provider.port != 0
        assert requests.get(provider.jwks_url, timeout=5).status_code == 200
        port = provider.port
    assert not provider.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), 1).close()
    provider.stop()  # stopping twice is harmless


def test_tls(signing_key: SigningKey, flow: t.Any) -> None:
    with LocalProvider(signing_key=signing_key, tls=True) as provider:
        assert provider.url.startswith("https://127.0.0.1:")
        assert provider.ca_file is not None
        data = requests.get(provider.discovery_url, verify=provider.ca_file, timeout=5)
        assert data.json()["issuer"].startswith("https://")
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(provider.discovery_url, timeout=5)
        flow.provider = provider
        result = provider.authorize(flow.auth_url())
        assert result.code
        assert result.params["iss"] == provider.issuer
    assert provider.ca_file is None


def test_custom_ssl_context(signing_key: SigningKey, tmp_path: t.Any) -> None:
    from flask_dance.testing._crypto import make_tls_files
    from flask_dance.testing._crypto import server_ssl_context

    files = make_tls_files(str(tmp_path))
    context = server_ssl_context(files)
    with LocalProvider(signing_key=signing_key, ssl_context=context) as provider:
        assert provider.url.startswith("https://")
        assert provider.ca_file is None
        client = ssl.create_default_context(cafile=files.ca_file)
        with socket.create_connection(("127.0.0.1", provider.port), 5) as raw:
            with client.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                assert tls.version() is not None


def test_in_process_wsgi_app(signing_key: SigningKey) -> None:
    provider = LocalProvider(signing_key=signing_key, issuer="http://provider.test/")
    assert provider.url == "http://provider.test"
    client = provider.wsgi_app.test_client()
    data = client.get("/.well-known/openid-configuration").get_json()
    assert data["issuer"] == "http://provider.test"
    assert data["token_endpoint"] == "http://provider.test/token"
    token = provider.issue_token()
    me = client.get(
        "/user", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert me.get_json()["login"] == "octocat"


def test_blueprint_kwargs(provider: LocalProvider) -> None:
    assert provider.blueprint_kwargs() == {
        "client_id": "test-client",
        "client_secret": "test-secret",
        "base_url": provider.url + "/",
        "authorization_url": provider.url + "/authorize",
        "token_url": provider.url + "/token",
    }
    provider.add_client("other", "s", ["http://localhost/cb"])
    kwargs = provider.blueprint_kwargs(
        "other", scope=["openid"], auto_refresh=True, redirect_to="index"
    )
    assert kwargs["client_id"] == "other"
    assert kwargs["scope"] == ["openid"]
    assert kwargs["auto_refresh_url"] == provider.token_url
    assert kwargs["redirect_to"] == "index"


def test_endpoint_urls(provider: LocalProvider) -> None:
    metadata = requests.get(provider.discovery_url, timeout=5).json()
    assert metadata["authorization_endpoint"] == provider.authorization_url
    assert metadata["token_endpoint"] == provider.token_url
    assert metadata["revocation_endpoint"] == provider.revocation_url
    assert metadata["userinfo_endpoint"] == provider.userinfo_url
    assert metadata["jwks_uri"] == provider.jwks_url
    assert metadata["end_session_endpoint"] == provider.end_session_url


def test_custom_users_and_clients(signing_key: SigningKey) -> None:
    users = [User("alice", name="Alice", email="alice@example.com", sub="alice-sub")]
    clients = [Client("app", "app-secret", ["https://app.example/cb"], name="App")]
    with LocalProvider(users, clients, signing_key=signing_key) as provider:
        assert list(provider.users) == ["alice"]
        assert provider.users["alice"].id == 1
        assert provider.default_user == "alice"
        assert provider.default_client_id == "app"
        bob = provider.add_user("bob", email="bob@example.com")
        assert bob.id == 2
        token = provider.issue_token("bob", scope=["openid", "email"])
        claims = jwt.decode(token["id_token"], options={"verify_signature": False})
        assert claims["sub"] == "2"
        assert claims["aud"] == "app"
        assert claims["email"] == "bob@example.com"
        alice_token = provider.issue_token("alice")
        claims = jwt.decode(
            alice_token["id_token"], options={"verify_signature": False}
        )
        assert claims["sub"] == "alice-sub"


def test_user_extra_claims_and_emails(provider: LocalProvider, flow: t.Any) -> None:
    provider.add_user(
        User(
            "carol",
            email="carol@example.com",
            claims={"hd": "example.com"},
            emails=[{"email": "c@example.org", "primary": True, "verified": False}],
        )
    )
    token = provider.issue_token("carol")
    claims = jwt.decode(token["id_token"], options={"verify_signature": False})
    assert claims["hd"] == "example.com"
    emails = requests.get(
        provider.url + "/user/emails",
        headers=flow.bearer(token["access_token"]),
        timeout=5,
    ).json()
    assert emails == [{"email": "c@example.org", "primary": True, "verified": False}]


def test_issue_token(provider: LocalProvider, flow: t.Any) -> None:
    token = provider.issue_token(scope=["profile"], expires_in=60)
    assert token["expires_in"] == 60
    assert "id_token" not in token
    assert provider.is_active(token["access_token"])
    assert provider.is_active(token["refresh_token"])
    refreshed = flow.refresh(token["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert not provider.is_active(token["refresh_token"])
    with pytest.raises(ValueError, match="nobody"):
        provider.issue_token("nobody")


def test_rotate_signing_key(provider: LocalProvider, flow: t.Any) -> None:
    old = provider.signing_key
    first = flow.dance()["id_token"]
    new = provider.rotate_signing_key()
    assert provider.signing_key is new
    kids = [k["kid"] for k in requests.get(provider.jwks_url, timeout=5).json()["keys"]]
    assert kids == [new.kid, old.kid]
    assert jwt.get_unverified_header(flow.dance()["id_token"])["kid"] == new.kid
    # Logout still accepts a hint signed with the old key while it is published.
    assert (
        requests.get(
            provider.end_session_url, params={"id_token_hint": first}, timeout=5
        ).status_code
        == 200
    )
    provider.rotate_signing_key(keep_old=False)
    kids = [k["kid"] for k in requests.get(provider.jwks_url, timeout=5).json()["keys"]]
    assert kids == [provider.signing_key.kid]


def test_reset(provider: LocalProvider, flow: t.Any) -> None:
    token = flow.dance()
    provider.faults.deny_all = True
    provider.reset()
    assert not provider.faults.deny_all
    assert provider.calls == {}
    assert provider.requests == []
    assert not provider.is_active(token["access_token"])
    assert "octocat" in provider.users


def test_recorded_requests(provider: LocalProvider, flow: t.Any) -> None:
    verifier, challenge = flow.pkce_pair()
    flow.approve(code_challenge=challenge, code_challenge_method="S256")
    recorded = provider.requests_for("authorize")[0]
    assert recorded.method == "GET"
    assert recorded.args["code_challenge_method"] == "S256"
    assert recorded.args["redirect_uri"] == flow.redirect_uri
    assert "code_verifier" not in recorded.args


def test_request_log_has_no_query_strings(
    provider: LocalProvider, flow: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        token = flow.dance()
        requests.get(provider.url + "/user", headers=flow.bearer(token["access_token"]))
    text = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("flask_dance")
    )
    assert "GET /authorize -> 200" in text
    for secret in ("the-state", "the-nonce", token["access_token"], "test-secret"):
        assert secret not in text
