"""The SQLAlchemy scenario: a page that looks the user's token up in a
SQLite file holding 1,000 or 100,000 tokens, with Flask-Dance's
:class:`~flask_dance.consumer.storage.sqla.SQLAlchemyStorage` and by hand."""

from __future__ import annotations

import os
import time
import typing as t
from types import SimpleNamespace

import flask
from _apps import _new_app
from _apps import ours_app
from sqlalchemy import create_engine
from sqlalchemy import insert
from sqlalchemy import Integer
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import sessionmaker

from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from flask_dance.consumer.storage.sqla import SQLAlchemyStorage
from flask_dance.contrib.github import github

_BATCH = 10_000


class _Base(DeclarativeBase):
    pass


class OAuth(OAuthConsumerMixin, _Base):
    """The token table, with the lookup index the mixin adds."""

    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


def make_database(directory: str, rows: int) -> str:
    """Create a SQLite file holding ``rows`` GitHub tokens, one per user
    ``1..rows``; return its URL.

    :param directory: Where to put the file.
    :param rows: How many tokens to store.
    """
    path = os.path.join(directory, f"tokens-{rows}.sqlite")
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    _Base.metadata.create_all(engine)
    now = time.time()
    with engine.begin() as conn:
        for start in range(1, rows + 1, _BATCH):
            conn.execute(
                insert(OAuth.__table__),
                [
                    {
                        "provider": "github",
                        "user_id": uid,
                        "token": {
                            "access_token": f"tok-{uid:08d}",
                            "token_type": "bearer",
                            "scope": ["read:user"],
                            "expires_at": now + 3600 + uid,
                        },
                    }
                    for uid in range(start, min(start + _BATCH, rows + 1))
                ],
            )
    engine.dispose()
    return url


def _db_session(app: flask.Flask, url: str) -> scoped_session[t.Any]:
    engine = create_engine(url)
    session = scoped_session(sessionmaker(engine))

    @app.teardown_appcontext
    def remove(_: BaseException | None) -> None:
        session.remove()

    @app.before_request
    def load_user() -> None:
        uid = flask.request.args.get("uid", type=int)
        flask.g.user = SimpleNamespace(id=uid) if uid else None

    return session


def ours_sqla_app(url: str, provider_url: str) -> flask.Flask:
    """Flask-Dance with ``SQLAlchemyStorage``; ``/lookup?uid=N`` answers
    whether user N has a GitHub token.

    :param url: The database URL.
    :param provider_url: The provider's root URL.
    """
    app, bp = ours_app(provider_url)
    db = _db_session(app, url)
    bp.storage = SQLAlchemyStorage(OAuth, db, user=lambda: flask.g.user)

    @app.route("/lookup")
    def lookup() -> str:
        return "yes" if github.authorized else "no"

    return app


def baseline_sqla_app(url: str) -> flask.Flask:
    """The same lookup by hand, with the same query.

    :param url: The database URL.
    """
    app = _new_app("baseline-sqla")
    db = _db_session(app, url)

    @app.route("/lookup")
    def lookup() -> str:
        user = flask.g.user
        token = None
        if user is not None:
            token = db.execute(
                select(OAuth.token)
                .where(OAuth.provider == "github", OAuth.user_id == user.id)
                .order_by(OAuth.created_at.desc(), OAuth.id.desc())
                .limit(1)
            ).scalar()
        return "yes" if token and token.get("access_token") else "no"

    return app
