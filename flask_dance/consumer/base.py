"""What OAuth 1 and OAuth 2 consumer blueprints share: routes, configuration,
token storage, the per-request provider session, and the signals."""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
import typing as t
from abc import ABCMeta
from abc import abstractmethod
from collections.abc import Mapping

import flask
from flask import Blueprint
from flask import current_app
from flask import g
from flask import has_app_context
from requests.adapters import HTTPAdapter
from werkzeug.exceptions import HTTPException

from ..utils import getattrd
from . import _adoption
from . import _cookie
from . import _expiry
from . import _redact
from . import _restart
from ._context import app_context as _app_context
from ._context import current_request as _current_request
from ._pending import DEFAULT_TTL
from ._pending import PendingLogins
from ._request_local import RequestConfig
from ._request_local import RequestLocal
from ._transport import PoolAdapter
from ._urls import safe_next_url
from .requests import _answers_from_blueprint_token
from .signals import is_response as _is_response
from .signals import oauth_authorized as oauth_authorized
from .signals import oauth_before_login as oauth_before_login
from .signals import oauth_error as oauth_error
from .signals import oauth_refresh_failed as oauth_refresh_failed
from .signals import send_oauth_error
from .storage import BaseStorage
from .storage.session import SessionStorage

if t.TYPE_CHECKING:  # pragma: no cover
    from flask.sansio.app import App

log: logging.Logger = logging.getLogger(__name__)

_redact.install()

#: Default timeout, in seconds, for every request to a provider: (connect, read).
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 30.0)

#: The longest ``?next=`` URL kept, in characters as the session cookie
#: stores them; a longer one is ignored, so that a crafted link cannot push
#: the cookie past the size browsers keep.
MAX_NEXT_LENGTH = 2000

#: How many connections per provider host the shared pool keeps open.
_POOL_MAXSIZE = 32

_SESSIONS_ATTR = "_flask_dance_sessions"

#: Tokens read in the current context before its session was built.
_TOKENS_ATTR = "_flask_dance_tokens"

#: The request whose sessions and tokens the context's ``g`` holds.
_OWNER_ATTR = "_flask_dance_request"

#: Where an app keeps its :class:`_AppHooks`, in ``app.extensions``.
_APP_HOOKS_KEY = "flask_dance.hooks"


