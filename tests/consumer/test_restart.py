"""A callback that matches no pending login starts the dance again, as
Flask-Dance 7.1 does, once per browser and blueprint within the pending-login
lifetime; a failure never redirects to the blueprint's own callback."""

from __future__ import annotations

import typing as t

import flask
import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from dance_helpers import BASE
from dance_helpers import callback
from dance_helpers import make_app
from dance_helpers import start_login
from flask_dance.consumer import oauth_error
from flask_dance.consumer.storage import MemoryStorage


def test_lost_session_restarts_once_then_gives_up(
    errors: list[dict[str, t.Any]],
    client: FlaskClient,
) -> None:
    first = callback(client, code="c", state="lost")
    second = callback(client, code="c", state="lost-again")
    assert first.headers["Location"] == "/login/test-service"
    # the second failure within the lifetime goes to the post-login URL
    assert second.status_code == 302
    assert second.headers["Location"] == "/"
    assert [e["error"] for e in errors] == ["invalid_state", "invalid_state"]


def test_restart_is_allowed_again_after_the_lifetime() -> None:
    app = make_app(storage=MemoryStorage(), pending_login_ttl=60)
    with app.test_client() as client:
        with freeze_time("2030-01-01 12:00:00"):
            assert callback(client, state="x").headers["Location"].startswith("/login/")
            assert callback(client, state="x").headers["Location"] == "/"
        with freeze_time("2030-01-01 12:01:01"):
            assert callback(client, state="x").headers["Location"].startswith("/login/")


@pytest.mark.usefixtures("token_endpoint")
def test_successful_login_allows_a_restart_again(client: FlaskClient) -> None:
    assert callback(client, state="x").headers["Location"].startswith("/login/")
    params = start_login(client)
    callback(client, code="c", state=params["state"])
    assert callback(client, state="x").headers["Location"].startswith("/login/")


def test_restart_is_per_browser_and_per_blueprint() -> None:
    app = make_app(storage=MemoryStorage())
    with app.test_client() as first_browser:
        callback(first_browser, state="x")
    with app.test_client() as other_browser:
        response = callback(other_browser, state="x")
    assert response.headers["Location"] == "/login/test-service"


def test_redirect_url_on_the_callback_itself_never_loops() -> None:
    app = make_app(
        storage=MemoryStorage(),
        redirect_url="/login/test-service/authorized",
        redirect_to=None,
    )
    with app.test_client() as client:
        first = callback(client, state="x")
        second = callback(client, state="x")
    absolute = make_app(
        storage=MemoryStorage(),
        redirect_url=BASE + "/login/test-service/authorized",
        redirect_to=None,
    )
    assert first.headers["Location"] == "/login/test-service"
    assert second.status_code == 400
    assert "Location" not in second.headers
    assert b'href="/login/test-service"' in second.data
    with absolute.test_client() as client:
        callback(client, state="x")
        assert callback(client, state="x").status_code == 400


def test_denied_login_does_not_redirect_to_the_callback() -> None:
    app = make_app(redirect_to="test-service.authorized")
    with app.test_client() as client:
        params = start_login(client)
        response = callback(client, error="access_denied", state=params["state"])
    assert response.status_code == 400


def test_app_under_a_prefix_restarts_under_it() -> None:
    app = make_app(storage=MemoryStorage())
    app.config["SERVER_NAME"] = None
    with app.test_client() as client:
        response = client.get(
            "/login/test-service/authorized?code=c&state=x",
            environ_overrides={"SCRIPT_NAME": "/app"},
        )
    assert response.status_code == 302
    assert response.headers["Location"] == "/app/login/test-service"


def test_receiver_response_wins_over_the_restart() -> None:
    app = make_app(storage=MemoryStorage())

    def answer(sender: t.Any, **kwargs: t.Any) -> flask.Response:
        return flask.Response("handled", status=200)

    with oauth_error.connected_to(answer), app.test_client() as client:
        response = callback(client, state="x")
    assert response.data == b"handled"


def test_oauth1_callback_without_pending_login_restarts() -> None:
    from flask_dance.consumer import OAuth1ConsumerBlueprint

    bp = OAuth1ConsumerBlueprint(
        "one",
        __name__,
        client_key="k",
        client_secret="s",
        request_token_url="https://example.com/rt",
        authorization_url="https://example.com/auth",
        access_token_url="https://example.com/at",
    )
    app = flask.Flask(__name__)
    app.secret_key = "x"
    app.register_blueprint(bp, url_prefix="/login")
    with app.test_client() as client:
        query = "?oauth_token=t&oauth_verifier=v"
        first = client.get("/login/one/authorized" + query)
        second = client.get("/login/one/authorized" + query)
    assert first.headers["Location"] == "/login/one"
    assert second.headers["Location"] == "/"
