"""Refreshing expired tokens in the provider session."""

from __future__ import annotations

import base64
import threading
import time
import typing as t
from urllib.parse import parse_qs

import flask
import pytest
import requests
import responses as responses_lib
from freezegun import freeze_time
from oauthlib.oauth2 import TokenExpiredError
from werkzeug.wrappers import Response as WerkzeugResponse

from dance_helpers import add_refresh_and_api
from dance_helpers import API_URL
from dance_helpers import calls_to
from dance_helpers import expired_token
from dance_helpers import FROZEN
from dance_helpers import in_request
from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import NOW
from dance_helpers import Sends
from dance_helpers import TOKEN_URL
from flask_dance.consumer import OAuth2Session
from flask_dance.consumer import oauth_refresh_failed
from flask_dance.consumer.storage import MemoryStorage

#: A token put on the session by hand: known to be expired only through
#: ``expires_in`` (no ``expires_at``).
HAND_SET_TOKEN = {
    "access_token": "old",
    "refresh_token": "r",
    "token_type": "Bearer",
    "expires_in": -30,
}


def refresh_to_new(responses: responses_lib.RequestsMock, **extra: t.Any) -> None:
    """A token endpoint that refreshes to the access token ``new``."""
    token = {"access_token": "new", "token_type": "Bearer", **extra}
    responses.add(responses_lib.POST, TOKEN_URL, json=token)


def stored_refresh_token(responses: responses_lib.RequestsMock, answered: str) -> str:
    """The refresh token stored after an API call refreshed an expired token,
    when the token endpoint answered the refresh token ``answered``."""
    refresh_to_new(responses, refresh_token=answered)
    responses.add(responses_lib.GET, API_URL)
    with in_request(expired_token()) as (bp, storage):
        bp.session.get(API_URL)
    assert storage.token is not None
    return t.cast(str, storage.token["refresh_token"])


def refuse_refresh(responses: responses_lib.RequestsMock) -> None:
    """A token endpoint that answers ``invalid_grant``."""
    responses.add(
        responses_lib.POST, TOKEN_URL, status=400, json={"error": "invalid_grant"}
    )


@pytest.fixture
def refused(responses: responses_lib.RequestsMock) -> responses_lib.RequestsMock:
    """A token endpoint that refuses every refresh, and the API."""
    refuse_refresh(responses)
    responses.add(responses_lib.GET, API_URL)
    return responses


def body_of(call: t.Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


@pytest.fixture
def refresh_failures(record: t.Callable[..., Sends]) -> Sends:
    return record(oauth_refresh_failed)


@freeze_time(FROZEN)
def test_expired_token_is_refreshed_once_and_stored(
    responses: responses_lib.RequestsMock,
) -> None:
    add_refresh_and_api(responses)
    with in_request(expired_token()) as (bp, storage):
        assert bp.session.get("/user").json() == {"login": "me"}
        assert bp.session.get("/user").ok

    refreshes = calls_to(responses, TOKEN_URL)
    assert len(refreshes) == 1
    expected = base64.b64encode(b"client_id:client_secret").decode()
    assert refreshes[0].request.headers["Authorization"] == f"Basic {expected}"
    body = body_of(refreshes[0])
    assert body["grant_type"] == "refresh_token"
    assert body["refresh_token"] == "old-refresh"
    assert "client_secret" not in body
    api_calls = calls_to(responses, API_URL)
    assert [c.request.headers["Authorization"] for c in api_calls] == [
        "Bearer new-access"
    ] * 2
    assert storage.token is not None
    assert storage.token["access_token"] == "new-access"
    # the provider sent no new refresh token: the old one is kept
    assert storage.token["refresh_token"] == "old-refresh"
    assert storage.token["expires_at"] == NOW + 600


@freeze_time(FROZEN)
def test_rotated_refresh_token_is_stored(responses: responses_lib.RequestsMock) -> None:
    assert stored_refresh_token(responses, answered="rotated") == "rotated"


@freeze_time(FROZEN)
@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("get", {"params": {"page": "2"}, "allow_redirects": True}),
        ("post", {"json": {"name": "x"}, "allow_redirects": False}),
        ("put", {"data": {"field": "y"}, "headers": {"X-Extra": "1"}}),
    ],
)
def test_request_kwargs_stay_out_of_the_refresh(
    responses: responses_lib.RequestsMock, method: str, kwargs: dict[str, t.Any]
) -> None:
    refresh_to_new(responses)
    responses.add(method.upper(), API_URL)
    with in_request(expired_token()) as (bp, _):
        getattr(bp.session, method)(API_URL, **kwargs)
    refresh = calls_to(responses, TOKEN_URL)[0]
    assert set(body_of(refresh)) == {"grant_type", "refresh_token"}
    assert refresh.request.url == TOKEN_URL
    assert "X-Extra" not in refresh.request.headers
    assert "json" not in refresh.request.headers.get("Content-Type", "")


