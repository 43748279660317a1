"""The OAuth 1.0a blueprint and session (RFC 5849)."""

from __future__ import annotations

import typing as t

import flask
import pytest
import requests
import responses as responses_lib
from flask.testing import FlaskClient

from dance_helpers import ACCESS_TOKEN_URL
from dance_helpers import AUTHORIZE_URL
from dance_helpers import BASE
from dance_helpers import CLIENT_KEY
from dance_helpers import CLIENT_SECRET
from dance_helpers import FailingStorage
from dance_helpers import make_oauth1_app as make_app
from dance_helpers import oauth_params
from dance_helpers import REQUEST_TOKEN_URL
from dance_helpers import Sends
from dance_helpers import signed_with
from flask_dance.consumer import oauth_authorized
from flask_dance.consumer import oauth_before_login
from flask_dance.consumer import oauth_error
from flask_dance.consumer.storage import MemoryStorage


def add_request_token(
    responses: responses_lib.RequestsMock, token: str = "rt", secret: str = "rts"
) -> None:
    responses.add(
        responses_lib.POST,
        REQUEST_TOKEN_URL,
        body=f"oauth_token={token}&oauth_token_secret={secret}&oauth_callback_confirmed=true",
    )


def add_access_token(responses: responses_lib.RequestsMock) -> None:
    responses.add(
        responses_lib.POST,
        ACCESS_TOKEN_URL,
        body="oauth_token=at&oauth_token_secret=ats&screen_name=me",
    )


def log_in(client: t.Any) -> t.Any:
    """Start a login: the request token is fetched, the browser redirected."""
    return client.get("/login/test-service", base_url=BASE)


def callback(client: t.Any, query: str) -> t.Any:
    return client.get(f"/login/test-service/authorized?{query}", base_url=BASE)


def assert_login_failed(errors: list[dict[str, t.Any]]) -> None:
    """Start a login that fails: no pending login, one ``oauth_error``."""
    app = make_app()
    with app.test_client() as client:
        response = log_in(client)
        assert "test-service_oauth_pending" not in flask.session
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert len(errors) == 1


@pytest.fixture
def client() -> t.Iterator[FlaskClient]:
    """A browser on an app of the OAuth 1 blueprint, with memory storage."""
    with make_app(storage=MemoryStorage()).test_client() as browser:
        yield browser


@pytest.fixture
def pending(granted: responses_lib.RequestsMock, client: FlaskClient) -> FlaskClient:
    """A browser whose login is pending: the provider granted ``rt``."""
    log_in(client)
    return client


@pytest.fixture
def granted(responses: responses_lib.RequestsMock) -> responses_lib.RequestsMock:
    """A provider that grants the request token ``rt`` and an access token."""
    add_request_token(responses)
    add_access_token(responses)
    return responses


# -- login ----------------------------------------------------------------------------


def test_login_fetches_request_token_and_remembers_it(
    responses: responses_lib.RequestsMock,
) -> None:
    add_request_token(responses)
    app = make_app()
    urls: list[str] = []

    def before_login(sender: t.Any, url: str) -> None:
        urls.append(url)

    with app.test_client() as client, oauth_before_login.connected_to(before_login):
        response = log_in(client)
        pending = flask.session["test-service_oauth_pending"]
        assert pending["rt"]["s"] == "rts"
        assert "test-service_oauth_state" not in flask.session
    assert response.status_code == 302
    assert response.headers["Location"] == f"{AUTHORIZE_URL}?oauth_token=rt"
    assert urls == [response.headers["Location"]]
    request = responses.calls[0].request
    params = oauth_params(request)
    assert params["oauth_consumer_key"] == CLIENT_KEY
    assert params["oauth_callback"] == f"{BASE}/login/test-service/authorized"
    assert "oauth_token" not in params
    assert signed_with(request, CLIENT_SECRET, None)


def test_login_with_fixed_redirect_uri(responses: responses_lib.RequestsMock) -> None:
    add_request_token(responses)
    app = make_app(redirect_uri="https://app.example/cb")
    app.test_client().get("/login/test-service", base_url=BASE)
    assert oauth_params(responses.calls[0].request)["oauth_callback"] == (
        "https://app.example/cb"
    )


def test_login_does_not_send_a_stored_token(
    responses: responses_lib.RequestsMock,
) -> None:
    add_request_token(responses)
    storage = MemoryStorage({"oauth_token": "old", "oauth_token_secret": "old-secret"})
    app = make_app(storage=storage)
    app.test_client().get("/login/test-service", base_url=BASE)
    request = responses.calls[0].request
    assert "oauth_token" not in oauth_params(request)
    assert signed_with(request, CLIENT_SECRET, None)


