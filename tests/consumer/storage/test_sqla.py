from __future__ import annotations

import logging
import typing as t
import uuid
import warnings
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
import sqlalchemy as sa
from flask_caching import Cache
from flask_login import current_user
from flask_login import login_user
from flask_login import LoginManager
from flask_login import UserMixin
from sqlalchemy import event
from sqlalchemy import ForeignKey
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import String
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import relationship
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from flask_dance.consumer.storage.sqla import SQLAlchemyStorage
from flask_dance.utils import FakeCache
from sqla_compat import column
from sqla_compat import new_base
from sqla_compat import SQLALCHEMY_1

from .conftest import DictCache
from .conftest import make_engine

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


def _index_columns(table: sa.Table) -> dict[str | None, list[str]]:
    return {ix.name: [c.name for c in ix.columns] for ix in table.indexes}


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


# -- reading, writing, deleting -----------------------------------------------


def test_get_set_delete_round_trip(session, users, blueprint, sql):
    alice = users[0]
    storage = SQLAlchemyStorage(OAuth, session, user_id=alice.id)
    assert storage.get(blueprint) is None
    storage.set(blueprint, {"access_token": "a", "scope": ["x"]})
    assert storage.get(blueprint) == {"access_token": "a", "scope": ["x"]}
    (row,) = _rows(session)
    assert (row.provider, row.user_id) == (SERVICE, alice.id)
    sql.clear()
    storage.delete(blueprint)
    assert sql.verbs == ["DELETE"]
    assert _rows(session) == []
    assert storage.get(blueprint) is None
    # Deleting again is harmless.
    storage.delete(blueprint)


def test_get_returns_a_plain_dict_detached_from_the_row(session, users, blueprint):
    storage = SQLAlchemyStorage(OAuth, session, user_id=users[0].id)
    storage.set(blueprint, {"access_token": "a", "expires_in": 10})
    token = storage.get(blueprint)
    assert type(token) is dict
    token["expires_in"] = -5
    assert not session.dirty
    session.commit()
    assert _rows(session)[0].token == {"access_token": "a", "expires_in": 10}


def test_set_inserts_with_two_statements(session, users, blueprint, sql):
    storage = SQLAlchemyStorage(OAuth, session, user_id=users[0].id)
    sql.clear()
    storage.set(blueprint, {"access_token": "a"})
    assert sql.verbs == ["UPDATE", "INSERT"]


def test_set_updates_the_row_in_place(session, users, blueprint, sql):
    storage = SQLAlchemyStorage(OAuth, session, user_id=users[0].id)
    storage.set(blueprint, {"access_token": "a"})
    (before,) = _rows(session)
    first_id, first_created = before.id, before.created_at
    sql.clear()
    storage.set(blueprint, {"access_token": "b"})
    assert sql.verbs == ["UPDATE"]
    (after,) = _rows(session)
    assert after.id == first_id
    assert after.created_at == first_created
    assert after.token == {"access_token": "b"}


def test_set_commits(engine, session, users, blueprint):
    SQLAlchemyStorage(OAuth, session, user_id=users[0].id).set(
        blueprint, {"access_token": "a"}
    )
    with Session(engine) as other:
        assert [row.token for row in _rows(other)] == [{"access_token": "a"}]


def test_tokens_are_per_provider(session, users, make_blueprint):
    storage = SQLAlchemyStorage(OAuth, session, user_id=users[0].id)
    github, gitlab = make_blueprint("github"), make_blueprint("gitlab")
    storage.set(github, {"access_token": "gh"})
    storage.set(gitlab, {"access_token": "gl"})
    assert storage.get(github) == {"access_token": "gh"}
    storage.delete(github)
    assert storage.get(github) is None
    assert storage.get(gitlab) == {"access_token": "gl"}


