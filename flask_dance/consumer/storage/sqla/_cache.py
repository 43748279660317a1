"""How :class:`~flask_dance.consumer.storage.sqla.SQLAlchemyStorage` reads a
token: the cache in front of the table, and the query behind it."""

from __future__ import annotations

import logging
import typing as t

from sqlalchemy import select

from ._owner import Owner
from ._owner import OwnerMixin

if t.TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import scoped_session
    from sqlalchemy.orm import Session

    from ...._typing import AnyBlueprint
    from ...._typing import TokenDict

log: logging.Logger = logging.getLogger(__name__)


#: What the cache holds for "this user has no token", so that a user without
#: a token does not cost a query on every request. A real cache returns
#: ``None`` for a missing key, hence a different falsy value.
NO_TOKEN = False


class TokenCache(t.Protocol):
    """What :class:`~flask_dance.consumer.storage.sqla.SQLAlchemyStorage`
    needs of a cache, such as a Flask-Caching ``Cache``."""

    def get(self, key: str) -> t.Any:
        """Return the value cached under ``key``, or ``None``."""

    def set(self, key: str, value: t.Any) -> t.Any:
        """Cache ``value`` under ``key``."""

    def delete(self, key: str) -> t.Any:
        """Remove ``key`` from the cache."""


class ReadMixin(OwnerMixin):
    """Reads the token of an owner through the cache, and from the table."""

    session: Session | scoped_session[t.Any]
    cache: TokenCache

    def _cache_call(self, method: str, key: str, *args: t.Any) -> t.Any:
        """Call the cache's ``method``; a failing cache is logged and counts
        as a miss."""
        try:
            return getattr(self.cache, method)(key, *args)
        except Exception as exc:
            log.warning(
                "The token cache failed on %s (%s); using the database alone.",
                method,
                type(exc).__name__,
            )
            return None

    def _load(self, blueprint: AnyBlueprint, owner: Owner) -> TokenDict | None:
        model = self.model
        stmt = (
            select(model.token)
            .where(*self._criteria(blueprint, owner))
            .order_by(model.created_at.desc(), model.id.desc())
            .limit(1)
        )
        try:
            token = self.session.execute(stmt).scalar()
        except ValueError as exc:
            # The JSON decoder failed on the stored text.
            log.warning(
                "Ignoring the stored %r token of user %r: it is not valid JSON (%s).",
                blueprint.name,
                owner.key,
                type(exc).__name__,
            )
            return None
        if token is None:
            return None
        if not isinstance(token, dict):
            log.warning(
                "Ignoring the stored %r token of user %r: it is a JSON %s, not"
                " an object.",
                blueprint.name,
                owner.key,
                type(token).__name__,
            )
            return None
        return token