@pytest.mark.parametrize(
    ("seconds_left", "refreshed"), [(-5, True), (30, True), (59, True), (61, False)]
)
def test_refresh_within_the_leeway(
    responses: responses_lib.RequestsMock, seconds_left: int, refreshed: bool
) -> None:
    refresh_to_new(responses)
    responses.add(responses_lib.GET, API_URL)
    storage = MemoryStorage(expired_token(expires_at=NOW + seconds_left))
    bp = make_blueprint(storage=storage)
    with freeze_time(FROZEN), make_app(bp).test_request_context("/"):
        bp.session.get(API_URL)
    assert len(calls_to(responses, TOKEN_URL)) == (1 if refreshed else 0)
    sent = calls_to(responses, API_URL)[0].request.headers["Authorization"]
    assert sent == ("Bearer new" if refreshed else "Bearer old-access")


@freeze_time(FROZEN)
def test_refresh_leeway_is_adjustable(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses_lib.GET, API_URL)
    with in_request(expired_token(expires_at=NOW + 30)) as (bp, _):
        bp.session.refresh_leeway = 10
        bp.session.get(API_URL)
    assert len(calls_to(responses, TOKEN_URL)) == 0


@freeze_time(FROZEN)
def test_auto_refresh_url_and_kwargs(responses: responses_lib.RequestsMock) -> None:
    refresh_url = "https://example.com/oauth/refresh"
    responses.add(
        responses_lib.POST,
        refresh_url,
        json={"access_token": "new", "token_type": "Bearer"},
    )
    responses.add(responses_lib.GET, API_URL)
    bp = make_blueprint(
        storage=MemoryStorage(expired_token()),
        auto_refresh_url=refresh_url,
        auto_refresh_kwargs={"client_id": "client_id", "client_secret": "in-body"},
    )
    with make_app(bp).test_request_context("/"):
        bp.session.get(API_URL)
    assert calls_to(responses, TOKEN_URL) == []
    refresh = calls_to(responses, refresh_url)[0]
    body = body_of(refresh)
    assert body["client_secret"] == "in-body"
    assert body["client_id"] == "client_id"
    # credentials go in the body, so not also in a Basic header
    assert "Authorization" not in refresh.request.headers


@freeze_time(FROZEN)
def test_invalid_grant_deletes_token_and_signals(
    responses: responses_lib.RequestsMock, refresh_failures: list[dict[str, t.Any]]
) -> None:
    refuse_refresh(responses)
    responses.add(responses_lib.GET, API_URL, status=401)
    with in_request(expired_token()) as (bp, storage):
        response = bp.session.get(API_URL)
        assert response.status_code == 401
        assert not bp.session.authorized
        assert bp.token is None
    assert storage.token is None
    assert len(refresh_failures) == 1
    assert refresh_failures[0]["error"].error == "invalid_grant"
    assert refresh_failures[0]["token"]["refresh_token"] == "old-refresh"
    api_call = calls_to(responses, API_URL)[0]
    assert "Authorization" not in api_call.request.headers