def test_anonymous_set_never_touches_users_rows(session, users, blueprint):
    alice, bob, _ = users
    _add(session, user=alice, token={"access_token": "alice"})
    _add(session, user=bob, token={"access_token": "bob"})
    storage = SQLAlchemyStorage(OAuth, session, user_required=False)
    assert storage.get(blueprint) is None

    storage.set(blueprint, {"access_token": "anon-1"})
    storage.set(blueprint, {"access_token": "anon-2"})
    assert storage.get(blueprint) == {"access_token": "anon-2"}
    assert [(row.user_id, row.token["access_token"]) for row in _rows(session)] == [
        (alice.id, "alice"),
        (bob.id, "bob"),
        (None, "anon-2"),
    ]

    storage.delete(blueprint)
    assert [(row.user_id, row.token["access_token"]) for row in _rows(session)] == [
        (alice.id, "alice"),
        (bob.id, "bob"),
    ]
    assert storage.get(blueprint, user_id=alice.id) == {"access_token": "alice"}


def test_user_delete_never_touches_other_rows(session, users, blueprint):
    alice, bob, _ = users
    _add(session, user=bob, token={"access_token": "bob"})
    _add(session, token={"access_token": "anon"})
    storage = SQLAlchemyStorage(OAuth, session, user=alice)
    storage.set(blueprint, {"access_token": "alice"})
    storage.delete(blueprint)
    assert [row.token["access_token"] for row in _rows(session)] == ["bob", "anon"]


def test_get_returns_the_newest_of_several_rows(session, users, blueprint):
    alice, bob, _ = users
    now = datetime.now(timezone.utc)
    _add(session, user=alice, token={"access_token": "new"}, created_at=now)
    _add(
        session,
        user=alice,
        token={"access_token": "old"},
        created_at=now - timedelta(days=1),
    )
    _add(
        session,
        user=bob,
        token={"access_token": "bob"},
        created_at=now + timedelta(days=1),
    )
    storage = SQLAlchemyStorage(OAuth, session, user=alice)
    assert storage.get(blueprint) == {"access_token": "new"}
    # Same time: the higher id wins.
    _add(session, user=alice, token={"access_token": "newer"}, created_at=now)
    assert storage.get(blueprint) == {"access_token": "newer"}


def test_set_keeps_the_newest_and_drops_only_that_users_duplicates(
    session, users, make_blueprint, sql
):
    alice, bob, _ = users
    blueprint = make_blueprint(SERVICE)
    now = datetime.now(timezone.utc)
    for days in (3, 1, 2):
        _add(
            session,
            user=alice,
            token={"access_token": f"old-{days}"},
            created_at=now - timedelta(days=days),
        )
    bob_row = _add(session, user=bob, token={"access_token": "bob"})
    anon_row = _add(session, token={"access_token": "anon"})
    other = _add(session, user=alice, provider="other", token={"access_token": "x"})
    newest_id = _rows(session)[1].id
    kept = {bob_row.id, anon_row.id, other.id, newest_id}

    storage = SQLAlchemyStorage(OAuth, session, user=alice)
    session.refresh(alice)
    sql.clear()
    storage.set(blueprint, {"access_token": "fresh"})
    assert sql.verbs == ["UPDATE", "SELECT", "DELETE"]
    rows = _rows(session)
    assert {row.id for row in rows} == kept
    by_id = {row.id: row.token["access_token"] for row in rows}
    assert by_id[newest_id] == "fresh"
    assert by_id[bob_row.id] == "bob"
    assert by_id[anon_row.id] == "anon"
    assert by_id[other.id] == "x"
    assert storage.get(blueprint) == {"access_token": "fresh"}

    session.refresh(alice)
    sql.clear()
    storage.set(blueprint, {"access_token": "fresher"})
    assert sql.verbs == ["UPDATE"]


def test_delete_removes_all_rows_of_that_user(session, users, blueprint):
    alice, bob, _ = users
    _add(session, user=alice, token={"access_token": "1"})
    _add(session, user=alice, token={"access_token": "2"})
    _add(session, user=bob, token={"access_token": "bob"})
    SQLAlchemyStorage(OAuth, session, user=alice).delete(blueprint)
    assert [row.user_id for row in _rows(session)] == [bob.id]


