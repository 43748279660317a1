"""SQLAlchemyStorage: reading, writing and deleting tokens, damaged data and
database failures, and Flask-SQLAlchemy's session."""

from __future__ import annotations

import logging
import typing as t
import warnings
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from flask_dance.consumer.storage.sqla import SQLAlchemyStorage
from sqla_compat import SQLALCHEMY_1

from .conftest import _add
from .conftest import _index_columns
from .conftest import _rows
from .conftest import _who
from .conftest import ById
from .conftest import ByRelationship
from .conftest import DictCache
from .conftest import NoId
from .conftest import OAuth
from .conftest import SERVICE
from .conftest import SharedToken
from .conftest import User

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
