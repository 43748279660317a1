"""The wiring every provider preset shares.

A preset module only declares what differs between providers: URLs, default
scopes, extra authorization parameters, and sometimes a step that prepares
each new session. This module turns that into a blueprint, connects the
``<NAME>_OAUTH_CLIENT_ID`` and ``<NAME>_OAUTH_CLIENT_SECRET`` config keys, and
builds the ``<name>`` proxy.

The proxy costs nothing until it is used: the session is built on first use
in a request (or app context) and cached in ``g.flask_dance_<name>`` for the
rest of that context.
"""

from __future__ import annotations

import collections.abc as cabc
import inspect
import re
import typing as t
from functools import partial
from urllib.parse import urljoin

from werkzeug.local import LocalProxy

from ..consumer._request_local import app_context as _app_context
from ..consumer._sessions import context_state
from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from ..consumer.storage import BaseStorage

if t.TYPE_CHECKING:  # pragma: no cover
    from ..consumer.oauth1 import OAuth1ConsumerBlueprint

#: A step run on every new session of a preset blueprint, with the blueprint
#: and the session.
SessionSetup: t.TypeAlias = cabc.Callable[
    [OAuth2ConsumerBlueprint, OAuth2Session], None
]

#: What the ``scope`` parameter of a preset accepts.
Scope: t.TypeAlias = str | cabc.Sequence[str] | None

#: What the ``storage`` parameter of a preset accepts.
Storage: t.TypeAlias = BaseStorage | cabc.Callable[[], BaseStorage] | None

#: What the ``rule_kwargs`` parameter of a preset accepts.
RuleKwargs: t.TypeAlias = dict[str, t.Any] | None

_NO_CONTEXT_MSG = (
    "The '{name}' proxy works only in an application context, and with the"
    " default storage (SessionStorage) only while a request is handled: the"
    " request gives it the current user's token. In tests and scripts, use"
    " 'with app.test_request_context():'; a plain 'with app.app_context():'"
    " is enough with a storage that needs no request."
)

_NOT_REGISTERED_MSG = (
    "The '{name}' blueprint is not registered on the application '{app}'."
    " Create it with 'make_{name}_blueprint(...)' and register it with"
    " 'app.register_blueprint(...)' before using the '{name}' proxy."
)


def _current_session(name: str) -> t.Any:
    """The ``name`` blueprint's session for the current context."""
    # The app context itself: quicker than the proxies to its parts.
    app_ctx = _app_context()
    if app_ctx is None:
        raise RuntimeError(_NO_CONTEXT_MSG.format(name=name))
    # g's attributes, without the sessions an earlier request sharing this
    # app context left there.
    state = context_state(app_ctx)
    attr = f"flask_dance_{name}"
    session = state.get(attr)
    if session is None:
        app = app_ctx.app
        blueprint = app.extensions.get("flask_dance", {}).get(name)
        if blueprint is None:
            raise RuntimeError(_NOT_REGISTERED_MSG.format(name=name, app=app.name))
        session = blueprint.session
        state[attr] = session
    return session


def session_proxy(name: str) -> LocalProxy[t.Any]:
    """A context-local proxy to the session of the blueprint called ``name``
    registered on the current app.

    :param name: The blueprint's name, such as ``"github"``.
    """
    return _SessionProxy(name)


class _SessionProxy(LocalProxy[t.Any]):
    """The ``<name>`` proxy: forwards everything to the session, except that
    ``authorized`` is answered from the blueprint's token when no session was
    built yet in this context, so that a page that only checks it builds
    none (see ``BaseOAuthConsumerBlueprint._authorized_without_session``).

    :param name: The blueprint's name.
    """

    __slots__ = ("_flask_dance_name", "_flask_dance_attr")

    _flask_dance_name: str
    _flask_dance_attr: str

    def __init__(self, name: str) -> None:
        super().__init__(partial(_current_session, name))
        # LocalProxy forwards attribute assignment to the session.
        object.__setattr__(self, "_flask_dance_name", name)
        object.__setattr__(self, "_flask_dance_attr", f"flask_dance_{name}")

    @property
    def authorized(self) -> bool:
        """Whether the current user has an access token."""
        # The app context itself: quicker than the proxies to its parts.
        app_ctx = _app_context()
        if app_ctx is not None:
            state = context_state(app_ctx)
            if state.get(self._flask_dance_attr) is None:
                registered = app_ctx.app.extensions.get("flask_dance", {})
                blueprint = registered.get(self._flask_dance_name)
                if blueprint is not None:
                    answer = blueprint._authorized_without_session(state)
                    if answer is not None:
                        return bool(answer)
        return bool(self._get_current_object().authorized)