class BaseOAuthConsumerBlueprint(Blueprint, metaclass=ABCMeta):
    """The parts of a consumer blueprint that do not depend on the OAuth
    version: the ``login`` and ``authorized`` routes, reading credentials from
    the app's configuration, the :attr:`token` kept in a
    :class:`~flask_dance.consumer.storage.BaseStorage`, and a provider
    :attr:`session` built for each request.
    """

    #: The session class built for each request; set by subclasses.
    session_class: type[t.Any]

    def __init__(
        self,
        name: str,
        import_name: str,
        *,
        static_folder: str | None = None,
        static_url_path: str | None = None,
        template_folder: str | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, t.Any] | None = None,
        root_path: str | None = None,
        login_url: str | None = None,
        authorized_url: str | None = None,
        storage: BaseStorage | t.Callable[[], BaseStorage] | None = None,
        rule_kwargs: dict[str, t.Any] | None = None,
        timeout: float | tuple[float, float] | None = DEFAULT_TIMEOUT,
        pending_login_ttl: float = DEFAULT_TTL,
    ) -> None:
        """
        :param name: The blueprint's name; also the prefix of its session keys.
        :param import_name: The import name, usually ``__name__``.
        :param static_folder: Passed to :class:`flask.Blueprint`.
        :param static_url_path: Passed to :class:`flask.Blueprint`.
        :param template_folder: Passed to :class:`flask.Blueprint`.
        :param url_prefix: Passed to :class:`flask.Blueprint`.
        :param subdomain: Passed to :class:`flask.Blueprint`.
        :param url_defaults: Passed to :class:`flask.Blueprint`.
        :param root_path: Passed to :class:`flask.Blueprint`.
        :param login_url: The rule of the login view; default ``/{bp.name}``.
        :param authorized_url: The rule of the callback view; default
            ``/{bp.name}/authorized``.
        :param storage: Where tokens are kept: an instance, or a callable that
            returns one. Default: :class:`SessionStorage`.
        :param rule_kwargs: Extra keyword arguments for both
            :meth:`~flask.Blueprint.add_url_rule` calls, such as ``host``.
        :param timeout: Timeout, in seconds, of every request to the provider:
            one number or a ``(connect, read)`` pair. ``None`` means none.
        :param pending_login_ttl: How long, in seconds, a started login may
            take before its callback is refused.
        """
        super().__init__(
            name=name,
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            url_prefix=url_prefix,
            subdomain=subdomain,
            url_defaults=url_defaults,
            root_path=root_path,
        )
        if login_url is None:
            login_url = "/{bp.name}"
        if authorized_url is None:
            authorized_url = "/{bp.name}/authorized"
        rule_kwargs = rule_kwargs or {}
        self.add_url_rule(
            rule=login_url.format(bp=self),
            endpoint="login",
            view_func=self.login,
            **rule_kwargs,
        )
        self.add_url_rule(
            rule=authorized_url.format(bp=self),
            endpoint="authorized",
            view_func=self.authorized,
            methods=self._authorized_methods(),
            **rule_kwargs,
        )

        if storage is None:
            storage = SessionStorage()
        elif callable(storage) and not isinstance(storage, BaseStorage):
            storage = storage()
        _STORAGE.set_default(self, storage)

        self.from_config = {}

        self._config = RequestConfig(on_update=self._invalidate_cached_token)

        #: Unused; kept for compatibility with Flask-Dance.
        self.logged_in_funcs: list[t.Callable[..., t.Any]] = []

        #: Timeout of every request to the provider.
        self.timeout = timeout
        #: How long a started login stays valid, in seconds.
        self.pending_login_ttl = pending_login_ttl

        self._token_getter: t.Callable[[], t.Any] | None = None
        self._token_setter: t.Callable[[t.Any], t.Any] | None = None
        self._token_deleter: t.Callable[[], t.Any] | None = None
        self._detached = _adoption.DetachedSessions()
        self._adapters: collections.OrderedDict[str, HTTPAdapter] | None = None
        self._adapters_lock = threading.Lock()
        # What load_config last applied: the from_config mapping and the
        # config values it named; while both are unchanged, nothing is done.
        self._bound_from: dict[str, str] | None = None
        self._bound_values: tuple[t.Any, ...] = ()
        self._session_bindings_cache: tuple[int, tuple[tuple[str, str], ...]] = (
            -1,
            (),
        )
        self._pending_logins: PendingLogins | None = None

    @property
    def from_config(self) -> dict[str, str]:
        """Maps attribute names of this blueprint (dotted paths allowed, such
        as ``"session.client_id"``) to keys of the app's configuration.
        Truthy configuration values are applied whenever they are needed.

        It is a :class:`dict` that notes its changes, so that checking the
        configuration before each request stays cheap; assigning a plain
        :class:`dict` copies it into one.
        """
        return self._from_config

    @from_config.setter
    def from_config(self, value: Mapping[str, str]) -> None:
        self._from_config = _ConfigBinding(value)
        _binding_changed()

    # -- registration -------------------------------------------------------

    def _authorized_methods(self) -> list[str]:
        return ["GET"]

    def register(self, app: App, options: dict[str, t.Any]) -> None:
        """Register on ``app`` and note the blueprint in
        ``app.extensions["flask_dance"]`` so that the provider proxies find it.
        """
        super().register(app, options)
        name = options.get("name", self.name)
        app.extensions.setdefault("flask_dance", {})[name] = self
        _AppHooks.of(app).add(self)

    # -- storage and token --------------------------------------------------

    #: The token storage: a
    #: :class:`~flask_dance.consumer.storage.BaseStorage`. Assigned during a
    #: request, it serves that request only; assigned anywhere else (at set-up
    #: time, or in an app context outside a request), it serves every request.
    storage: BaseStorage = RequestLocal(during_request=True)  # type: ignore[assignment]

    @property
    def config(self) -> RequestConfig:
        """Settings that storages read, such as ``config["user"]`` and
        ``config["user_id"]`` of
        :class:`~flask_dance.consumer.storage.sqla.SQLAlchemyStorage`: a
        mapping, as in Flask-Dance 7.1.

        A change made inside an app context (a ``before_request`` hook, a
        view, a job's ``with app.app_context():``) holds for that context
        only, so concurrent requests of different users never see each
        other's values; a change made outside any context sets the defaults
        every context starts from. Assigning a mapping replaces the values,
        under the same rule.
        """
        return self._config

    @config.setter
    def config(self, value: Mapping[str, t.Any]) -> None:
        self._config.replace(value)

    @property
    def token(self) -> t.Any:
        """This user's token, from the storage.

        Reading returns a copy whose ``expires_in`` is recomputed from
        ``expires_at`` (seconds left, negative once expired). Assigning stores
        a copy with ``expires_at`` computed from ``expires_in``. Deleting
        removes the token; with nothing stored it does nothing.
        """
        return _token_copy(self._stored_token(), self.name)

    @token.setter
    def token(self, value: t.Any) -> None:
        token = value
        if isinstance(value, Mapping):
            token = dict(value)
            if value.get("expires_in"):
                token["expires_at"] = time.time() + int(value["expires_in"])
        if self._token_setter is not None:
            self._token_setter(token)
        else:
            self.storage.set(self, token)
        self._invalidate_cached_token()

    @token.deleter
    def token(self) -> None:
        if self._token_deleter is not None:
            self._token_deleter()
        else:
            self.storage.delete(self)
        self._invalidate_cached_token()

    def _stored_token(self) -> t.Any:
        """The token as the storage (or the ``token_getter``) gives it."""
        if self._token_getter is not None:
            return self._token_getter()
        return self.storage.get(self)

    def token_getter(self, func: t.Callable[[], t.Any]) -> t.Callable[[], t.Any]:
        """Decorate a function that returns the current user's token; it is
        used instead of the storage. From Flask-Dance's first releases.

        :param func: Called with no arguments.
        """
        self._token_getter = func
        return func

    def token_setter(
        self, func: t.Callable[[t.Any], t.Any]
    ) -> t.Callable[[t.Any], t.Any]:
        """Decorate a function that saves the current user's token; it is used
        instead of the storage.

        :param func: Called with the token.
        """
        self._token_setter = func
        return func

    def token_deleter(self, func: t.Callable[[], t.Any]) -> t.Callable[[], t.Any]:
        """Decorate a function that deletes the current user's token; it runs
        on ``del blueprint.token``.

        :param func: Called with no arguments.
        """
        self._token_deleter = func
        return func

    def logged_in(self, func: t.Callable[[t.Any], t.Any]) -> t.Callable[[t.Any], t.Any]:
        """Decorate a function to run after a successful login, once the token
        is stored. It receives the token. From Flask-Dance's first releases;
        the :data:`oauth_authorized` signal is the current way.

        :param func: Called with the token dict.
        """
        self.logged_in_funcs.append(func)
        return func

    def _run_logged_in_funcs(self, token: t.Any) -> None:
        for func in self.logged_in_funcs:
            func(token)

    # -- configuration --------------------------------------------------------

    def load_config(self) -> None:
        """Apply the app's configuration values named in :attr:`from_config`.

        Only truthy values are applied. Paths into the session (such as
        ``"session.client_id"``) are applied when the session is built.

        Before each request of an app the blueprint is registered on, the
        values are applied again only when they, or :attr:`from_config`,
        changed since they were last applied.
        """
        if not self.from_config or not has_app_context():
            return
        self._apply_config(current_app.config)

    def _refresh_config(self, config: Mapping[str, t.Any] | None = None) -> None:
        """Apply the configuration unless what was last applied is current.

        :param config: The app's configuration; default the current app's.
        """
        from_config = self.from_config
        if not from_config:
            return
        if config is None:
            app_ctx = _app_context()
            if app_ctx is None:
                return
            config = app_ctx.app.config
        values = tuple(map(config.get, from_config.values()))
        if values != self._bound_values or from_config != self._bound_from:
            self._apply_config(config)

    def _apply_config(self, config: Mapping[str, t.Any]) -> None:
        from_config = dict(self.from_config)
        for local_var, key in from_config.items():
            value = config.get(key)
            if not value or local_var.startswith("session."):
                continue
            if "." in local_var:
                path, attr = local_var.rsplit(".", 1)
                setattr(getattrd(self, path), attr, value)
            else:
                setattr(self, local_var, value)
        self._bound_values = tuple(map(config.get, from_config.values()))
        self._bound_from = from_config
        _Versions.applied = next(_version_counter)

    def _session_bindings(self) -> tuple[tuple[str, str], ...]:
        """The ``session.*`` entries of :attr:`from_config`."""
        version, bindings = self._session_bindings_cache
        if version != _Versions.bindings:
            version = _Versions.bindings
            bindings = tuple(
                (local_var, key)
                for local_var, key in self.from_config.items()
                if local_var.startswith("session.")
            )
            self._session_bindings_cache = (version, bindings)
        return bindings

    def _apply_session_config(self, session: t.Any) -> None:
        bindings = self._session_bindings()
        if not bindings or not has_app_context():
            return
        config = current_app.config
        for local_var, key in bindings:
            value = config.get(key)
            if value:
                path, attr = local_var.rsplit(".", 1)
                target = session if path == "session" else getattrd(session, path[8:])
                setattr(target, attr, value)

    # -- the provider session ---------------------------------------------------

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
        state = _context_state(app_ctx)
        sessions: dict[int, t.Any] | None = state.get(_SESSIONS_ATTR)
        if sessions is None:
            sessions = state[_SESSIONS_ATTR] = {}
        session = sessions.get(id(self))
        if session is None:
            session = None
            if self._detached_session is not None:
                session = self._adopt_detached_session()
            if session is None:
                self._refresh_config(app_ctx.app.config)
                session = self._make_session()
                self._hand_over_token(session, state)
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
        state = _context_state()
        sessions = state.setdefault(_SESSIONS_ATTR, {})
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
            _adoption.forget_loaded_token(session)
        return session

    def _current_session(self) -> t.Any:
        """The session of the current context, if one was built."""
        if not has_app_context():
            return self._detached.session
        sessions = _context_state().get(_SESSIONS_ATTR)
        return sessions.get(id(self)) if sessions else None

    def _invalidate_cached_token(self) -> None:
        session = self._current_session()
        if session is not None:
            _forget_token(session)
        if has_app_context():
            tokens = _context_state().get(_TOKENS_ATTR)
            if tokens:
                tokens.pop(id(self), None)

    def _authorized_without_session(
        self, state: dict[str, t.Any] | None = None
    ) -> bool | None:
        """Whether the current user has an access token, answered from
        :attr:`token` without building a session, when the session would
        answer the same way: no session was built in this context yet and the
        session class reads its token from the blueprint. ``None`` means the
        session must answer.

        The token read is kept for the rest of the context, and handed to the
        session if one is built, so that the storage is read once.

        :param state: What :func:`_context_state` returned, if the caller has
            it already.
        """
        if self._detached_session is not None:
            return None
        if type(self).token is not _TOKEN_PROPERTY:
            return None
        if not _answers_from_blueprint_token(self.session_class):
            return None
        if state is None:
            if not has_app_context():
                return None
            state = _context_state()
        sessions = state.get(_SESSIONS_ATTR)
        if sessions and id(self) in sessions:
            return None
        tokens: dict[int, t.Any] | None = state.get(_TOKENS_ATTR)
        if tokens is None:
            tokens = state[_TOKENS_ATTR] = {}
        key = id(self)
        if key in tokens:
            stored = tokens[key]
        else:
            # As read from the storage: :attr:`token` makes its copy only
            # if a session is built.
            stored = self._stored_token()
            tokens[key] = stored
        if stored and isinstance(stored, Mapping) and not _expiry.is_plain(stored):
            stored = _token_copy(stored, self.name)
        return bool(stored and stored.get("access_token"))

    def _hand_over_token(self, session: t.Any, state: dict[str, t.Any]) -> None:
        """Give a new session the token already read in this context."""
        tokens = state.get(_TOKENS_ATTR)
        if tokens and id(self) in tokens:
            stored = tokens.pop(id(self))
            if _answers_from_blueprint_token(type(session)):
                session._set_loaded_token(_token_copy(stored, self.name))

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
                            ("https://", PoolAdapter(pool_maxsize=_POOL_MAXSIZE)),
                            ("http://", PoolAdapter(pool_maxsize=_POOL_MAXSIZE)),
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
        state = _context_state()
        sessions = state.get(_SESSIONS_ATTR)
        if sessions:
            sessions.pop(id(self), None)
        tokens = state.get(_TOKENS_ATTR)
        if tokens:
            tokens.pop(id(self), None)

    # -- the dance ----------------------------------------------------------------

    @property
    def pending_logins(self) -> PendingLogins:
        """The current browser's pending logins for this blueprint."""
        pending = self._pending_logins
        if (
            pending is None
            or pending.name != self.name
            or pending.ttl != self.pending_login_ttl
        ):
            pending = PendingLogins(self.name, ttl=self.pending_login_ttl)
            self._pending_logins = pending
        return pending

    @abstractmethod
    def login(self) -> t.Any:
        """The view that starts the dance."""

    @abstractmethod
    def authorized(self) -> t.Any:
        """The view the provider sends the user back to."""

    def _requested_next_url(self) -> str | None:
        request: t.Any = flask.request
        request = request._get_current_object()
        query = request.query_string
        if b"next" not in query and b"%" not in query:
            return None  # no ``next`` parameter: skip parsing the query
        value = request.args.get("next")
        if value is not None and len(value) * 6 > MAX_NEXT_LENGTH:
            size = _cookie.json_size(value)
            if size is None or size - 2 > MAX_NEXT_LENGTH:
                log.info(
                    "Ignoring a 'next' URL of %d characters (more than %d).",
                    len(value),
                    MAX_NEXT_LENGTH,
                )
                return None
        return safe_next_url(value)

    def _default_next_url(self) -> str:
        redirect_url: str | None = getattr(self, "redirect_url", None)
        redirect_to: str | None = getattr(self, "redirect_to", None)
        if redirect_url:
            return redirect_url
        if redirect_to:
            return flask.url_for(redirect_to)
        return "/"

    def _send_error(self, **kwargs: t.Any) -> t.Any:
        """Send :data:`oauth_error` (see
        :func:`~flask_dance.consumer.signals.send_oauth_error` for the
        keyword arguments) and return the first response a receiver
        returned, or ``None``."""
        return send_oauth_error(self, **kwargs)

    def _fail(self, reason: str, **signal_kwargs: t.Any) -> t.Any:
        """End a failed dance: log ``reason``, send :data:`oauth_error` with
        ``signal_kwargs``, and answer with a receiver's response or a redirect
        to the next URL."""
        log.warning("OAuth login with %r failed: %s", self.name, reason)
        response = self._send_error(**signal_kwargs)
        if response is not None:
            return response
        return _restart.failure_redirect(self, self._default_next_url())

    def _no_pending_login(self, reason: str, **signal_kwargs: t.Any) -> t.Any:
        """End a callback that matches no pending login: send
        :data:`oauth_error`, then answer with a receiver's response, or start
        the dance again (once within the pending-login lifetime), or redirect
        to the next URL."""
        log.info("OAuth login with %r failed: %s", self.name, reason)
        response = self._send_error(**signal_kwargs)
        if response is not None:
            return response
        if _restart.may_restart(self):
            log.info("Starting the login with %r again.", self.name)
            return _restart.restart(self)
        return _restart.failure_redirect(self, self._default_next_url())

    def _finish_login(self, token: t.Any, next_url: str | None) -> t.Any:
        """Send :data:`oauth_authorized`, store the token unless a receiver
        said not to, and redirect."""
        results = oauth_authorized.send(self, token=token)
        store = True
        for _, value in results:
            if _is_response(value):
                return value
            if value is False:
                store = False
        if store:
            try:
                self.token = token
            except ValueError as exc:
                return self._fail(
                    f"the token could not be stored: {exc}",
                    error=exc,
                    error_description=str(exc),
                )
            except HTTPException:
                raise
            except Exception as exc:
                return self._storage_failure(exc)
            self._run_logged_in_funcs(token)
        _restart.forget_restart(self)
        return flask.redirect(next_url or self._default_next_url())

    def _storage_failure(self, exc: Exception) -> t.Any:
        """The storage failed to keep a new token (its database is down,
        say): send :data:`oauth_error` with ``error=exc``, and answer with a
        receiver's response or a ``503`` page that asks the user to log in
        again. The exception's message is not logged or sent: it may quote
        the token."""
        log.error(
            "OAuth login with %r failed: the token could not be stored (%s).",
            self.name,
            type(exc).__name__,
        )
        response = self._send_error(
            error=exc, error_description="The token could not be stored."
        )
        if response is not None:
            return response
        return _restart.login_again_page(
            self,
            503,
            "The login could not be saved because a service is temporarily"
            " unavailable.",
            later=True,
            headers={"Retry-After": "5"},
        )


