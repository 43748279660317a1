"""Several users at once, against real threaded servers: nobody ever gets or
sends another user's token, state, PKCE verifier or redirect URI."""

from __future__ import annotations

import sys
import threading
import time
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import flask
import pytest
import requests

from dance_helpers import run_threads
from dance_helpers import Sends
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.oauth2 import make_code_challenge

USERS = 8
CALLS_PER_USER = 20
LOGINS_PER_USER = 10


class _Recorder:
    """What the fake provider saw, and how many requests overlapped."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: list[dict[str, t.Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self, record: dict[str, t.Any]) -> None:
        with self.lock:
            self.in_flight -= 1
            self.records.append(record)


def _make_provider(recorder: _Recorder, delay: float = 0.05) -> flask.Flask:
    provider = flask.Flask("provider")

    @provider.route("/api/whoami")
    def whoami() -> str:
        recorder.enter()
        auth = flask.request.headers.get("Authorization", "")
        time.sleep(delay)  # keep the request open so that others overlap it
        recorder.leave({"user": flask.request.args["user"], "auth": auth})
        return auth

    @provider.route("/token", methods=["POST"])
    def token() -> t.Any:
        recorder.enter()
        form = flask.request.form.to_dict()
        recorder.leave(form)
        return {"access_token": "at-" + form["code"], "token_type": "Bearer"}

    return provider


def _make_consumer(provider_url: str) -> tuple[flask.Flask, OAuth2ConsumerBlueprint]:
    bp = OAuth2ConsumerBlueprint(
        "provider",
        __name__,
        client_id="the-client",
        client_secret="the-secret",
        base_url=provider_url + "/api/",
        authorization_url=provider_url + "/authorize",
        token_url=provider_url + "/token",
    )
    app = flask.Flask(__name__)
    app.secret_key = "threads"
    app.register_blueprint(bp, url_prefix="/login")

    @app.route("/set-token/<user>")
    def set_token(user: str) -> str:
        bp.token = {"access_token": f"token-{user}", "token_type": "Bearer"}
        return "stored"

    @app.route("/call/<user>")
    def call(user: str) -> str:
        response = bp.session.get("whoami", params={"user": user})
        return f"{user}|{response.text}"

    @app.route("/whoami")
    def whoami() -> str:
        token = bp.token
        return token["access_token"] if token else "-"

    @app.route("/done/<tag>")
    def done(tag: str) -> str:
        return tag

    return app, bp


def _close_pools(app: flask.Flask, bp: OAuth2ConsumerBlueprint) -> None:
    with app.app_context():
        for adapter in bp.session.adapters.values():
            adapter.close()


class _Site(t.NamedTuple):
    recorder: _Recorder
    app: flask.Flask
    blueprint: OAuth2ConsumerBlueprint
    url: str


@pytest.fixture
def site(serve: t.Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> _Site:
    """A recording provider and a consumer app, each served on 127.0.0.1."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    recorder = _Recorder()
    app, bp = _make_consumer(serve(_make_provider(recorder)))
    return _Site(recorder, app, bp, serve(app))


@pytest.fixture
def fast_switching() -> t.Iterator[None]:
    """Switch threads as often as possible, to widen every race window."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def test_concurrent_users_each_send_their_own_token(site: _Site) -> None:
    recorder, app, bp, consumer_url = site
    barrier = threading.Barrier(USERS)
    answers: dict[str, list[str]] = {}

    def user(index: int) -> None:
        name = f"user{index}"
        with requests.Session() as browser:
            assert browser.get(f"{consumer_url}/set-token/{name}").text == "stored"
            barrier.wait(timeout=10)
            answers[name] = [
                browser.get(f"{consumer_url}/call/{name}").text
                for _ in range(CALLS_PER_USER)
            ]

    try:
        run_threads(user, USERS)
    finally:
        _close_pools(app, bp)

    assert recorder.max_in_flight > 1, "the API calls did not overlap"
    assert len(recorder.records) == USERS * CALLS_PER_USER
    for record in recorder.records:
        assert record["auth"] == f"Bearer token-{record['user']}"
    for name, texts in answers.items():
        assert texts == [f"{name}|Bearer token-{name}"] * CALLS_PER_USER


@pytest.mark.usefixtures("fast_switching")
def test_concurrent_logins_keep_state_verifier_and_redirect_uri_apart(
    site: _Site, errors: Sends
) -> None:
    recorder, app, bp, consumer_url = site
    params_before = (dict(bp.authorization_url_params), dict(bp.token_url_params))
    barrier = threading.Barrier(USERS)
    started: dict[str, dict[str, str]] = {}

    def user(index: int) -> None:
        with requests.Session() as browser:
            barrier.wait(timeout=10)
            for attempt in range(LOGINS_PER_USER):
                tag = f"u{index}-{attempt}"
                response = browser.get(
                    f"{consumer_url}/login/provider",
                    params={"next": f"/done/{tag}"},
                    allow_redirects=False,
                )
                assert response.status_code == 302
                location = urlsplit(response.headers["Location"])
                query = {k: v[0] for k, v in parse_qs(location.query).items()}
                code = f"code-{tag}"
                started[code] = query
                response = browser.get(
                    f"{consumer_url}/login/provider/authorized",
                    params={"code": code, "state": query["state"]},
                    allow_redirects=False,
                )
                assert response.headers["Location"].endswith(f"/done/{tag}"), tag
                assert browser.get(f"{consumer_url}/whoami").text == "at-" + code

    try:
        run_threads(user, USERS)
    finally:
        _close_pools(app, bp)

    assert errors == []
    assert len(started) == USERS * LOGINS_PER_USER
    states = [query["state"] for query in started.values()]
    assert len(set(states)) == len(states)
    token_requests = {record["code"]: record for record in recorder.records}
    assert set(token_requests) == set(started)
    for code, query in started.items():
        sent = token_requests[code]
        assert make_code_challenge(sent["code_verifier"]) == query["code_challenge"]
        assert sent["redirect_uri"] == query["redirect_uri"]
        assert query["redirect_uri"] == f"{consumer_url}/login/provider/authorized"
    # nothing per-login was left on the blueprint
    assert (
        dict(bp.authorization_url_params),
        dict(bp.token_url_params),
    ) == params_before