class PresetOAuth2Blueprint(OAuth2ConsumerBlueprint):
    """An OAuth 2 blueprint that runs a preset's :data:`SessionSetup` steps on
    every session it builds, whatever the session class."""

    def __init__(
        self,
        *args: t.Any,
        session_setup: cabc.Iterable[SessionSetup] = (),
        user_agent: str | None = None,
        **kwargs: t.Any,
    ) -> None:
        """
        :param args: Passed to :class:`OAuth2ConsumerBlueprint`.
        :param session_setup: Steps run on each new session, in order.
        :param user_agent: The ``User-Agent`` header of each session.
        :param kwargs: Passed to :class:`OAuth2ConsumerBlueprint`.
        """
        #: Steps run on each new session, in order.
        self.session_setup: tuple[SessionSetup, ...] = tuple(session_setup)
        #: The ``User-Agent`` header of each new session, unless ``None``.
        self.user_agent = user_agent
        super().__init__(*args, **kwargs)

    def session_created(self, session: t.Any) -> t.Any:
        """Set :attr:`user_agent` and run the :attr:`session_setup` steps on a
        new session.

        :param session: The new session.
        """
        session = super().session_created(session)
        if self.user_agent:
            session.headers["User-Agent"] = self.user_agent
        for setup in self.session_setup:
            setup(self, session)
        return session


def config_keys(
    name: str, args: cabc.Iterable[str] = ("client_id", "client_secret")
) -> dict[str, str]:
    """The usual ``from_config`` mapping of a preset called ``name``: each of
    ``args`` read from ``<NAME>_OAUTH_<ARG>``.

    :param name: The blueprint's name.
    :param args: The blueprint attributes. Default: the client ID and secret.
    """
    prefix = name.upper()
    return {arg: f"{prefix}_OAUTH_{arg.upper()}" for arg in args}


def oidc_config_keys(name: str) -> dict[str, str]:
    """The ``from_config`` entries an OpenID Connect preset adds: its client
    authentication method and the private key of ``private_key_jwt`` (PEM or
    JWK, despite the key's name).

    :param name: The blueprint's name.
    """
    prefix = name.upper()
    return {
        "token_endpoint_auth_method": f"{prefix}_OAUTH_TOKEN_ENDPOINT_AUTH_METHOD",
        "client_signing_key": f"{prefix}_OAUTH_CLIENT_KEY_JWK",
    }


#: The parameters of a preset factory that go to the blueprint as they are,
#: under the same name: what every preset shares.
PASSED_ON = (
    "client_id",
    "client_secret",
    "scope",
    "redirect_url",
    "redirect_to",
    "redirect_uri",
    "login_url",
    "authorized_url",
    "session_class",
    "storage",
    "rule_kwargs",
    "user_agent",
)


_NO_ARGS: cabc.Mapping[str, t.Any] = {}

#: The blueprint arguments that may be paths under a preset's ``root``.
_UNDER_ROOT = (
    "authorization_url",
    "token_url",
    "request_token_url",
    "access_token_url",
)


def _blueprint_kwargs(
    factory_args: cabc.Mapping[str, t.Any],
    kwargs: dict[str, t.Any],
    passed_on: cabc.Iterable[str],
    root: str | None,
) -> dict[str, t.Any]:
    """The factory's :data:`PASSED_ON` and ``passed_on`` arguments, then
    ``kwargs``, which win; with a ``root``, the URLs in them resolved against
    it, and ``root`` as the default ``base_url``.
    """
    names = (*PASSED_ON, *passed_on)
    passed = {key: factory_args[key] for key in names if key in factory_args}
    passed.update(kwargs)
    if root is not None:
        for key in _UNDER_ROOT:
            if passed.get(key) is not None:
                passed[key] = urljoin(with_slash(root), passed[key])
        if passed.get("base_url") is None:
            passed["base_url"] = root
    return passed


