"""The lock behind
:meth:`~flask_dance.consumer.storage.sqla.SQLAlchemyStorage.refresh_lock`: a
PostgreSQL advisory lock per token, so that processes refresh one user's token
once."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import typing as t

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import scoped_session
    from sqlalchemy.orm import Session

log: logging.Logger = logging.getLogger(__name__)


@contextlib.contextmanager
def advisory_lock(
    session: Session | scoped_session[t.Any],
    model: t.Any,
    key: str,
    timeout: float | None,
) -> Iterator[None]:
    """Hold the advisory lock of the token ``key`` in ``model``'s table, on a
    connection of its own, when the database is PostgreSQL; elsewhere, or
    when the lock cannot be had, go on without it.

    :param session: The storage's SQLAlchemy session; only its bind is used.
    :param model: The token model.
    :param key: The token's cache key, which names the user and provider.
    :param timeout: Seconds to wait for the lock; ``None`` waits as long as
        it takes.
    """
    try:
        engine = session.get_bind(mapper=model).engine
    except SQLAlchemyError:
        engine = None
    if engine is None or engine.dialect.name != "postgresql":
        yield
        return
    table = getattr(model, "__table__", None)
    name = f"{getattr(table, 'fullname', model.__name__)}|{key}"
    digest = hashlib.sha256(name.encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    conn: Connection | None = None
    try:
        conn = engine.connect()
        # An explicit transaction: SQLAlchemy 1.4's connections do not
        # begin one by themselves.
        conn.begin()
        if timeout is not None:
            conn.execute(
                text("SELECT set_config('lock_timeout', :value, true)"),
                {"value": f"{max(1, int(timeout * 1000))}ms"},
            )
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
    except SQLAlchemyError as exc:
        log.warning(
            "Refreshing a token without the database lock, which could not"
            " be taken (%s).",
            type(exc).__name__,
        )
        if conn is not None:
            _close_quietly(conn)
        conn = None
    try:
        yield
    finally:
        if conn is not None:
            # Ending the transaction releases the lock.
            _close_quietly(conn)


def _close_quietly(conn: Connection) -> None:
    """End the lock's transaction, which releases the lock, and give the
    connection back; a connection that fails to roll back is discarded, which
    ends its database session and so releases the lock too."""
    try:
        transaction = conn.get_transaction()
        if transaction is not None:
            transaction.rollback()
    except SQLAlchemyError as exc:
        log.warning("Releasing the token refresh lock failed (%s).", type(exc).__name__)
        with contextlib.suppress(SQLAlchemyError):
            conn.invalidate()
    finally:
        with contextlib.suppress(SQLAlchemyError):
            conn.close()