class _Versions:
    """Counters that tell the per-app hooks that nothing changed."""

    #: Changes when any blueprint's ``from_config`` changes.
    bindings = 0
    #: Changes when configuration is applied to any blueprint.
    applied = 0


_version_counter = itertools.count(1)


def _binding_changed() -> None:
    _Versions.bindings = next(_version_counter)


class _ConfigBinding(dict[str, str]):
    """A blueprint's ``from_config``: a :class:`dict` that notes each change
    in :attr:`_Versions.bindings`."""

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key, value)
        _binding_changed()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        _binding_changed()

    def __ior__(self, other: t.Any) -> _ConfigBinding:  # type: ignore[override,misc]
        super().__ior__(other)
        _binding_changed()
        return self

    def update(self, *args: t.Any, **kwargs: str) -> None:
        super().update(*args, **kwargs)
        _binding_changed()

    def setdefault(self, key: str, default: str) -> str:
        value = super().setdefault(key, default)
        _binding_changed()
        return value

    def pop(self, key: str, *default: t.Any) -> t.Any:
        value = super().pop(key, *default)
        _binding_changed()
        return value

    def popitem(self) -> tuple[str, str]:
        item = super().popitem()
        _binding_changed()
        return item

    def clear(self) -> None:
        super().clear()
        _binding_changed()


