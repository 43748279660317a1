"""Token storage in a database table, through SQLAlchemy."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import typing as t
from datetime import datetime
from datetime import timezone

from sqlalchemy import Column
from sqlalchemy import DateTime
from sqlalchemy import delete
from sqlalchemy import event
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import JSON
from sqlalchemy import PrimaryKeyConstraint
from sqlalchemy import select
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import text
from sqlalchemy import UniqueConstraint
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import Mapped
from sqlalchemy.schema import conv

from ...utils import FakeCache
from .._request_local import RequestLocal
from . import _crypto
from . import BaseStorage

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import CursorResult
    from sqlalchemy.orm import Mapper
    from sqlalchemy.orm import scoped_session
    from sqlalchemy.orm import Session
    from sqlalchemy.sql import ColumnElement

    from ..._typing import AnyBlueprint
    from ..._typing import TokenDict

log: logging.Logger = logging.getLogger(__name__)

#: What the cache holds for "this user has no token", so that a user without
#: a token does not cost a query on every request. A real cache returns
#: ``None`` for a missing key, hence a different falsy value.
_NO_TOKEN = False

_NO_USER_MSG = "Cannot {verb} OAuth token without an associated user"

#: The ``(storage id, cache key)`` pairs whose :meth:`SQLAlchemyStorage.get`
#: must read the database, not the cache: those of the refresh locks the
#: current context holds.
_FRESH_READS: contextvars.ContextVar[frozenset[tuple[int, str]]] = (
    contextvars.ContextVar("flask_dance_sqla_fresh_reads", default=frozenset())
)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# The mixin's columns and table name, declared so that SQLAlchemy 1.4 (plain
# ``Column`` objects and ``declared_attr``) and 2.x (``mapped_column`` and
# ``declared_attr.directive``, which its typed declarative models expect)
# both map them.
if t.TYPE_CHECKING:
    from sqlalchemy.orm import mapped_column as _column

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


class _Cache(t.Protocol):
    """What :class:`SQLAlchemyStorage` needs of a cache, such as a
    Flask-Caching ``Cache``."""

    def get(self, key: str) -> t.Any:
        """Return the value cached under ``key``, or ``None``."""

    def set(self, key: str, value: t.Any) -> t.Any:
        """Cache ``value`` under ``key``."""

    def delete(self, key: str) -> t.Any:
        """Remove ``key`` from the cache."""


class _Owner(t.NamedTuple):
    """Whose rows a storage call reads or writes."""

    #: Conditions on the user columns selecting the rows, besides the provider.
    criteria: tuple[ColumnElement[bool], ...]
    #: Values of the user columns for a new row.
    values: dict[str, t.Any]
    #: The ``{uid}`` part of the cache key.
    key: t.Any
    #: Whether a user was found at all.
    known: bool
    #: Why the rows of this user cannot be selected, when they cannot.
    problem: str | None = None


def _default_anon_user() -> type[t.Any] | None:
    try:
        from flask_login import AnonymousUserMixin
    except ImportError:  # pragma: no cover
        return None
    return t.cast("type[t.Any]", AnonymousUserMixin)


def _get_real_user(ref: t.Any, anon_user: type[t.Any] | None) -> t.Any:
    """Unwrap a user reference: a proxy such as ``current_user``, a callable
    or the user itself. An anonymous user counts as no user.
    """
    if ref is None:
        return None
    if hasattr(ref, "_get_current_object"):
        ref = ref._get_current_object()
    if callable(ref):
        ref = ref()
    if ref is None:
        return None
    if anon_user is not None and isinstance(ref, anon_user):
        return None
    if getattr(ref, "is_anonymous", False) is True:
        return None
    return ref


def _first_given(*values: t.Any) -> t.Any:
    return next((value for value in values if value is not None), None)


class SQLAlchemyStorage(BaseStorage):
    """Keeps tokens in a database table mapped with SQLAlchemy, one row per
    token, usually tied to one of your users.

    Which user a call is about is decided, in this order, by the ``user_id``
    given to the call, to the constructor, or set in
    ``blueprint.config["user_id"]``; then by the ``user`` given to the call,
    to the constructor, or set in ``blueprint.config["user"]``. A user may be
    an object, a callable returning one, or a proxy such as Flask-Login's
    ``current_user``; an anonymous user counts as none. Setting
    ``blueprint.config`` in a ``before_request`` hook picks the user per
    request.

    The rows of a user are found through the model's ``user_id`` column or its
    ``user`` relationship. When no user is known (and ``user_required`` is
    false) a call reads and writes only the rows that belong to no user, whose
    ``user_id`` (or ``user``) is ``NULL``. A model with neither holds one
    token per provider, shared by the whole app.

    :meth:`get` returns the newest row's token when a user has several for
    one provider. :meth:`set` updates that user's row in place, inserts one
    when there is none, and removes older duplicates of the same user. Both
    :meth:`set` and :meth:`delete` **commit** the session, including whatever
    else the app has pending in it; when the database fails they roll the
    session back and re-raise.

    Concurrent requests of one user are safe: two first logins racing each
    other may leave two rows, and the next :meth:`set` removes the older one.
    A cache shared by several processes may keep a stale token for a moment
    after a concurrent :meth:`set`; it holds until the next write.

    A cache that fails (a Redis server that is down, say) is logged as a
    warning and bypassed: tokens are then read from and written to the
    database alone. When deleting a changed token's cache entry fails, the
    entry may hold the old token until it is next deleted.

    :meth:`refresh_lock` makes the refresh of one user's token happen once
    across processes on PostgreSQL; see there.
    """

    #: The user, or something that gives it. Assigned inside an app context
    #: (a ``before_request`` hook), it holds for that context only; assigned
    #: outside any, it is the default.
    user: t.Any = RequestLocal()

    #: The user's id, under the same rule as :attr:`user`.
    user_id: t.Any = RequestLocal()

    #: Seconds :meth:`refresh_lock` waits for another process's refresh of
    #: the same token on PostgreSQL before it refreshes without the lock;
    #: ``None`` waits as long as it takes.
    refresh_lock_timeout: float | None = 30.0

    def __init__(
        self,
        model: type[OAuthConsumerMixin],
        session: Session | scoped_session[t.Any],
        user: t.Any = None,
        user_id: t.Any = None,
        user_required: bool | None = None,
        anon_user: type[t.Any] | None = None,
        cache: _Cache | None = None,
    ) -> None:
        """
        :param model: The token model, a subclass of
            :class:`OAuthConsumerMixin`.
        :param session: The SQLAlchemy session, such as Flask-SQLAlchemy's
            ``db.session``.
        :param user: The user the tokens belong to: an object, a callable
            that returns one, or a proxy such as ``current_user``.
        :param user_id: The id of that user; it takes precedence over
            ``user``.
        :param user_required: Whether a call with no user raises
            :class:`ValueError`. Defaults to true when ``user`` or ``user_id``
            is given.
        :param anon_user: The class of anonymous users, who count as no user.
            Defaults to Flask-Login's ``AnonymousUserMixin`` when Flask-Login
            is installed. Objects whose ``is_anonymous`` is ``True`` count as
            anonymous too.
        :param cache: A cache such as a Flask-Caching ``Cache``, with
            ``get``, ``set`` and ``delete``. Tokens are cached under
            ``"flask_dance_token|{blueprint.name}|{user id}"``, with no
            timeout; the cache entry is removed whenever the token changes.
        """
        #: The token model.
        self.model = model
        #: The SQLAlchemy session.
        self.session = session
        _USER.set_default(self, user)
        _USER_ID.set_default(self, user_id)
        if user_required is None:
            user_required = user is not None or user_id is not None
        #: Whether a call with no user raises :class:`ValueError`.
        self.user_required: bool = user_required
        if anon_user is None:
            anon_user = _default_anon_user()
        #: The class of anonymous users.
        self.anon_user = anon_user
        #: The token cache.
        self.cache: _Cache = cache if cache is not None else FakeCache()

    def _owner(self, blueprint: AnyBlueprint, user: t.Any, user_id: t.Any) -> _Owner:
        config = blueprint.config
        uid = _first_given(user_id, self.user_id, config.get("user_id"))
        u = None
        for ref in (user, self.user, config.get("user")):
            u = _get_real_user(ref, self.anon_user)
            if u is not None:
                break

        model: t.Any = self.model
        has_user_id = hasattr(model, "user_id")
        has_user = hasattr(model, "user")
        if uid is None and u is None:
            criteria: tuple[ColumnElement[bool], ...] = ()
            if has_user_id:
                criteria = (model.user_id.is_(None),)
            elif has_user:
                criteria = (model.user == None,)  # noqa: E711
            return _Owner(criteria, {}, None, known=False)
        key = uid
        if key is None:
            key = getattr(u, "id", None)
            if key is None:  # no id (yet): the object itself tells users apart
                key = u
        if has_user_id and uid is not None:
            return _Owner((model.user_id == uid,), {"user_id": uid}, key, known=True)
        if has_user and u is not None:
            return _Owner((model.user == u,), {"user": u}, key, known=True)
        if has_user_id and key is not u:
            # Only the user object is known: match its id.
            return _Owner((model.user_id == key,), {"user_id": key}, key, known=True)
        if has_user_id or has_user:
            problem = (
                f"the user is known only by its 'user_id', and"
                f" {model.__name__!r} has no 'user_id' column"
                if u is None
                else f"the user has no 'id', and {model.__name__!r} has no"
                " 'user' relationship"
            )
            return _Owner((), {}, key, known=True, problem=problem)
        # No user columns: one token per provider, whoever asks.
        return _Owner((), {}, None, known=True)

    def _resolve(
        self,
        verb: str,
        blueprint: AnyBlueprint,
        user: t.Any,
        user_id: t.Any,
    ) -> _Owner:
        owner = self._owner(blueprint, user, user_id)
        if not owner.known and self.user_required:
            raise ValueError(_NO_USER_MSG.format(verb=verb))
        if owner.problem is not None:
            raise ValueError(
                f"Cannot {verb} OAuth token: {owner.problem}. Pass 'user' or"
                " 'user_id' so that the model can match it."
            )
        return owner

    def _cache_key(self, blueprint: AnyBlueprint, owner: _Owner) -> str:
        return f"flask_dance_token|{blueprint.name}|{owner.key}"

    def make_cache_key(
        self,
        blueprint: AnyBlueprint,
        user: t.Any = None,
        user_id: t.Any = None,
    ) -> str:
        """Return the cache key of the token that :meth:`get` would return.

        :param blueprint: The blueprint.
        :param user: The user, as for :meth:`get`.
        :param user_id: The user's id, as for :meth:`get`.
        """
        return self._cache_key(blueprint, self._owner(blueprint, user, user_id))

    def _criteria(
        self, blueprint: AnyBlueprint, owner: _Owner
    ) -> tuple[ColumnElement[bool], ...]:
        return (self.model.provider == blueprint.name, *owner.criteria)

    def get(
        self,
        blueprint: AnyBlueprint,
        user: t.Any = None,
        user_id: t.Any = None,
    ) -> TokenDict | None:
        """Return the user's token for this provider, or ``None``.

        The cache is asked first; the answer of the database, token or none,
        is then cached. A stored value that is not a JSON object is logged as
        a warning and treated as no token.

        :param blueprint: The blueprint whose token is wanted.
        :param user: The user, overriding the constructor and
            ``blueprint.config``.
        :param user_id: The user's id, overriding the constructor and
            ``blueprint.config``.
        :raises ValueError: No user is known and ``user_required`` is true.
        """
        owner = self._resolve("get", blueprint, user, user_id)
        key = self._cache_key(blueprint, owner)
        if (id(self), key) not in _FRESH_READS.get():
            cached = self._cache_call("get", key)
            if isinstance(cached, dict):
                return _crypto.unseal(  # type: ignore[no-any-return]
                    cached, blueprint.name, _binding(blueprint, owner)
                )
            if cached is _NO_TOKEN:
                return None
        token = self._load(blueprint, owner)
        self._cache_call("set", key, token if token is not None else _NO_TOKEN)
        return _crypto.unseal(  # type: ignore[no-any-return]
            token, blueprint.name, _binding(blueprint, owner)
        )

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

    def _load(self, blueprint: AnyBlueprint, owner: _Owner) -> TokenDict | None:
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

    def set(
        self,
        blueprint: AnyBlueprint,
        token: TokenDict,
        user: t.Any = None,
        user_id: t.Any = None,
    ) -> None:
        """Store the user's token for this provider and commit.

        The user's row is updated in place; a row is inserted when the user
        has none. When the user has several rows for this provider, the
        newest is kept and the others are removed. Rows of other users are
        never touched.

        :param blueprint: The blueprint the token belongs to.
        :param token: The token.
        :param user: The user, overriding the constructor and
            ``blueprint.config``.
        :param user_id: The user's id, overriding the constructor and
            ``blueprint.config``.
        :raises ValueError: No user is known and ``user_required`` is true.
        :raises sqlalchemy.exc.SQLAlchemyError: The database failed; the
            session was rolled back.
        """
        model = self.model
        session = self.session
        try:
            # Resolving the user may load it, which flushes the session.
            owner = self._resolve("set", blueprint, user, user_id)
            stored = _crypto.seal(token, _binding(blueprint, owner))
            criteria = self._criteria(blueprint, owner)
            result = session.execute(
                update(model).where(*criteria).values(token=stored)
            )
            matched = t.cast("CursorResult[t.Any]", result).rowcount
            if matched == 0:
                new: t.Callable[..., OAuthConsumerMixin] = model
                session.add(new(provider=blueprint.name, token=stored, **owner.values))
            elif matched > 1:
                newest = session.execute(
                    select(model.id)
                    .where(*criteria)
                    .order_by(model.created_at.desc(), model.id.desc())
                    .limit(1)
                ).scalar_one()
                session.execute(delete(model).where(*criteria, model.id != newest))
            session.commit()
        except SQLAlchemyError as exc:
            self._rollback(exc)
            raise
        self._cache_call("delete", self._cache_key(blueprint, owner))

    def delete(
        self,
        blueprint: AnyBlueprint,
        user: t.Any = None,
        user_id: t.Any = None,
    ) -> None:
        """Delete the user's tokens for this provider and commit.

        :param blueprint: The blueprint whose token goes.
        :param user: The user, overriding the constructor and
            ``blueprint.config``.
        :param user_id: The user's id, overriding the constructor and
            ``blueprint.config``.
        :raises ValueError: No user is known and ``user_required`` is true.
        :raises sqlalchemy.exc.SQLAlchemyError: The database failed; the
            session was rolled back.
        """
        try:
            owner = self._resolve("delete", blueprint, user, user_id)
            self.session.execute(
                delete(self.model).where(*self._criteria(blueprint, owner))
            )
            self.session.commit()
        except SQLAlchemyError as exc:
            self._rollback(exc)
            raise
        self._cache_call("delete", self._cache_key(blueprint, owner))

    def delete_where(
        self,
        blueprint: AnyBlueprint,
        match: t.Callable[[TokenDict], bool],
    ) -> int:
        """Delete every stored token of this provider, whoever it belongs to,
        for which ``match(token)`` is true, and commit. Back-channel logout
        uses it to forget the tokens of a session the provider ended. It
        reads every row of the provider.

        :param blueprint: The blueprint whose tokens are looked at.
        :param match: Says whether a (decrypted) token goes.
        :return: How many rows were deleted.
        :raises sqlalchemy.exc.SQLAlchemyError: The database failed; the
            session was rolled back.
        """
        model: t.Any = self.model
        has_user_id = hasattr(model, "user_id")
        columns = [model.id, model.token]
        if has_user_id:
            columns.append(model.user_id)
        doomed: list[t.Any] = []
        keys: list[str] = []
        try:
            rows = self.session.execute(
                select(*columns).where(model.provider == blueprint.name)
            ).all()
            for row in rows:
                token = _crypto.unseal(row[1], blueprint.name)
                if isinstance(token, dict) and match(token):
                    doomed.append(row[0])
                    uid = row[2] if has_user_id else None
                    keys.append(f"flask_dance_token|{blueprint.name}|{uid}")
            if doomed:
                self.session.execute(delete(model).where(model.id.in_(doomed)))
                self.session.commit()
        except SQLAlchemyError as exc:
            self._rollback(exc)
            raise
        for key in keys:
            self._cache_call("delete", key)
        return len(doomed)

    @contextlib.contextmanager
    def refresh_lock(
        self,
        blueprint: AnyBlueprint,
        user: t.Any = None,
        user_id: t.Any = None,
    ) -> Iterator[None]:
        """Hold the user's token for a refresh, across processes.

        The provider sessions enter it around the refresh of a token (see
        :meth:`.OAuth2Session._refresh_once`): they read the token again
        inside it and refresh only when nobody else has stored a new one
        meanwhile, so that concurrent requests of one user, in any number of
        processes, make one refresh request.

        On PostgreSQL it takes a transaction-level advisory lock, named by a
        hash of the table, the provider and the user, on a connection of its
        own (so that the app's session and its transaction are left alone);
        the lock is released when the block ends, after :meth:`set` has
        committed the new token. It waits at most
        :attr:`refresh_lock_timeout` seconds; when the lock cannot be had in
        time, or the database fails, it logs a warning and lets the refresh
        go on without it. Other databases get no lock: a single process is
        still refreshing once, by the session's per-token thread lock.

        Inside the block, :meth:`get` reads the database and not the cache,
        which may still hold the token replaced by another process. The
        database must run at the ``READ COMMITTED`` isolation level (the
        default of PostgreSQL) for that read to see the other process's
        commit.

        :param blueprint: The blueprint whose token is refreshed.
        :param user: The user, as for :meth:`get`.
        :param user_id: The user's id, as for :meth:`get`.
        """
        try:
            owner = self._resolve("get", blueprint, user, user_id)
        except ValueError:
            # No user: get() and set() will say so themselves.
            yield
            return
        key = self._cache_key(blueprint, owner)
        reset = _FRESH_READS.set(_FRESH_READS.get() | {(id(self), key)})
        try:
            with self._advisory_lock(key):
                yield
        finally:
            _FRESH_READS.reset(reset)

    @contextlib.contextmanager
    def _advisory_lock(self, key: str) -> Iterator[None]:
        model: t.Any = self.model
        try:
            engine = self.session.get_bind(mapper=model).engine
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
            timeout = self.refresh_lock_timeout
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

    def _rollback(self, exc: SQLAlchemyError) -> None:
        if isinstance(exc, StatementError):
            # The statement's parameters hold the token: keep them out of the
            # message that error pages and loggers print.
            exc.hide_parameters = True
        try:
            self.session.rollback()
        except SQLAlchemyError as rollback_exc:
            log.warning(
                "Rolling back after a failed token write failed too (%s).",
                type(rollback_exc).__name__,
            )


def _binding(blueprint: AnyBlueprint, owner: _Owner) -> str | None:
    """What a sealed token of this owner is bound to: the provider and the
    user's id (or no user). A user not yet saved has no id to bind to: its
    token is sealed unbound, as tokens sealed by earlier releases are."""
    key = owner.key
    if key is not None and not isinstance(key, (int, str)):
        return None
    return _crypto.binding_of(blueprint.name, key)


_USER: RequestLocal = SQLAlchemyStorage.__dict__["user"]
_USER_ID: RequestLocal = SQLAlchemyStorage.__dict__["user_id"]


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
