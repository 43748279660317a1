from __future__ import annotations

import threading
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_login import UserMixin
from sqlalchemy import event
from sqlalchemy import ForeignKey
from sqlalchemy import select
from sqlalchemy import String
from sqlalchemy.orm import close_all_sessions
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import relationship
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool
from werkzeug.datastructures import CallbackDict

from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from sqla_compat import column
from sqla_compat import new_base
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


# -- SQLAlchemyStorage: the models and fixtures of tests/consumer/storage/*sqla* --

SERVICE = "test-service"


Base = new_base()


class User(UserMixin, Base):
    __tablename__ = "fd_user"
    id: Mapped[int] = column(sa.Integer, primary_key=True)
    name: Mapped[str] = column(String(80))


class OAuth(OAuthConsumerMixin, Base):
    """The usual model: a ``user_id`` column and a ``user`` relationship."""

    user_id: Mapped[int | None] = column(sa.Integer, ForeignKey(User.id))
    user: Mapped[User | None] = relationship(User)


class SharedToken(OAuthConsumerMixin, Base):
    """No user columns: one token per provider for the whole app."""


class ByRelationship(OAuthConsumerMixin, Base):
    """Only a ``user`` relationship; its foreign key has another name."""

    owner_id: Mapped[int | None] = column(sa.Integer, ForeignKey(User.id))
    user: Mapped[User | None] = relationship(User)


class ById(OAuthConsumerMixin, Base):
    """Only a ``user_id`` column."""

    user_id: Mapped[int | None] = column(sa.Integer, ForeignKey(User.id))


class NoId:
    """A user object without an ``id``."""


# -- fixtures ----------------------------------------------------------------


def _create_all_in_sqlite(base: t.Any) -> None:
    """Create ``base``'s tables in a throwaway SQLite database, closed at
    once (a connection left for the garbage collector warns in whichever
    test runs then)."""
    engine = make_engine("sqlite://")
    try:
        base.metadata.create_all(engine)
    finally:
        engine.dispose()


@pytest.fixture
def engine(tables):
    return tables(Base)


@pytest.fixture
def lite(make_blueprint):
    """A session on SQLite only, for tests of logic that no database changes."""
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def users(request):
    session = request.getfixturevalue(
        "session" if "session" in request.fixturenames else "lite"
    )
    people = [User(name=name) for name in ("alice", "bob", "carol")]
    session.add_all(people)
    session.commit()
    return people


class Statements:
    """The SQL statements an engine runs, with their parameters."""

    def __init__(self) -> None:
        self.executed: list[tuple[str, t.Any]] = []

    def clear(self) -> None:
        self.executed.clear()

    @property
    def verbs(self) -> list[str]:
        return [statement.split(None, 1)[0].upper() for statement, _ in self.executed]


@pytest.fixture
def sql(engine):
    statements = Statements()

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.executed.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    yield statements
    event.remove(engine, "before_cursor_execute", record)


def _rows(session: Session, model: type[t.Any] = OAuth) -> list[t.Any]:
    session.expire_all()
    return list(session.scalars(select(model).order_by(model.id)))


def _add(session: Session, model: type[t.Any] = OAuth, **values: t.Any) -> t.Any:
    values.setdefault("provider", SERVICE)
    row = model(**values)
    session.add(row)
    session.commit()
    return row


def _who(token: dict[str, t.Any] | None) -> str | None:
    """The access token of ``token``, which names whose token it is."""
    return None if token is None else token["access_token"]


def _index_columns(table: sa.Table) -> dict[str | None, list[str]]:
    """The columns of each index of ``table``, by the index's name."""
    return {ix.name: [c.name for c in ix.columns] for ix in table.indexes}