def test_model_without_user_columns_keeps_one_token_per_provider(
    session, users, blueprint
):
    alice, bob, _ = users
    cache = DictCache()
    for_alice = SQLAlchemyStorage(SharedToken, session, user=alice, cache=cache)
    for_bob = SQLAlchemyStorage(SharedToken, session, user=bob, cache=cache)
    for_alice.set(blueprint, {"access_token": "shared"})
    assert for_bob.get(blueprint) == {"access_token": "shared"}
    for_bob.set(blueprint, {"access_token": "changed"})
    # One row, so one cache entry: alice sees bob's write at once.
    assert for_alice.make_cache_key(blueprint) == f"flask_dance_token|{SERVICE}|None"
    assert for_alice.get(blueprint) == {"access_token": "changed"}
    assert len(_rows(session, SharedToken)) == 1
    for_alice.delete(blueprint)
    assert for_bob.get(blueprint) is None


def test_model_with_only_a_relationship(session, users, blueprint):
    alice, bob, _ = users
    _add(session, ByRelationship, user=bob, token={"access_token": "bob"})
    storage = SQLAlchemyStorage(ByRelationship, session, user=alice)
    storage.set(blueprint, {"access_token": "alice"})
    assert storage.get(blueprint) == {"access_token": "alice"}
    anonymous = SQLAlchemyStorage(ByRelationship, session)
    assert anonymous.get(blueprint) is None
    anonymous.set(blueprint, {"access_token": "anon"})
    rows = _rows(session, ByRelationship)
    assert [(row.owner_id, row.token["access_token"]) for row in rows] == [
        (bob.id, "bob"),
        (alice.id, "alice"),
        (None, "anon"),
    ]
    anonymous.delete(blueprint)
    storage.delete(blueprint)
    assert [row.owner_id for row in _rows(session, ByRelationship)] == [bob.id]


def test_model_with_only_user_id_matches_a_user_object_by_id(session, users, blueprint):
    alice = users[0]
    _add(session, ById, token={"access_token": "anon"})
    storage = SQLAlchemyStorage(ById, session, user=alice)
    # Not the anonymous row.
    assert storage.get(blueprint) is None
    storage.set(blueprint, {"access_token": "alice"})
    assert [
        (row.user_id, row.token["access_token"]) for row in _rows(session, ById)
    ] == [
        (None, "anon"),
        (alice.id, "alice"),
    ]
    assert storage.get(blueprint) == {"access_token": "alice"}


@pytest.mark.parametrize("verb", ["get", "set", "delete"])
def test_user_that_the_model_cannot_match_raises(lite, users, blueprint, verb):
    cases = [
        (SQLAlchemyStorage(ById, lite, user=NoId()), "has no 'id'"),
        (SQLAlchemyStorage(ByRelationship, lite, user_id=users[0].id), "'user_id'"),
    ]
    for storage, detail in cases:
        args = (blueprint, {"access_token": "a"}) if verb == "set" else (blueprint,)
        with pytest.raises(ValueError, match=f"^Cannot {verb} OAuth token: .*{detail}"):
            getattr(storage, verb)(*args)
    assert _rows(lite, ById) == []
    assert _rows(lite, ByRelationship) == []


def test_non_sqlalchemy_lookalike_user_rejected_before_any_query(lite, blueprint):
    storage = SQLAlchemyStorage(ById, lite, user=NoId())
    with pytest.raises(ValueError, match="no 'user' relationship"):
        storage.get(blueprint)


# -- whose token: user, user_id, blueprint.config -------------------------------


@pytest.fixture
def three_tokens(lite, users):
    for person in users:
        _add(lite, user=person, token={"access_token": person.name})
    return users


def _who(token: dict[str, t.Any] | None) -> str | None:
    return None if token is None else token["access_token"]


def test_user_id_resolution_order(lite, three_tokens, blueprint):
    alice, bob, carol = three_tokens
    storage = SQLAlchemyStorage(OAuth, lite, user_id=bob.id)
    blueprint.config["user_id"] = carol.id
    assert _who(storage.get(blueprint, user_id=alice.id)) == "alice"
    assert _who(storage.get(blueprint)) == "bob"
    assert _who(SQLAlchemyStorage(OAuth, lite).get(blueprint)) == "carol"


def test_user_resolution_order(lite, three_tokens, blueprint):
    alice, bob, carol = three_tokens
    storage = SQLAlchemyStorage(OAuth, lite, user=bob)
    blueprint.config["user"] = carol
    assert _who(storage.get(blueprint, user=alice)) == "alice"
    assert _who(storage.get(blueprint)) == "bob"
    assert _who(SQLAlchemyStorage(OAuth, lite).get(blueprint)) == "carol"


