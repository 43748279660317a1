"""``oauth_error`` receivers of every shape Flask-Dance 7.1 accepted are
called without a TypeError on every failure path, OAuth 1 and OAuth 2."""

from __future__ import annotations

import contextlib
import typing as t
from urllib.parse import urlsplit

import flask
import pytest
import requests
import responses as responses_lib

import dance_helpers as oauth2_helpers
from dance_helpers import FailingStorage
from flask_dance.consumer import OAuth1ConsumerBlueprint
from flask_dance.consumer import oauth_error
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.consumer.storage import NullStorage

Calls = list[tuple[str, dict[str, t.Any]]]


class Receivers:
    """One receiver of each shape, connected to one blueprint."""

    def __init__(self) -> None:
        self.calls: Calls = []

    def message_response(
        self, blueprint: t.Any, message: t.Any, response: t.Any
    ) -> None:
        self.calls.append(
            ("message_response", {"message": message, "response": response})
        )

    def rfc_fields(
        self, blueprint: t.Any, error: t.Any, error_description: t.Any, error_uri: t.Any
    ) -> None:
        self.calls.append(
            (
                "rfc_fields",
                {
                    "error": error,
                    "error_description": error_description,
                    "error_uri": error_uri,
                },
            )
        )

    def var_kwargs(self, blueprint: t.Any, **kwargs: t.Any) -> None:
        self.calls.append(("var_kwargs", kwargs))

    def error_only(self, sender: t.Any, error: t.Any = None) -> None:
        self.calls.append(("error_only", {"error": error}))

    def star_args(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.calls.append(("star_args", kwargs))

    def keyword_only(self, blueprint: t.Any, *, message: t.Any = None) -> None:
        self.calls.append(("keyword_only", {"message": message}))

    @contextlib.contextmanager
    def connect(self, blueprint: t.Any) -> t.Iterator[None]:
        receivers = [
            self.message_response,
            self.rfc_fields,
            self.var_kwargs,
            self.error_only,
            self.star_args,
            self.keyword_only,
        ]
        for receiver in receivers:
            oauth_error.connect(receiver, sender=blueprint)
        try:
            yield
        finally:
            for receiver in receivers:
                oauth_error.disconnect(receiver, sender=blueprint)

    def check(self) -> None:
        """Each receiver was called once, with values of the right kind."""
        names = sorted(name for name, _ in self.calls)
        assert names == sorted(
            [
                "error_only",
                "keyword_only",
                "message_response",
                "rfc_fields",
                "star_args",
                "var_kwargs",
            ]
        )
        got = dict(self.calls)
        assert isinstance(got["message_response"]["message"], str)
        assert got["message_response"]["message"]
        response = got["message_response"]["response"]
        # (OAuth 1's missing-token error carries the parsed callback, as in 7.1)
        assert response is None or isinstance(response, (requests.Response, dict))
        assert got["rfc_fields"]["error"]
        assert got["error_only"]["error"] == got["rfc_fields"]["error"]
        assert got["keyword_only"]["message"] == got["message_response"]["message"]
        everything = {"error", "error_description", "error_uri", "message", "response"}
        assert set(got["var_kwargs"]) == everything
        assert set(got["star_args"]) == everything


# -- OAuth 2 ---------------------------------------------------------------------------


def _denied(client: t.Any, responses: responses_lib.RequestsMock) -> t.Any:
    params = oauth2_helpers.start_login(client)
    return oauth2_helpers.callback(client, error="access_denied", state=params["state"])


def _no_pending_login(client: t.Any, responses: responses_lib.RequestsMock) -> t.Any:
    return oauth2_helpers.callback(client, code="c", state="never-started")


def _wrong_state(client: t.Any, responses: responses_lib.RequestsMock) -> t.Any:
    oauth2_helpers.start_login(client)
    return oauth2_helpers.callback(client, code="c", state="forged")


def _token_endpoint_error(
    client: t.Any, responses: responses_lib.RequestsMock
) -> t.Any:
    responses.add(
        responses_lib.POST,
        oauth2_helpers.TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "Code expired."},
    )
    params = oauth2_helpers.start_login(client)
    return oauth2_helpers.callback(client, code="c", state=params["state"])


