"""Failures around a login, on the real servers: PostgreSQL, Redis and the
local provider. Each must end with ``oauth_error`` (or a clean page), no
500, nothing stored that should not be, and a login that works right after.
"""

from __future__ import annotations

import logging
import types
import typing as t
import uuid
from urllib.parse import urlsplit

import flask
import pytest
import requests
import sqlalchemy as sa
from flask_caching import Cache
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import close_all_sessions
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import sessionmaker
from werkzeug.exceptions import Forbidden

from dance_helpers import FailingStorage
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_error
from flask_dance.consumer.oidc import clear_caches
from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from flask_dance.consumer.storage.sqla import SQLAlchemyStorage
from flask_dance.testing import LocalProvider

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: Nothing listens there: connections are refused at once.
CLOSED_PORT = 9


class Base(DeclarativeBase):
    pass


class FaultToken(OAuthConsumerMixin, Base):
    user_id: Mapped[int | None] = mapped_column(sa.Integer)


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(
    request: pytest.FixtureRequest,
    tmp_path: t.Any,
    postgres_schema: t.Callable[[str], str],
) -> t.Iterator[sa.Engine]:
    """A fresh schema on the PostgreSQL server (dropped afterwards), or a
    SQLite file, whose JSON column is plain text."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/faults.db"
    else:
        schema = postgres_schema("fd_faults")
        url = f"{PG}?options=-csearch_path%3D{schema}%20-clock_timeout%3D10s"
    engine = sa.create_engine(url)
    try:
        Base.metadata.create_all(engine)
        yield engine
    finally:
        close_all_sessions()
        engine.dispose()


@pytest.fixture(scope="module")
def provider() -> t.Iterator[LocalProvider]:
    with LocalProvider(auto_approve=True) as running:
        running.add_user("alice", name="Alice", email="alice@example.com")
        yield running


@pytest.fixture(autouse=True)
def _fresh(provider: LocalProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    provider.reset()
    clear_caches()


class Site(t.NamedTuple):
    app: flask.Flask
    blueprint: OAuth2ConsumerBlueprint
    storage: SQLAlchemyStorage
    engine: sa.Engine


def make_site(
    provider: LocalProvider,
    engine: sa.Engine,
    cache: t.Any = None,
    oidc: bool = False,
    **kwargs: t.Any,
) -> Site:
    """An app whose users are told apart by ``uid`` in the Flask session;
    ``/api`` asks the provider who the user is."""
    app = flask.Flask(__name__)
    app.secret_key = "faults"

    def current() -> t.Any:
        uid = flask.session.get("uid")
        return types.SimpleNamespace(id=uid) if uid is not None else None

    storage = SQLAlchemyStorage(
        FaultToken,
        scoped_session(sessionmaker(engine)),
        user=current,
        cache=cache(app) if cache is not None else None,
    )
    options = provider.blueprint_kwargs(auto_refresh=True)
    if oidc:
        options.update(issuer=provider.issuer, scope="openid profile email")
    options.update(kwargs)
    blueprint = OAuth2ConsumerBlueprint("local", __name__, storage=storage, **options)
    app.register_blueprint(blueprint, url_prefix="/login")

    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/as/<int:uid>")
    def become(uid: int) -> str:
        flask.session["uid"] = uid
        return "ok"

    @app.route("/api")
    def api() -> t.Any:
        if not blueprint.session.authorized:
            return flask.redirect(flask.url_for("local.login"))
        try:
            return blueprint.session.get("user").json()["login"]
        except requests.RequestException as exc:
            # What an app does when the provider is down.
            return f"provider unavailable: {type(exc).__name__}", 503

    @app.teardown_appcontext
    def _remove(exc: BaseException | None) -> None:
        t.cast(t.Any, storage.session).remove()

    return Site(app, blueprint, storage, engine)


def login(site: Site, provider: LocalProvider, client: t.Any, user: str) -> t.Any:
    """One login as ``user``: the consumer's login view, the provider's
    approval, and the consumer's callback."""
    response = client.get("/login/local")
    assert response.status_code == 302, response.data
    result = provider.authorize(response.headers["Location"] + f"&login_hint={user}")
    url = urlsplit(result.url)
    return client.get(f"{url.path}?{url.query}")


def stored(site: Site) -> list[tuple[int | None, dict[str, t.Any]]]:
    with site.engine.connect() as conn:
        rows = conn.execute(sa.select(FaultToken.user_id, FaultToken.token))
        return [(uid, dict(token)) for uid, token in rows]


def _assert_retry_works(site: Site, provider: LocalProvider, client: t.Any) -> None:
    provider.faults.reset()
    response = login(site, provider, client, "alice")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/api").text == "alice"
    assert [uid for uid, _ in stored(site)] == [7]


