"""The demo app with Flask's test client, and ``python -m flask_dance.demo``."""

from __future__ import annotations

import collections.abc as cabc
import logging
import re
import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import flask
import pytest
import requests

from flask_dance.demo import create_app
from flask_dance.demo import DEMO_CLIENT_ID
from flask_dance.demo import mask
from flask_dance.demo import register_demo_client
from flask_dance.testing import LocalProvider

_SECRET = "demo-test-secret"


@pytest.fixture
def app(provider: LocalProvider) -> cabc.Iterator[flask.Flask]:
    provider.reset()
    register_demo_client(provider, "http://localhost", DEMO_CLIENT_ID, _SECRET)
    demo = create_app(provider.issuer, DEMO_CLIENT_ID, _SECRET)
    yield demo
    for adapter in (demo.extensions["flask_dance_demo"]._adapters or {}).values():
        adapter.close()


def _login(
    client: t.Any, provider: LocalProvider, *, approve: bool = True, user: str = ""
) -> t.Any:
    response = client.get("/login/demo")
    assert response.status_code == 302
    result = provider.authorize(
        response.headers["Location"], approve=approve, user=user or None
    )
    url = urlsplit(result.url)
    assert url.path == "/login/demo/authorized"
    return client.get(f"{url.path}?{url.query}", follow_redirects=True)


def _csrf(page: str, field: str = "csrf_token") -> str:
    match = re.search(f'name="{field}" value="([^"]+)"', page)
    assert match is not None, page
    return match.group(1)


def test_mask_shows_four_characters() -> None:
    assert mask("abcdefghijklmnop") == "abcd…"
    assert mask("short") == "…"
    assert mask(None) == "(none)"
    assert mask("") == "(none)"


def test_home_page_offers_login(app: flask.Flask) -> None:
    page = app.test_client().get("/").get_data(as_text=True)
    # A button, like the page's other controls.
    assert '<form method="get" action="/login/demo">' in page
    assert '<button type="submit" class="primary" id="login">Log in</button>' in page
    assert "You are not logged in." in page


@pytest.mark.parametrize(
    ("method", "path", "code", "name"),
    [
        ("GET", "/nowhere", 404, "Not Found"),
        ("GET", "/refresh", 405, "Method Not Allowed"),
        ("POST", "/refresh", 400, "Bad Request"),
    ],
)
def test_error_pages_share_the_style(
    app: flask.Flask, method: str, path: str, code: int, name: str
) -> None:
    response = app.test_client().open(path, method=method)
    assert response.status_code == code
    page = response.get_data(as_text=True)
    assert f'<h1 id="error">{name}</h1>' in page
    assert f"Error {code}" in page
    assert "Flask-Dance demo" in page
    assert 'id="home"' in page
    assert "<style>" in page


def test_login_shows_user_claims_and_masked_token(
    app: flask.Flask, provider: LocalProvider
) -> None:
    client = app.test_client()
    response = _login(client, provider, user="monalisa")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<span id="name">Mona Lisa Octocat</span>' in page
    assert '<td id="who-login">monalisa</td>' in page
    assert f'<td id="claim-iss">{provider.issuer}</td>' in page
    assert '<td id="claim-email">monalisa@example.com</td>' in page
    assert "Logged in as Mona Lisa Octocat." in page
    with client.session_transaction() as session:
        token = session["demo_oauth_token"]
    for name in ("access_token", "refresh_token", "id_token"):
        assert token[name] not in page
        assert f'id="token-{name}">{token[name][:4]}…</code>' in page
    # The page shows no prefix longer than four characters of any secret.
    assert token["access_token"][:5] not in page
    assert provider.calls["user"] == 1
    assert response.headers["Cache-Control"] == "no-store"


def test_deny_shows_the_error(app: flask.Flask, provider: LocalProvider) -> None:
    page = _login(app.test_client(), provider, approve=False).get_data(as_text=True)
    assert "Login failed: access_denied (The user denied the request.)" in page
    assert 'id="login"' in page


