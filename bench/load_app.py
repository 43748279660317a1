"""The app that ``bench/load.py`` serves under gunicorn.

It is configured by environment variables, so that every gunicorn worker
builds the same app:

``LOAD_PROVIDER_URL``
    The local provider's URL (``flask_dance.testing.LocalProvider``).
``LOAD_DATABASE_URL``
    The SQLAlchemy URL of the token database.
``LOAD_TABLE``
    The token table's name (the driver creates and drops it).
``LOAD_REDIS_HOST``, ``LOAD_REDIS_PORT``, ``LOAD_CACHE_PREFIX``
    Where Flask-Caching's ``RedisCache`` keeps tokens, under which key prefix.
``LOAD_SECRET_KEY``
    The Flask secret key, the same in every worker.
``LOAD_TIMEOUT``
    The provider requests' timeout in seconds.
``LOAD_NO_REFRESH_LOCK``
    When set, the storage's cross-process refresh lock is turned off (the
    control experiment of ``bench/load.py --no-refresh-lock``).

Each browser gets a user id in its Flask session at its first visit; tokens
are stored per user id. ``/api`` asks the provider's ``/user`` who the token
belongs to. Every response carries an ``X-Worker`` header with the worker's
process id.

Run it as ``python -m gunicorn --chdir bench 'load_app:create_app()'``.
"""

from __future__ import annotations

import logging
import os
import secrets
import types
import typing as t

import flask
import requests
from flask_caching import Cache
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import BigInteger
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import sessionmaker

from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_error
from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from flask_dance.consumer.storage.sqla import SQLAlchemyStorage

log = logging.getLogger("load_app")

#: The blueprint's name: the provider in the token table and cache keys.
PROVIDER_NAME = "local"


class Base(DeclarativeBase):
    pass


def make_model(table: str) -> type[OAuthConsumerMixin]:
    """The token model, on the table named ``table``."""

    class LoadToken(OAuthConsumerMixin, Base):
        __tablename__ = table
        user_id: Mapped[int | None] = mapped_column(BigInteger)

    return LoadToken


def _current_user() -> t.Any:
    uid = flask.session.get("uid")
    return types.SimpleNamespace(id=uid) if uid is not None else None


def create_app() -> flask.Flask:
    """Build the app from the ``LOAD_*`` environment variables."""
    env = os.environ
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    provider_url = env["LOAD_PROVIDER_URL"].rstrip("/")

    app = flask.Flask(__name__)
    app.secret_key = env["LOAD_SECRET_KEY"]
    # The provider on the same host must not see (or set) the app's cookie.
    app.config["SESSION_COOKIE_NAME"] = "load_app_session"

    cache = Cache(
        app,
        config={
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_HOST": env.get("LOAD_REDIS_HOST", "127.0.0.1"),
            "CACHE_REDIS_PORT": int(env.get("LOAD_REDIS_PORT", "6379")),
            "CACHE_KEY_PREFIX": env["LOAD_CACHE_PREFIX"],
            "CACHE_DEFAULT_TIMEOUT": 0,
            # Fail fast when Redis is down: the storage then uses the database.
            "CACHE_OPTIONS": {
                "retry": Retry(NoBackoff(), 0),
                "socket_connect_timeout": 1,
                "socket_timeout": 2,
            },
        },
    )
    engine = create_engine(
        env["LOAD_DATABASE_URL"], pool_size=2, max_overflow=2, pool_pre_ping=True
    )
    db_session = scoped_session(sessionmaker(engine))
    storage = SQLAlchemyStorage(
        make_model(env["LOAD_TABLE"]), db_session, user=_current_user, cache=cache
    )
    if env.get("LOAD_NO_REFRESH_LOCK"):
        # The control experiment: only the per-process lock is left.
        storage.refresh_lock = None  # type: ignore[assignment,method-assign]
    blueprint = OAuth2ConsumerBlueprint(
        PROVIDER_NAME,
        __name__,
        client_id="test-client",
        client_secret="test-secret",
        base_url=provider_url + "/",
        authorization_url=provider_url + "/authorize",
        token_url=provider_url + "/token",
        auto_refresh_url=provider_url + "/token",
        scope=["profile"],
        storage=storage,
    )
    blueprint.timeout = float(env.get("LOAD_TIMEOUT", "10"))
    app.register_blueprint(blueprint, url_prefix="/login")

    @oauth_error.connect_via(blueprint)
    def _login_failed(sender: t.Any, **kwargs: t.Any) -> t.Any:
        error = kwargs.get("error")
        log.warning("oauth_error: %s", getattr(error, "__name__", type(error).__name__))
        # Tell the driver, which counts these.
        return flask.Response(f"oauth_error: {error}", 409)

    @app.before_request
    def _first_visit() -> None:
        if "uid" not in flask.session:
            flask.session["uid"] = secrets.randbelow(2**62) + 1

    @app.after_request
    def _worker_header(response: flask.Response) -> flask.Response:
        response.headers["X-Worker"] = str(os.getpid())
        return response

    @app.teardown_appcontext
    def _remove_session(exc: BaseException | None) -> None:
        db_session.remove()

    @app.get("/")
    def index() -> t.Any:
        return {"uid": flask.session["uid"]}

    @app.get("/api")
    def api() -> t.Any:
        uid = flask.session["uid"]
        if not blueprint.session.authorized:
            return {"uid": uid, "login": None}, 401
        try:
            response = blueprint.session.get("user")
        except requests.RequestException as exc:
            return {"uid": uid, "error": type(exc).__name__}, 502
        if response.status_code != 200:
            return {"uid": uid, "error": response.status_code}, 502
        return {"uid": uid, "login": response.json()["login"]}

    return app
