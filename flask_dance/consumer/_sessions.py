"""The provider session of each request, and what a request keeps in
:data:`flask.g`: the sessions and tokens of its blueprints, built or read on
first use and dropped when another request starts in the same app context.

A session built before a request is taken over by it, once. Tests and
fixtures written for Flask-Dance prepare a blueprint's session before the
request that uses it: they set ``bp.session.token``, patch
``bp.session.fetch_token`` or wrap the session in a Betamax recorder, outside
any context or inside ``with app.app_context():``, then run the test client
or ``app.test_request_context()``. The request uses that session, once.

A session is taken over only in the thread that built it: a session built
outside any context is kept per thread, and one built in an app context
lives in that context, which only its own thread runs. A background job
that calls the provider with its own token therefore never lends its
session, token, headers or cookies to a user's request.
"""

from __future__ import annotations

import collections
import threading
import typing as t
from abc import abstractmethod
from collections.abc import Mapping

from flask import g
from flask import has_app_context
from requests.adapters import HTTPAdapter

from ._authorized_shortcut import authorized_from_token
from ._authorized_shortcut import hand_over_token
from ._authorized_shortcut import SESSIONS_ATTR as SESSIONS_ATTR
from ._authorized_shortcut import TOKENS_ATTR as TOKENS_ATTR
from ._request_local import app_context as _app_context
from ._request_local import current_request as _current_request
from ._transport import PoolAdapter

#: How many connections per provider host the shared pool keeps open.
POOL_MAXSIZE = 32


#: The request whose sessions and tokens the context's ``g`` holds.
OWNER_ATTR = "_flask_dance_request"


class DetachedSessions(threading.local):
    """The session a blueprint built outside any context, one per thread."""

    #: This thread's session, or ``None``.
    session: t.Any = None


def inherits_from(previous_owner: t.Any) -> bool:
    """Whether the current request takes over the sessions kept for
    ``previous_owner`` in the same app context: the code that ran in the
    app context before any request (``None``), or a request context that is
    still pushed beneath the current one (a test client request made inside
    ``app.test_request_context()``).

    :param previous_owner: The request context the sessions were built for,
        or ``None`` for the app context alone.
    """
    if previous_owner is None:
        return True
    # Flask keeps the tokens of its context variables while a context is
    # pushed; an older Flask without them gets fresh sessions.
    return bool(getattr(previous_owner, "_cv_tokens", None))


def forget_loaded_token(session: t.Any) -> None:
    """Make ``session`` read its token again (the request knows the user),
    unless code assigned it one (``bp.session.token = {...}``).

    :param session: A session being taken over by a request.
    """
    forget = getattr(session, "_forget_loaded_token", None)
    if forget is None:
        forget = getattr(session, "_forget_token", None)
    if forget is not None:
        forget()


def context_state(app_ctx: t.Any = None) -> dict[str, t.Any]:
    """The attributes of the current app context's :data:`flask.g`, as a
    dict (quicker than going through the proxy for each of them), without
    the sessions and tokens an earlier request left there.

    Several requests may share one app context (one pushed around them, as
    in tests): the sessions and tokens belong to the request that made them,
    and the next request, or code running between requests, starts afresh.

    :param app_ctx: The current app context, if the caller has it.
    """
    if app_ctx is None:
        ctx_g: t.Any = g
        state: dict[str, t.Any] = vars(ctx_g._get_current_object())
    else:
        state = vars(app_ctx.g)
    owner = _current_request()
    previous = state.get(OWNER_ATTR, owner)
    if previous is not owner:
        if owner is not None and inherits_from(previous):
            hand_over_to_request(state)
        else:
            forget_request_state(state)
    state[OWNER_ATTR] = owner
    return state


def hand_over_to_request(state: dict[str, t.Any]) -> None:
    """Let the request that begins keep the sessions the code before it
    prepared, each reading its token again unless one was assigned to it;
    tokens read before the request are dropped."""
    state.pop(TOKENS_ATTR, None)
    for session in (state.get(SESSIONS_ATTR) or {}).values():
        forget_loaded_token(session)


def forget_request_state(state: dict[str, t.Any]) -> None:
    """Drop the sessions and tokens kept in ``state``, and the provider
    proxies' ``g.flask_dance_<name>`` references to those sessions."""
    sessions = state.pop(SESSIONS_ATTR, None)
    state.pop(TOKENS_ATTR, None)
    state.pop(OWNER_ATTR, None)
    if sessions:
        dropped = {id(session) for session in sessions.values()}
        for key in [
            key
            for key, value in state.items()
            if key.startswith("flask_dance_") and id(value) in dropped
        ]:
            del state[key]


def forget_token(session: t.Any) -> None:
    forget = getattr(session, "_forget_token", None)
    if forget is not None:
        forget()


