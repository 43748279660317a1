"""The table of SQLAlchemyStorage: the mixin's columns and the index."""

from __future__ import annotations

import typing as t
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import ForeignKey
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import String
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import Mapped

from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from flask_dance.consumer.storage.sqla import SQLAlchemyStorage
from sqla_compat import column
from sqla_compat import new_base

from ..conftest import _add
from ..conftest import _create_all_in_sqlite
from ..conftest import _index_columns
from ..conftest import _rows
from ..conftest import ById
from ..conftest import ByRelationship
from ..conftest import make_engine
from ..conftest import OAuth
from ..conftest import SERVICE
from ..conftest import SharedToken
from ..conftest import User

# -- the mixin ---------------------------------------------------------------


def test_mixin_table_name_and_columns():
    table = OAuth.__table__
    assert table.name == "flask_dance_oauth"
    assert SharedToken.__table__.name == "flask_dance_sharedtoken"
    assert table.c.id.primary_key
    assert isinstance(table.c.provider.type, sa.String)
    assert table.c.provider.type.length == 50
    assert not table.c.provider.nullable
    assert isinstance(table.c.created_at.type, sa.DateTime)
    assert table.c.created_at.type.timezone
    assert not table.c.created_at.nullable
    assert isinstance(table.c.token.type, sa.JSON)
    assert not table.c.token.nullable


def test_mixin_created_at_defaults_to_aware_utc_now(session):
    before = datetime.now(timezone.utc)
    row = OAuth(provider=SERVICE, token={"access_token": "a"})
    session.add(row)
    session.flush()
    after = datetime.now(timezone.utc)
    created = row.created_at
    assert created.utcoffset() == timedelta(0)
    assert before <= created <= after
    session.commit()
    session.expire_all()
    if row.created_at.tzinfo is None:  # SQLite keeps no offset
        assert row.created_at == created.replace(tzinfo=None)
    else:
        assert row.created_at == created


def test_mixin_token_tracks_changes_in_place(session):
    row = _add(session, token={"access_token": "a"})
    assert isinstance(row.token, MutableDict)
    row.token["scope"] = "read"
    assert row in session.dirty
    session.commit()
    assert _rows(session)[0].token == {"access_token": "a", "scope": "read"}


def test_mixin_repr(session):
    row = OAuth(provider="github", token={})
    assert repr(row) == '<OAuth provider="github">'
    session.add(row)
    session.flush()
    assert repr(row) == f'<OAuth id={row.id} provider="github">'


def test_mixin_index_on_provider_and_user_id():
    assert _index_columns(OAuth.__table__) == {
        "ix_flask_dance_oauth_provider_user_id": ["provider", "user_id"]
    }
    assert _index_columns(ById.__table__) == {
        "ix_flask_dance_byid_provider_user_id": ["provider", "user_id"]
    }


def test_mixin_index_on_provider_alone_without_user_id():
    assert _index_columns(SharedToken.__table__) == {
        "ix_flask_dance_sharedtoken_provider": ["provider"]
    }
    assert _index_columns(ByRelationship.__table__) == {
        "ix_flask_dance_byrelationship_provider": ["provider"]
    }


def test_mixin_index_kept_with_own_table_args():
    LocalBase = new_base()

    class Account(LocalBase):
        __tablename__ = "account"
        id: Mapped[int] = column(sa.Integer, primary_key=True)

    class Token(OAuthConsumerMixin, LocalBase):
        __table_args__ = (
            sa.CheckConstraint("provider <> ''", name="ck_provider_not_empty"),
            sa.Index("ix_token_created", "created_at"),
            {"comment": "OAuth tokens"},
        )
        user_id: Mapped[int | None] = column(sa.Integer, ForeignKey(Account.id))

    table = Token.__table__
    assert table.comment == "OAuth tokens"
    assert _index_columns(table) == {
        "ix_token_created": ["created_at"],
        "ix_flask_dance_token_provider_user_id": ["provider", "user_id"],
    }
    assert {c.name for c in table.constraints} >= {"ck_provider_not_empty"}
    engine = make_engine("sqlite://")
    try:
        LocalBase.metadata.create_all(engine)
        names = {
            ix["name"] for ix in sa.inspect(engine).get_indexes("flask_dance_token")
        }
    finally:
        engine.dispose()
    assert names == {"ix_token_created", "ix_flask_dance_token_provider_user_id"}