@pytest.mark.parametrize(
    "reply",
    [
        {"status": 401, "body": "oauth_problem=consumer_key_unknown"},
        {"status": 500, "body": "<html>down</html>"},
    ],
)
def test_request_token_refused(
    responses: responses_lib.RequestsMock,
    errors: list[dict[str, t.Any]],
    reply: dict[str, t.Any],
) -> None:
    responses.add(responses_lib.POST, REQUEST_TOKEN_URL, **reply)
    assert_login_failed(errors)
    assert str(reply["status"]) in errors[0]["message"]
    assert isinstance(errors[0]["response"], requests.Response)
    assert errors[0]["response"].status_code == reply["status"]


def test_request_token_missing_from_answer(
    responses: responses_lib.RequestsMock, errors: list[dict[str, t.Any]]
) -> None:
    responses.add(responses_lib.POST, REQUEST_TOKEN_URL, body="nothing=here")
    response = make_app().test_client().get("/login/test-service", base_url=BASE)
    assert response.status_code == 302
    assert "message" in errors[0]
    assert "response" in errors[0]


def test_request_token_endpoint_unreachable(
    responses: responses_lib.RequestsMock, errors: list[dict[str, t.Any]]
) -> None:
    responses.add(
        responses_lib.POST, REQUEST_TOKEN_URL, body=requests.ConnectionError("down")
    )
    response = make_app().test_client().get("/login/test-service", base_url=BASE)
    assert response.status_code == 302
    assert errors[0]["response"] is None
    assert errors[0]["message"]


def test_error_receiver_response_is_used(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses_lib.POST, REQUEST_TOKEN_URL, status=401, body="no")

    def receiver(sender: t.Any, **kwargs: t.Any) -> flask.Response:
        return flask.Response("provider refused", status=502)

    with oauth_error.connected_to(receiver):
        response = make_app().test_client().get("/login/test-service", base_url=BASE)
    assert response.status_code == 502


def test_missing_endpoint_configuration_is_explained() -> None:
    app = make_app(request_token_url=None)
    app.testing = True
    with pytest.raises(RuntimeError, match="request_token_url"):
        app.test_client().get("/login/test-service", base_url=BASE)


# -- the callback ---------------------------------------------------------------------


def test_full_dance_signs_with_the_request_token_secret(
    granted: responses_lib.RequestsMock,
) -> None:
    storage = MemoryStorage()
    app = make_app(storage=storage)
    tokens: list[t.Any] = []

    def authorized(sender: t.Any, token: t.Any) -> None:
        tokens.append(token)

    with app.test_client() as client, oauth_authorized.connected_to(authorized):
        client.get("/login/test-service", query_string={"next": "/home"}, base_url=BASE)
        response = callback(client, "oauth_token=rt&oauth_verifier=the-verifier")
        assert "test-service_oauth_pending" not in flask.session
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
    assert len(granted.calls) == 2
    request = granted.calls[1].request
    assert request.url == ACCESS_TOKEN_URL
    params = oauth_params(request)
    assert params["oauth_token"] == "rt"
    assert params["oauth_verifier"] == "the-verifier"
    assert signed_with(request, CLIENT_SECRET, "rts")
    assert not signed_with(request, CLIENT_SECRET, None)
    assert tokens == [
        {"oauth_token": "at", "oauth_token_secret": "ats", "screen_name": "me"}
    ]
    assert storage.token == tokens[0]


def test_foreign_request_token_is_rejected(
    responses: responses_lib.RequestsMock, errors: list[dict[str, t.Any]]
) -> None:
    add_request_token(responses, token="victim-rt")
    add_access_token(responses)
    storage = MemoryStorage()
    app = make_app(storage=storage)
    with app.test_client() as victim:
        victim.get("/login/test-service", base_url=BASE)
        response = callback(victim, "oauth_token=attacker-rt&oauth_verifier=v")
        # the victim's own login is still pending
        assert "victim-rt" in flask.session["test-service_oauth_pending"]
    assert response.status_code == 302
    assert [call.request.url for call in responses.calls] == [REQUEST_TOKEN_URL]
    assert len(errors) == 1
    assert errors[0]["response"] is None
    assert "Please try again" in errors[0]["message"]
    assert storage.token is None


def test_callback_from_another_browser_is_rejected(
    granted: responses_lib.RequestsMock, errors: list[dict[str, t.Any]]
) -> None:
    app = make_app(storage=MemoryStorage())
    app.test_client().get("/login/test-service", base_url=BASE)
    callback(app.test_client(), "oauth_token=rt&oauth_verifier=v")
    assert len(granted.calls) == 1
    assert errors[0]["response"] is None


def test_replayed_callback_is_rejected(
    granted: responses_lib.RequestsMock,
    errors: list[dict[str, t.Any]],
    client: FlaskClient,
) -> None:
    log_in(client)
    callback(client, "oauth_token=rt&oauth_verifier=v")
    response = callback(client, "oauth_token=rt&oauth_verifier=v")
    assert response.status_code == 302
    assert len(granted.calls) == 2
    assert len(errors) == 1