@freeze_time(FROZEN)
@pytest.mark.parametrize("response_class", [flask.Response, WerkzeugResponse])
def test_refresh_failed_receiver_may_answer(
    refused: responses_lib.RequestsMock, response_class: type[WerkzeugResponse]
) -> None:
    bp = make_blueprint(storage=MemoryStorage(expired_token()))
    app = make_app(bp)

    @app.route("/profile")
    def profile() -> str:
        bp.session.get(API_URL)
        return "profile"

    def receiver(sender: t.Any, **kwargs: t.Any) -> WerkzeugResponse:
        return response_class("please log in again", status=401)

    with oauth_refresh_failed.connected_to(receiver, sender=bp):
        response = app.test_client().get("/profile")
    assert response.status_code == 401
    assert response.data == b"please log in again"
    assert calls_to(refused, API_URL) == []


@freeze_time(FROZEN)
def test_other_refresh_errors_propagate(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses_lib.POST, TOKEN_URL, status=503, body="down")
    with (
        in_request(expired_token()) as (bp, storage),
        pytest.raises(requests.HTTPError),
    ):
        bp.session.get(API_URL)
    assert storage.token == expired_token()


@freeze_time(FROZEN)
def test_expired_token_without_refresh_token_raises(
    responses: responses_lib.RequestsMock,
) -> None:
    token = expired_token()
    del token["refresh_token"]
    with in_request(token) as (bp, _), pytest.raises(TokenExpiredError):
        bp.session.get(API_URL)
    assert len(responses.calls) == 0


@freeze_time(FROZEN)
def test_expiry_known_only_from_expires_in_is_refreshed(
    responses: responses_lib.RequestsMock,
) -> None:
    """A token put on the session by hand has no ``expires_at``; oauthlib
    notices the expiry and the session refreshes then."""
    refresh_to_new(responses)
    responses.add(responses_lib.GET, API_URL)
    with in_request() as (bp, storage):
        bp.session.token = dict(HAND_SET_TOKEN)
        bp.session.get(API_URL)
    assert len(calls_to(responses, TOKEN_URL)) == 1
    assert (
        calls_to(responses, API_URL)[0].request.headers["Authorization"] == "Bearer new"
    )
    assert storage.token is not None
    assert storage.token["access_token"] == "new"


@freeze_time(FROZEN)
def test_withheld_token_skips_refresh(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses_lib.GET, API_URL)
    with in_request(expired_token()) as (bp, _):
        bp.session.get(API_URL, withhold_token=True)
    assert len(calls_to(responses, TOKEN_URL)) == 0
    assert "Authorization" not in calls_to(responses, API_URL)[0].request.headers


@freeze_time(FROZEN)
def test_session_without_blueprint_refreshes(
    responses: responses_lib.RequestsMock,
) -> None:
    refresh_to_new(responses)
    responses.add(responses_lib.GET, API_URL)
    session = OAuth2Session(client_id="cid", auto_refresh_url=TOKEN_URL)
    assert session.token is None
    session.token = expired_token()
    session.get(API_URL)
    assert session.access_token == "new"
    assert session.token["refresh_token"] == "old-refresh"
    assert (
        calls_to(responses, API_URL)[0].request.headers["Authorization"] == "Bearer new"
    )


@freeze_time(FROZEN)
def test_session_without_blueprint_invalid_grant(
    refused: responses_lib.RequestsMock, refresh_failures: list[dict[str, t.Any]]
) -> None:
    session = OAuth2Session(client_id="cid", auto_refresh_url=TOKEN_URL)
    session.token = expired_token()
    session.get(API_URL)
    assert session.token is None
    assert refresh_failures == []
    assert "Authorization" not in calls_to(refused, API_URL)[0].request.headers


# -- single flight ------------------------------------------------------------


def _api_provider() -> tuple[flask.Flask, threading.Lock, list[str]]:
    """A provider app whose ``/api`` records the ``Authorization`` header of
    each call; the test adds its ``/token`` view. Returns the app, the lock
    its views share, and the headers seen."""
    lock = threading.Lock()
    api_auth: list[str] = []
    provider = flask.Flask("provider")

    @provider.route("/api")
    def api() -> str:
        with lock:
            api_auth.append(flask.request.headers.get("Authorization", ""))
        return "ok"

    return provider, lock, api_auth


