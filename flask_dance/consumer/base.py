"""What OAuth 1 and OAuth 2 consumer blueprints share: the routes, the token
and its storage. The configuration binding, the per-request session and the
end of the dance are the mixins of :mod:`._config`, :mod:`._sessions` and
:mod:`._outcome`; the signals live in :mod:`.signals` and are re-exported
here."""

from __future__ import annotations

import logging
import sys
import time
import typing as t
from abc import ABCMeta
from abc import abstractmethod
from collections.abc import Mapping

from flask import Blueprint

from ._config import AppHooks
from ._config import ConfigMixin
from ._outcome import MAX_NEXT_LENGTH as MAX_NEXT_LENGTH
from ._outcome import OutcomeMixin
from ._pending import DEFAULT_TTL
from ._pending import PendingLogins
from ._refresh import token_copy
from ._request_local import RequestConfig
from ._request_local import RequestLocal
from ._sessions import SessionsMixin
from ._transport import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from .signals import oauth_authorized as oauth_authorized
from .signals import oauth_before_login as oauth_before_login
from .signals import oauth_error as oauth_error
from .signals import oauth_refresh_failed as oauth_refresh_failed
from .storage import BaseStorage
from .storage.session import SessionStorage

# at run time too, so that typing.get_type_hints resolves ``Unpack[...]``
if sys.version_info >= (3, 11):
    from typing import Unpack
elif t.TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

if t.TYPE_CHECKING:  # pragma: no cover
    from flask.sansio.app import App

log: logging.Logger = logging.getLogger(__name__)


class BlueprintOptions(t.TypedDict, total=False):
    """The keyword arguments that :class:`OAuth2ConsumerBlueprint`,
    :class:`OAuth1ConsumerBlueprint` and :class:`BaseOAuthConsumerBlueprint`
    share: Flask-Dance 7.1's, plus ``redirect_uri``, ``timeout`` and
    ``pending_login_ttl``. The provider factories (``make_github_blueprint``
    and the others) take those that 7.1's did."""

    #: Passed to :class:`flask.Blueprint`.
    static_folder: str | None
    #: Passed to :class:`flask.Blueprint`.
    static_url_path: str | None
    #: Passed to :class:`flask.Blueprint`.
    template_folder: str | None
    #: Passed to :class:`flask.Blueprint`.
    url_prefix: str | None
    #: Passed to :class:`flask.Blueprint`.
    subdomain: str | None
    #: Passed to :class:`flask.Blueprint`.
    url_defaults: dict[str, t.Any] | None
    #: Passed to :class:`flask.Blueprint`.
    root_path: str | None
    #: The rule of the login view; default ``/{bp.name}``.
    login_url: str | None
    #: The rule of the callback view; default ``/{bp.name}/authorized``.
    authorized_url: str | None
    #: The provider's API root. Relative request URLs, and the provider's
    #: endpoint URLs given to the blueprint, are resolved against it.
    base_url: str | None
    #: The provider's authorization endpoint.
    authorization_url: str | None
    #: Where to send the user after logging in (a URL).
    redirect_url: str | None
    #: An endpoint to send the user to after logging in, used when
    #: ``redirect_url`` is not set. Default: ``/``.
    redirect_to: str | None
    #: Where tokens are kept: a
    #: :class:`~flask_dance.consumer.storage.BaseStorage`, or a callable that
    #: returns one. Default:
    #: :class:`~flask_dance.consumer.storage.session.SessionStorage`.
    storage: BaseStorage | t.Callable[[], BaseStorage] | None
    #: Extra keyword arguments for both :meth:`~flask.Blueprint.add_url_rule`
    #: calls, such as ``host``.
    rule_kwargs: dict[str, t.Any] | None
    #: The absolute callback URL to register with the provider and send to
    #: it. Default: built with :func:`flask.url_for` from the request (set
    #: ``SERVER_NAME``, or this when the app runs behind a proxy).
    redirect_uri: str | None
    #: Timeout, in seconds, of every request to the provider: one number or a
    #: ``(connect, read)`` pair; ``None`` means none. Default: 10 seconds to
    #: connect, 30 to read.
    timeout: float | tuple[float, float] | None
    #: How long, in seconds, a started login may take before its callback is
    #: refused. Default: 10 minutes.
    pending_login_ttl: float


#: The names of :class:`BlueprintOptions`.
_OPTION_NAMES: frozenset[str] = frozenset(BlueprintOptions.__annotations__)

#: The options passed on to :class:`flask.Blueprint`.
_FLASK_OPTIONS = (
    "static_folder",
    "static_url_path",
    "template_folder",
    "url_prefix",
    "subdomain",
    "url_defaults",
    "root_path",
)


