from __future__ import annotations

import contextlib
import threading
import typing as t

import flask
import pytest
import responses as responses_lib
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient
from responses import RequestsMock
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

from dance_helpers import make_app
from dance_helpers import token_response
from dance_helpers import TOKEN_URL
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.oidc import clear_caches
from flask_dance.consumer.storage import MemoryStorage
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


def _session_key(name: str, make: t.Callable[[], t.Any]) -> t.Any:
    """A fixture ``name`` whose private key is made once per test session."""
    return pytest.fixture(scope="session", name=name)(lambda: make())


def _new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# The signing keys of the tests: a provider's, a client's, or a rotated one.
rsa_key = _session_key("rsa_key", _new_rsa_key)
other_rsa_key = _session_key("other_rsa_key", _new_rsa_key)
ec_key = _session_key("ec_key", lambda: ec.generate_private_key(ec.SECP256R1()))
ec384_key = _session_key("ec384_key", lambda: ec.generate_private_key(ec.SECP384R1()))
ed_key = _session_key("ed_key", ed25519.Ed25519PrivateKey.generate)


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


@pytest.fixture
def token_endpoint(responses: RequestsMock) -> RequestsMock:
    """The token endpoint of ``dance_helpers.make_blueprint``, issuing
    ``token_response()``."""
    responses.add(responses_lib.POST, TOKEN_URL, json=token_response())
    return responses


@pytest.fixture
def client() -> t.Iterator[FlaskClient]:
    """A browser on the app of ``dance_helpers.make_app``, with memory
    storage, kept in its ``with`` block (so ``flask.session`` is the last
    request's) until the test ends."""
    with make_app(storage=MemoryStorage()).test_client() as browser:
        yield browser


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