@pytest.mark.parametrize(
    "own",
    [
        pytest.param(lambda: sa.Index("my_ix", "provider", "user_id"), id="index"),
        pytest.param(
            lambda: sa.Index("my_ix", "provider", "user_id", "created_at"),
            id="wider-index",
        ),
        pytest.param(
            lambda: sa.UniqueConstraint("provider", "user_id", name="my_uq"),
            id="unique",
        ),
    ],
)
def test_mixin_index_not_duplicated(own):
    LocalBase = new_base()

    class Account(LocalBase):
        __tablename__ = "account"
        id: Mapped[int] = column(sa.Integer, primary_key=True)

    class Token(OAuthConsumerMixin, LocalBase):
        __table_args__ = (own(),)
        user_id: Mapped[int | None] = column(sa.Integer, ForeignKey(Account.id))

    assert "ix_flask_dance_token_provider_user_id" not in _index_columns(
        Token.__table__
    )
    _create_all_in_sqlite(LocalBase)


def test_mixin_index_other_column_order_is_not_a_duplicate():
    LocalBase = new_base()

    class Token(OAuthConsumerMixin, LocalBase):
        __table_args__ = (sa.Index("ix_user_first", "user_id", "provider"),)
        user_id: Mapped[int | None] = column(sa.Integer)

    assert set(_index_columns(Token.__table__)) == {
        "ix_user_first",
        "ix_flask_dance_token_provider_user_id",
    }


def test_mixin_index_once_with_single_table_inheritance():
    LocalBase = new_base()

    class Token(OAuthConsumerMixin, LocalBase):
        kind: Mapped[str] = column(String(20))
        user_id: Mapped[int | None] = column(sa.Integer)
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "base"}

    class SpecialToken(Token):
        __tablename__ = None  # type: ignore[assignment]
        __mapper_args__ = {"polymorphic_identity": "special"}

    assert SpecialToken.__table__ is Token.__table__
    assert _index_columns(Token.__table__) == {
        "ix_flask_dance_token_provider_user_id": ["provider", "user_id"]
    }
    _create_all_in_sqlite(LocalBase)


def test_mixin_index_with_a_long_table_name(db_url):
    LocalBase = new_base()

    class TokensOfEveryAccountOfThisLongNamedService(OAuthConsumerMixin, LocalBase):
        user_id: Mapped[int | None] = column(sa.Integer)

    table = TokensOfEveryAccountOfThisLongNamedService.__table__
    (name,) = _index_columns(table)
    assert len(name) > 63
    engine = make_engine(db_url)
    try:
        LocalBase.metadata.create_all(engine)
        (index,) = sa.inspect(engine).get_indexes(table.name)
    finally:
        engine.dispose()
    assert index["column_names"] == ["provider", "user_id"]
    # PostgreSQL allows 63 characters: the name is shortened to fit.
    assert len(index["name"]) <= engine.dialect.max_identifier_length


# -- the index -----------------------------------------------------------------


def _explain(engine: sa.Engine, statement: str, parameters: t.Any) -> str:
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


def _analyze(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE fd_user")
        conn.exec_driver_sql("ANALYZE flask_dance_oauth")


@pytest.mark.parametrize("who", ["user", "anonymous"])
def test_lookup_uses_the_index(engine, session, make_blueprint, sql, who):
    users = 3000
    providers = ["github", "gitlab", "google"]
    session.execute(insert(User), [{"name": f"u{n}"} for n in range(users)])
    ids = list(session.scalars(select(User.id)))
    session.execute(
        insert(OAuth),
        [
            {"provider": provider, "user_id": uid, "token": {"access_token": "x"}}
            for uid in ids
            for provider in providers
        ]
        + [{"provider": "github", "user_id": None, "token": {"access_token": "anon"}}],
    )
    session.commit()
    _analyze(engine)

    storage = SQLAlchemyStorage(OAuth, session, user_required=False)
    target = {"user_id": ids[len(ids) // 2]} if who == "user" else {}
    sql.clear()
    assert storage.get(make_blueprint("gitlab" if target else "github"), **target)
    ((statement, parameters),) = sql.executed
    session.close()  # end its transaction: DROP INDEX below waits for it
    plan = _explain(engine, statement, parameters)
    assert "ix_flask_dance_oauth_provider_user_id" in plan
    if engine.dialect.name == "postgresql":
        assert "Index Scan" in plan or "Bitmap Index Scan" in plan
    else:
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan

    # Without the index the same query reads the whole table.
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_flask_dance_oauth_provider_user_id")
    _analyze(engine)
    plan = _explain(engine, statement, parameters)
    assert "ix_flask_dance_oauth_provider_user_id" not in plan
    assert ("Seq Scan" if engine.dialect.name == "postgresql" else "SCAN") in plan
