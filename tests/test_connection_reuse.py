"""Connections to the provider outlive a request, and nothing per-user is
shared: checked against a real HTTP/1.1 keep-alive server on 127.0.0.1, over
TLS (verified against a throwaway CA) and over plain HTTP, counting the TCP
connections it accepts."""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import flask
import pytest
import requests

from flask_dance.consumer import _openid
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.consumer.storage.session import SessionStorage
from flask_dance.contrib.github import github
from flask_dance.contrib.github import make_github_blueprint
from flask_dance.testing._crypto import make_tls_files
from flask_dance.testing._crypto import server_ssl_context

CLIENT_ID = "client-id"
CLIENT_SECRET = "client-secret"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
        pass

    def _json(self, status: int, body: dict[str, t.Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        if path == "/hang":
            self.server.release.wait(10)
            self._json(200, {})
            return
        if path == "/gather":
            # Answers once three requests are in: they need three connections.
            self.server.gather.wait(10)
            self._json(200, {"token": "gathered"})
            return
        auth = self.headers.get("Authorization", "")
        if path == "/user" and auth.startswith("Bearer "):
            self._json(200, {"token": auth[len("Bearer ") :]})
        else:
            self._json(401, {"error": "unauthorized"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        grant = form.get("grant_type", "")
        with self.server.lock:
            self.server.grants.append(grant)
            number = len(self.server.grants)
        if grant == "authorization_code" and form.get("code"):
            access = f"at-{form['code']}"
        elif grant == "refresh_token" and form.get("refresh_token"):
            access = f"at-refreshed-{number}"
        else:
            self._json(400, {"error": "invalid_request"})
            return
        self._json(
            200,
            {
                "access_token": access,
                "token_type": "bearer",
                "refresh_token": f"rt-{number}",
                "expires_in": 3600,
            },
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext | None) -> None:
        self.context = context
        self.accepted = 0
        self.grants: list[str] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.gather = threading.Barrier(3)
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> tuple[t.Any, t.Any]:
        sock, address = self.socket.accept()
        with self.lock:
            self.accepted += 1
        return sock, address

    def finish_request(self, request: t.Any, client_address: t.Any) -> None:
        if self.context is None:
            super().finish_request(request, client_address)
            return
        try:
            wrapped = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(wrapped, client_address)
        finally:
            wrapped.close()

    @property
    def url(self) -> str:
        scheme = "http" if self.context is None else "https"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}/"


@contextlib.contextmanager
def _serving(server: _Server) -> t.Iterator[_Server]:
    """Serve in a thread until the block ends."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(params=["tls", "plain"])
def provider(
    request: pytest.FixtureRequest,
    tmp_path: t.Any,
    monkeypatch: pytest.MonkeyPatch,
) -> t.Iterator[_Server]:
    context = None
    if request.param == "tls":
        files = make_tls_files(str(tmp_path))
        context = server_ssl_context(files)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", files.ca_file)
    else:
        monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with _serving(_Server(context)) as server:
        yield server


@pytest.fixture
def tls_provider(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> t.Iterator[_Server]:
    files = make_tls_files(str(tmp_path))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", files.ca_file)
    with _serving(_Server(server_ssl_context(files))) as server:
        yield server


def _blueprint(server: _Server, **kwargs: t.Any) -> OAuth2ConsumerBlueprint:
    kwargs.setdefault("storage", SessionStorage())
    return OAuth2ConsumerBlueprint(
        "test",
        __name__,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        base_url=server.url,
        authorization_url=server.url + "authorize",
        token_url=server.url + "token",
        **kwargs,
    )


def _app(*blueprints: flask.Blueprint) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "connection reuse tests"
    for blueprint in blueprints:
        app.register_blueprint(blueprint, url_prefix="/login")

    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/api")
    def api() -> t.Any:
        bp = app.blueprints["test"]
        assert isinstance(bp, OAuth2ConsumerBlueprint)
        resp = bp.session.get("user")
        return resp.json()["token"]

    return app


def _client_with_token(app: flask.Flask, access_token: str, **extra: t.Any) -> t.Any:
    client = app.test_client()
    with client.session_transaction() as session:
        session["test_oauth_token"] = {
            "access_token": access_token,
            "token_type": "bearer",
            **extra,
        }
    return client


def _dance(client: t.Any, code: str) -> None:
    # The app is served over https, as oauthlib requires of the callback.
    resp = client.get("/login/test", base_url="https://localhost")
    state = parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]
    resp = client.get(
        f"/login/test/authorized?code={code}&state={state}",
        base_url="https://localhost",
    )
    assert resp.status_code == 302


# -- one connection, many page views -------------------------------------------


def test_page_views_share_one_connection(provider: _Server) -> None:
    app = _app(_blueprint(provider))
    client = _client_with_token(app, "at-user")
    bodies = [client.get("/api").get_data(as_text=True) for _ in range(6)]
    assert bodies == ["at-user"] * 6
    assert provider.accepted == 1


def test_code_exchange_refresh_and_api_calls_share_the_pool(
    provider: _Server,
) -> None:
    app = _app(_blueprint(provider))
    client = app.test_client()
    _dance(client, "first")
    assert client.get("/api").get_data(as_text=True) == "at-first"
    # The token expires: the next call refreshes it first.
    with client.session_transaction() as session:
        token = dict(session["test_oauth_token"])
        token["expires_at"] = time.time() - 10
        session["test_oauth_token"] = token
    assert client.get("/api").get_data(as_text=True).startswith("at-refreshed-")
    _dance(client, "second")
    assert client.get("/api").get_data(as_text=True) == "at-second"
    assert provider.grants == [
        "authorization_code",
        "refresh_token",
        "authorization_code",
    ]
    assert provider.accepted == 1


def test_two_blueprints_on_one_provider_each_keep_their_own_pool(
    tls_provider: _Server,
) -> None:
    first = _blueprint(tls_provider)
    second = _blueprint(tls_provider, storage=MemoryStorage({"access_token": "x"}))
    second.name = "other"
    app = _app(first, second)

    @app.route("/other")
    def other() -> str:
        return str(second.session.get("user").json()["token"])

    client = _client_with_token(app, "at-user")
    for _ in range(3):
        assert client.get("/api").get_data(as_text=True) == "at-user"
        assert client.get("/other").get_data(as_text=True) == "x"
    assert tls_provider.accepted == 2
    assert first._shared_adapters() is not second._shared_adapters()


def test_the_tls_context_is_built_once_for_all_connections(
    tls_provider: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[t.Any] = []
    load = ssl.SSLContext.load_verify_locations

    def counting(context: ssl.SSLContext, *args: t.Any, **kwargs: t.Any) -> None:
        loads.append(args or kwargs)
        load(context, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    app = _app(_blueprint(tls_provider))

    @app.route("/gather")
    def gather() -> str:
        bp = app.blueprints["test"]
        assert isinstance(bp, OAuth2ConsumerBlueprint)
        return str(bp.session.get("gather").json()["token"])

    clients = [_client_with_token(app, f"at-user-{number}") for number in range(3)]
    answers: list[str] = []
    threads = [
        threading.Thread(
            target=lambda c=client: answers.append(c.get("/gather").get_data(True))
        )
        for client in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == ["gathered"] * 3
    for client in clients:
        assert client.get("/api").get_data(as_text=True).startswith("at-user-")
    # Three connections at once, kept for the next page views; the CA bundle
    # was loaded into one context, once. requests before 2.32 gives adapters
    # no say in the pool's TLS context: there each connection loads it.
    assert tls_provider.accepted == 3
    shared = hasattr(
        requests.adapters.HTTPAdapter, "build_connection_pool_key_attributes"
    )
    assert len(loads) == (1 if shared else 3)


def _add_call_page(
    app: flask.Flask, rule: str, path: str, error: type[Exception]
) -> None:
    """Add the page ``rule``: it GETs ``path`` with the blueprint's session,
    and shows the name of ``error`` when that is raised, else ``answered``."""

    def call() -> str:
        bp = app.blueprints["test"]
        assert isinstance(bp, OAuth2ConsumerBlueprint)
        try:
            bp.session.get(path)
        except error:
            return error.__name__
        return "answered"

    app.add_url_rule(rule, rule.strip("/"), call)


def test_a_certificate_from_another_ca_is_refused(
    tls_provider: _Server, tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "other").mkdir()
    other = make_tls_files(str(tmp_path / "other"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", other.ca_file)
    app = _app(_blueprint(tls_provider))

    _add_call_page(app, "/try", "user", requests.exceptions.SSLError)

    client = _client_with_token(app, "at-user")
    assert client.get("/try").get_data(as_text=True) == "SSLError"
    assert client.get("/try").get_data(as_text=True) == "SSLError"


# -- per-user isolation --------------------------------------------------------


def test_users_take_turns_on_one_connection_with_their_own_tokens(
    provider: _Server,
) -> None:
    app = _app(_blueprint(provider))
    alice = _client_with_token(app, "at-alice")
    bob = _client_with_token(app, "at-bob")
    for _ in range(4):
        assert alice.get("/api").get_data(as_text=True) == "at-alice"
        assert bob.get("/api").get_data(as_text=True) == "at-bob"
    assert provider.accepted == 1


def test_concurrent_users_share_the_pool_not_their_tokens(
    tls_provider: _Server,
) -> None:
    app = _app(_blueprint(tls_provider))
    users = [f"at-user-{number}" for number in range(8)]
    clients = {user: _client_with_token(app, user) for user in users}
    seen: dict[str, list[str]] = {user: [] for user in users}
    start = threading.Barrier(len(users))

    def browse(user: str) -> None:
        start.wait(timeout=30)
        for _ in range(10):
            seen[user].append(clients[user].get("/api").get_data(as_text=True))

    threads = [threading.Thread(target=browse, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert seen == {user: [user] * 10 for user in users}
    # At most one connection per concurrent request, kept for the next ones.
    assert 1 <= tls_provider.accepted <= len(users)


def test_a_shared_app_context_does_not_carry_a_session_between_requests(
    tls_provider: _Server,
) -> None:
    bp = make_github_blueprint(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    bp.base_url = tls_provider.url
    app = flask.Flask(__name__)
    app.secret_key = "shared app context"
    app.register_blueprint(bp, url_prefix="/login")

    used: list[t.Any] = []

    @app.route("/me")
    def me() -> str:
        used.append(github._get_current_object())
        assert flask.g.flask_dance_github is used[-1]
        return str(github.get("user").json()["token"])

    alice = app.test_client()
    bob = app.test_client()
    for client, name in ((alice, "at-alice"), (bob, "at-bob")):
        with client.session_transaction() as session:
            session["github_oauth_token"] = {"access_token": name}
    with app.app_context():  # the requests below reuse this app context
        assert alice.get("/me").get_data(as_text=True) == "at-alice"
        assert bob.get("/me").get_data(as_text=True) == "at-bob"
        assert alice.get("/me").get_data(as_text=True) == "at-alice"
        # Between requests, the last request's session is not handed out.
        between = github._get_current_object()
    assert len({id(session) for session in [*used, between]}) == 4
    assert tls_provider.accepted == 1


def test_a_session_placed_in_g_is_what_the_proxy_gives() -> None:
    bp = make_github_blueprint(client_id=CLIENT_ID, storage=MemoryStorage())
    app = flask.Flask(__name__)
    app.register_blueprint(bp, url_prefix="/login")
    placed = _FakeSession()
    with app.test_request_context("/"):
        flask.g.flask_dance_github = placed
        assert github.authorized is True
        assert github.get("user") == "fake answer"


class _FakeSession:
    authorized = True

    def get(self, url: str) -> str:
        return "fake answer"


# -- timeouts ------------------------------------------------------------------


def test_a_hung_provider_times_out_and_the_pool_recovers(
    tls_provider: _Server,
) -> None:
    app = _app(_blueprint(tls_provider, timeout=(5.0, 0.3)))

    _add_call_page(app, "/hang", "hang", requests.ReadTimeout)

    client = _client_with_token(app, "at-user")
    assert client.get("/api").get_data(as_text=True) == "at-user"
    started = time.monotonic()
    assert client.get("/hang").get_data(as_text=True) == "ReadTimeout"
    assert time.monotonic() - started < 3
    tls_provider.release.set()
    # The timed-out connection is dropped; the next call opens a new one.
    assert client.get("/api").get_data(as_text=True) == "at-user"
    assert client.get("/api").get_data(as_text=True) == "at-user"
    assert tls_provider.accepted == 2


# -- nothing built that the request does not use -------------------------------


PRESETS = (
    "github",
    "google",
    "facebook",
    "gitlab",
    "slack",
    "discord",
    "dropbox",
    "reddit",
    "spotify",
    "twitch",
)


def _count_sessions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []
    make_session = OAuth2ConsumerBlueprint._make_session

    def counting(self: OAuth2ConsumerBlueprint) -> t.Any:
        built.append(self.name)
        return make_session(self)

    monkeypatch.setattr(OAuth2ConsumerBlueprint, "_make_session", counting)
    return built


def test_a_page_that_uses_no_provider_builds_no_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    built = _count_sessions(monkeypatch)
    app = flask.Flask(__name__)
    app.secret_key = "presets"
    for name in PRESETS:
        module = importlib.import_module(f"flask_dance.contrib.{name}")
        app.register_blueprint(getattr(module, f"make_{name}_blueprint")())
        app.config[f"{name.upper()}_OAUTH_CLIENT_ID"] = f"{name}-id"

    @app.route("/")
    def index() -> str:
        return "index"

    client = app.test_client()
    for _ in range(3):
        assert client.get("/").get_data(as_text=True) == "index"
    assert built == []
    # The config was still applied, before the first request.
    assert app.extensions["flask_dance"]["gitlab"].client_id == "gitlab-id"
    assert len(app.before_request_funcs[None]) == 1


def test_authorized_reads_the_storage_once_and_builds_no_session(
    tls_provider: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = _count_sessions(monkeypatch)
    reads: list[str] = []

    class CountingStorage(SessionStorage):
        def get(self, blueprint: t.Any) -> t.Any:
            reads.append(blueprint.name)
            return super().get(blueprint)

    bp = make_github_blueprint(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, storage=CountingStorage()
    )
    bp.base_url = tls_provider.url
    app = flask.Flask(__name__)
    app.secret_key = "authorized"
    app.register_blueprint(bp, url_prefix="/login")

    @app.route("/check")
    def check() -> str:
        return "yes" if github.authorized else "no"

    @app.route("/me")
    def me() -> str:
        if not github.authorized:
            return "anonymous"
        return str(github.get("user").json()["token"])

    client = app.test_client()
    assert client.get("/check").get_data(as_text=True) == "no"
    with client.session_transaction() as session:
        session["github_oauth_token"] = {"access_token": "at-octocat"}
    assert client.get("/check").get_data(as_text=True) == "yes"
    assert (built, len(reads)) == ([], 2)
    assert client.get("/me").get_data(as_text=True) == "at-octocat"
    assert (built, len(reads)) == (["github"], 3)


def test_authorized_follows_a_patched_session_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flask_dance.consumer.requests import OAuth2Session

    monkeypatch.setattr(OAuth2Session, "authorized", property(lambda self: True))
    bp = make_github_blueprint(client_id=CLIENT_ID, storage=MemoryStorage())
    app = flask.Flask(__name__)
    app.register_blueprint(bp, url_prefix="/login")
    with app.test_request_context("/"):
        assert github.authorized is True


# -- the other provider calls use the pool too ---------------------------------


def test_discovery_jwks_and_revocation_sessions_use_the_shared_pool() -> None:
    bp = _blueprint_without_server()
    app = _app(bp)
    shared = bp._shared_adapters()
    with app.test_request_context("/"):
        plain = _openid.plain_session(bp)
        assert list(plain.adapters.values()) == list(shared.values())
        assert list(bp.session.adapters.values()) == list(shared.values())
    assert bp.session.adapters["https://"] is shared["https://"]


def _blueprint_without_server() -> OAuth2ConsumerBlueprint:
    return OAuth2ConsumerBlueprint(
        "test",
        __name__,
        client_id=CLIENT_ID,
        base_url="https://provider.example/",
        token_url="https://provider.example/token",
        authorization_url="https://provider.example/authorize",
    )