def test_user_id_wins_over_user(lite, three_tokens, blueprint):
    alice, bob, carol = three_tokens
    storage = SQLAlchemyStorage(OAuth, lite, user=alice)
    assert _who(storage.get(blueprint, user_id=bob.id)) == "bob"
    blueprint.config["user_id"] = carol.id
    assert _who(storage.get(blueprint)) == "carol"
    assert _who(storage.get(blueprint, user=bob)) == "carol"


def test_set_with_user_and_user_id_stores_under_user_id(lite, users, blueprint):
    alice, bob, _ = users
    storage = SQLAlchemyStorage(OAuth, lite)
    storage.set(blueprint, {"access_token": "t"}, user=alice, user_id=bob.id)
    assert [row.user_id for row in _rows(lite)] == [bob.id]
    storage.set(blueprint, {"access_token": "u"}, user=alice, user_id=bob.id)
    assert [_who(row.token) for row in _rows(lite)] == ["u"]
    assert storage.get(blueprint, user=alice) is None


@pytest.mark.usefixtures("users")
def test_pending_user_without_id(lite, blueprint):
    dora = User(name="dora")
    lite.add(dora)
    storage = SQLAlchemyStorage(OAuth, lite, user=dora)
    key = storage.make_cache_key(blueprint)
    assert key != f"flask_dance_token|{SERVICE}|None"
    storage.set(blueprint, {"access_token": "dora"})
    assert dora.id is not None
    assert [(row.user_id, _who(row.token)) for row in _rows(lite)] == [
        (dora.id, "dora")
    ]
    assert storage.make_cache_key(blueprint) == f"flask_dance_token|{SERVICE}|{dora.id}"


def test_config_picks_the_user_for_set_and_delete(lite, users, blueprint):
    alice, bob, _ = users
    storage = SQLAlchemyStorage(OAuth, lite)
    blueprint.config["user"] = alice
    storage.set(blueprint, {"access_token": "alice"})
    blueprint.config["user"] = bob
    storage.set(blueprint, {"access_token": "bob"})
    assert [(row.user_id, _who(row.token)) for row in _rows(lite)] == [
        (alice.id, "alice"),
        (bob.id, "bob"),
    ]
    storage.delete(blueprint)
    assert [row.user_id for row in _rows(lite)] == [alice.id]


def test_user_may_be_a_callable(lite, three_tokens, blueprint):
    bob = three_tokens[1]
    storage = SQLAlchemyStorage(OAuth, lite, user=lambda: bob)
    assert storage.user_required
    assert _who(storage.get(blueprint)) == "bob"


def test_user_required_defaults(lite):
    assert not SQLAlchemyStorage(OAuth, lite).user_required
    assert SQLAlchemyStorage(OAuth, lite, user=current_user).user_required
    assert SQLAlchemyStorage(OAuth, lite, user_id=0).user_required
    assert not SQLAlchemyStorage(
        OAuth, lite, user_id=1, user_required=False
    ).user_required
    assert SQLAlchemyStorage(OAuth, lite, user_required=True).user_required


@pytest.mark.parametrize("verb", ["get", "set", "delete"])
@pytest.mark.usefixtures("users")
def test_missing_required_user_raises(lite, blueprint, verb):
    _add(lite, token={"access_token": "anon"})
    storage = SQLAlchemyStorage(OAuth, lite, user=lambda: None)
    args = (blueprint, {"access_token": "a"}) if verb == "set" else (blueprint,)
    with pytest.raises(ValueError, match="without an associated user") as exc_info:
        getattr(storage, verb)(*args)
    assert (
        str(exc_info.value) == f"Cannot {verb} OAuth token without an associated user"
    )
    assert [_who(row.token) for row in _rows(lite)] == ["anon"]


def test_user_id_zero_is_a_user(lite, blueprint):
    storage = SQLAlchemyStorage(ById, lite, user_id=0)
    storage.set(blueprint, {"access_token": "zero"})
    assert [row.user_id for row in _rows(lite, ById)] == [0]