def _malformed_token(client: t.Any, responses: responses_lib.RequestsMock) -> t.Any:
    responses.add(responses_lib.POST, oauth2_helpers.TOKEN_URL, json={"foo": "bar"})
    params = oauth2_helpers.start_login(client)
    return oauth2_helpers.callback(client, code="c", state=params["state"])


def _token_endpoint_down(client: t.Any, responses: responses_lib.RequestsMock) -> t.Any:
    responses.add(responses_lib.POST, oauth2_helpers.TOKEN_URL, status=502, body="down")
    params = oauth2_helpers.start_login(client)
    return oauth2_helpers.callback(client, code="c", state=params["state"])


def _good_callback(client: t.Any, responses: responses_lib.RequestsMock) -> t.Any:
    responses.add(
        responses_lib.POST,
        oauth2_helpers.TOKEN_URL,
        json=oauth2_helpers.token_response(),
    )
    params = oauth2_helpers.start_login(client)
    return oauth2_helpers.callback(client, code="c", state=params["state"])


OAUTH2_PATHS: list[tuple[str, t.Callable[..., t.Any], t.Any, t.Any]] = [
    ("denied", _denied, None, 302),
    ("no-pending-login", _no_pending_login, None, 302),
    ("wrong-state", _wrong_state, None, 302),
    ("token-endpoint-error", _token_endpoint_error, None, 302),
    ("malformed-token", _malformed_token, None, 302),
    ("token-endpoint-down", _token_endpoint_down, None, 302),
    ("storage-refuses", _good_callback, ValueError("no user"), 302),
    ("storage-down", _good_callback, RuntimeError("db down"), 503),
]


@pytest.mark.parametrize(
    ("run", "storage_error", "status"),
    [case[1:] for case in OAUTH2_PATHS],
    ids=[case[0] for case in OAUTH2_PATHS],
)
def test_oauth2_failure_reaches_every_receiver_shape(
    responses: responses_lib.RequestsMock,
    run: t.Callable[..., t.Any],
    storage_error: Exception | None,
    status: int,
) -> None:
    storage = FailingStorage(storage_error) if storage_error else MemoryStorage()
    app = oauth2_helpers.make_app(storage=storage)
    bp = app.blueprints["test-service"]
    receivers = Receivers()
    with app.test_client() as client:
        with receivers.connect(bp):
            response = run(client, responses)
    assert response.status_code == status
    receivers.check()


def test_oauth2_token_endpoint_error_carries_the_response(
    responses: responses_lib.RequestsMock,
) -> None:
    app = oauth2_helpers.make_app(storage=MemoryStorage())
    receivers = Receivers()
    with app.test_client() as client:
        with receivers.connect(app.blueprints["test-service"]):
            _token_endpoint_error(client, responses)
    got = dict(receivers.calls)
    assert got["message_response"]["message"] == "Code expired."
    assert got["message_response"]["response"].status_code == 400
    assert got["rfc_fields"] == {
        "error": "invalid_grant",
        "error_description": "Code expired.",
        "error_uri": None,
    }


def test_oauth2_receiver_response_is_used_on_every_path(
    responses: responses_lib.RequestsMock,
) -> None:
    app = oauth2_helpers.make_app(storage=NullStorage())
    bp = app.blueprints["test-service"]

    def answer(blueprint: t.Any, message: str, response: t.Any) -> flask.Response:
        return flask.Response(f"sorry: {message}", status=418)

    with oauth_error.connected_to(answer, sender=bp), app.test_client() as client:
        for run in (_denied, _no_pending_login, _wrong_state, _token_endpoint_error):
            assert run(client, responses).status_code == 418


def test_oauth2_openid_check_failure_reaches_every_receiver_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("jwt")
    from flask_dance.consumer.oidc import clear_caches
    from flask_dance.testing import LocalProvider

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    clear_caches()
    with LocalProvider() as provider:
        provider.faults.id_token_nonce = "not-the-nonce"
        bp = oauth2_helpers.make_blueprint(
            client_id="test-client",
            client_secret="test-secret",
            issuer=provider.issuer,
            scope="openid",
            base_url=provider.url + "/",
            authorization_url=None,
            token_url=None,
            storage=MemoryStorage(),
        )
        app = oauth2_helpers.make_app(bp)
        app.config["SERVER_NAME"] = None  # the provider accepts loopback callbacks
        receivers = Receivers()
        with app.test_client() as client:
            with receivers.connect(bp):
                login = client.get("/login/test-service")
                result = provider.authorize(login.headers["Location"])
                target = urlsplit(result.url)
                response = client.get(target.path + "?" + target.query)
    clear_caches()
    assert response.status_code == 302
    receivers.check()
    assert dict(receivers.calls)["rfc_fields"]["error"] == "invalid_nonce"


