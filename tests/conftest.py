from __future__ import annotations

import os
import random
import socket
import typing as t
import uuid

import flask
import pytest
import responses as responses_lib

from dance_helpers import Sends
from flask_dance.consumer import oauth_error
from flask_dance.consumer.storage import MemoryStorage

if t.TYPE_CHECKING:
    from blinker import Signal


@pytest.fixture(autouse=True)
def _insecure_transport_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests opt in to plain-HTTP providers explicitly."""
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    monkeypatch.delenv("OAUTHLIB_RELAX_TOKEN_SCOPE", raising=False)


@pytest.fixture
def fresh_oidc_caches() -> t.Iterator[None]:
    """Empty the process-wide discovery and key caches before and after."""
    from flask_dance.consumer.oidc import clear_caches

    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def responses() -> t.Iterator[responses_lib.RequestsMock]:
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def make_app() -> t.Callable[..., flask.Flask]:
    def factory(
        *blueprints: flask.Blueprint, url_prefix: str = "/login"
    ) -> flask.Flask:
        app = flask.Flask(__name__)
        app.secret_key = "a test secret key"
        for blueprint in blueprints:
            app.register_blueprint(blueprint, url_prefix=url_prefix)

        @app.route("/")
        def index() -> str:
            return "index"

        return app

    return factory


@pytest.fixture
def record() -> t.Iterator[t.Callable[[Signal], Sends]]:
    """Record the sends of a signal until the test ends: ``record(signal)``
    returns the list that each send's keyword arguments are appended to."""
    connected: list[tuple[Signal, t.Callable[..., None]]] = []

    def start(signal: Signal) -> Sends:
        sends: Sends = []

        def receiver(sender: t.Any, **kwargs: t.Any) -> None:
            sends.append(kwargs)

        signal.connect(receiver)
        connected.append((signal, receiver))
        return sends

    yield start
    for signal, receiver in connected:
        signal.disconnect(receiver)


@pytest.fixture
def errors(record: t.Callable[[Signal], Sends]) -> Sends:
    """The sends of ``oauth_error`` during the test."""
    return record(oauth_error)


def unavailable(what: str, exc: BaseException) -> t.NoReturn:
    """Skip when a server is down, unless on CI, where that is a failure."""
    reason = f"{what} is unreachable: {type(exc).__name__}: {exc}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the server must be running)")
    pytest.skip(reason)


@pytest.fixture
def postgres_schema() -> t.Iterator[t.Callable[[str], str]]:
    """Make schemas on the PostgreSQL server at 127.0.0.1:5432:
    ``postgres_schema(prefix)`` returns the name of a new one. They are
    dropped when the test ends, after the fixtures that use them."""
    connections: list[tuple[t.Any, str]] = []

    def create(prefix: str) -> str:
        import psycopg

        try:
            conn = psycopg.connect(
                "postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3
            )
        except psycopg.OperationalError as exc:
            unavailable("PostgreSQL at 127.0.0.1:5432", exc)
        schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
        conn.autocommit = True
        conn.execute(f'CREATE SCHEMA "{schema}"')
        connections.append((conn, schema))
        return schema

    yield create
    for conn, schema in connections:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


@pytest.fixture
def redis_url() -> str:
    """The Redis server at 127.0.0.1:6379."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            pass
    except OSError as exc:
        unavailable("Redis at 127.0.0.1:6379", exc)
    return "redis://127.0.0.1:6379/0"


@pytest.fixture
def memory_storage() -> MemoryStorage:
    return MemoryStorage()


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [f"CI={os.environ.get('CI', '')}"]
    order = config.getoption("test_order")
    if order == "random":
        seed = _order_seed(config)
        lines.append(f"test order: random, seed {seed} (--test-order-seed={seed})")
    elif order != "given":
        lines.append(f"test order: {order}")
    return lines


# -- test order --------------------------------------------------------------
# No test may depend on the ones before it. CI checks it by running the suite
# in reverse order and in a random order (see .ci/matrix).


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("test order")
    group.addoption(
        "--test-order",
        choices=("given", "reverse", "random"),
        default="given",
        help="run the collected tests in the given, reversed or a random order",
    )
    group.addoption(
        "--test-order-seed",
        type=int,
        default=None,
        help="the seed of --test-order=random (default: a new one, printed)",
    )


def _order_seed(config: pytest.Config) -> int:
    seed = config.getoption("test_order_seed")
    if seed is None:
        seed = getattr(config, "_test_order_seed", None)
        if seed is None:
            seed = random.SystemRandom().randrange(10**8)
        config._test_order_seed = seed  # type: ignore[attr-defined]
    return int(seed)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    order = config.getoption("test_order")
    if order == "reverse":
        items.reverse()
    elif order == "random":
        random.Random(_order_seed(config)).shuffle(items)


def pytest_terminal_summary(
    terminalreporter: t.Any, exitstatus: int, config: pytest.Config
) -> None:
    order = config.getoption("test_order")
    if order == "random":
        seed = _order_seed(config)
        terminalreporter.write_line(
            f"test order: random, seed {seed} (replay: --test-order=random"
            f" --test-order-seed={seed})"
        )
    elif order != "given":
        terminalreporter.write_line(f"test order: {order}")
