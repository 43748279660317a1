"""SQLAlchemyStorage.refresh_lock: one refresh of a user's token across
processes (an advisory lock on PostgreSQL), fresh reads inside it, and a
failing cache that falls back to the database."""

from __future__ import annotations

import logging
import threading
import time
import typing as t
import uuid

import flask
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

import flask_dance.consumer._refresh as refresh_module
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from flask_dance.consumer.storage.sqla import SQLAlchemyStorage
from flask_dance.testing import LocalProvider
from sqla_compat import column
from sqla_compat import new_base
from sqla_compat import postgresql_url

from ..conftest import DictCache

SERVICE = "test-service"


Base = new_base()


class LockedToken(OAuthConsumerMixin, Base):
    user_id: Mapped[int | None] = column(sa.Integer)


class BrokenCache:
    """A cache whose server is down."""

    def get(self, key: str) -> t.Any:
        raise ConnectionError("cache down")

    def set(self, key: str, value: t.Any) -> t.Any:
        raise ConnectionError("cache down")

    def delete(self, key: str) -> t.Any:
        raise ConnectionError("cache down")


class _LockPerCall:
    """Stands in for the process-local refresh locks: a new lock each time,
    so that threads behave like separate processes."""

    def get(self, refresh_token: str) -> threading.Lock:
        return threading.Lock()


@pytest.fixture
def engine(db_url: str, tables: t.Callable[..., sa.Engine]) -> sa.Engine:
    if db_url.startswith("sqlite"):
        return tables(Base)
    # A name of its own, so that lock counts see this test's connections
    # only, not those of other runs on the same server.
    name = f"fd-lock-{uuid.uuid4().hex[:12]}"
    return tables(Base, pool_size=20, connect_args={"application_name": name})


def _store(engine: sa.Engine, token: dict[str, t.Any], user_id: int = 1) -> None:
    with Session(engine) as session:
        session.add(LockedToken(provider=SERVICE, user_id=user_id, token=token))
        session.commit()


def _stored(engine: sa.Engine) -> list[dict[str, t.Any]]:
    with Session(engine) as session:
        return [
            dict(token)
            for token in session.scalars(
                sa.select(LockedToken.token).order_by(LockedToken.id)
            )
        ]


class _Holder:
    """Holds a storage's refresh lock in a thread until told to let go."""

    def __init__(self, storage: SQLAlchemyStorage, blueprint: t.Any) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(storage, blueprint))
        self.thread.start()
        assert self.entered.wait(10)

    def _run(self, storage: SQLAlchemyStorage, blueprint: t.Any) -> None:
        with storage.refresh_lock(blueprint):
            self.entered.set()
            self.release.wait(10)

    def stop(self) -> None:
        self.release.set()
        self.thread.join(10)


# -- the lock itself -------------------------------------------------------------


def _storage(engine: sa.Engine, user_id: int) -> SQLAlchemyStorage:
    """A storage for ``user_id`` with a scoped session of its own."""
    return SQLAlchemyStorage(
        LockedToken, scoped_session(sessionmaker(engine)), user_id=user_id
    )


def _enter_in_a_thread(
    storage: SQLAlchemyStorage, blueprint: t.Any
) -> tuple[threading.Event, threading.Thread]:
    """Take ``storage``'s refresh lock in a new thread, which sets the event
    once it holds the lock, and lets it go at once."""
    entered = threading.Event()

    def enter() -> None:
        with storage.refresh_lock(blueprint):
            entered.set()

    thread = threading.Thread(target=enter)
    thread.start()
    return entered, thread


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_second_holder_waits_for_the_first(engine, make_blueprint):
    blueprint = make_blueprint(SERVICE)
    first = _storage(engine, 1)
    second = _storage(engine, 1)
    other_user = _storage(engine, 2)

    holder = _Holder(first, blueprint)
    try:
        # Another user's refresh is not held up.
        with other_user.refresh_lock(blueprint):
            pass
        entered, waiter = _enter_in_a_thread(second, blueprint)
        assert not entered.wait(0.5), "the lock of user 1 was taken twice"
    finally:
        holder.stop()
    assert entered.wait(10), "the lock was not released"
    waiter.join(10)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_lock_is_released_when_the_token_is_stored(engine, make_blueprint):
    blueprint = make_blueprint(SERVICE)
    storage = _storage(engine, 1)
    with storage.refresh_lock(blueprint):
        storage.set(blueprint, {"access_token": "new"})
    # The app's session is left alone: not in a transaction that holds the lock.
    other = _storage(engine, 1)
    other.refresh_lock_timeout = 0.5
    with other.refresh_lock(blueprint):
        assert other.get(blueprint) == {"access_token": "new"}
    with engine.connect() as conn:
        held = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)"
                " WHERE locktype = 'advisory' AND application_name = :name"
            ),
            {"name": conn.execute(sa.text("SHOW application_name")).scalar()},
        ).scalar()
    assert held == 0


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_lock_not_had_in_time_lets_the_refresh_go_on(engine, make_blueprint, caplog):
    blueprint = make_blueprint(SERVICE)
    first = _storage(engine, 1)
    second = _storage(engine, 1)
    second.refresh_lock_timeout = 0.2
    holder = _Holder(first, blueprint)
    try:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING), second.refresh_lock(blueprint):
            waited = time.monotonic() - started
    finally:
        holder.stop()
    assert 0.15 < waited < 5
    assert "without the database lock" in caplog.text