def test_defaults(lite):
    storage = SQLAlchemyStorage(OAuth, lite)
    assert isinstance(storage.cache, FakeCache)
    from flask_login import AnonymousUserMixin

    assert storage.anon_user is AnonymousUserMixin


# -- Flask-Login ---------------------------------------------------------------


@pytest.fixture
def login_app(app, lite):
    manager = LoginManager(app)

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        return lite.get(User, int(user_id))

    return app


def test_flask_login_current_user(login_app, lite, users, blueprint):
    alice, bob, _ = users
    storage = SQLAlchemyStorage(OAuth, lite, user=current_user)
    with login_app.test_request_context("/"):
        login_user(alice)
        storage.set(blueprint, {"access_token": "alice"})
    with login_app.test_request_context("/"):
        login_user(bob)
        assert storage.get(blueprint) is None
        storage.set(blueprint, {"access_token": "bob"})
        assert _who(storage.get(blueprint)) == "bob"
    assert [(row.user_id, _who(row.token)) for row in _rows(lite)] == [
        (alice.id, "alice"),
        (bob.id, "bob"),
    ]


def test_flask_login_through_requests(login_app, lite, users, blueprint):
    alice, bob, _ = users
    storage = SQLAlchemyStorage(OAuth, lite, user=current_user)

    @login_app.route("/login/<int:user_id>")
    def log_in(user_id: int) -> str:
        login_user(lite.get(User, user_id))
        return "ok"

    @login_app.route("/store/<value>")
    def store(value: str) -> str:
        storage.set(blueprint, {"access_token": value})
        return "ok"

    @login_app.route("/read")
    def read() -> dict[str, t.Any]:
        return {"token": storage.get(blueprint)}

    as_alice, as_bob = login_app.test_client(), login_app.test_client()
    as_alice.get(f"/login/{alice.id}")
    as_bob.get(f"/login/{bob.id}")
    as_alice.get("/store/alice-token")
    as_bob.get("/store/bob-token")
    assert as_alice.get("/read").json == {"token": {"access_token": "alice-token"}}
    assert as_bob.get("/read").json == {"token": {"access_token": "bob-token"}}

    anonymous = login_app.test_client()
    with pytest.raises(ValueError, match="without an associated user"):
        anonymous.get("/read")


def test_flask_login_anonymous_user_is_no_user(login_app, lite, users, blueprint):
    _add(lite, user=users[0], token={"access_token": "alice"})
    storage = SQLAlchemyStorage(OAuth, lite, user=current_user, user_required=False)
    with login_app.test_request_context("/"):
        assert current_user.is_anonymous
        assert storage.get(blueprint) is None
        storage.set(blueprint, {"access_token": "anon"})
        assert _who(storage.get(blueprint)) == "anon"
    assert [(row.user_id, _who(row.token)) for row in _rows(lite)] == [
        (users[0].id, "alice"),
        (None, "anon"),
    ]


def test_custom_anonymous_user_classes(login_app, lite, blueprint):
    class Guest:
        is_anonymous = True
        is_authenticated = False
        is_active = False

        def get_id(self) -> None:
            return None

    class Visitor:
        """Anonymous only through ``anon_user``."""

    login_app.login_manager.anonymous_user = Guest
    storage = SQLAlchemyStorage(OAuth, lite, user=current_user)
    with login_app.test_request_context("/"):
        assert isinstance(current_user._get_current_object(), Guest)
        with pytest.raises(ValueError, match="Cannot get OAuth token without"):
            storage.get(blueprint)
    storage = SQLAlchemyStorage(OAuth, lite, user=Visitor(), anon_user=Visitor)
    with pytest.raises(ValueError, match="Cannot set OAuth token without"):
        storage.set(blueprint, {"access_token": "a"})


def test_current_user_outside_a_request_is_no_user(lite, blueprint):
    storage = SQLAlchemyStorage(OAuth, lite, user=current_user)
    with pytest.raises(ValueError, match="Cannot get OAuth token without"):
        storage.get(blueprint)


# -- the cache -----------------------------------------------------------------


