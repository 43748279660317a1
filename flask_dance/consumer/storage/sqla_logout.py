"""Back-channel logouts remembered in a database table, with SQLAlchemy:
a :class:`~flask_dance.consumer.LogoutStore` every process of the app
shares."""

from __future__ import annotations

import time
import typing as t

from sqlalchemy import delete
from sqlalchemy import Float
from sqlalchemy import select
from sqlalchemy import String
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped

# the column and table-name helpers that map on SQLAlchemy 1.4 and 2.x alike
from .sqla._model import _column
from .sqla._model import _directive

if t.TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import scoped_session
    from sqlalchemy.orm import Session


class LogoutRecordMixin:
    """A declarative mixin for the table of :class:`SQLAlchemyLogoutStore`:
    one row per recorded logout or seen logout token.

    .. code-block:: python

        class LogoutRecord(LogoutRecordMixin, db.Model):
            pass

    The table is named ``"flask_dance_"`` plus the lowercased class name.
    """

    @_directive
    def __tablename__(cls: t.Any) -> str:
        return f"flask_dance_{cls.__name__.lower()}"

    #: What is recorded: the kind (``sid``, ``sub``, ``jti``), issuer, value.
    key: Mapped[str] = _column(String(512), primary_key=True)
    #: The Unix time recorded.
    value: Mapped[float] = _column(Float, nullable=False)
    #: When the row may be forgotten (Unix time).
    expires_at: Mapped[float] = _column(Float, nullable=False, index=True)


class SQLAlchemyLogoutStore:
    """A :class:`~flask_dance.consumer.LogoutStore` in a table mapped from
    :class:`LogoutRecordMixin`. Each call commits; expired rows are deleted
    as new ones are written.

    :param model: The mapped class.
    :param session: The SQLAlchemy session, such as ``db.session``.
    """

    def __init__(
        self,
        model: type[LogoutRecordMixin],
        session: Session | scoped_session[t.Any],
    ) -> None:
        #: The mapped class.
        self.model = model
        #: The SQLAlchemy session.
        self.session = session

    def _write(self, key: str, value: float, ttl: float, replace: bool) -> bool:
        model: t.Any = self.model
        now = time.time()
        session = self.session
        try:
            session.execute(delete(model).where(model.expires_at <= now))
            if replace:
                done = session.execute(
                    update(model)
                    .where(model.key == key)
                    .values(value=value, expires_at=now + ttl)
                )
                if t.cast(t.Any, done).rowcount:
                    session.commit()
                    return True
            session.add(model(key=key, value=value, expires_at=now + ttl))
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
        except SQLAlchemyError:
            session.rollback()
            raise
        return True

    def add(self, key: str, value: float, ttl: float) -> bool:
        """Store ``value`` unless ``key`` is recorded; return whether it was."""
        return self._write(key, value, ttl, replace=False)

    def put(self, key: str, value: float, ttl: float) -> None:
        """Store ``value`` under ``key``."""
        self._write(key, value, ttl, replace=True)

    def get(self, key: str) -> float | None:
        """The value under ``key``, or ``None``."""
        model: t.Any = self.model
        value = self.session.execute(
            select(model.value).where(model.key == key, model.expires_at > time.time())
        ).scalar()
        return float(value) if value is not None else None