class _AppHooks:
    """What runs on every request of an app for all of its Flask-Dance
    blueprints: one ``before_request`` and one ``teardown_request`` function
    per app, however many blueprints are registered, each cheap when the
    request uses none of them.

    :param app: The app.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        #: The distinct blueprints registered on the app.
        self.blueprints: list[BaseOAuthConsumerBlueprint] = []
        #: Those that override :meth:`~BaseOAuthConsumerBlueprint.teardown_session`.
        self.custom_teardowns: list[BaseOAuthConsumerBlueprint] = []
        #: The config keys all the blueprints read, as of ``bindings_seen``.
        self.config_keys: tuple[str, ...] = ()
        self.bindings_seen = -1
        #: Their values at the last request, when nothing needed applying.
        self.values_seen: tuple[t.Any, ...] | None = None
        self.applied_seen = -1

    @classmethod
    def of(cls, app: App) -> _AppHooks:
        """The hooks of ``app``, installed on first use.

        :param app: The app.
        """
        hooks: _AppHooks | None = app.extensions.get(_APP_HOOKS_KEY)
        if hooks is None:
            hooks = cls(app)
            app.extensions[_APP_HOOKS_KEY] = hooks
            app.before_request_funcs.setdefault(None, []).append(hooks.before_request)
        return hooks

    def add(self, blueprint: BaseOAuthConsumerBlueprint) -> None:
        """Serve ``blueprint`` too.

        :param blueprint: A blueprint being registered on the app.
        """
        if any(known is blueprint for known in self.blueprints):
            return
        self.blueprints.append(blueprint)
        self.bindings_seen = -1
        if (
            type(blueprint).teardown_session
            is not BaseOAuthConsumerBlueprint.teardown_session
        ):
            # Only for these: the sessions of a request need no teardown, as
            # the next request of a shared app context sets them aside.
            if not self.custom_teardowns:
                self.app.teardown_request_funcs.setdefault(None, []).append(
                    self.teardown_request
                )
            self.custom_teardowns.append(blueprint)

    def before_request(self) -> None:
        """Apply configuration that changed since it was last applied.

        When no ``from_config`` changed and no configuration was applied to
        any blueprint since the last request of this app, comparing the
        config values with those of the last request is enough.
        """
        config = self.app.config
        if self.bindings_seen != _Versions.bindings:
            self.bindings_seen = _Versions.bindings
            self.config_keys = tuple(
                key for bp in self.blueprints for key in bp.from_config.values()
            )
            self.values_seen = None
        values = tuple(map(config.get, self.config_keys))
        if values == self.values_seen and self.applied_seen == _Versions.applied:
            return
        applied = _Versions.applied
        for blueprint in self.blueprints:
            blueprint._refresh_config(config)
        if applied == _Versions.applied:
            self.values_seen = values
            self.applied_seen = applied
        else:
            # Applied now (or by another app meanwhile): check once more on
            # the next request, which then takes the short path.
            self.values_seen = None

    def teardown_request(self, exception: BaseException | None = None) -> None:
        """Run the blueprints' own ``teardown_session``, then forget the
        request's sessions. Installed only when a blueprint overrides
        ``teardown_session``.

        :param exception: The exception that ended the request, if any.
        """
        for blueprint in self.custom_teardowns:
            blueprint.teardown_session(exception)
        _forget_request_state(_context_state())


def _token_copy(stored: t.Any, name: str) -> t.Any:
    """What :attr:`BaseOAuthConsumerBlueprint.token` returns for ``stored``:
    a copy with ``expires_in`` recomputed from ``expires_at``; one whose
    expiry is not a number reads as expired, or as no token (see
    :mod:`._expiry`).

    :param stored: The token as stored.
    :param name: The blueprint's name.
    """
    if not stored or not isinstance(stored, Mapping):
        return stored
    token = dict(stored)
    if not _expiry.is_plain(token):
        return _expiry.repaired(token, name)
    if token.get("expires_in") and token.get("expires_at"):
        token["expires_in"] = float(token["expires_at"]) - time.time()
    return token


def _context_state(app_ctx: t.Any = None) -> dict[str, t.Any]:
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
    previous = state.get(_OWNER_ATTR, owner)
    if previous is not owner:
        if owner is not None and _adoption.inherits_from(previous):
            _hand_over_to_request(state)
        else:
            _forget_request_state(state)
    state[_OWNER_ATTR] = owner
    return state


def _hand_over_to_request(state: dict[str, t.Any]) -> None:
    """Let the request that begins keep the sessions the code before it
    prepared, each reading its token again unless one was assigned to it;
    tokens read before the request are dropped."""
    state.pop(_TOKENS_ATTR, None)
    for session in (state.get(_SESSIONS_ATTR) or {}).values():
        _adoption.forget_loaded_token(session)


def _forget_request_state(state: dict[str, t.Any]) -> None:
    """Drop the sessions and tokens kept in ``state``, and the provider
    proxies' ``g.flask_dance_<name>`` references to those sessions."""
    sessions = state.pop(_SESSIONS_ATTR, None)
    state.pop(_TOKENS_ATTR, None)
    state.pop(_OWNER_ATTR, None)
    if sessions:
        dropped = {id(session) for session in sessions.values()}
        for key in [
            key
            for key, value in state.items()
            if key.startswith("flask_dance_") and id(value) in dropped
        ]:
            del state[key]


_TOKEN_PROPERTY = BaseOAuthConsumerBlueprint.token
_STORAGE: RequestLocal = BaseOAuthConsumerBlueprint.__dict__["storage"]


def _forget_token(session: t.Any) -> None:
    forget = getattr(session, "_forget_token", None)
    if forget is not None:
        forget()
