"""The table of :class:`~flask_dance.consumer.storage.sqla.SQLAlchemyStorage`:
the declarative mixin and the lookup index each mapped subclass gets."""

from __future__ import annotations

import typing as t
from datetime import datetime
from datetime import timezone

from sqlalchemy import Column
from sqlalchemy import DateTime
from sqlalchemy import event
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import JSON
from sqlalchemy import PrimaryKeyConstraint
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import UniqueConstraint
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import Mapped
from sqlalchemy.schema import conv

if t.TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Mapper


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# The mixin's columns and table name, declared so that SQLAlchemy 1.4 (plain
# ``Column`` objects and ``declared_attr``) and 2.x (``mapped_column`` and
# ``declared_attr.directive``, which its typed declarative models expect)
# both map them (the SQLAlchemy logout store's table uses them too).
if t.TYPE_CHECKING:
    from sqlalchemy.orm import mapped_column

    _column = mapped_column

    _directive = declared_attr.directive
else:
    from sqlalchemy import orm as _orm

    _column = getattr(_orm, "mapped_column", Column)
    _directive = getattr(declared_attr, "directive", declared_attr)


class OAuthConsumerMixin:
    """A declarative mixin for the table that :class:`SQLAlchemyStorage`
    reads and writes. Each row holds one token for one provider.

    .. code-block:: python

        class OAuth(OAuthConsumerMixin, db.Model):
            user_id = db.Column(db.Integer, db.ForeignKey(User.id))
            user = db.relationship(User)

    The table is named ``"flask_dance_"`` plus the lowercased class name. Add
    a ``user_id`` column and a ``user`` relationship (either or both) to tie
    tokens to your users; without them the table holds one token per
    provider for the whole app.

    Every mapped subclass gets an index on ``(provider, user_id)``, or on
    ``provider`` alone when there is no ``user_id`` column, named
    ``ix_<table>_provider_user_id`` (or ``ix_<table>_provider``), so that
    looking a token up stays fast on large tables. It is added when the class
    is mapped, not through ``__table_args__``, so a model may define its own
    ``__table_args__`` (constraints, indexes, ``{"schema": ...}``) and still
    get it. When the model already has an index, a unique constraint or a
    primary key that starts with those columns, no second index is added.
    ``metadata.create_all()`` creates the index with a new table; for a table
    that already exists, add it with a migration.
    """

    @_directive
    def __tablename__(cls: t.Any) -> str:
        return f"flask_dance_{cls.__name__.lower()}"

    #: The primary key.
    id: Mapped[int] = _column(Integer, primary_key=True)
    #: The blueprint's name, such as ``"github"``.
    provider: Mapped[str] = _column(String(50), nullable=False)
    #: When the row was created, timezone-aware, in UTC.
    created_at: Mapped[datetime] = _column(
        DateTime(timezone=True), nullable=False, default=_utcnow
    )
    #: The token, as the provider returned it.
    token: Mapped[dict[str, t.Any]] = _column(
        MutableDict.as_mutable(JSON), nullable=False
    )

    def __repr__(self) -> str:
        parts = [type(self).__name__]
        if self.id is not None:
            parts.append(f"id={self.id}")
        if self.provider:
            parts.append(f'provider="{self.provider}"')
        return f"<{' '.join(parts)}>"


@event.listens_for(OAuthConsumerMixin, "instrument_class", propagate=True)
def _add_lookup_index(mapper: Mapper[t.Any], cls: type[t.Any]) -> None:
    table = mapper.local_table
    if not isinstance(table, Table) or "provider" not in table.c:
        return
    columns = [table.c.provider]
    if "user_id" in table.c:
        columns.append(table.c.user_id)
    names = [column.name for column in columns]
    for existing in (*table.indexes, *table.constraints):
        if isinstance(existing, (Index, UniqueConstraint, PrimaryKeyConstraint)):
            if [column.name for column in existing.columns][: len(names)] == names:
                return
    Index(conv(f"ix_{table.name}_{'_'.join(names)}"), *columns)
