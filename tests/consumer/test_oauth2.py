from __future__ import annotations

import json
import typing as t
from unittest import mock
from urllib.parse import parse_qs

import flask
import pytest
import requests
import responses as responses_lib
from flask.testing import FlaskClient
from freezegun import freeze_time
from oauthlib.oauth2 import MissingCodeError

from dance_helpers import BASE
from dance_helpers import callback
from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import Sends
from dance_helpers import start_login
from dance_helpers import token_response
from dance_helpers import TOKEN_URL
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_authorized
from flask_dance.consumer import oauth_error
from flask_dance.consumer.oauth2 import make_code_challenge
from flask_dance.consumer.storage import MemoryStorage


def body_of(call: t.Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


# -- the constructor -----------------------------------------------------------


@pytest.mark.parametrize("method", ["plain", "S512", ""])
def test_unsupported_code_challenge_method_is_refused(method: str) -> None:
    with pytest.raises(ValueError, match="code_challenge_method"):
        make_blueprint(code_challenge_method=method)


# -- the callback --------------------------------------------------------------


def test_full_dance_stores_token_and_redirects(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.POST, TOKEN_URL, json=token_response(expires_in=3600))
    storage = MemoryStorage()
    app = make_app(storage=storage)
    tokens: list[t.Any] = []

    def receiver(sender: t.Any, token: t.Any) -> None:
        tokens.append(token)
        # the session already carries the new token, before it is stored
        assert sender.session.token["access_token"] == "access-1"
        assert storage.get(sender) is None

    with app.test_client() as client, oauth_authorized.connected_to(receiver):
        params = start_login(client)
        verifier = flask.session["test-service_oauth_code_verifier"]
        response = callback(client, code="the-code", state=params["state"])
        assert response.status_code == 302
        assert response.headers["Location"] == "/"
        assert "test-service_oauth_state" not in flask.session
        assert "test-service_oauth_pending" not in flask.session
    body = body_of(responses.calls[0])
    assert body["code"] == "the-code"
    assert body["code_verifier"] == verifier
    assert body["redirect_uri"] == params["redirect_uri"]
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert tokens[0]["access_token"] == "access-1"
    stored = storage.get(app.blueprints["test-service"])  # type: ignore[arg-type]
    assert stored is not None
    assert stored["access_token"] == "access-1"
    assert stored["expires_at"] > 0


def test_two_tabs_can_log_in_in_any_order(
    token_endpoint: responses_lib.RequestsMock,
    client: FlaskClient,
) -> None:
    tab_a = start_login(client)
    tab_b = start_login(client)
    verifier_b = flask.session["test-service_oauth_code_verifier"]
    assert callback(client, code="a", state=tab_a["state"]).headers["Location"] == "/"
    assert callback(client, code="b", state=tab_b["state"]).headers["Location"] == "/"
    assert len(token_endpoint.calls) == 2
    first, second = (body_of(call) for call in token_endpoint.calls)
    assert first["code"] == "a"
    assert first["code_verifier"] != verifier_b
    assert make_code_challenge(first["code_verifier"]) == tab_a["code_challenge"]
    assert second["code_verifier"] == verifier_b


def test_failed_attempt_does_not_consume_other_pending_logins(
    token_endpoint: responses_lib.RequestsMock,
    errors: list[dict[str, t.Any]],
    client: FlaskClient,
) -> None:
    tab_a = start_login(client)
    callback(client, code="x", state="forged-state")
    assert errors[-1]["error"] == "invalid_state"
    callback(client, code="a", state=tab_a["state"])
    assert len(token_endpoint.calls) == 1


def test_replayed_callback_makes_no_token_request(
    token_endpoint: responses_lib.RequestsMock,
    errors: list[dict[str, t.Any]],
    client: FlaskClient,
) -> None:
    params = start_login(client)
    callback(client, code="c", state=params["state"])
    response = callback(client, code="c", state=params["state"])
    # the dance starts again, as in Flask-Dance 7.1
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/test-service"
    assert len(token_endpoint.calls) == 1
    assert errors == [
        {
            "error": "invalid_state",
            "error_description": errors[0]["error_description"],
            "error_uri": None,
            "message": errors[0]["error_description"],
            "response": None,
        }
    ]


def assert_refused(
    response: t.Any, provider: responses_lib.RequestsMock, errors: Sends
) -> None:
    """The callback was refused for its state: back to the app, no token
    request, one ``invalid_state`` error."""
    assert response.status_code == 302
    assert len(provider.calls) == 0
    assert errors[0]["error"] == "invalid_state"


def test_state_from_another_browser_is_rejected(
    token_endpoint: responses_lib.RequestsMock, errors: list[dict[str, t.Any]]
) -> None:
    app = make_app(storage=MemoryStorage())
    victim, attacker = app.test_client(), app.test_client()
    attacker_params = start_login(attacker)
    start_login(victim)
    response = callback(victim, code="attacker-code", state=attacker_params["state"])
    assert_refused(response, token_endpoint, errors)


def test_callback_without_pending_login_is_rejected(
    responses: responses_lib.RequestsMock, errors: list[dict[str, t.Any]]
) -> None:
    app = make_app()
    response = callback(app.test_client(), code="c", state="s")
    assert_refused(response, responses, errors)


def test_expired_pending_login_is_rejected(
    token_endpoint: responses_lib.RequestsMock, errors: list[dict[str, t.Any]]
) -> None:
    app = make_app(storage=MemoryStorage())
    with freeze_time("2026-01-01 12:00:00") as frozen, app.test_client() as client:
        params = start_login(client)
        frozen.tick(601)
        callback(client, code="c", state=params["state"])
        assert "test-service_oauth_state" not in flask.session
    assert len(token_endpoint.calls) == 0
    assert errors[0]["error"] == "invalid_state"


def test_pending_login_within_ttl_is_accepted(
    token_endpoint: responses_lib.RequestsMock,
) -> None:
    app = make_app(storage=MemoryStorage(), pending_login_ttl=60)
    with freeze_time("2026-01-01 12:00:00") as frozen, app.test_client() as client:
        params = start_login(client)
        frozen.tick(59)
        callback(client, code="c", state=params["state"])
    assert len(token_endpoint.calls) == 1


def test_hand_seeded_state_still_completes(
    token_endpoint: responses_lib.RequestsMock,
) -> None:
    """Flask-Dance 7.1 test suites put the state into the session by hand."""
    storage = MemoryStorage()
    app = make_app(storage=storage)
    with app.test_client() as client:
        with client.session_transaction(base_url=BASE) as sess:
            sess["test-service_oauth_state"] = "random-string"
        response = callback(client, code="secret-code", state="random-string")
        assert response.headers["Location"] == "/"
    body = body_of(token_endpoint.calls[0])
    assert "code_verifier" not in body
    assert body["code"] == "secret-code"


def test_hand_seeded_state_with_verifier(
    token_endpoint: responses_lib.RequestsMock,
    client: FlaskClient,
) -> None:
    with client.session_transaction(base_url=BASE) as sess:
        sess["test-service_oauth_state"] = "random-string"
        sess["test-service_oauth_code_verifier"] = "v" * 50
    callback(client, code="c", state="random-string")
    assert body_of(token_endpoint.calls[0])["code_verifier"] == "v" * 50


def test_patched_fetch_token_outside_a_request_is_used() -> None:
    """The Flask-Dance 7.1 testing idiom: patch the session, then request."""
    bp = make_blueprint(storage=MemoryStorage())
    app = make_app(bp)
    tokens: list[t.Any] = []

    def receiver(sender: t.Any, token: t.Any) -> None:
        tokens.append(token)

    with app.test_client() as client, oauth_authorized.connected_to(receiver):
        with client.session_transaction(base_url=BASE) as sess:
            sess["test-service_oauth_state"] = "random-string"
        bp.session.fetch_token = mock.Mock(return_value="test-token")
        response = callback(client, code="secret-code", state="random-string")
        assert response.status_code == 302
    assert tokens == ["test-token"]
    bp_session_call = bp.storage.get(bp)  # type: ignore[attr-defined]
    assert bp_session_call == "test-token"


def test_fixed_state_is_used_and_single_use(
    token_endpoint: responses_lib.RequestsMock,
) -> None:
    app = make_app(state="random-string", storage=MemoryStorage())
    with app.test_client() as client:
        params = start_login(client)
        assert params["state"] == "random-string"
        callback(client, code="c", state="random-string")
        callback(client, code="c", state="random-string")
    assert len(token_endpoint.calls) == 1


def test_missing_code_raises_with_request_args() -> None:
    app = make_app()
    app.testing = True
    with app.test_client() as client:
        params = start_login(client)
        with pytest.raises(MissingCodeError) as exc_info:
            callback(client, state=params["state"], foo="bar")
    message = exc_info.value.args[1]
    assert message.startswith(
        "The redirect request did not contain the expected parameters. Instead I got: "
    )
    assert json.loads(message.split("Instead I got: ")[1]) == {
        "state": params["state"],
        "foo": "bar",
    }


# -- errors never become a 500 -------------------------------------------------


def test_provider_error_sends_signal_and_redirects(
    responses: responses_lib.RequestsMock, errors: list[dict[str, t.Any]]
) -> None:
    app = make_app()
    with app.test_client() as client:
        params = start_login(client)
        response = callback(
            client,
            error="access_denied",
            error_description="<script>alert(1)</script>",
            error_uri="https://example.com/help",
            state=params["state"],
        )
        assert params["state"] not in flask.session.get(
            "test-service_oauth_pending", {}
        )
    assert response.status_code == 302
    assert response.data.find(b"<script>") == -1
    assert len(responses.calls) == 0
    assert errors == [
        {
            "error": "access_denied",
            "error_description": "<script>alert(1)</script>",
            "error_uri": "https://example.com/help",
            "message": "<script>alert(1)</script>",
            "response": None,
        }
    ]


@pytest.mark.usefixtures("responses")
def test_error_receiver_may_answer() -> None:
    app = make_app()

    def receiver(sender: t.Any, **kwargs: t.Any) -> flask.Response:
        return flask.Response("denied page", status=403)

    with oauth_error.connected_to(receiver), app.test_client() as client:
        params = start_login(client)
        response = callback(client, error="access_denied", state=params["state"])
    assert response.status_code == 403
    assert response.data == b"denied page"


@pytest.mark.parametrize(
    ("reply", "expected_error"),
    [
        ({"status": 400, "json": {"error": "invalid_grant"}}, "invalid_grant"),
        ({"status": 401, "json": {"error": "invalid_client"}}, "invalid_client"),
        ({"status": 500, "body": "<html>oops</html>"}, "token_request_failed"),
        ({"status": 200, "body": "not a token at all {"}, "missing_token"),
        ({"status": 200, "json": {"token_type": "Bearer"}}, "missing_token"),
        ({"body": requests.Timeout("slow")}, "token_request_failed"),
        ({"body": requests.ConnectionError("down")}, "token_request_failed"),
    ],
    ids=[
        "invalid_grant",
        "invalid_client",
        "500",
        "garbage",
        "no-token",
        "timeout",
        "down",
    ],
)
def test_token_endpoint_failures_never_500(
    responses: responses_lib.RequestsMock,
    errors: list[dict[str, t.Any]],
    reply: dict[str, t.Any],
    expected_error: str,
) -> None:
    responses.add(responses_lib.POST, TOKEN_URL, **reply)
    storage = MemoryStorage()
    app = make_app(storage=storage)
    with app.test_client() as client:
        params = start_login(client)
        response = callback(client, code="c", state=params["state"])
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert errors[0]["error"] == expected_error
    assert storage.get(app.blueprints["test-service"]) is None  # type: ignore[arg-type]


def test_scope_change_is_accepted(responses: responses_lib.RequestsMock) -> None:
    responses.add(
        responses_lib.POST, TOKEN_URL, json=token_response(scope="read write extra")
    )
    storage = MemoryStorage()
    app = make_app(storage=storage, scope="read")
    with app.test_client() as client:
        params = start_login(client)
        callback(client, code="c", state=params["state"])
    stored = storage.get(app.blueprints["test-service"])  # type: ignore[arg-type]
    assert stored is not None
    assert stored["scope"] == ["read", "write", "extra"]


def test_state_of_one_provider_is_refused_at_another(
    token_endpoint: responses_lib.RequestsMock, errors: list[dict[str, t.Any]]
) -> None:
    """Mix-up defence (RFC 9700 4.4.2): each provider has its own callback
    route and its own pending logins."""
    first = make_blueprint(storage=MemoryStorage())
    second = OAuth2ConsumerBlueprint(
        "other-service",
        __name__,
        client_id="other",
        client_secret="other-secret",
        authorization_url="https://other.example/authorize",
        token_url="https://other.example/token",
        storage=MemoryStorage(),
    )
    app = make_app(first)
    app.register_blueprint(second, url_prefix="/login")
    with app.test_client() as client:
        params = start_login(client)
        response = client.get(
            f"/login/other-service/authorized?code=c&state={params['state']}",
            base_url=BASE,
        )
        assert params["state"] in flask.session["test-service_oauth_pending"]
    assert response.status_code == 302
    assert len(token_endpoint.calls) == 0
    assert errors[0]["error"] == "invalid_state"