# -- the database ---------------------------------------------------------------


def test_database_down_during_the_callback(provider, engine, errors, caplog) -> None:
    site = make_site(provider, engine)
    working = site.storage.session
    down = sa.create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{CLOSED_PORT}/test",
        connect_args={"connect_timeout": 2},
    )
    site.storage.session = scoped_session(sessionmaker(down))
    with site.app.test_client() as client:
        client.get("/as/7")
        with caplog.at_level(logging.INFO):
            response = login(site, provider, client, "alice")
        assert response.status_code == 503
        assert "log in again" in response.text
        assert response.headers["Retry-After"]
        assert len(errors) == 1
        assert isinstance(errors[0]["error"], sa.exc.OperationalError)
        assert stored(site) == []
        for record in caplog.records:
            assert "access_token" not in record.getMessage()
        # The database is back: a new login works at once.
        site.storage.session = working
        _assert_retry_works(site, provider, client)
    down.dispose()


def test_commit_failing_during_the_callback(
    provider, engine, errors, monkeypatch
) -> None:
    site = make_site(provider, engine)
    fails = {"left": 1}
    real_commit = sa.orm.Session.commit

    def commit(self: sa.orm.Session) -> None:
        if fails["left"]:
            fails["left"] -= 1
            raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed"))
        real_commit(self)

    monkeypatch.setattr(sa.orm.Session, "commit", commit)
    with site.app.test_client() as client:
        client.get("/as/7")
        response = login(site, provider, client, "alice")
        assert response.status_code == 503
        assert [type(e["error"]) for e in errors] == [sa.exc.OperationalError]
        assert stored(site) == []
        _assert_retry_works(site, provider, client)


def test_a_token_row_that_is_not_a_json_object(provider, engine, caplog) -> None:
    site = make_site(provider, engine)
    with site.app.test_client() as client:
        client.get("/as/7")
        _assert_retry_works(site, provider, client)
        # Someone edits the row: invalid JSON where the column is text
        # (SQLite), valid JSON that is no object on PostgreSQL.
        garbage = "{not json" if engine.dialect.name == "sqlite" else '"a string"'
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE flask_dance_faulttoken SET token = :garbage"),
                {"garbage": garbage},
            )
        with caplog.at_level(logging.WARNING):
            response = client.get("/api")
        # No token: sent to log in again, no 500.
        assert response.status_code == 302
        assert response.headers["Location"] == "/login/local"
        assert "Ignoring the stored 'local' token" in caplog.text
        # Logging in again replaces the broken row.
        _assert_retry_works(site, provider, client)


# -- the cache ------------------------------------------------------------------


def _redis_cache(port: int, prefix: str) -> t.Callable[[flask.Flask], Cache]:
    def make(app: flask.Flask) -> Cache:
        return Cache(
            app,
            config={
                "CACHE_TYPE": "RedisCache",
                "CACHE_REDIS_HOST": "127.0.0.1",
                "CACHE_REDIS_PORT": port,
                "CACHE_KEY_PREFIX": prefix,
                "CACHE_DEFAULT_TIMEOUT": 0,
                # redis-py retries a refused connection for seconds by
                # default: with Redis down every page view would wait.
                "CACHE_OPTIONS": {
                    "retry": Retry(NoBackoff(), 0),
                    "socket_connect_timeout": 1,
                    "socket_timeout": 1,
                },
            },
        )

    return make


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_redis_down_falls_back_to_the_database(provider, engine, caplog) -> None:
    site = make_site(provider, engine, cache=_redis_cache(CLOSED_PORT, "fd-down-"))
    with site.app.test_client() as client:
        client.get("/as/7")
        with caplog.at_level(logging.WARNING):
            _assert_retry_works(site, provider, client)
            assert client.get("/api").text == "alice"
    assert "The token cache failed on get" in caplog.text
    assert "The token cache failed on delete" in caplog.text


@pytest.mark.redis
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
@pytest.mark.usefixtures("redis_url")
def test_a_refresh_replaces_the_cached_token(provider, engine) -> None:
    prefix = f"fd-faults-{uuid.uuid4().hex[:8]}-"
    site = make_site(provider, engine, cache=_redis_cache(6379, prefix))
    cache = site.storage.cache
    with site.app.test_client() as client:
        client.get("/as/7")
        _assert_retry_works(site, provider, client)
        key = "flask_dance_token|local|7"
        first = cache.get(key)
        assert first["access_token"]
        with engine.begin() as conn:
            conn.execute(
                sa.update(FaultToken).values(
                    token=dict(first, expires_at=1, expires_in=-1)
                )
            )
        cache.delete(key)
        assert client.get("/api").text == "alice"
        assert provider.calls["refresh"] == 1
        # Storing the new token removed the cache entry ...
        assert cache.get(key) is None
        # ... which the next page view fills with the new token.
        assert client.get("/api").text == "alice"
        cached = cache.get(key)
        assert cached["access_token"] != first["access_token"]
        assert cached == stored(site)[0][1]
        assert provider.calls["refresh"] == 1
        cache.delete(key)


