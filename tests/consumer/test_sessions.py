"""Sessions that tests and fixtures prepare are the ones requests use, as in
Flask-Dance 7.1, and only in the thread that prepared them: a background
job's session never serves a user."""

from __future__ import annotations

import contextlib
import threading
import typing as t

import flask
import pytest
import requests
import requests.adapters
import responses as responses_lib

from dance_helpers import make_blueprint
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import OAuth2Session
from flask_dance.consumer.storage import BaseStorage
from flask_dance.consumer.storage import MemoryStorage

API = "https://example.com/user"
PREPARED = {"access_token": "prepared-token", "token_type": "Bearer"}
STORED = {"access_token": "stored-token", "token_type": "Bearer"}


class UserStorage(BaseStorage):
    """One token per user, the user named by the ``X-User`` header."""

    def __init__(self, tokens: dict[str, t.Any]) -> None:
        self.tokens = tokens

    def get(self, blueprint: t.Any) -> t.Any:
        if not flask.has_request_context():
            return None
        return self.tokens.get(flask.request.headers.get("X-User", ""))

    def set(self, blueprint: t.Any, token: t.Any) -> None:
        raise AssertionError("not stored in these tests")

    def delete(self, blueprint: t.Any) -> None:
        raise AssertionError("not deleted in these tests")


def make_app(storage: BaseStorage | None = None) -> flask.Flask:
    bp = make_blueprint(storage=storage or MemoryStorage(STORED))
    app = flask.Flask(__name__)
    app.secret_key = "adoption"
    app.register_blueprint(bp, url_prefix="/login")

    @app.route("/")
    def index() -> str:
        bp.session.get(API)
        return "index"

    return app


def blueprint_of(app: flask.Flask) -> OAuth2ConsumerBlueprint:
    return t.cast(OAuth2ConsumerBlueprint, app.blueprints["test-service"])


def bearer(call: t.Any) -> str:
    return str(call.request.headers["Authorization"])


@pytest.mark.parametrize("in_app_context", [True, False])
def test_prepared_token_is_used_by_the_next_request_once(
    responses: responses_lib.RequestsMock, in_app_context: bool
) -> None:
    responses.add(responses_lib.GET, API, json={})
    app = make_app()
    with app.app_context() if in_app_context else contextlib.nullcontext():
        blueprint_of(app).session.token = PREPARED
        with app.test_client() as client:
            client.get("/")
            # once: the next request reads the storage again
            client.get("/")
    assert [bearer(call) for call in responses.calls] == [
        "Bearer prepared-token",
        "Bearer stored-token",
    ]


def test_token_set_in_an_app_context_is_used_by_a_test_request_context() -> None:
    app = make_app()
    bp = blueprint_of(app)
    with app.app_context():
        bp.session.token = PREPARED
        prepared = bp.session
        with app.test_request_context("/"):
            assert bp.session is prepared
            assert bp.session.token == PREPARED
            assert bp.session.access_token == "prepared-token"


def test_session_read_in_an_app_context_reads_the_token_again() -> None:
    app = make_app()
    bp = blueprint_of(app)
    with app.app_context():
        prepared = bp.session
        assert prepared.token == STORED  # read without a request
        bp.storage = MemoryStorage(PREPARED)
        with app.test_request_context("/"):
            assert bp.session is prepared
            assert bp.session.token == PREPARED


def test_adapter_mounted_in_an_app_context_is_used(
    responses: responses_lib.RequestsMock,
) -> None:
    """As a Betamax recorder wrapping ``bp.session`` in a fixture."""
    sent: list[str] = []

    class Recorder(requests.adapters.HTTPAdapter):
        def send(self, request: t.Any, **kwargs: t.Any) -> t.Any:
            sent.append(request.url)
            return super().send(request, **kwargs)

    responses.add(responses_lib.GET, API, json={})
    app = make_app()
    with app.app_context():
        blueprint_of(app).session.mount("https://", Recorder())
        app.test_client().get("/")
    assert sent == [API]


def test_betamax_recorder_made_in_an_app_context_is_used(
    tmp_path: t.Any, responses: responses_lib.RequestsMock
) -> None:
    betamax = pytest.importorskip("betamax")
    responses.add(responses_lib.GET, API, json={"login": "octocat"})
    app = make_app()
    with app.app_context():
        recorder = betamax.Betamax(
            blueprint_of(app).session, cassette_library_dir=str(tmp_path)
        )
        with recorder.use_cassette("user", record="once"):
            app.test_client().get("/")
    assert (tmp_path / "user.json").read_text().count("octocat") == 1