def test_two_tabs_complete(
    responses: responses_lib.RequestsMock, client: FlaskClient
) -> None:
    add_request_token(responses, token="rt1", secret="s1")
    add_request_token(responses, token="rt2", secret="s2")
    add_access_token(responses)
    add_access_token(responses)
    log_in(client)
    log_in(client)
    callback(client, "oauth_token=rt1&oauth_verifier=v1")
    callback(client, "oauth_token=rt2&oauth_verifier=v2")
    first, second = responses.calls[2].request, responses.calls[3].request
    assert signed_with(first, CLIENT_SECRET, "s1")
    assert signed_with(second, CLIENT_SECRET, "s2")


def test_denied_sends_error_and_consumes_the_login(
    granted: responses_lib.RequestsMock, errors: Sends, pending: FlaskClient
) -> None:
    response = callback(pending, "denied=rt")
    assert "test-service_oauth_pending" not in flask.session
    callback(pending, "oauth_token=rt&oauth_verifier=v")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert len(granted.calls) == 1
    assert "message" in errors[0]
    assert errors[0]["response"] == {"denied": "rt"}
    assert len(errors) == 2


def test_callback_without_verifier(
    granted: responses_lib.RequestsMock, errors: Sends, pending: FlaskClient
) -> None:
    response = callback(pending, "oauth_token=rt")
    assert response.status_code == 302
    assert len(granted.calls) == 1
    assert "verifier" in errors[0]["message"]


@pytest.mark.parametrize(
    "reply",
    [
        {"status": 401, "body": "oauth_problem=token_rejected"},
        {"status": 200, "body": "no_token=here"},
        {"body": requests.ConnectionError("down")},
    ],
    ids=["401", "no-token", "down"],
)
def test_access_token_failure(
    responses: responses_lib.RequestsMock,
    errors: list[dict[str, t.Any]],
    reply: dict[str, t.Any],
) -> None:
    add_request_token(responses)
    responses.add(responses_lib.POST, ACCESS_TOKEN_URL, **reply)
    storage = MemoryStorage()
    app = make_app(storage=storage)
    with app.test_client() as client:
        log_in(client)
        response = callback(client, "oauth_token=rt&oauth_verifier=v")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert len(errors) == 1
    assert errors[0]["message"]
    if reply.get("status") == 401:
        assert errors[0]["response"].status_code == 401
    assert storage.token is None


def test_authorized_receiver_may_refuse_or_answer(
    granted: responses_lib.RequestsMock,
) -> None:
    add_request_token(granted)
    add_access_token(granted)
    storage = MemoryStorage()
    app = make_app(storage=storage)
    answers: list[t.Any] = [False, flask.Response("welcome", status=201)]

    def receiver(sender: t.Any, token: t.Any) -> t.Any:
        return answers.pop(0)

    with oauth_authorized.connected_to(receiver), app.test_client() as client:
        log_in(client)
        refused = callback(client, "oauth_token=rt&oauth_verifier=v")
        log_in(client)
        answered = callback(client, "oauth_token=rt&oauth_verifier=v")
    assert refused.status_code == 302
    assert answered.status_code == 201
    assert storage.token is None


def test_storage_value_error_becomes_oauth_error(
    responses: responses_lib.RequestsMock, errors: list[dict[str, t.Any]]
) -> None:
    add_request_token(responses)
    add_access_token(responses)
    app = make_app(storage=FailingStorage())
    with app.test_client() as client:
        log_in(client)
        response = callback(client, "oauth_token=rt&oauth_verifier=v")
    assert response.status_code == 302
    assert isinstance(errors[0]["error"], ValueError)


# -- malformed answers --------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["[1]", "oauth_token=&oauth_token_secret=", "oauth_token_secret=s", "null", ""],
)
def test_malformed_request_token_answer_fails_the_login(
    responses: responses_lib.RequestsMock, errors: list[dict[str, t.Any]], body: str
) -> None:
    responses.add(responses_lib.POST, REQUEST_TOKEN_URL, body=body)
    assert_login_failed(errors)


@pytest.mark.parametrize(
    "body",
    ["[1]", "oauth_token=&oauth_token_secret=", "oauth_token=&oauth_token_secret=s"],
)
def test_malformed_access_token_answer_stores_no_login(
    responses: responses_lib.RequestsMock, errors: list[dict[str, t.Any]], body: str
) -> None:
    add_request_token(responses)
    responses.add(responses_lib.POST, ACCESS_TOKEN_URL, body=body)
    storage = MemoryStorage()
    authorized: list[t.Any] = []

    def receiver(sender: t.Any, token: t.Any) -> None:
        authorized.append(token)

    app = make_app(storage=storage)
    with app.test_client() as client, oauth_authorized.connected_to(receiver):
        log_in(client)
        response = callback(client, "oauth_token=rt&oauth_verifier=v")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert len(errors) == 1
    assert authorized == []
    assert storage.token is None