# -- OAuth 1 ---------------------------------------------------------------------------

REQUEST_TOKEN_URL = "https://example.com/oauth/request_token"
ACCESS_TOKEN_URL = "https://example.com/oauth/access_token"


def make_oauth1_app() -> flask.Flask:
    bp = OAuth1ConsumerBlueprint(
        "test-service",
        __name__,
        client_key="key",
        client_secret="secret",
        request_token_url=REQUEST_TOKEN_URL,
        authorization_url="https://example.com/oauth/authorize",
        access_token_url=ACCESS_TOKEN_URL,
        storage=MemoryStorage(),
    )
    app = flask.Flask(__name__)
    app.secret_key = "secret"
    app.register_blueprint(bp, url_prefix="/login")
    return app


def _request_token(responses: responses_lib.RequestsMock, status: int = 200) -> None:
    responses.add(
        responses_lib.POST,
        REQUEST_TOKEN_URL,
        status=status,
        body="oauth_token=rt&oauth_token_secret=rts&oauth_callback_confirmed=true",
    )


def _oauth1_request_token_refused(
    client: t.Any, responses: responses_lib.RequestsMock
) -> t.Any:
    _request_token(responses, status=401)
    return client.get("/login/test-service")


def _oauth1_denied(client: t.Any, responses: responses_lib.RequestsMock) -> t.Any:
    _request_token(responses)
    client.get("/login/test-service")
    return client.get("/login/test-service/authorized?denied=rt")


def _oauth1_no_pending_login(
    client: t.Any, responses: responses_lib.RequestsMock
) -> t.Any:
    return client.get("/login/test-service/authorized?oauth_token=x&oauth_verifier=v")


def _oauth1_access_token_refused(
    client: t.Any, responses: responses_lib.RequestsMock
) -> t.Any:
    _request_token(responses)
    responses.add(responses_lib.POST, ACCESS_TOKEN_URL, status=401, body="nope")
    client.get("/login/test-service")
    return client.get("/login/test-service/authorized?oauth_token=rt&oauth_verifier=v")


OAUTH1_PATHS = [
    ("request-token-refused", _oauth1_request_token_refused),
    ("denied", _oauth1_denied),
    ("no-pending-login", _oauth1_no_pending_login),
    ("access-token-refused", _oauth1_access_token_refused),
]


@pytest.mark.parametrize(
    "run", [case[1] for case in OAUTH1_PATHS], ids=[case[0] for case in OAUTH1_PATHS]
)
def test_oauth1_failure_reaches_every_receiver_shape(
    responses: responses_lib.RequestsMock, run: t.Callable[..., t.Any]
) -> None:
    app = make_oauth1_app()
    receivers = Receivers()
    with app.test_client() as client:
        with receivers.connect(app.blueprints["test-service"]):
            response = run(client, responses)
    assert response.status_code == 302
    receivers.check()


def test_oauth1_refusal_keeps_the_7_1_message_and_response(
    responses: responses_lib.RequestsMock,
) -> None:
    app = make_oauth1_app()
    receivers = Receivers()
    with app.test_client() as client:
        with receivers.connect(app.blueprints["test-service"]):
            _oauth1_access_token_refused(client, responses)
    got = dict(receivers.calls)["message_response"]
    assert "401" in got["message"]
    assert got["response"].status_code == 401


def test_oauth2_denial_without_description_has_a_readable_message(
    responses: responses_lib.RequestsMock,
) -> None:
    app = oauth2_helpers.make_app(storage=MemoryStorage())
    receivers = Receivers()
    with app.test_client() as client, receivers.connect(app.blueprints["test-service"]):
        _denied(client, responses)
    got = dict(receivers.calls)["message_response"]
    assert got == {
        "message": "The provider refused the login (access_denied).",
        "response": None,
    }
