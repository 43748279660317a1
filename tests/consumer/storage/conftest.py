from __future__ import annotations

import threading
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import close_all_sessions
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool
from werkzeug.datastructures import CallbackDict

from sqla_compat import postgresql_url

PG_URL = postgresql_url("postgresql+psycopg://postgres@127.0.0.1:5432/test")


class StandInBlueprint:
    """The two attributes a storage uses: ``name`` and ``config``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.config: CallbackDict[str, t.Any] = CallbackDict()


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
def db_url(
    request: pytest.FixtureRequest, postgres_schema: t.Callable[[str], str]
) -> str:
    """A database URL: SQLite in memory, or a fresh schema on the PostgreSQL
    server, dropped afterwards. The schema is passed as the ``search_path`` in
    the URL, so every connection made from it lands there.
    """
    if request.param == "sqlite":
        return "sqlite://"
    schema = postgres_schema("fd_storage")
    # A lock wait fails the test after 10 s instead of hanging the run.
    options = f"-csearch_path%3D{schema}%20-clock_timeout%3D10s"
    return f"{PG_URL}?options={options}"


def make_engine(url: str, **kwargs: t.Any) -> sa.Engine:
    """An engine for ``url``; one shared connection for SQLite in memory."""
    if url.startswith("sqlite"):
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    return sa.create_engine(url, **kwargs)


@pytest.fixture
def tables(db_url: str) -> t.Iterator[t.Callable[..., sa.Engine]]:
    """``tables(base, **engine_options)``: an engine on ``db_url`` with the
    tables of the declarative ``base``, disposed when the test ends."""
    engines: list[sa.Engine] = []

    def create(base: t.Any, **kwargs: t.Any) -> sa.Engine:
        engine = make_engine(db_url, **kwargs)
        base.metadata.create_all(engine)
        engines.append(engine)
        return engine

    yield create
    # Sessions left open would hold table locks that block dropping the schema.
    close_all_sessions()
    for engine in engines:
        engine.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> t.Iterator[Session]:
    """A session on the module's ``engine``."""
    with Session(engine) as session:
        yield session


class DictCache:
    """A cache that shows what it holds, shared by every thread like a Redis
    server would be."""

    def __init__(self) -> None:
        self.data: dict[str, t.Any] = {}
        self.lock = threading.Lock()

    def get(self, key: str) -> t.Any:
        with self.lock:
            return self.data.get(key)

    def set(self, key: str, value: t.Any) -> bool:
        with self.lock:
            self.data[key] = value
        return True

    def delete(self, key: str) -> bool:
        with self.lock:
            return self.data.pop(key, None) is not None
