"""What OAuth 1 and OAuth 2 consumer blueprints share: routes, configuration,
token storage, the per-request provider session, and the signals."""

from __future__ import annotations

import collections
import logging
import threading
import time
import typing as t
from abc import ABCMeta
from abc import abstractmethod
from collections.abc import Mapping

import flask
from blinker import NamedSignal
from blinker import Namespace
from flask import Blueprint
from flask import current_app
from flask import g
from flask import has_app_context
from requests.adapters import HTTPAdapter
from werkzeug.datastructures import CallbackDict
from werkzeug.wrappers import Response as _WerkzeugResponse

from ..utils import getattrd
from . import _redact
from ._pending import DEFAULT_TTL
from ._pending import PendingLogins
from ._urls import safe_next_url
from .storage import BaseStorage
from .requests import _answers_from_blueprint_token
from .storage.session import SessionStorage

if t.TYPE_CHECKING:  # pragma: no cover
    import requests
    from flask.sansio.app import App

log: logging.Logger = logging.getLogger(__name__)

_redact.install()

_signals = Namespace()

#: Sent when a user finished the dance and a token was obtained, before it is
#: stored. Sender: the blueprint. Keyword argument: ``token``. A receiver may
#: return a response, which is sent to the browser and the token is not
#: stored; or ``False``, and the token is not stored.
oauth_authorized: NamedSignal = _signals.signal("oauth-authorized")

#: Sent right before the user is redirected to the provider. Sender: the
#: blueprint. Keyword argument: ``url``, the provider's authorization URL.
oauth_before_login: NamedSignal = _signals.signal("oauth-before-login")

#: Sent when the dance fails. Sender: the blueprint. Keyword arguments: for a
#: provider's error, ``error``, ``error_description`` and ``error_uri``; for a
#: token that could not be stored, ``error`` (the exception); for OAuth 1
#: failures, ``message`` and ``response``. Every failure also carries
#: ``error`` and ``error_description``. A receiver may return a response,
#: which is sent to the browser instead of the default redirect.
oauth_error: NamedSignal = _signals.signal("oauth-error")

#: Sent when refreshing a token failed for good (the provider answered
#: ``invalid_grant``) and the stored token was deleted. Sender: the blueprint.
#: Keyword arguments: ``error`` (the exception) and ``token`` (the old token).
#: Connect to it to send the user back to the login page.
oauth_refresh_failed: NamedSignal = _signals.signal("oauth-refresh-failed")

#: Default timeout, in seconds, for every request to a provider: (connect, read).
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 30.0)

#: How many connections per provider host the shared pool keeps open.
_POOL_MAXSIZE = 32

_SESSIONS_ATTR = "_flask_dance_sessions"

#: Tokens read in the current context before its session was built.
_TOKENS_ATTR = "_flask_dance_tokens"

#: Where an app keeps its :class:`_AppHooks`, in ``app.extensions``.
_APP_HOOKS_KEY = "flask_dance.hooks"