def test_refresh_changes_the_token(app: flask.Flask, provider: LocalProvider) -> None:
    client = app.test_client()
    page = _login(client, provider).get_data(as_text=True)
    with client.session_transaction() as session:
        before = session["demo_oauth_token"]
    response = client.post(
        "/refresh", data={"csrf_token": _csrf(page)}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    with client.session_transaction() as session:
        after = session["demo_oauth_token"]
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]
    assert after["id_token_claims"]["sub"] == before["id_token_claims"]["sub"]
    assert provider.calls["refresh"] == 1
    assert provider.is_active(after["access_token"])
    assert not provider.is_active(before["refresh_token"])
    assert f"the access token now starts with {after['access_token'][:4]}…" in page


def test_refresh_without_csrf_token_is_refused(
    app: flask.Flask, provider: LocalProvider
) -> None:
    client = app.test_client()
    _login(client, provider)
    assert client.post("/refresh", data={"csrf_token": "nope"}).status_code == 400
    assert client.post("/login/demo/logout").status_code == 400
    assert provider.calls["refresh"] == 0
    assert provider.calls["revoke"] == 0


def test_logout_revokes_and_goes_through_the_provider(
    app: flask.Flask, provider: LocalProvider
) -> None:
    client = app.test_client()
    page = _login(client, provider).get_data(as_text=True)
    with client.session_transaction() as session:
        token = session["demo_oauth_token"]
    # the demo's own CSRF check, and the blueprint's logout token
    assert (
        client.post("/login/demo/logout", data={"csrf_token": _csrf(page)}).status_code
        == 403
    )
    response = client.post(
        "/login/demo/logout",
        data={"csrf_token": _csrf(page), "logout_token": _csrf(page, "logout_token")},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(provider.end_session_url + "?")
    params = dict(parse_qsl(urlsplit(location).query))
    assert (
        params["post_logout_redirect_uri"] == "http://localhost/login/demo/logged-out"
    )
    with requests.get(location, allow_redirects=False, timeout=10) as answer:
        back = answer.headers["Location"]
    assert answer.status_code == 302
    url = urlsplit(back)
    page = client.get(f"{url.path}?{url.query}", follow_redirects=True).get_data(
        as_text=True
    )
    assert "You have been logged out." in page
    assert 'id="login"' in page
    assert not provider.is_active(token["refresh_token"])
    assert provider.calls["revoke"] == 1


def test_userinfo_mode_uses_the_userinfo_endpoint(provider: LocalProvider) -> None:
    provider.reset()
    register_demo_client(provider, "http://localhost", DEMO_CLIENT_ID, _SECRET)
    app = create_app(provider.issuer, DEMO_CLIENT_ID, _SECRET, api_path=None)
    try:
        page = _login(app.test_client(), provider).get_data(as_text=True)
    finally:
        for adapter in (app.extensions["flask_dance_demo"]._adapters or {}).values():
            adapter.close()
    assert '<td id="who-preferred_username">octocat</td>' in page
    assert provider.calls["userinfo"] == 1
    assert provider.calls["user"] == 0


def test_each_app_gets_a_random_secret_key(provider: LocalProvider) -> None:
    one = create_app(provider.issuer, DEMO_CLIENT_ID)
    two = create_app(provider.issuer, DEMO_CLIENT_ID)
    assert one.secret_key != two.secret_key
    assert len(one.secret_key or b"") >= 32


def test_server_logs_no_query_strings(
    start_demo: t.Callable[..., t.Any], caplog: pytest.LogCaptureFixture
) -> None:
    demo = start_demo()
    caplog.set_level(logging.INFO, logger="flask_dance.demo")
    url = demo.url + "/login/demo/authorized?code=SECRETCODE&state=SECRETSTATE"
    with requests.get(url, allow_redirects=False, timeout=10) as response:
        assert response.status_code == 302
    assert "GET /login/demo/authorized -> 302" in caplog.text
    assert "SECRET" not in caplog.text