@pytest.fixture(params=["SimpleCache", "RedisCache"])
def cache(request, app):
    config: dict[str, t.Any] = {"CACHE_TYPE": request.param}
    if request.param == "RedisCache":
        config["CACHE_REDIS_URL"] = request.getfixturevalue("redis_url")
        config["CACHE_KEY_PREFIX"] = f"fd-test-{uuid.uuid4().hex}-"
    cache = Cache(app, config=config)
    assert type(cache.cache).__name__ == request.param
    yield cache
    with app.app_context():
        cache.clear()


def test_cache_hit_miss_and_invalidation(session, users, blueprint, cache, sql):
    alice_id = users[0].id
    storage = SQLAlchemyStorage(OAuth, session, user_id=alice_id, cache=cache)
    key = f"flask_dance_token|{SERVICE}|{alice_id}"
    assert storage.make_cache_key(blueprint) == key

    sql.clear()
    assert storage.get(blueprint) is None
    assert sql.verbs == ["SELECT"]
    assert storage.get(blueprint) is None  # a cached "no token"
    assert sql.verbs == ["SELECT"]

    storage.set(blueprint, {"access_token": "a"})
    assert cache.get(key) is None
    sql.clear()
    assert storage.get(blueprint) == {"access_token": "a"}
    assert sql.verbs == ["SELECT"]
    assert cache.get(key) == {"access_token": "a"}
    assert storage.get(blueprint) == {"access_token": "a"}
    assert sql.verbs == ["SELECT"]

    storage.set(blueprint, {"access_token": "b"})
    assert storage.get(blueprint) == {"access_token": "b"}

    storage.delete(blueprint)
    assert cache.get(key) is None
    sql.clear()
    assert storage.get(blueprint) is None
    assert sql.verbs == ["SELECT"]


def test_cache_keys_per_user_and_provider(lite, users, make_blueprint, cache):
    alice, bob, _ = users
    github, gitlab = make_blueprint("github"), make_blueprint("gitlab")
    storage = SQLAlchemyStorage(OAuth, lite, cache=cache)
    storage.set(github, {"access_token": "alice-gh"}, user=alice)
    storage.set(github, {"access_token": "bob-gh"}, user_id=bob.id)
    storage.set(gitlab, {"access_token": "alice-gl"}, user=alice)
    storage.set(github, {"access_token": "anon-gh"})
    assert _who(storage.get(github, user=alice)) == "alice-gh"
    assert _who(storage.get(github, user=bob)) == "bob-gh"
    assert _who(storage.get(gitlab, user_id=alice.id)) == "alice-gl"
    assert _who(storage.get(github)) == "anon-gh"
    assert cache.get(f"flask_dance_token|github|{alice.id}") == {
        "access_token": "alice-gh"
    }
    assert cache.get(f"flask_dance_token|github|{bob.id}") == {"access_token": "bob-gh"}
    assert cache.get("flask_dance_token|github|None") == {"access_token": "anon-gh"}
    storage.delete(github, user=alice)
    assert storage.get(github, user=alice) is None
    assert _who(storage.get(github, user=bob)) == "bob-gh"


def test_redis_cache_stores_in_redis(lite, users, blueprint, redis_url, app):
    import redis

    prefix = f"fd-test-{uuid.uuid4().hex}-"
    cache = Cache(
        app,
        config={
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": prefix,
        },
    )
    client = redis.Redis.from_url(redis_url)
    key = f"{prefix}flask_dance_token|{SERVICE}|{users[0].id}"
    try:
        storage = SQLAlchemyStorage(OAuth, lite, user=users[0], cache=cache)
        storage.set(blueprint, {"access_token": "a"})
        assert not client.exists(key)
        storage.get(blueprint)
        assert client.exists(key)
        # No timeout is passed: the cache's default applies.
        assert 0 < client.ttl(key) <= 300
        storage.delete(blueprint)
        assert not client.exists(key)
    finally:
        client.delete(key)
        client.close()


def test_cache_shared_by_two_storages_sees_writes(lite, users, blueprint, cache):
    alice = users[0]
    reader = SQLAlchemyStorage(OAuth, lite, user=alice, cache=cache)
    writer = SQLAlchemyStorage(OAuth, lite, user_id=alice.id, cache=cache)
    assert reader.get(blueprint) is None
    writer.set(blueprint, {"access_token": "a"})
    assert reader.get(blueprint) == {"access_token": "a"}