def test_a_database_that_is_down_lets_the_refresh_go_on(make_blueprint, caplog):
    engine = sa.create_engine(
        postgresql_url("postgresql+psycopg://postgres@127.0.0.1:9/test"),
        connect_args={"connect_timeout": 2},
    )
    storage = SQLAlchemyStorage(LockedToken, Session(engine), user_id=1)
    ran = False
    with (
        caplog.at_level(logging.WARNING),
        storage.refresh_lock(make_blueprint(SERVICE)),
    ):
        ran = True
    assert ran
    assert "without the database lock" in caplog.text
    engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_lock_is_a_no_op_on_sqlite(engine, make_blueprint):
    blueprint = make_blueprint(SERVICE)
    storage = SQLAlchemyStorage(LockedToken, Session(engine), user_id=1)
    holder = _Holder(storage, blueprint)
    try:
        entered, thread = _enter_in_a_thread(storage, blueprint)
        assert entered.wait(5)
        thread.join(5)
    finally:
        holder.stop()


def test_the_lock_without_a_user_does_nothing(make_blueprint):
    engine = sa.create_engine("sqlite://")
    storage = SQLAlchemyStorage(LockedToken, Session(engine), user_required=True)
    with storage.refresh_lock(make_blueprint(SERVICE)):
        pass
    with pytest.raises(ValueError, match="without an associated user"):
        storage.get(make_blueprint(SERVICE))


def test_get_inside_the_lock_reads_the_database(engine, make_blueprint):
    blueprint = make_blueprint(SERVICE)
    cache = DictCache()
    storage = SQLAlchemyStorage(LockedToken, Session(engine), user_id=1, cache=cache)
    _store(engine, {"access_token": "fresh"})
    # Another process replaced the token; this process's cache is stale.
    cache.set(storage.make_cache_key(blueprint), {"access_token": "stale"})
    assert storage.get(blueprint) == {"access_token": "stale"}
    with storage.refresh_lock(blueprint):
        assert storage.get(blueprint) == {"access_token": "fresh"}
    assert cache.get(storage.make_cache_key(blueprint)) == {"access_token": "fresh"}
    assert storage.get(blueprint) == {"access_token": "fresh"}


# -- many sessions refreshing one token -----------------------------------------


def _refresh_storm(
    engine: sa.Engine,
    provider: LocalProvider,
    monkeypatch: pytest.MonkeyPatch,
    count: int,
    use_lock: bool = True,
) -> list[str]:
    """``count`` threads, each with its own session and no process-local
    lock between them, call the API with one user's expired token."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setattr(refresh_module, "_refresh_locks", _LockPerCall())
    cache = DictCache()
    storage = SQLAlchemyStorage(
        LockedToken, scoped_session(sessionmaker(engine)), user_id=1, cache=cache
    )
    if not use_lock:
        storage.refresh_lock = None  # type: ignore[assignment,method-assign]
    app = flask.Flask(__name__)
    app.secret_key = "refresh-lock"
    blueprint = OAuth2ConsumerBlueprint(
        SERVICE,
        __name__,
        storage=storage,
        **provider.blueprint_kwargs(auto_refresh=True),
    )
    app.register_blueprint(blueprint, url_prefix="/login")
    token = provider.issue_token("octocat", scope=["profile"], expires_in=3600)
    token["expires_at"] = time.time() - 10
    _store(engine, token)
    # Every thread finds the expired token in the shared cache.
    with app.test_request_context():
        assert storage.get(blueprint)["access_token"] == token["access_token"]

    barrier = threading.Barrier(count)
    answers: list[str] = []
    errors: list[BaseException] = []

    def page_view() -> None:
        try:
            with app.test_request_context():
                barrier.wait(10)
                response = blueprint.session.get("user")
                answers.append(f"{response.status_code} {response.json()['login']}")
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            t.cast(t.Any, storage.session).remove()

    threads = [threading.Thread(target=page_view) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if use_lock:
        assert not errors, errors
    return answers


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_refreshes_in_many_sessions_refresh_once(engine, monkeypatch):
    with LocalProvider() as provider:
        # A slow token endpoint: every racer would have asked by then.
        provider.faults.delay_on["refresh"] = 0.3
        answers = _refresh_storm(engine, provider, monkeypatch, count=12)
        assert answers == ["200 octocat"] * 12
        assert provider.calls["refresh"] == 1
    stored = _stored(engine)
    assert len(stored) == 1
    assert stored[0]["expires_at"] > time.time() + 60


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_without_the_lock_the_sessions_refresh_several_times(engine, monkeypatch):
    """The control experiment: the test above depends on the lock."""
    with LocalProvider() as provider:
        provider.faults.delay_on["refresh"] = 0.3
        _refresh_storm(engine, provider, monkeypatch, count=6, use_lock=False)
        # Refresh tokens rotate: all but one of these failed with invalid_grant.
        assert provider.calls["refresh"] > 1


# -- a cache that fails ---------------------------------------------------------


def test_a_failing_cache_falls_back_to_the_database(engine, make_blueprint, caplog):
    blueprint = make_blueprint(SERVICE)
    storage = SQLAlchemyStorage(
        LockedToken, Session(engine), user_id=1, cache=BrokenCache()
    )
    with caplog.at_level(logging.WARNING):
        assert storage.get(blueprint) is None
        storage.set(blueprint, {"access_token": "secret-access"})
        assert storage.get(blueprint) == {"access_token": "secret-access"}
        storage.delete(blueprint)
        assert storage.get(blueprint) is None
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("cache failed on get" in m for m in messages)
    assert any("cache failed on set" in m for m in messages)
    assert any("cache failed on delete" in m for m in messages)
    assert "secret-access" not in caplog.text
