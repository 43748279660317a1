"""The SQLAlchemy logout store of consumer/storage/sqla_logout.py."""

from __future__ import annotations

import pytest
from freezegun import freeze_time
from sqlalchemy.exc import OperationalError

from flask_dance.consumer.storage.sqla_logout import LogoutRecordMixin
from flask_dance.consumer.storage.sqla_logout import SQLAlchemyLogoutStore
from sqla_compat import new_base

from ..conftest import memory_database

Base = new_base()
Unmade = new_base()


class LogoutRecord(LogoutRecordMixin, Base):  # type: ignore[misc,valid-type]
    pass


class MissingRecord(LogoutRecordMixin, Unmade):  # type: ignore[misc,valid-type]
    """Mapped, but its table is not created in the tests' database."""


def test_sqlalchemy_logout_store_expires_and_replaces() -> None:
    with memory_database(Base) as db, freeze_time("2026-01-01") as frozen:
        store = SQLAlchemyLogoutStore(LogoutRecord, db)
        assert store.add("k", 1.0, 60) is True
        assert store.add("k", 2.0, 60) is False
        assert store.get("k") == 1.0
        store.put("k", 3.0, 60)
        assert store.get("k") == 3.0
        frozen.tick(61)
        assert store.get("k") is None
        assert store.add("k", 4.0, 60) is True
        assert store.get("k") == 4.0


def test_the_table_is_named_after_the_class() -> None:
    assert LogoutRecord.__tablename__ == "flask_dance_logoutrecord"


def test_expired_rows_are_deleted_as_new_ones_are_written() -> None:
    with memory_database(Base) as db, freeze_time("2026-01-01") as frozen:
        store = SQLAlchemyLogoutStore(LogoutRecord, db)
        store.put("old", 1.0, 10)
        frozen.tick(11)
        assert store.add("new", 2.0, 10) is True
        assert [row.key for row in db.query(LogoutRecord)] == ["new"]


def test_a_database_error_is_raised() -> None:
    with memory_database(Base) as db:
        store = SQLAlchemyLogoutStore(MissingRecord, db)
        with pytest.raises(OperationalError):
            store.add("k", 1.0, 60)
        assert SQLAlchemyLogoutStore(LogoutRecord, db).get("k") is None
