"""An OAuth 2 blueprint has Flask-Dance 7.1's two URL rules unless the app
turns logout on; the logout route acts only on a request that carries the
browser's logout token."""

from __future__ import annotations

import typing as t

import flask
import pytest

from dance_helpers import BASE
from dance_helpers import make_app
from dance_helpers import make_blueprint
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.storage import MemoryStorage

TOKEN = {"access_token": "a", "token_type": "Bearer"}


def blueprint_rules(app: flask.Flask) -> dict[str, str]:
    return {
        rule.endpoint: rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("test-service.")
    }


def test_two_rules_by_default() -> None:
    app = make_app()
    assert blueprint_rules(app) == {
        "test-service.login": "/login/test-service",
        "test-service.authorized": "/login/test-service/authorized",
    }


def test_an_issuer_alone_does_not_add_logout() -> None:
    pytest.importorskip("jwt")
    bp = make_blueprint(issuer="https://issuer.example", token_url=None)
    assert blueprint_rules(make_app(bp)) == {
        "test-service.login": "/login/test-service",
        "test-service.authorized": "/login/test-service/authorized",
    }


@pytest.mark.parametrize(
    ("options", "logout_rule", "logged_out_rule"),
    [
        ({"logout": True}, "/test-service/logout", "/test-service/logged-out"),
        ({"logout_url": "/bye"}, "/bye", "/test-service/logged-out"),
        ({"logged_out_url": "/gone"}, "/test-service/logout", "/gone"),
    ],
    ids=["flag", "logout_url", "logged_out_url"],
)
def test_logout_is_turned_on_explicitly(
    options: dict[str, t.Any], logout_rule: str, logged_out_rule: str
) -> None:
    app = make_app(make_blueprint(**options))
    rules = blueprint_rules(app)
    assert rules["test-service.logout"] == "/login" + logout_rule
    assert rules["test-service.logged_out"] == "/login" + logged_out_rule


def logged_in_app() -> tuple[flask.Flask, MemoryStorage]:
    storage = MemoryStorage(TOKEN)
    app = make_app(storage=storage, logout=True)
    return app, storage


def test_cross_site_get_without_the_token_changes_nothing() -> None:
    app, storage = logged_in_app()
    with app.test_client() as client:
        response = client.get("/login/test-service/logout", base_url=BASE)
        posted = client.post("/login/test-service/logout", base_url=BASE)
    assert response.status_code == 403
    assert posted.status_code == 403
    assert storage.token == TOKEN


def test_another_browser_s_token_is_refused() -> None:
    app, storage = logged_in_app()
    bp = t.cast(OAuth2ConsumerBlueprint, app.blueprints["test-service"])
    with app.test_request_context("/", base_url=BASE):
        other = bp.logout_token
    with app.test_client() as client:
        client.get("/", base_url=BASE)
        response = client.get(
            f"/login/test-service/logout?logout_token={other}", base_url=BASE
        )
    assert response.status_code == 403
    assert storage.token == TOKEN


def _page_with_logout(app: flask.Flask, method: str) -> None:
    bp = t.cast(OAuth2ConsumerBlueprint, app.blueprints["test-service"])

    @app.route("/account")
    def account() -> str:
        if method == "GET":
            return flask.url_for("test-service.logout", logout_token=bp.logout_token)
        return bp.logout_token


def test_link_with_the_token_logs_out() -> None:
    app, storage = logged_in_app()
    _page_with_logout(app, "GET")
    with app.test_client() as client:
        link = client.get("/account", base_url=BASE).get_data(as_text=True)
        assert client.get("/account", base_url=BASE).get_data(as_text=True) == link
        response = client.get(link, base_url=BASE)
    assert response.status_code == 302
    assert storage.token is None


def test_form_with_the_token_logs_out() -> None:
    app, storage = logged_in_app()
    _page_with_logout(app, "POST")
    with app.test_client() as client:
        value = client.get("/account", base_url=BASE).get_data(as_text=True)
        response = client.post(
            "/login/test-service/logout",
            data={"logout_token": value, "next": "/"},
            base_url=BASE,
        )
    assert response.status_code == 302
    assert storage.token is None