# -- damaged data and database failures ---------------------------------------


def test_corrupt_json_is_no_token(lite, users, blueprint, caplog):
    alice = users[0]
    storage = SQLAlchemyStorage(OAuth, lite, user=alice)
    storage.set(blueprint, {"access_token": "good"})
    lite.execute(
        sa.text("UPDATE flask_dance_oauth SET token = :bad"),
        {"bad": '{"access_token": "secret-value", '},
    )
    lite.commit()
    with caplog.at_level(logging.WARNING, logger="flask_dance.consumer.storage.sqla"):
        assert storage.get(blueprint) is None
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert SERVICE in record.getMessage()
    assert "secret-value" not in caplog.text
    # The next login replaces the damaged row.
    storage.set(blueprint, {"access_token": "new"})
    assert storage.get(blueprint) == {"access_token": "new"}
    assert len(_rows(lite)) == 1


@pytest.mark.parametrize("value", ["secret-string", ["secret-item"], 42])
def test_stored_json_that_is_not_an_object_is_no_token(
    session, users, blueprint, caplog, value
):
    alice = users[0]
    session.execute(
        insert(OAuth),
        [{"provider": SERVICE, "user_id": alice.id, "token": value}],
    )
    session.commit()
    storage = SQLAlchemyStorage(OAuth, session, user=alice)
    with caplog.at_level(logging.WARNING, logger="flask_dance.consumer.storage.sqla"):
        assert storage.get(blueprint) is None
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "secret" not in caplog.text


@pytest.fixture
def failing(engine):
    """Make the driver fail statements: add ``(verb, table)`` pairs.

    The failure is raised where the driver executes the statement (the
    dialect's ``do_execute`` events), so that SQLAlchemy wraps it in its own
    error as it does a real driver's, on every supported version.
    """
    dialect = engine.dialect
    # SQLAlchemy 1.4 names the driver's module ``dbapi``; 2.x ``loaded_dbapi``.
    dbapi = getattr(dialect, "loaded_dbapi", None) or dialect.dbapi
    dbapi_error = dbapi.OperationalError
    targets: set[tuple[str, str]] = set()

    def fail(cursor, statement, *rest):
        verb = statement.split(None, 1)[0].upper()
        if any(verb == v and f" {table} " in statement for v, table in targets):
            raise dbapi_error("simulated database failure")

    events = ("do_execute", "do_executemany", "do_execute_no_params")
    for name in events:
        event.listen(engine, name, fail)
    yield targets
    for name in events:
        event.remove(engine, name, fail)


@pytest.mark.parametrize(
    ("verb", "table"),
    [
        ("UPDATE", "flask_dance_oauth"),
        ("INSERT", "flask_dance_oauth"),
        # The app's own pending change, flushed by the storage's statements.
        ("INSERT", "fd_user"),
    ],
)
def test_database_error_in_set_rolls_back_and_raises(
    session, users, make_blueprint, failing, verb, table
):
    alice = users[0]
    blueprint = make_blueprint(SERVICE)
    storage = SQLAlchemyStorage(OAuth, session, user=alice)
    storage.set(blueprint, {"access_token": "old"})
    if verb == "INSERT" and table == "flask_dance_oauth":
        storage.delete(blueprint)
    session.add(User(name="pending"))
    failing.add((verb, table))
    with pytest.raises(sa.exc.OperationalError, match="simulated") as exc_info:
        storage.set(blueprint, {"access_token": "secret-new-token"})
    assert "secret-new-token" not in str(exc_info.value)
    failing.clear()
    # The session works again; the app's pending change went with the rollback.
    assert session.execute(select(sa.func.count()).select_from(User)).scalar() == 3
    expected = [] if verb == "INSERT" and table == "flask_dance_oauth" else ["old"]
    assert [_who(row.token) for row in _rows(session)] == expected
    storage.set(blueprint, {"access_token": "retry"})
    assert storage.get(blueprint) == {"access_token": "retry"}


