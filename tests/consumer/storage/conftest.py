from __future__ import annotations

import os
import socket
import typing as t
import uuid

import pytest
from flask import Flask
from werkzeug.datastructures import CallbackDict

from sqla_compat import postgresql_url

PG_URL = postgresql_url("postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379


class StandInBlueprint:
    """The two attributes a storage uses: ``name`` and ``config``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.config: CallbackDict[str, t.Any] = CallbackDict()


def unavailable(what: str, exc: BaseException) -> t.NoReturn:
    """Skip when a server is down, unless on CI, where that is a failure."""
    reason = f"{what} is unreachable: {type(exc).__name__}: {exc}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the server must be running)")
    pytest.skip(reason)


@pytest.fixture
def make_blueprint() -> t.Callable[[str], StandInBlueprint]:
    return StandInBlueprint


@pytest.fixture
def blueprint() -> StandInBlueprint:
    return StandInBlueprint("test-service")


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.secret_key = "storage-tests"
    app.testing = True
    return app


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> t.Iterator[str]:
    """A database URL: SQLite in memory, or a fresh schema on the PostgreSQL
    server, dropped afterwards. The schema is passed as the ``search_path`` in
    the URL, so every connection made from it lands there.
    """
    if request.param == "sqlite":
        yield "sqlite://"
        return
    import psycopg

    try:
        conn = psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3
        )
    except psycopg.OperationalError as exc:
        unavailable("PostgreSQL at 127.0.0.1:5432", exc)
    schema = f"fd_storage_{uuid.uuid4().hex[:12]}"
    conn.autocommit = True
    conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        # A lock wait fails the test after 10 s instead of hanging the run.
        options = f"-csearch_path%3D{schema}%20-clock_timeout%3D10s"
        yield f"{PG_URL}?options={options}"
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


@pytest.fixture
def redis_url() -> str:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2):
            pass
    except OSError as exc:
        unavailable(f"Redis at {REDIS_HOST}:{REDIS_PORT}", exc)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