def _call_api_at_once(bp: t.Any, threads: int) -> list[BaseException]:
    """Make ``threads`` requests of one user that hold the expired token and
    call ``/api`` at the same moment; return what they raised."""
    app = make_app(bp)
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def one_request() -> None:
        try:
            with app.test_request_context("/"):
                assert bp.session.access_token == "old-access"
                barrier.wait(timeout=10)
                assert bp.session.get("/api").text == "ok"
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=one_request) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return errors


def test_concurrent_requests_of_one_user_refresh_once(
    serve: t.Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    threads = 6
    refreshes: list[dict[str, str]] = []
    provider, lock, api_auth = _api_provider()

    @provider.route("/token", methods=["POST"])
    def token() -> t.Any:
        with lock:
            refreshes.append(flask.request.form.to_dict())
            number = len(refreshes)
        time.sleep(0.1)  # a slow provider: everyone else arrives meanwhile
        return {
            "access_token": f"new-{number}",
            "refresh_token": f"rotated-{number}",
            "token_type": "Bearer",
            "expires_in": 3600,
        }

    url = serve(provider)
    old = expired_token(expires_at=time.time() - 10)
    storage = MemoryStorage(old)
    bp = make_blueprint(storage=storage, base_url=url, token_url=url + "/token")
    assert _call_api_at_once(bp, threads) == []
    assert len(refreshes) == 1
    assert refreshes[0]["refresh_token"] == "old-refresh"
    assert api_auth == ["Bearer new-1"] * threads
    assert storage.token is not None
    assert storage.token["refresh_token"] == "rotated-1"


@freeze_time(FROZEN)
def test_concurrent_requests_after_invalid_grant_fail_once(
    serve: t.Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    refresh_failures: list[dict[str, t.Any]],
) -> None:
    """The refused refresh token is sent once, and the app told once, however
    many requests of the user were waiting for the refresh."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    threads = 6
    refreshes: list[str] = []
    provider, lock, api_auth = _api_provider()

    @provider.route("/token", methods=["POST"])
    def token() -> t.Any:
        with lock:
            refreshes.append(flask.request.form["refresh_token"])
        time.sleep(0.1)  # everyone else arrives meanwhile
        return {"error": "invalid_grant"}, 400

    url = serve(provider)
    storage = MemoryStorage(expired_token(expires_at=time.time() - 10))
    bp = make_blueprint(storage=storage, base_url=url, token_url=url + "/token")
    assert _call_api_at_once(bp, threads) == []
    assert refreshes == ["old-refresh"]
    assert len(refresh_failures) == 1
    assert api_auth == [""] * threads
    assert storage.token is None


@freeze_time(FROZEN)
def test_reactive_refresh_failure_sends_no_token(
    refused: responses_lib.RequestsMock, refresh_failures: list[dict[str, t.Any]]
) -> None:
    with in_request() as (bp, storage):
        bp.session.token = dict(HAND_SET_TOKEN)
        bp.session.get(API_URL)
    assert len(refresh_failures) == 1
    assert storage.token is None
    assert "Authorization" not in calls_to(refused, API_URL)[0].request.headers


@freeze_time(FROZEN)
def test_empty_refresh_token_in_answer_keeps_the_old_one(
    responses: responses_lib.RequestsMock,
) -> None:
    assert stored_refresh_token(responses, answered="") == "old-refresh"


# -- refresh when the resource server refuses the access token ---------------


def _refused_then_ok(responses: responses_lib.RequestsMock, challenge: str) -> None:
    responses.add(
        responses_lib.GET,
        API_URL,
        status=401,
        headers={"WWW-Authenticate": challenge},
        json={"message": "Bad credentials"},
    )
    add_refresh_and_api(responses)


@freeze_time(FROZEN)
def test_invalid_token_answer_refreshes_and_retries_once(
    responses: responses_lib.RequestsMock,
) -> None:
    _refused_then_ok(responses, 'Bearer error="invalid_token"')
    with in_request(expired_token(expires_at=NOW + 3000)) as (bp, storage):
        response = bp.session.get(API_URL)
    assert response.status_code == 200
    api = calls_to(responses, API_URL)
    assert [c.request.headers["Authorization"] for c in api[-2:]] == [
        "Bearer old-access",
        "Bearer new-access",
    ]
    assert storage.token["access_token"] == "new-access"
    assert len(calls_to(responses, TOKEN_URL)) == 1


@freeze_time(FROZEN)
@pytest.mark.parametrize(
    "challenge", ['Bearer error="insufficient_scope"', 'Bearer realm="api"']
)
def test_other_401_answers_are_returned_as_they_are(
    responses: responses_lib.RequestsMock, challenge: str
) -> None:
    _refused_then_ok(responses, challenge)
    with in_request(expired_token(expires_at=NOW + 3000)) as (bp, storage):
        response = bp.session.get(API_URL)
    assert response.status_code == 401
    assert calls_to(responses, TOKEN_URL) == []
    assert storage.token["access_token"] == "old-access"


@freeze_time(FROZEN)
def test_streamed_body_is_not_sent_twice(
    responses: responses_lib.RequestsMock,
) -> None:
    _refused_then_ok(responses, 'Bearer error="invalid_token"')
    with in_request(expired_token(expires_at=NOW + 3000)) as (bp, _):
        response = bp.session.get(API_URL, data=iter([b"chunk"]))
    assert response.status_code == 401
    assert calls_to(responses, TOKEN_URL) == []


# -- a stored expiry that is not a number ----------------------------------------------

EXPIRY_LOGGER = "flask_dance.consumer._refresh"


@pytest.mark.parametrize(
    "bad",
    [
        {"expires_at": "abc"},
        {"expires_at": float("nan")},
        {"expires_at": [1]},
        {"expires_in": "abc"},
        {"expires_in": {}},
    ],
    ids=["at-text", "at-nan", "at-list", "in-text", "in-object"],
)
@freeze_time(FROZEN)
def test_unusable_expiry_with_refresh_token_is_refreshed(
    responses: responses_lib.RequestsMock,
    caplog: pytest.LogCaptureFixture,
    bad: dict[str, t.Any],
) -> None:
    add_refresh_and_api(responses)
    storage = MemoryStorage(expired_token(**{"expires_at": NOW + 3600, **bad}))
    bp = make_blueprint(storage=storage)
    app = make_app(bp)

    @app.route("/me")
    def me() -> t.Any:
        assert bp.session.authorized
        return bp.session.get("/user").json()

    with caplog.at_level("WARNING", logger=EXPIRY_LOGGER):
        response = app.test_client().get("/me", base_url="https://a.b.c")
    assert response.status_code == 200
    assert response.json == {"login": "me"}
    assert len(calls_to(responses, TOKEN_URL)) == 1
    assert storage.token is not None
    assert storage.token["access_token"] == "new-access"
    assert storage.token["expires_at"] == NOW + 600
    warnings = [r for r in caplog.records if r.name == EXPIRY_LOGGER]
    assert len(warnings) == 1
    assert "old-" not in warnings[0].getMessage()


@freeze_time(FROZEN)
def test_unusable_expiry_without_refresh_token_reads_as_no_token(
    responses: responses_lib.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    responses.add(responses_lib.GET, API_URL, json={"login": "anonymous"})
    stored = expired_token(expires_at="abc", refresh_token=None)
    bp = make_blueprint(storage=MemoryStorage(stored))
    app = make_app(bp)

    @app.route("/me")
    def me() -> t.Any:
        answer = {"authorized": bp.session.authorized, "token": bp.token}
        bp.session.get("/user")
        return answer

    with caplog.at_level("WARNING", logger=EXPIRY_LOGGER):
        response = app.test_client().get("/me", base_url="https://a.b.c")
    assert response.status_code == 200
    assert response.json == {"authorized": False, "token": None}
    assert "Authorization" not in responses.calls[0].request.headers
    assert len([r for r in caplog.records if r.name == EXPIRY_LOGGER]) == 1
    with app.test_request_context("/"):
        assert bp.session.authorized is False  # the quick answer agrees
