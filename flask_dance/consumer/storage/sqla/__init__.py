"""Token storage in a database table, through SQLAlchemy.

The table's mixin is in :mod:`._model`, how a call finds its user's rows and
reads their token through the cache in :mod:`._owner`, and the refresh lock
in :mod:`._lock`, imported on the first refresh."""

from __future__ import annotations

import contextlib
import logging
import typing as t

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import StatementError

from ....utils import FakeCache
from ..._request_local import RequestLocal
from .. import _sealing
from .. import BaseStorage
from ._model import OAuthConsumerMixin as OAuthConsumerMixin
from ._owner import binding
from ._owner import default_anon_user
from ._owner import FRESH_READS
from ._owner import NO_TOKEN
from ._owner import ReadMixin
from ._owner import TokenCache

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator

    from sqlalchemy.engine import CursorResult
    from sqlalchemy.orm import scoped_session
    from sqlalchemy.orm import Session

    from ...._typing import AnyBlueprint
    from ...._typing import TokenDict

log: logging.Logger = logging.getLogger(__name__)


class SQLAlchemyStorage(ReadMixin, BaseStorage):
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
        cache: TokenCache | None = None,
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
            anon_user = default_anon_user()
        #: The class of anonymous users.
        self.anon_user = anon_user
        #: The token cache.
        self.cache: TokenCache = cache if cache is not None else FakeCache()

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
        if (id(self), key) not in FRESH_READS.get():
            cached = self._cache_call("get", key)
            if isinstance(cached, dict):
                return _sealing.unseal(  # type: ignore[no-any-return]
                    cached, blueprint.name, binding(blueprint, owner)
                )
            if cached is NO_TOKEN:
                return None
        token = self._load(blueprint, owner)
        self._cache_call("set", key, token if token is not None else NO_TOKEN)
        return _sealing.unseal(  # type: ignore[no-any-return]
            token, blueprint.name, binding(blueprint, owner)
        )

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
        :param user: The user, as for :meth:`get`.
        :param user_id: The user's id, as for :meth:`get`.
        :raises ValueError: No user is known and ``user_required`` is true.
        :raises sqlalchemy.exc.SQLAlchemyError: The database failed; the
            session was rolled back.
        """
        model = self.model
        session = self.session
        with self._rolled_back_on_failure():
            # Resolving the user may load it, which flushes the session.
            owner = self._resolve("set", blueprint, user, user_id)
            stored = _sealing.seal(token, binding(blueprint, owner))
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
        self._cache_call("delete", self._cache_key(blueprint, owner))

    def delete(
        self,
        blueprint: AnyBlueprint,
        user: t.Any = None,
        user_id: t.Any = None,
    ) -> None:
        """Delete the user's tokens for this provider and commit.

        :param blueprint: The blueprint whose token goes.
        :param user: The user, as for :meth:`get`.
        :param user_id: The user's id, as for :meth:`get`.
        :raises ValueError: No user is known and ``user_required`` is true.
        :raises sqlalchemy.exc.SQLAlchemyError: The database failed; the
            session was rolled back.
        """
        with self._rolled_back_on_failure():
            owner = self._resolve("delete", blueprint, user, user_id)
            self.session.execute(
                delete(self.model).where(*self._criteria(blueprint, owner))
            )
            self.session.commit()
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
        with self._rolled_back_on_failure():
            rows = self.session.execute(
                select(*columns).where(model.provider == blueprint.name)
            ).all()
            for row in rows:
                token = _sealing.unseal(row[1], blueprint.name)
                if isinstance(token, dict) and match(token):
                    doomed.append(row[0])
                    uid = row[2] if has_user_id else None
                    keys.append(f"flask_dance_token|{blueprint.name}|{uid}")
            if doomed:
                self.session.execute(delete(model).where(model.id.in_(doomed)))
                self.session.commit()
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
        # The lock's module is needed on this rare path only.
        from ._lock import advisory_lock

        key = self._cache_key(blueprint, owner)
        reset = FRESH_READS.set(FRESH_READS.get() | {(id(self), key)})
        try:
            with advisory_lock(
                self.session, self.model, key, self.refresh_lock_timeout
            ):
                yield
        finally:
            FRESH_READS.reset(reset)

    @contextlib.contextmanager
    def _rolled_back_on_failure(self) -> Iterator[None]:
        """Roll the session back when the database fails in the block, and
        re-raise."""
        try:
            yield
        except SQLAlchemyError as exc:
            self._rollback(exc)
            raise

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


_USER: RequestLocal = SQLAlchemyStorage.__dict__["user"]
_USER_ID: RequestLocal = SQLAlchemyStorage.__dict__["user_id"]
