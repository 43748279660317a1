from __future__ import annotations

import contextlib
import threading
import typing as t

import flask
import pytest
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.oidc import clear_caches
from flask_dance.testing import LocalProvider

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from sqlalchemy.orm import DeclarativeBase
    from sqlalchemy.orm import Session


class _QuietHandler(WSGIRequestHandler):
    """No access log (request lines may carry codes and states), and HTTP/1.0:
    Werkzeug closes every connection anyway."""

    protocol_version = "HTTP/1.0"

    def log(self, type: str, message: str, *args: t.Any) -> None:
        pass


@pytest.fixture
def serve() -> t.Iterator[t.Callable[[WSGIApplication], str]]:
    """Start WSGI apps on 127.0.0.1 in threaded Werkzeug servers and return
    their base URLs. The servers stop when the test ends."""
    running: list[tuple[t.Any, threading.Thread]] = []

    def start(app: WSGIApplication) -> str:
        server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
        )
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def oidc_provider() -> t.Iterator[LocalProvider]:
    """A local OpenID provider shared by the tests of one module."""
    with LocalProvider() as running:
        yield running


@pytest.fixture
def local(
    oidc_provider: LocalProvider, monkeypatch: pytest.MonkeyPatch
) -> LocalProvider:
    """The module's local provider, reset, with plain HTTP allowed and no
    cached discovery or keys."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    oidc_provider.reset()
    oidc_provider.require_pushed_authorization_requests = False
    clear_caches()
    return oidc_provider


#: The redirect URI of the ``corp`` blueprints of :func:`corp_blueprint`.
CORP_REDIRECT = "http://localhost/login/corp/authorized"


def corp_blueprint(
    local: LocalProvider, storage: t.Any = None, **kwargs: t.Any
) -> tuple[OAuth2ConsumerBlueprint, flask.Flask]:
    """An OpenID Connect blueprint ``corp`` for the client ``corp-client``
    of ``local``, registered on a new app under ``/login``."""
    options: dict[str, t.Any] = {
        "client_id": "corp-client",
        "client_secret": "corp-secret",
        "issuer": local.issuer,
        "base_url": local.url + "/",
        "scope": "openid profile email",
        "redirect_uri": CORP_REDIRECT,
        "storage": storage,
        **kwargs,
    }
    bp = OAuth2ConsumerBlueprint("corp", __name__, **options)
    app = flask.Flask(__name__)
    app.secret_key = "secret"
    app.register_blueprint(bp, url_prefix="/login")
    return bp, app


@contextlib.contextmanager
def memory_database(base: type[DeclarativeBase]) -> t.Iterator[Session]:
    """A session on a new in-memory SQLite database with ``base``'s tables.
    The database is closed on exit: one left to the garbage collector warns
    in whichever test runs then."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine("sqlite://")
    try:
        base.metadata.create_all(engine)
        with Session(engine) as db:
            yield db
    finally:
        engine.dispose()
