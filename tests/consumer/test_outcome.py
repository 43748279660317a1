"""The end of the dance (consumer/_outcome.py): redirect target, next, receivers."""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qs

import flask
import pytest
from flask.testing import FlaskClient

from dance_helpers import BASE
from dance_helpers import callback
from dance_helpers import FailingStorage
from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import start_login
from flask_dance.consumer import oauth_authorized
from flask_dance.consumer.storage import MemoryStorage


@pytest.mark.usefixtures("token_endpoint")
def test_storage_value_error_sends_error_signal(errors: list[dict[str, t.Any]]) -> None:
    app = make_app(storage=FailingStorage())
    with app.test_client() as client:
        params = start_login(client)
        response = callback(client, code="c", state=params["state"])
    assert response.status_code == 302
    assert isinstance(errors[0]["error"], ValueError)
    assert errors[0]["message"] == "Cannot set OAuth token without an associated user"
    assert errors[0]["response"] is None


@pytest.mark.usefixtures("token_endpoint")
def test_authorized_receiver_false_skips_storage() -> None:
    storage = MemoryStorage()
    app = make_app(storage=storage)

    def receiver(sender: t.Any, token: t.Any) -> bool:
        return False

    with oauth_authorized.connected_to(receiver), app.test_client() as client:
        params = start_login(client)
        response = callback(client, code="c", state=params["state"])
    assert response.status_code == 302
    assert storage.get(app.blueprints["test-service"]) is None  # type: ignore[arg-type]


@pytest.mark.usefixtures("token_endpoint")
def test_authorized_receiver_response_wins() -> None:
    storage = MemoryStorage()
    app = make_app(storage=storage)

    def receiver(sender: t.Any, token: t.Any) -> flask.Response:
        sender.token = token
        return flask.redirect("/welcome")

    with oauth_authorized.connected_to(receiver), app.test_client() as client:
        params = start_login(client)
        response = callback(client, code="c", state=params["state"])
    assert response.headers["Location"] == "/welcome"
    stored = storage.get(app.blueprints["test-service"])  # type: ignore[arg-type]
    assert stored is not None


@pytest.mark.usefixtures("token_endpoint")
def test_redirect_url_wins_over_redirect_to() -> None:
    app = make_app(redirect_url="https://app.example/home", storage=MemoryStorage())
    with app.test_client() as client:
        params = start_login(client)
        response = callback(client, code="c", state=params["state"])
    assert response.headers["Location"] == "https://app.example/home"


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("/dashboard?tab=1", "/dashboard?tab=1"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
@pytest.mark.usefixtures("token_endpoint")
def test_next_parameter(next_value: str, expected: str, client: FlaskClient) -> None:
    response = client.get(
        "/login/test-service", query_string={"next": next_value}, base_url=BASE
    )
    state = parse_qs(response.headers["Location"].split("?")[1])["state"][0]
    response = callback(client, code="c", state=state)
    assert response.headers["Location"] == expected


@pytest.mark.usefixtures("token_endpoint")
def test_logged_in_runs_after_the_token_is_stored() -> None:
    storage = MemoryStorage()
    bp = make_blueprint(storage=storage)
    seen: list[t.Any] = []

    @bp.logged_in
    def on_login(token: t.Any) -> None:
        seen.append((token, storage.token))

    app = make_app(bp)
    with app.test_client() as client:
        params = start_login(client)
        callback(client, code="c", state=params["state"])
    assert len(seen) == 1
    token, stored_then = seen[0]
    assert token["access_token"] == "access-1"
    assert stored_then is not None
    assert stored_then["access_token"] == "access-1"


@pytest.mark.usefixtures("token_endpoint")
def test_logged_in_not_run_when_a_receiver_refuses_storage() -> None:
    bp = make_blueprint(storage=MemoryStorage())
    seen: list[t.Any] = []
    bp.logged_in(seen.append)

    def refuse(sender: t.Any, token: t.Any) -> bool:
        return False

    with oauth_authorized.connected_to(refuse), make_app(bp).test_client() as client:
        params = start_login(client)
        callback(client, code="c", state=params["state"])
    assert seen == []


@pytest.mark.usefixtures("token_endpoint")
def test_werkzeug_response_from_receiver_wins() -> None:
    from werkzeug.wrappers import Response

    storage = MemoryStorage()
    bp = make_blueprint(storage=storage)

    def answer(sender: t.Any, token: t.Any) -> Response:
        return Response("custom", status=202)

    with oauth_authorized.connected_to(answer), make_app(bp).test_client() as client:
        params = start_login(client)
        response = callback(client, code="c", state=params["state"])
    assert response.status_code == 202
    assert storage.token is None


@pytest.mark.usefixtures("token_endpoint")
def test_a_storage_failure_asks_to_log_in_again_later(
    errors: list[dict[str, t.Any]], caplog: pytest.LogCaptureFixture
) -> None:
    down = ConnectionError("database down while storing gho_secret")
    app = make_app(storage=FailingStorage(down))
    with app.test_client() as client:
        params = start_login(client)
        response = callback(client, code="c", state=params["state"])
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "gho_secret" not in response.get_data(as_text=True)
    assert errors[0]["error"] is down
    assert errors[0]["message"] == "The token could not be stored."
    assert "gho_secret" not in caplog.text
    assert "ConnectionError" in caplog.text


@pytest.mark.usefixtures("token_endpoint")
def test_a_failed_login_goes_to_the_redirect_url(
    errors: list[dict[str, t.Any]],
) -> None:
    app = make_app(redirect_url="https://app.example/home")
    with app.test_client() as client:
        params = start_login(client)
        response = client.get(
            "/login/test-service/authorized",
            query_string={"error": "access_denied", "state": params["state"]},
            base_url=BASE,
        )
    assert response.status_code == 302
    assert response.headers["Location"] == "https://app.example/home"
    assert errors[0]["error"] == "access_denied"
