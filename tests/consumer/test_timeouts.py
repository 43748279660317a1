"""Every request to a provider has a timeout."""

from __future__ import annotations

import threading
import typing as t

import flask
import pytest
import requests
import responses as responses_lib
from freezegun import freeze_time

from dance_helpers import callback
from dance_helpers import in_request
from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import start_login
from dance_helpers import token_response
from dance_helpers import TOKEN_URL
from flask_dance.consumer import OAuth1ConsumerBlueprint
from flask_dance.consumer.base import DEFAULT_TIMEOUT
from flask_dance.consumer.storage import MemoryStorage

API_URL = "https://example.com/user"


def timeouts(responses: responses_lib.RequestsMock) -> list[t.Any]:
    return [call.request.req_kwargs["timeout"] for call in responses.calls]


def test_default_timeout_value() -> None:
    assert DEFAULT_TIMEOUT == (10.0, 30.0)
    assert make_blueprint().timeout == (10.0, 30.0)


def test_default_timeout_reaches_the_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[t.Any] = []

    def send(
        adapter: t.Any, request: requests.PreparedRequest, **kwargs: t.Any
    ) -> requests.Response:
        seen.append(kwargs.get("timeout"))
        response = requests.Response()
        response.status_code = 200
        response.request = request
        response._content = b"{}"
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    with in_request({"access_token": "a"}) as (bp, _):
        bp.session.get(API_URL)
        bp.session.post("/things", json={})
    assert seen == [(10.0, 30.0), (10.0, 30.0)]


@pytest.mark.parametrize("timeout", [5, (1.5, 7.0), None])
def test_blueprint_timeout(
    responses: responses_lib.RequestsMock, timeout: t.Any
) -> None:
    responses.add(responses_lib.GET, API_URL)
    bp = make_blueprint(storage=MemoryStorage({"access_token": "a"}), timeout=timeout)
    with make_app(bp).test_request_context("/"):
        bp.session.get(API_URL)
    assert timeouts(responses) == [timeout]


def test_per_call_timeout_wins(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses_lib.GET, API_URL)
    bp = make_blueprint(storage=MemoryStorage({"access_token": "a"}), timeout=5)
    with make_app(bp).test_request_context("/"):
        bp.session.get(API_URL, timeout=2)
        bp.session.get(API_URL, timeout=(1, 2))
    assert timeouts(responses) == [2, (1, 2)]


def test_timeout_attribute_can_change_later(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.GET, API_URL)
    bp = make_blueprint(storage=MemoryStorage({"access_token": "a"}))
    app = make_app(bp)
    bp.timeout = 3
    with app.test_request_context("/"):
        bp.session.get(API_URL)
    assert timeouts(responses) == [3]


def test_token_and_refresh_requests_have_the_timeout(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(
        responses_lib.POST,
        TOKEN_URL,
        json=token_response(refresh_token="r", expires_in=1),
    )
    responses.add(responses_lib.GET, API_URL)
    bp = make_blueprint(storage=MemoryStorage(), timeout=(2, 4))
    app = make_app(bp)
    with freeze_time("2026-01-01 00:00:00") as frozen:
        with app.test_client() as client:
            params = start_login(client)
            callback(client, code="c", state=params["state"])
        frozen.tick(120)
        with app.test_request_context("/"):
            bp.session.get(API_URL)
    assert [call.request.url for call in responses.calls] == [
        TOKEN_URL,
        TOKEN_URL,
        API_URL,
    ]
    assert timeouts(responses) == [(2, 4)] * 3


def test_oauth1_requests_have_the_timeout(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(
        responses_lib.POST,
        "https://example.com/oauth/request_token",
        body="oauth_token=rt&oauth_token_secret=rts&oauth_callback_confirmed=true",
    )
    responses.add(
        responses_lib.POST,
        "https://example.com/oauth/access_token",
        body="oauth_token=at&oauth_token_secret=ats",
    )
    responses.add(responses_lib.GET, "https://example.com/api/user")
    bp = OAuth1ConsumerBlueprint(
        "test-service",
        __name__,
        client_key="key",
        client_secret="secret",
        base_url="https://example.com/api/",
        request_token_url="https://example.com/oauth/request_token",
        authorization_url="https://example.com/oauth/authorize",
        access_token_url="https://example.com/oauth/access_token",
        storage=MemoryStorage(),
        timeout=6,
    )
    app = make_app(bp)
    with app.test_client() as client:
        client.get("/login/test-service", base_url="https://a.b.c")
        client.get(
            "/login/test-service/authorized?oauth_token=rt&oauth_verifier=v",
            base_url="https://a.b.c",
        )
    with app.test_request_context("/"):
        bp.session.get("user")
        bp.session.get("user", timeout=1)
    assert len(responses.calls) == 4
    assert timeouts(responses) == [6, 6, 6, 1]


def test_slow_provider_times_out(
    serve: t.Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    release = threading.Event()
    provider = flask.Flask("provider")

    @provider.route("/slow")
    def slow() -> str:
        release.wait(timeout=5)
        return "late"

    url = serve(provider)
    bp = make_blueprint(
        base_url=url, storage=MemoryStorage({"access_token": "a"}), timeout=(5, 0.2)
    )
    try:
        with make_app(bp).test_request_context("/"):
            with pytest.raises(requests.ReadTimeout):
                bp.session.get("/slow")
    finally:
        release.set()