class SessionsMixin:
    """The blueprint's provider session: one per request, all of them on one
    connection pool."""

    _detached: DetachedSessions
    _adapters: collections.OrderedDict[str, HTTPAdapter] | None
    _adapters_lock: threading.Lock

    #: The blueprint base's ``token`` property (set by :mod:`.base`), read on
    #: the class: a blueprint whose class overrides it reads no token without
    #: a session.
    _stock_token: t.ClassVar[t.Any] = None

    if t.TYPE_CHECKING:  # pragma: no cover - given by the blueprint

        def load_config(self) -> None: ...

        def _refresh_config(
            self, config: Mapping[str, t.Any] | None = None
        ) -> None: ...

        def _apply_session_config(self, session: t.Any) -> None: ...

        name: str
        session_class: type[t.Any]

        def _stored_token(self) -> t.Any: ...

    def _init_sessions(self) -> None:
        self._detached = DetachedSessions()
        self._adapters = None
        self._adapters_lock = threading.Lock()

    @property
    def session(self) -> t.Any:
        """A :class:`requests.Session` for calling the provider's API with
        this user's token.

        Inside an app or request context it belongs to that context alone, so
        concurrent requests never share a token; all of them share one
        connection pool. Outside any context, the blueprint keeps one session
        per thread for scripts, jobs and tests.

        A session that code prepared before a request (outside any context,
        or in the app context the request runs in) is the one that request
        uses, so that a test can set ``bp.session.token``, patch
        ``bp.session.fetch_token`` or wrap the session in a Betamax recorder
        first. Only a request of the same thread takes it over, once.

        Assigning a session replaces the current context's (or, outside any
        context, this thread's); deleting it forgets it.
        """
        app_ctx = _app_context()
        if app_ctx is None:
            detached = self._detached
            if detached.session is None:
                detached.session = self._make_session()
            return detached.session
        state = context_state(app_ctx)
        sessions: dict[int, t.Any] | None = state.get(SESSIONS_ATTR)
        if sessions is None:
            sessions = state[SESSIONS_ATTR] = {}
        session = sessions.get(id(self))
        if session is None:
            session = None
            if self._detached_session is not None:
                session = self._adopt_detached_session()
            if session is None:
                self._refresh_config(app_ctx.app.config)
                session = self._make_session()
                hand_over_token(self, session, state)
                sessions[id(self)] = session
            else:
                sessions[id(self)] = session
                # the adopted session was built before the app's config was
                # read; setters such as ``client_id`` now reach it
                self.load_config()
        return session

    @session.setter
    def session(self, value: t.Any) -> None:
        if not has_app_context():
            self._detached.session = value
            return
        state = context_state()
        sessions = state.setdefault(SESSIONS_ATTR, {})
        old = sessions.get(id(self))
        sessions[id(self)] = value
        if old is not None:
            for key in [
                key
                for key, held in state.items()
                if key.startswith("flask_dance_") and held is old
            ]:
                del state[key]

    @session.deleter
    def session(self) -> None:
        self.teardown_session()

    @property
    def _detached_session(self) -> t.Any:
        """The session this thread built outside any context, if any."""
        return self._detached.session

    def _adopt_detached_session(self) -> t.Any:
        detached = self._detached
        session, detached.session = detached.session, None
        if session is not None:
            self._apply_session_config(session)
            forget_loaded_token(session)
        return session

    def _current_session(self) -> t.Any:
        """The session of the current context, if one was built."""
        if not has_app_context():
            return self._detached.session
        sessions = context_state().get(SESSIONS_ATTR)
        return sessions.get(id(self)) if sessions else None

    def _invalidate_cached_token(self) -> None:
        session = self._current_session()
        if session is not None:
            forget_token(session)
        if has_app_context():
            tokens = context_state().get(TOKENS_ATTR)
            if tokens:
                tokens.pop(id(self), None)

    def _make_session(self) -> t.Any:
        session = self._build_session()
        session.adapters = collections.OrderedDict(self._shared_adapters())
        self._apply_session_config(session)
        return session

    @abstractmethod
    def _build_session(self) -> t.Any:
        """Build a new provider session (without adapters or config)."""

    def _shared_adapters(self) -> collections.OrderedDict[str, HTTPAdapter]:
        """The HTTP adapters (connection pools) every session of this
        blueprint shares, so that connections outlive a request."""
        adapters = self._adapters
        if adapters is None:
            with self._adapters_lock:
                if self._adapters is None:
                    self._adapters = collections.OrderedDict(
                        [
                            ("https://", PoolAdapter(pool_maxsize=POOL_MAXSIZE)),
                            ("http://", PoolAdapter(pool_maxsize=POOL_MAXSIZE)),
                        ]
                    )
                adapters = self._adapters
        return adapters

    def teardown_session(self, exception: BaseException | None = None) -> None:
        """Forget the current context's session. Runs when a request ends.

        :param exception: The exception that ended the request, if any.
        """
        if not has_app_context():
            self._detached.session = None
            return
        state = context_state()
        sessions = state.get(SESSIONS_ATTR)
        if sessions:
            sessions.pop(id(self), None)
        tokens = state.get(TOKENS_ATTR)
        if tokens:
            tokens.pop(id(self), None)

    def _authorized_without_session(
        self, state: dict[str, t.Any] | None = None
    ) -> bool | None:
        """Whether the current user has an access token, answered without
        building a session when that gives the same answer; ``None`` means
        the session must answer (see :mod:`._authorized_shortcut`).

        :param state: What :func:`context_state` returned, if the caller has
            it already.
        """
        if state is None:
            if not has_app_context():
                return None
            state = context_state()
        return authorized_from_token(self, state)
