"""How a call of :class:`~flask_dance.consumer.storage.sqla.SQLAlchemyStorage`
finds its user's token: the user it is about, the conditions that select that
user's rows, the cache key, the binding of the user's sealed token, and the
read through the cache in front of the table."""

from __future__ import annotations

import contextvars
import logging
import typing as t

from sqlalchemy import select

from .. import _envelope

if t.TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import scoped_session
    from sqlalchemy.orm import Session
    from sqlalchemy.sql import ColumnElement

    from ...._typing import AnyBlueprint
    from ...._typing import TokenDict
    from ._model import OAuthConsumerMixin

log: logging.Logger = logging.getLogger(__name__)

_NO_USER_MSG = "Cannot {verb} OAuth token without an associated user"


class Owner(t.NamedTuple):
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


def default_anon_user() -> type[t.Any] | None:
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


class OwnerMixin:
    """Finds the owner of a storage call from its arguments, the storage's
    defaults and ``blueprint.config``."""

    model: type[OAuthConsumerMixin]
    user: t.Any
    user_id: t.Any
    user_required: bool
    anon_user: type[t.Any] | None

    def _owner(self, blueprint: AnyBlueprint, user: t.Any, user_id: t.Any) -> Owner:
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
            return Owner(criteria, {}, None, known=False)
        key = uid
        if key is None:
            key = getattr(u, "id", None)
            if key is None:  # no id (yet): the object itself tells users apart
                key = u
        if has_user_id and uid is not None:
            return Owner((model.user_id == uid,), {"user_id": uid}, key, known=True)
        if has_user and u is not None:
            return Owner((model.user == u,), {"user": u}, key, known=True)
        if has_user_id and key is not u:
            # Only the user object is known: match its id.
            return Owner((model.user_id == key,), {"user_id": key}, key, known=True)
        if has_user_id or has_user:
            problem = (
                f"the user is known only by its 'user_id', and"
                f" {model.__name__!r} has no 'user_id' column"
                if u is None
                else f"the user has no 'id', and {model.__name__!r} has no"
                " 'user' relationship"
            )
            return Owner((), {}, key, known=True, problem=problem)
        # No user columns: one token per provider, whoever asks.
        return Owner((), {}, None, known=True)

    def _resolve(
        self,
        verb: str,
        blueprint: AnyBlueprint,
        user: t.Any,
        user_id: t.Any,
    ) -> Owner:
        owner = self._owner(blueprint, user, user_id)
        if not owner.known and self.user_required:
            raise ValueError(_NO_USER_MSG.format(verb=verb))
        if owner.problem is not None:
            raise ValueError(
                f"Cannot {verb} OAuth token: {owner.problem}. Pass 'user' or"
                " 'user_id' so that the model can match it."
            )
        return owner

    def _cache_key(self, blueprint: AnyBlueprint, owner: Owner) -> str:
        return f"flask_dance_token|{blueprint.name}|{owner.key}"

    def _criteria(
        self, blueprint: AnyBlueprint, owner: Owner
    ) -> tuple[ColumnElement[bool], ...]:
        return (self.model.provider == blueprint.name, *owner.criteria)


def binding(blueprint: AnyBlueprint, owner: Owner) -> str | None:
    """What a sealed token of this owner is bound to: the provider and the
    user's id (or no user). A user not yet saved has no id to bind to: its
    token is sealed unbound, as tokens sealed by earlier releases are."""
    key = owner.key
    if key is not None and not isinstance(key, (int, str)):
        return None
    return _envelope.binding_of(blueprint.name, key)


#: The ``(storage id, cache key)`` pairs whose
#: :meth:`~flask_dance.consumer.storage.sqla.SQLAlchemyStorage.get` must read
#: the database, not the cache: those of the refresh locks the current context
#: holds.
FRESH_READS: contextvars.ContextVar[frozenset[tuple[int, str]]] = (
    contextvars.ContextVar("flask_dance_sqla_fresh_reads", default=frozenset())
)

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