def _is_response(value: t.Any) -> bool:
    if isinstance(value, _WerkzeugResponse):
        return True
    return has_app_context() and isinstance(value, current_app.response_class)


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
            self.storage = SessionStorage()
        elif callable(storage) and not isinstance(storage, BaseStorage):
            self.storage = storage()
        else:
            self.storage = storage

        #: Maps attribute names of this blueprint (dotted paths allowed, such
        #: as ``"session.client_id"``) to keys of the app's configuration.
        #: Truthy configuration values are applied whenever they are needed.
        self.from_config: dict[str, str] = {}

        def invalidate_token(_: t.Any) -> None:
            self._invalidate_cached_token()

        #: Per-request settings for storages, such as ``config["user"]`` for
        #: :class:`~flask_dance.consumer.storage.sqla.SQLAlchemyStorage`.
        self.config: CallbackDict[str, t.Any] = CallbackDict(on_update=invalidate_token)

        #: Unused; kept for compatibility with Flask-Dance.
        self.logged_in_funcs: list[t.Callable[..., t.Any]] = []

        #: Timeout of every request to the provider.
        self.timeout = timeout
        #: How long a started login stays valid, in seconds.
        self.pending_login_ttl = pending_login_ttl

        self._token_getter: t.Callable[[], t.Any] | None = None
        self._token_setter: t.Callable[[t.Any], t.Any] | None = None
        self._token_deleter: t.Callable[[], t.Any] | None = None
        self._detached_session: requests.Session | None = None
        self._detached_lock = threading.Lock()
        self._adapters: collections.OrderedDict[str, HTTPAdapter] | None = None
        self._adapters_lock = threading.Lock()
        # What load_config last applied: the from_config mapping and the
        # config values it named; while both are unchanged, nothing is done.
        self._bound_from: dict[str, str] | None = None
        self._bound_values: tuple[t.Any, ...] = ()

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

    @property
    def storage(self) -> BaseStorage:
        """The token storage: a
        :class:`~flask_dance.consumer.storage.BaseStorage`."""
        return self._storage

    @storage.setter
    def storage(self, value: BaseStorage) -> None:
        self._storage = value

    @storage.deleter
    def storage(self) -> None:
        del self._storage

    @property
    def token(self) -> t.Any:
        """This user's token, from the storage.

        Reading returns a copy whose ``expires_in`` is recomputed from
        ``expires_at`` (seconds left, negative once expired). Assigning stores
        a copy with ``expires_at`` computed from ``expires_in``. Deleting
        removes the token; with nothing stored it does nothing.
        """
        if self._token_getter is not None:
            stored = self._token_getter()
        else:
            stored = self.storage.get(self)
        if not stored or not isinstance(stored, Mapping):
            return stored
        token = dict(stored)
        if token.get("expires_in") and token.get("expires_at"):
            token["expires_in"] = float(token["expires_at"]) - time.time()
        return token

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
            if not has_app_context():
                return
            config = current_app.config
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

    def _apply_session_config(self, session: t.Any) -> None:
        if not has_app_context():
            return
        config = current_app.config
        for local_var, key in self.from_config.items():
            if not local_var.startswith("session."):
                continue
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
        for scripts and tests; the next request adopts it once, so a test can
        patch it (``bp.session.fetch_token = Mock(...)``) before the request.
        """
        if not has_app_context():
            with self._detached_lock:
                if self._detached_session is None:
                    self._detached_session = self._make_session()
                return self._detached_session
        sessions: dict[int, t.Any] | None = g.get(_SESSIONS_ATTR)
        if sessions is None:
            sessions = {}
            setattr(g, _SESSIONS_ATTR, sessions)
        session = sessions.get(id(self))
        if session is None:
            session = self._adopt_detached_session()
            if session is None:
                self._refresh_config()
                session = self._make_session()
                self._hand_over_token(session)
                sessions[id(self)] = session
            else:
                sessions[id(self)] = session
                # the adopted session was built before the app's config was
                # read; setters such as ``client_id`` now reach it
                self.load_config()
        return session

    @session.deleter
    def session(self) -> None:
        self.teardown_session()

    def _adopt_detached_session(self) -> t.Any:
        with self._detached_lock:
            session, self._detached_session = self._detached_session, None
        if session is not None:
            self._apply_session_config(session)
            _forget_token(session)
        return session

    def _current_session(self) -> t.Any:
        """The session of the current context, if one was built."""
        if not has_app_context():
            return self._detached_session
        sessions = g.get(_SESSIONS_ATTR)
        return sessions.get(id(self)) if sessions else None

    def _invalidate_cached_token(self) -> None:
        session = self._current_session()
        if session is not None:
            _forget_token(session)
        if has_app_context():
            tokens = g.get(_TOKENS_ATTR)
            if tokens:
                tokens.pop(id(self), None)

    def _authorized_without_session(self) -> bool | None:
        """Whether the current user has an access token, answered from
        :attr:`token` without building a session, when the session would
        answer the same way: no session was built in this context yet and the
        session class reads its token from the blueprint. ``None`` means the
        session must answer.

        The token read is kept for the rest of the context, and handed to the
        session if one is built, so that the storage is read once.
        """
        if not has_app_context() or self._detached_session is not None:
            return None
        if not _answers_from_blueprint_token(self.session_class):
            return None
        sessions = g.get(_SESSIONS_ATTR)
        if sessions and id(self) in sessions:
            return None
        tokens: dict[int, t.Any] | None = g.get(_TOKENS_ATTR)
        if tokens is None:
            tokens = {}
            setattr(g, _TOKENS_ATTR, tokens)
        key = id(self)
        if key in tokens:
            token = tokens[key]
        else:
            token = tokens[key] = self.token
        return bool(token and token.get("access_token"))

    def _hand_over_token(self, session: t.Any) -> None:
        """Give a new session the token already read in this context."""
        tokens = g.get(_TOKENS_ATTR)
        if tokens and id(self) in tokens:
            token = tokens.pop(id(self))
            if _answers_from_blueprint_token(type(session)):
                session.token = token

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
                            ("https://", HTTPAdapter(pool_maxsize=_POOL_MAXSIZE)),
                            ("http://", HTTPAdapter(pool_maxsize=_POOL_MAXSIZE)),
                        ]
                    )
                adapters = self._adapters
        return adapters

    def teardown_session(self, exception: BaseException | None = None) -> None:
        """Forget the current context's session. Runs when a request ends.

        :param exception: The exception that ended the request, if any.
        """
        if not has_app_context():
            with self._detached_lock:
                self._detached_session = None
            return
        sessions = g.get(_SESSIONS_ATTR)
        if sessions:
            sessions.pop(id(self), None)
        tokens = g.get(_TOKENS_ATTR)
        if tokens:
            tokens.pop(id(self), None)

    # -- the dance ----------------------------------------------------------------

    @property
    def pending_logins(self) -> PendingLogins:
        """The current browser's pending logins for this blueprint."""
        return PendingLogins(self.name, ttl=self.pending_login_ttl)

    @abstractmethod
    def login(self) -> t.Any:
        """The view that starts the dance."""

    @abstractmethod
    def authorized(self) -> t.Any:
        """The view the provider sends the user back to."""

    def _requested_next_url(self) -> str | None:
        return safe_next_url(flask.request.args.get("next"))

    def _default_next_url(self) -> str:
        redirect_url: str | None = getattr(self, "redirect_url", None)
        redirect_to: str | None = getattr(self, "redirect_to", None)
        if redirect_url:
            return redirect_url
        if redirect_to:
            return flask.url_for(redirect_to)
        return "/"

    def _send_error(self, **kwargs: t.Any) -> t.Any:
        """Send :data:`oauth_error` and return the first response a receiver
        returned, or ``None``."""
        results = oauth_error.send(self, **kwargs)
        for _, value in results:
            if _is_response(value):
                return value
        return None

    def _fail(self, reason: str, **signal_kwargs: t.Any) -> t.Any:
        """End a failed dance: log ``reason``, send :data:`oauth_error` with
        ``signal_kwargs``, and answer with a receiver's response or a redirect
        to the next URL."""
        log.warning("OAuth login with %r failed: %s", self.name, reason)
        response = self._send_error(**signal_kwargs)
        if response is not None:
            return response
        return flask.redirect(self._default_next_url())

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
                return self._fail(f"the token could not be stored: {exc}", error=exc)
            self._run_logged_in_funcs(token)
        return flask.redirect(next_url or self._default_next_url())


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
            app.teardown_request_funcs.setdefault(None, []).append(
                hooks.teardown_request
            )
        return hooks

    def add(self, blueprint: BaseOAuthConsumerBlueprint) -> None:
        """Serve ``blueprint`` too.

        :param blueprint: A blueprint being registered on the app.
        """
        if any(known is blueprint for known in self.blueprints):
            return
        self.blueprints.append(blueprint)
        if (
            type(blueprint).teardown_session
            is not BaseOAuthConsumerBlueprint.teardown_session
        ):
            self.custom_teardowns.append(blueprint)

    def before_request(self) -> None:
        """Apply configuration that changed since it was last applied."""
        config = self.app.config
        for blueprint in self.blueprints:
            blueprint._refresh_config(config)

    def teardown_request(self, exception: BaseException | None = None) -> None:
        """Forget the sessions built during the request.

        :param exception: The exception that ended the request, if any.
        """
        sessions = g.get(_SESSIONS_ATTR)
        built = set(sessions) if sessions else None
        for blueprint in self.custom_teardowns:
            blueprint.teardown_session(exception)
        g.pop(_SESSIONS_ATTR, None)
        g.pop(_TOKENS_ATTR, None)
        if built:
            # The provider proxies keep the session in g too.
            registered = self.app.extensions.get("flask_dance", {})
            for name, blueprint in registered.items():
                if id(blueprint) in built:
                    g.pop(f"flask_dance_{name}", None)


def _forget_token(session: t.Any) -> None:
    forget = getattr(session, "_forget_token", None)
    if forget is not None:
        forget()