# -- the provider ---------------------------------------------------------------


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"status_500_on": {"exchange"}}, id="500"),
        pytest.param({"garbage_on": {"exchange"}}, id="garbage"),
        pytest.param({"delay_on": {"exchange": 3.0}}, id="hangs"),
    ],
)
def test_token_endpoint_failures(provider, engine, errors, fault) -> None:
    site = make_site(provider, engine, timeout=0.5)
    for name, value in fault.items():
        setattr(provider.faults, name, value)
    with site.app.test_client() as client:
        client.get("/as/7")
        response = login(site, provider, client, "alice")
        assert response.status_code == 302
        # Garbage that oauthlib parses as a form answers "missing_token".
        assert [e["error"] for e in errors] in (
            ["token_request_failed"],
            ["missing_token"],
        )
        assert stored(site) == []
        _assert_retry_works(site, provider, client)


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
@pytest.mark.parametrize("fault", ["status_500_on", "garbage_on"])
def test_jwks_down_during_an_openid_login(provider, engine, errors, fault) -> None:
    site = make_site(provider, engine, oidc=True)
    getattr(provider.faults, fault).add("jwks")
    with site.app.test_client() as client:
        client.get("/as/7")
        response = login(site, provider, client, "alice")
        assert response.status_code == 302
        assert len(errors) == 1
        assert stored(site) == []
        clear_caches()
        _assert_retry_works(site, provider, client)


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"status_500_on": {"refresh"}}, id="500"),
        pytest.param({"delay_on": {"refresh": 3.0}}, id="hangs"),
    ],
)
def test_a_refresh_that_fails_for_a_moment_keeps_the_token(
    provider, engine, fault
) -> None:
    """A token endpoint that is down is no reason to forget the user's
    token: the API call fails with the HTTP error, and the next one, with
    the endpoint back, refreshes."""
    site = make_site(provider, engine, timeout=0.5)
    with site.app.test_client() as client:
        client.get("/as/7")
        _assert_retry_works(site, provider, client)
        token = stored(site)[0][1]
        with engine.begin() as conn:
            conn.execute(sa.update(FaultToken).values(token=dict(token, expires_at=1)))
        for name, value in fault.items():
            setattr(provider.faults, name, value)
        response = client.get("/api")
        assert response.status_code == 503
        assert response.text.startswith("provider unavailable")
        assert stored(site)[0][1]["refresh_token"] == token["refresh_token"]
        provider.faults.reset()
        assert client.get("/api").text == "alice"
        assert stored(site)[0][1]["refresh_token"] != token["refresh_token"]


# -- a failing storage, without servers ---------------------------------------------


def _site_with(provider: LocalProvider, storage: t.Any) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "faults"
    blueprint = OAuth2ConsumerBlueprint(
        "local", __name__, storage=storage, **provider.blueprint_kwargs()
    )
    app.register_blueprint(blueprint, url_prefix="/login")
    return app


def _dance(app: flask.Flask, provider: LocalProvider) -> t.Any:
    client = app.test_client()
    response = client.get("/login/local")
    result = provider.authorize(response.headers["Location"])
    url = urlsplit(result.url)
    return client.get(f"{url.path}?{url.query}")


def test_a_receiver_answers_a_storage_failure(provider) -> None:
    app = _site_with(provider, FailingStorage(ConnectionError("down")))

    def receiver(sender: t.Any, **kwargs: t.Any) -> t.Any:
        assert isinstance(kwargs["error"], ConnectionError)
        return flask.redirect("/sorry")

    with oauth_error.connected_to(receiver):
        response = _dance(app, provider)
    assert response.status_code == 302
    assert response.headers["Location"] == "/sorry"


def test_a_storage_that_aborts_keeps_its_http_error(provider) -> None:
    app = _site_with(provider, FailingStorage(Forbidden()))
    assert _dance(app, provider).status_code == 403


def test_a_storage_value_error_keeps_the_7_1_behaviour(provider, errors) -> None:
    app = _site_with(provider, FailingStorage(ValueError("no user")))
    response = _dance(app, provider)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert [type(e["error"]) for e in errors] == [ValueError]