def test_session_prepared_in_a_request_is_used_by_a_nested_one(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.GET, API, json={})
    app = make_app()
    with app.test_request_context("/"):
        blueprint_of(app).session.token = PREPARED
        app.test_client().get("/")
    assert bearer(responses.calls[0]) == "Bearer prepared-token"


def test_session_can_be_assigned() -> None:
    app = make_app()
    bp = blueprint_of(app)
    mine = OAuth2Session(client_id="cid", blueprint=bp)
    bp.session = mine
    assert bp.session is mine
    with app.test_request_context("/"):
        assert bp.session is mine  # taken over by the request
        other = OAuth2Session(client_id="cid", blueprint=bp)
        bp.session = other
        assert bp.session is other
    with app.test_request_context("/"):
        assert bp.session is not other


def test_assigned_session_replaces_the_proxy_s() -> None:
    from flask_dance.contrib.github import github
    from flask_dance.contrib.github import make_github_blueprint

    bp = make_github_blueprint("id", "secret", storage=MemoryStorage())
    app = flask.Flask(__name__)
    app.register_blueprint(bp, url_prefix="/login")
    with app.test_request_context("/"):
        first = github._get_current_object()
        mine = OAuth2Session(client_id="cid", blueprint=bp)
        bp.session = mine
        assert github._get_current_object() is mine
        assert first is not mine


# -- threads ------------------------------------------------------------------------


def test_job_thread_session_never_serves_users(
    responses: responses_lib.RequestsMock,
) -> None:
    """A background job calls the provider with its own token, headers and
    cookies, outside any context, while users' requests run in other
    threads: each keeps its own."""
    seen: list[tuple[str, str | None, str | None]] = []
    lock = threading.Lock()

    def record(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        with lock:
            seen.append(
                (
                    str(request.headers.get("Authorization")),
                    request.headers.get("X-Job"),
                    request.headers.get("Cookie"),
                )
            )
        return 200, {}, "{}"

    responses.add_callback(responses_lib.GET, API, callback=record)
    storage = UserStorage(
        {
            "alice": {"access_token": "alice-token", "token_type": "Bearer"},
            "bob": {"access_token": "bob-token", "token_type": "Bearer"},
        }
    )
    app = make_app(storage)
    bp = blueprint_of(app)
    prepared = threading.Event()
    users_done = threading.Event()
    job_errors: list[BaseException] = []

    def job() -> None:
        try:
            bp.session.token = {"access_token": "job-token", "token_type": "Bearer"}
            bp.session.headers["X-Job"] = "1"
            bp.session.cookies.set("job", "cookie", domain="example.com")
            bp.session.get(API)
            prepared.set()
            assert users_done.wait(30)
            bp.session.get(API)
        except BaseException as exc:  # pragma: no cover - reported below
            job_errors.append(exc)
            prepared.set()

    def user(name: str) -> None:
        with app.test_client() as client:
            for _ in range(3):
                client.get("/", headers={"X-User": name})

    job_thread = threading.Thread(target=job)
    job_thread.start()
    assert prepared.wait(30)
    users = [threading.Thread(target=user, args=(name,)) for name in ("alice", "bob")]
    for thread in users:
        thread.start()
    for thread in users:
        thread.join(30)
    users_done.set()
    job_thread.join(30)
    assert not job_errors
    job_calls = [call for call in seen if call[1] == "1"]
    user_calls = [call for call in seen if call[1] is None]
    assert job_calls == [("Bearer job-token", "1", "job=cookie")] * 2
    assert (
        sorted(call[0] for call in user_calls)
        == ["Bearer alice-token"] * 3 + ["Bearer bob-token"] * 3
    )
    assert all(call[2] is None for call in user_calls)


def test_app_context_session_of_another_thread_is_not_taken_over(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.GET, API, json={})
    app = make_app()
    bp = blueprint_of(app)
    ready = threading.Event()
    release = threading.Event()

    def job() -> None:
        with app.app_context():
            bp.session.token = PREPARED
            ready.set()
            release.wait(30)

    thread = threading.Thread(target=job)
    thread.start()
    assert ready.wait(30)
    try:
        app.test_client().get("/")
    finally:
        release.set()
        thread.join(30)
    assert bearer(responses.calls[0]) == "Bearer stored-token"