def test_database_error_in_delete_rolls_back_and_raises(
    session, users, blueprint, failing
):
    storage = SQLAlchemyStorage(OAuth, session, user=users[0])
    storage.set(blueprint, {"access_token": "a"})
    failing.add(("DELETE", "flask_dance_oauth"))
    with pytest.raises(SQLAlchemyError, match="simulated"):
        storage.delete(blueprint)
    failing.clear()
    assert storage.get(blueprint) == {"access_token": "a"}
    storage.delete(blueprint)
    assert storage.get(blueprint) is None


def test_failed_rollback_is_logged_and_the_first_error_raised(
    lite, users, blueprint, caplog, monkeypatch
):
    storage = SQLAlchemyStorage(OAuth, lite, user=users[0])

    def broken(*args: t.Any, **kwargs: t.Any) -> None:
        raise sa.exc.OperationalError("UPDATE", {}, Exception("connection lost"))

    monkeypatch.setattr(lite, "execute", broken)
    monkeypatch.setattr(lite, "rollback", broken)
    with caplog.at_level(logging.WARNING, logger="flask_dance.consumer.storage.sqla"):
        with pytest.raises(sa.exc.OperationalError, match="connection lost"):
            storage.set(blueprint, {"access_token": "secret-token"})
    assert "Rolling back" in caplog.text
    assert "secret-token" not in caplog.text


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


# -- Flask-SQLAlchemy ------------------------------------------------------------


def test_flask_sqlalchemy_models_and_session(db_url, app, make_blueprint):
    from flask_sqlalchemy import SQLAlchemy

    app.config["SQLALCHEMY_DATABASE_URI"] = db_url
    if db_url.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"poolclass": StaticPool}
    db = SQLAlchemy(app)

    class Member(db.Model):  # type: ignore[name-defined]
        id = db.Column(db.Integer, primary_key=True)

    class MemberOAuth(OAuthConsumerMixin, db.Model):  # type: ignore[name-defined]
        user_id = db.Column(db.Integer, db.ForeignKey(Member.id))
        user = db.relationship(Member)

    assert MemberOAuth.__tablename__ == "flask_dance_memberoauth"
    assert _index_columns(MemberOAuth.__table__) == {
        "ix_flask_dance_memberoauth_provider_user_id": ["provider", "user_id"]
    }
    blueprint = make_blueprint("github")
    with app.app_context():
        db.create_all()
        try:
            first, second = Member(), Member()
            db.session.add_all([first, second])
            db.session.commit()
            storage = SQLAlchemyStorage(MemberOAuth, db.session, user=first)
            storage.set(blueprint, {"access_token": "first"})
            storage.set(blueprint, {"access_token": "second"}, user=second)
            storage.set(blueprint, {"access_token": "first-again"})
            assert storage.get(blueprint) == {"access_token": "first-again"}
            rows = db.session.scalars(select(MemberOAuth).order_by(MemberOAuth.id))
            assert [(row.user_id, row.token["access_token"]) for row in rows] == [
                (first.id, "first-again"),
                (second.id, "second"),
            ]
            assert repr(MemberOAuth(provider="github", token={})) == (
                '<MemberOAuth provider="github">'
            )
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


@pytest.mark.skipif(not SQLALCHEMY_1, reason="select([...]) is SQLAlchemy 1.4's form")
def test_app_code_of_sqlalchemy_1_4_reads_the_mixin_table(lite, users, blueprint):
    """An app pinned to SQLAlchemy 1.4 queries the token table in its own
    code with the 1.4 forms: ``select([...])`` and ``Query``."""
    storage = SQLAlchemyStorage(OAuth, lite, user=users[0])
    storage.set(blueprint, {"access_token": "a"})
    with warnings.catch_warnings():
        # 1.4 tells the app, once, that these forms are gone in 2.0.
        warnings.simplefilter("ignore", DeprecationWarning)
        rows = lite.execute(
            select([OAuth.provider, OAuth.token]).where(OAuth.user_id == users[0].id)
        ).fetchall()
        assert [tuple(row) for row in rows] == [(SERVICE, {"access_token": "a"})]
        assert lite.query(OAuth).filter_by(provider=SERVICE).one().user is users[0]