class BaseOAuthConsumerBlueprint(
    ConfigMixin,
    SessionsMixin,
    OutcomeMixin,
    Blueprint,
    metaclass=ABCMeta,
):
    """The parts of a consumer blueprint that do not depend on the OAuth
    version: the ``login`` and ``authorized`` routes, reading credentials from
    the app's configuration (:mod:`._config`), the :attr:`token` kept in a
    :class:`~flask_dance.consumer.storage.BaseStorage`, a provider
    :attr:`session` built for each request (:mod:`._sessions`), and the end of
    the dance (:mod:`._outcome`).
    """

    #: The session class built for each request; set by subclasses.
    session_class: type[t.Any]

    def __init__(
        self,
        name: str,
        import_name: str,
        *,
        session_class: type[t.Any] | None = None,
        client_secret: str | None = None,
        **options: Unpack[BlueprintOptions],
    ) -> None:
        """
        The OAuth 1 and OAuth 2 blueprints hand these arguments on to this
        constructor.

        :param name: The blueprint's name; also the prefix of its session keys.
        :param import_name: The import name, usually ``__name__``.
        :param session_class: The class of the per-request sessions; default
            the subclass's :attr:`session_class`.
        :param client_secret: The client secret from the provider.
        :param options: The options every consumer blueprint takes: see
            :class:`BlueprintOptions`.
        """
        given = t.cast("dict[str, t.Any]", options)
        unknown = given.keys() - _OPTION_NAMES
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword arguments:"
                f" {', '.join(sorted(unknown))}"
            )
        super().__init__(
            name,
            import_name,
            **{key: given[key] for key in _FLASK_OPTIONS if key in given},
        )
        login_url = options.get("login_url")
        authorized_url = options.get("authorized_url")
        if login_url is None:
            login_url = "/{bp.name}"
        if authorized_url is None:
            authorized_url = "/{bp.name}/authorized"
        rule_kwargs = options.get("rule_kwargs") or {}
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

        storage = options.get("storage")
        if storage is None:
            storage = SessionStorage()
        elif callable(storage) and not isinstance(storage, BaseStorage):
            storage = storage()
        _STORAGE.set_default(self, storage)

        self._init_config()
        self._init_sessions()

        #: The provider's API root.
        self.base_url: str | None = options.get("base_url")
        if session_class is not None:
            self.session_class = session_class
        #: The client secret.
        self.client_secret: str | None = client_secret
        #: The provider's authorization endpoint.
        self.authorization_url: str | None = options.get("authorization_url")
        #: Where to go after logging in.
        self.redirect_url: str | None = options.get("redirect_url")
        #: The endpoint to go to after logging in.
        self.redirect_to: str | None = options.get("redirect_to")
        #: A fixed callback URL, or ``None`` to build it per request.
        self.redirect_uri: str | None = options.get("redirect_uri")

        self._config = RequestConfig(on_update=self._invalidate_cached_token)

        #: Unused; kept for compatibility with Flask-Dance.
        self.logged_in_funcs: list[t.Callable[..., t.Any]] = []

        #: Timeout of every request to the provider.
        self.timeout: float | tuple[float, float] | None = options.get(
            "timeout", DEFAULT_TIMEOUT
        )
        #: How long a started login stays valid, in seconds.
        self.pending_login_ttl: float = options.get("pending_login_ttl", DEFAULT_TTL)

        self._token_getter: t.Callable[[], t.Any] | None = None
        self._token_setter: t.Callable[[t.Any], t.Any] | None = None
        self._token_deleter: t.Callable[[], t.Any] | None = None
        self._pending_logins: PendingLogins | None = None

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
        AppHooks.of(app).add(self)

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
        return token_copy(self._stored_token(), self.name)

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

    # -- the decorators of Flask-Dance's first releases -------------------------
    # They stand in for the storage (``token_getter``, ``token_setter``,
    # ``token_deleter``) or run after a login (``logged_in``).

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


def split_options(
    arguments: Mapping[str, t.Any],
) -> tuple[BlueprintOptions, dict[str, t.Any]]:
    """``arguments`` parted into the :class:`BlueprintOptions` that a
    blueprint's constructor hands on to :class:`BaseOAuthConsumerBlueprint`,
    and the rest (which the OAuth 1 and OAuth 2 blueprints pass to their
    ``session_class``).

    :param arguments: The keyword arguments the constructor got besides its
        own.
    """
    options: dict[str, t.Any] = {}
    rest: dict[str, t.Any] = {}
    for key, value in arguments.items():
        (options if key in _OPTION_NAMES else rest)[key] = value
    return t.cast(BlueprintOptions, options), rest


BaseOAuthConsumerBlueprint._stock_token = BaseOAuthConsumerBlueprint.token
_STORAGE: RequestLocal = BaseOAuthConsumerBlueprint.__dict__["storage"]