def oauth2_blueprint(
    name: str,
    import_name: str,
    factory_args: cabc.Mapping[str, t.Any] = _NO_ARGS,
    *,
    passed_on: cabc.Iterable[str] = (),
    configured: cabc.Iterable[str] = (),
    root: str | None = None,
    hostname: str | None = None,
    default_scope: Scope = None,
    session_setup: cabc.Iterable[SessionSetup] = (),
    blueprint_class: type[OAuth2ConsumerBlueprint] | None = None,
    refresh: bool = False,
    credentials_in_body: bool = False,
    **kwargs: t.Any,
) -> OAuth2ConsumerBlueprint:
    """Build an OAuth 2 preset blueprint that reads its client credentials
    from ``<NAME>_OAUTH_CLIENT_ID`` and ``<NAME>_OAUTH_CLIENT_SECRET``.

    A factory passes its own arguments as ``locals()`` and names only what is
    special about its provider::

        return _base.oauth2_blueprint(
            "github", __name__, locals(), base_url="https://api.github.com/", ...
        )

    :param name: The blueprint's name, also its config prefix and proxy name.
    :param import_name: The preset module's ``__name__``.
    :param factory_args: The factory's arguments: those named in
        :data:`PASSED_ON` or ``passed_on`` go to the blueprint unless
        ``kwargs`` has them too.
    :param passed_on: More factory arguments that go to the blueprint under
        the same name.
    :param configured: Factory arguments passed on like ``passed_on`` that the
        blueprint also reads from the ``<NAME>_OAUTH_<ARGUMENT>`` config value
        when they are ``None``.
    :param root: The provider's URL, such as ``https://{hostname}/``: the
        ``base_url`` unless one is given, and what the endpoints in ``kwargs``
        (``authorization_url``, ``token_url`` and the OAuth 1 token URLs) are
        resolved against, so that they may be paths under it, such as
        ``token_url="oauth/token"``.
    :param hostname: The provider's host name: the same as
        ``root="https://{hostname}/"``.
    :param default_scope: The ``scope`` when the factory's is empty, as
        Flask-Dance 7.1's presets do with ``scope=None``.
    :param session_setup: Steps run on each new session.
    :param blueprint_class: The class to build. Default:
        :class:`PresetOAuth2Blueprint` when there are session steps or a
        ``user_agent``, else :class:`OAuth2ConsumerBlueprint`.
    :param refresh: Refresh tokens automatically at the ``token_url``.
    :param credentials_in_body: Send the client ID and secret in the body of
        token requests, refreshes included, instead of an ``Authorization``
        header.
    :param kwargs: Passed to the blueprint class.
    """
    configured = tuple(configured)
    if hostname is not None:
        root = f"https://{hostname}/"
    kwargs = _blueprint_kwargs(factory_args, kwargs, (*passed_on, *configured), root)
    if default_scope and not kwargs.get("scope"):
        kwargs["scope"] = default_scope
    steps = tuple(session_setup)
    if refresh:
        kwargs["auto_refresh_url"] = kwargs["token_url"]
    if credentials_in_body:
        kwargs["token_url_params"] = {"include_client_id": True}
        steps += (refresh_with_client_credentials,)
    if steps:
        kwargs["session_setup"] = steps
    if blueprint_class is None:
        preset = steps or "user_agent" in kwargs
        blueprint_class = PresetOAuth2Blueprint if preset else OAuth2ConsumerBlueprint
    blueprint = blueprint_class(name, import_name, **kwargs)
    blueprint.from_config.update(
        config_keys(name, ("client_id", "client_secret", *configured))
    )
    if kwargs.get("issuer"):
        blueprint.from_config.update(oidc_config_keys(name))
    return blueprint


def oauth1_blueprint(
    name: str,
    import_name: str,
    factory_args: cabc.Mapping[str, t.Any] = _NO_ARGS,
    *,
    from_config: dict[str, str],
    root: str | None = None,
    **kwargs: t.Any,
) -> OAuth1ConsumerBlueprint:
    """Build an OAuth 1 preset blueprint.

    :param name: The blueprint's name, also its proxy name.
    :param import_name: The preset module's ``__name__``.
    :param factory_args: The factory's arguments, as for
        :func:`oauth2_blueprint`.
    :param from_config: Maps blueprint attributes to config keys.
    :param root: The URL the endpoints are paths under, as for
        :func:`oauth2_blueprint`.
    :param kwargs: Passed to :class:`OAuth1ConsumerBlueprint`.
    """
    from ..consumer.oauth1 import OAuth1ConsumerBlueprint

    kwargs = _blueprint_kwargs(factory_args, kwargs, (), root)
    blueprint = OAuth1ConsumerBlueprint(name, import_name, **kwargs)
    blueprint.from_config.update(from_config)
    return blueprint


# -- steps and helpers presets share ------------------------------------------


def scope_list(scope: Scope) -> list[str]:
    """``scope`` as a list, splitting a string on whitespace.

    :param scope: A string, a sequence of strings, or ``None``.
    """
    if not scope:
        return []
    if isinstance(scope, str):
        return scope.split()
    return list(scope)


def given(**params: str | None) -> dict[str, str]:
    """The ``params`` whose value is not ``None``: the authorization
    parameters a factory's options ask for.

    :param params: Parameter names and values, ``None`` for one not sent.
    """
    return {key: value for key, value in params.items() if value is not None}


def with_slash(url: str) -> str:
    """``url`` with a trailing slash, so that it works as a base URL.

    :param url: An absolute URL.
    """
    return url if url.endswith("/") else url + "/"


def set_headers(headers: cabc.Mapping[str, str]) -> SessionSetup:
    """A step that sets default headers on each session.

    :param headers: Header names and values.
    """
    fixed = dict(headers)

    def setup(blueprint: OAuth2ConsumerBlueprint, session: OAuth2Session) -> None:
        session.headers.update(fixed)

    return setup


class _LiveClientCredentials(cabc.Mapping[str, str]):
    """The blueprint's client ID and secret, read each time a refresh needs
    them, so that credentials loaded from the app's config apply."""

    def __init__(self, blueprint: OAuth2ConsumerBlueprint) -> None:
        self._blueprint = blueprint

    def _current(self) -> dict[str, str]:
        blueprint = self._blueprint
        pairs = (
            ("client_id", blueprint.client_id),
            ("client_secret", blueprint.client_secret),
        )
        return {key: value for key, value in pairs if value}

    def __getitem__(self, key: str) -> str:
        return self._current()[key]

    def __iter__(self) -> cabc.Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<client credentials of {self._blueprint.name!r}>"


def refresh_with_client_credentials(
    blueprint: OAuth2ConsumerBlueprint, session: OAuth2Session
) -> None:
    """A step that sends the client ID and secret in the body of refresh
    requests, as the values in effect when the refresh happens.

    :param blueprint: The preset blueprint.
    :param session: The new session.
    """
    # A mapping that reads the blueprint when requests-oauthlib merges it.
    live = _LiveClientCredentials(blueprint)
    session.auto_refresh_kwargs = t.cast(dict[str, t.Any], live)


# -- documentation ---------------------------------------------------------------

_COMMON_PARAMS: dict[str, str] = {
    "client_id": "The client ID of your application. Default: the"
    " ``{NAME}_OAUTH_CLIENT_ID`` config value.",
    "client_secret": "The client secret of your application. Default: the"
    " ``{NAME}_OAUTH_CLIENT_SECRET`` config value.",
    "scope": "The scopes to ask for: a list, or a string in the provider's format.",
    "redirect_url": "Where to send the user after the login, as a URL.",
    "redirect_to": "Where to send the user after the login, as an endpoint"
    " name for :func:`flask.url_for`. Used when ``redirect_url`` is not set.",
    "login_url": "The URL rule of the login view. Default: ``/{name}``.",
    "authorized_url": "The URL rule of the view the provider redirects back"
    " to. Default: ``/{name}/authorized``.",
    "session_class": "The session class to build for each request. Default:"
    " :class:`~flask_dance.consumer.requests.{session}`.",
    "storage": "The token storage. Default:"
    " :class:`~flask_dance.consumer.storage.session.SessionStorage`.",
    "rule_kwargs": "Extra keyword arguments for both URL rules, such as ``host``.",
    "redirect_uri": "The fixed, absolute callback URL registered with the"
    " provider, such as ``https://app.example/login/{name}/authorized``. Default:"
    " built from the current request (its scheme and ``Host``). Set it when a"
    " proxy or the ``Host`` header could make the built one wrong.",
}

_F = t.TypeVar("_F", bound=cabc.Callable[..., t.Any])


def preset_docs(name: str) -> cabc.Callable[[_F], _F]:
    """Complete a factory's docstring with the parameters all presets share.

    The factory documents only what is special about its provider; this adds a
    ``:param:`` line for every other parameter of its signature, puts them all
    in signature order, and adds the ``:return:`` line.

    :param name: The blueprint's name.
    """

    def decorate(factory: _F) -> _F:
        doc = inspect.cleandoc(factory.__doc__ or "")
        intro, _, fields = doc.partition("\n:param ")
        own: dict[str, str] = {}
        if fields:
            for field in re.split(r"^:param ", fields, flags=re.M):
                param, _, text = field.partition(":")
                own[param] = text.strip()
        session = "OAuth1Session" if name == "jira" else "OAuth2Session"
        lines = [intro.rstrip(), ""]
        for param in inspect.signature(factory).parameters:
            text = own.pop(param, None)
            if text is None and param in _COMMON_PARAMS:
                text = _COMMON_PARAMS[param].format(
                    NAME=name.upper(), name=name, session=session
                )
            if text is not None:
                lines.append(f":param {param}: {text}")
        if own:
            raise TypeError(f"Documented parameters not in the signature: {own}")
        lines.append(f":return: The blueprint; ``{name}`` is the proxy to its session.")
        factory.__doc__ = "\n".join(lines)
        return factory

    return decorate
