"""X, formerly Twitter: OAuth 2.0 with PKCE
(https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code),
or OAuth 1.0a for apps written for Flask-Dance 6 and earlier.

Which one a blueprint speaks is decided by the credentials it gets:

- ``client_id``/``client_secret``, or the ``TWITTER_OAUTH_CLIENT_ID`` config
  key: OAuth 2.0;
- ``api_key``/``api_secret``, or the ``TWITTER_OAUTH_CLIENT_KEY`` config key
  (Flask-Dance 6's name) without ``TWITTER_OAUTH_CLIENT_ID``: OAuth 1.0a, with
  Twitter's OAuth 1 endpoints and ``https://api.twitter.com/1.1/`` as the base
  URL, as Flask-Dance 6 had;
- both kinds at once: a :exc:`ValueError` naming them.

Arguments decide when the blueprint is made. Without them, the app's
configuration decides; it is only known once the blueprint meets an app, so
the blueprint (an OAuth 2.0 one until then) settles when it is registered,
and again when the configuration is first applied before a request, in case
the app set it after registering. Settling keeps the blueprint object, so
signal receivers connected to it and attributes set on it stay.
"""

from __future__ import annotations

import threading
import typing as t

from ..consumer.base import BaseOAuthConsumerBlueprint
from ..consumer.oauth1 import OAuth1ConsumerBlueprint
from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth1Session
from ..consumer.requests import OAuth2Session
from . import _base

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

    from flask.sansio.app import App

__maintainer__ = "Flask-Dance contributors"

_DEFAULT_SCOPE = ["tweet.read", "users.read"]
_TOKEN_URL = "https://api.x.com/2/oauth2/token"

#: Held while a blueprint changes protocol (the first requests may race).
_SETTLING = threading.Lock()

OAUTH1 = "OAuth 1.0a"
OAUTH2 = "OAuth 2.0"

#: The config keys that name each protocol's client.
_CLIENT_ID_KEY = "TWITTER_OAUTH_CLIENT_ID"
_CLIENT_KEY_KEY = "TWITTER_OAUTH_CLIENT_KEY"
_SECRET_KEY = "TWITTER_OAUTH_CLIENT_SECRET"

_BOTH_MSG = (
    "The Twitter blueprint got OAuth 2.0 credentials ({oauth2}) and OAuth 1.0a"
    " credentials ({oauth1}); give one kind only: 'client_id'/'client_secret'"
    f" or '{_CLIENT_ID_KEY}' for OAuth 2.0, 'api_key'/'api_secret' or"
    f" '{_CLIENT_KEY_KEY}' for OAuth 1.0a."
)


def _protocol(fixed: str | None, config: Mapping[str, t.Any]) -> str:
    """The protocol a Twitter blueprint speaks with this configuration.

    :param fixed: The protocol its arguments chose, if any.
    :param config: The app's configuration.
    """
    has_id = bool(config.get(_CLIENT_ID_KEY))
    has_key = bool(config.get(_CLIENT_KEY_KEY))
    if fixed == OAUTH1 and has_id:
        raise ValueError(
            _BOTH_MSG.format(oauth2=f"'{_CLIENT_ID_KEY}'", oauth1="'api_key'")
        )
    if fixed == OAUTH2 and has_key:
        raise ValueError(
            _BOTH_MSG.format(oauth2="'client_id'", oauth1=f"'{_CLIENT_KEY_KEY}'")
        )
    if fixed is not None:
        return fixed
    if has_id and has_key:
        raise ValueError(
            _BOTH_MSG.format(
                oauth2=f"'{_CLIENT_ID_KEY}'", oauth1=f"'{_CLIENT_KEY_KEY}'"
            )
        )
    if has_key or (_CLIENT_KEY_KEY in config and _CLIENT_ID_KEY not in config):
        # (an app that copies an unset environment variable into the key)
        return OAUTH1
    return OAUTH2


class _Settles(BaseOAuthConsumerBlueprint):
    """What both Twitter blueprint classes share: they can turn into each
    other once the app's configuration is known.

    The views are this class's, so that the URL rules, made once, call the
    protocol the blueprint speaks at the time.
    """

    #: The protocol chosen by the factory's arguments, if any.
    _fixed_protocol: str | None
    #: The factory's arguments, to build the other protocol's settings.
    _factory_args: dict[str, t.Any]

    @property
    def protocol(self) -> str:
        """``"OAuth 2.0"`` or ``"OAuth 1.0a"``."""
        return OAUTH1 if isinstance(self, OAuth1ConsumerBlueprint) else OAUTH2

    def login(self) -> t.Any:
        """The view that starts the dance."""
        return super().login()  # type: ignore[safe-super]

    def authorized(self) -> t.Any:
        """The view the provider sends the user back to."""
        return super().authorized()  # type: ignore[safe-super]

    def register(self, app: App, options: dict[str, t.Any]) -> None:
        """Settle the protocol with ``app``'s configuration, then register.

        :param app: The app.
        :param options: The registration options.
        """
        self._settle(app.config)
        super().register(app, options)

    def _apply_config(self, config: Mapping[str, t.Any]) -> None:
        self._settle(config)
        super()._apply_config(config)

    def _settle(self, config: Mapping[str, t.Any]) -> None:
        protocol = _protocol(self._fixed_protocol, config)
        if protocol != self.protocol:
            with _SETTLING:
                if protocol != self.protocol:
                    self._become(protocol)

    def _become(self, protocol: str) -> None:
        """Take the other protocol's settings and class, keeping everything
        the blueprint has as a Flask blueprint and a Flask-Dance one (its
        storage, configuration, hooks, routes and connection pool)."""
        fresh = _build(protocol, self._factory_args)
        kept = _shared_attributes()
        state = vars(self)
        for name, value in vars(fresh).items():
            if name not in kept:
                state[name] = value
        old_id, new_id = (
            ("client_id", "client_key")
            if protocol == OAUTH1
            else ("client_key", "client_id")
        )
        if old_id in self.from_config:
            del self.from_config[old_id]
        self.from_config[new_id] = (
            _CLIENT_KEY_KEY if protocol == OAUTH1 else _CLIENT_ID_KEY
        )
        self._detached.session = None
        self.__class__ = (
            TwitterOAuth1Blueprint if protocol == OAUTH1 else TwitterOAuth2Blueprint
        )


class TwitterOAuth2Blueprint(_Settles, OAuth2ConsumerBlueprint):
    """The Twitter blueprint while it speaks OAuth 2.0."""


class TwitterOAuth1Blueprint(_Settles, OAuth1ConsumerBlueprint):
    """The Twitter blueprint while it speaks OAuth 1.0a."""


class _Probe(BaseOAuthConsumerBlueprint):
    """A blueprint with only what every blueprint has, to tell those
    attributes from the protocol's."""

    login = authorized = _build_session = lambda self: None


_SHARED: set[str] = set()


#: Settings every blueprint has whose values depend on the protocol.
_PROTOCOL_SETTINGS = frozenset(
    ("base_url", "client_secret", "authorization_url", "session_class")
)


def _shared_attributes() -> set[str]:
    """The attributes every blueprint has, whatever its protocol, other
    than the protocol's settings."""
    if not _SHARED:
        _SHARED.update(vars(_Probe("probe", __name__)))
        _SHARED.difference_update(_PROTOCOL_SETTINGS)
        _SHARED.update(("_fixed_protocol", "_factory_args"))
    return _SHARED


def _is_oauth1_session(session_class: t.Any) -> bool:
    return isinstance(session_class, type) and issubclass(session_class, OAuth1Session)


def _build(protocol: str, args: dict[str, t.Any]) -> _Settles:
    """A Twitter blueprint for ``protocol``, from the factory's arguments."""
    common = {
        key: args[key]
        for key in (
            "redirect_url",
            "redirect_to",
            "redirect_uri",
            "login_url",
            "authorized_url",
            "storage",
            "rule_kwargs",
        )
    }
    session_class = args["session_class"]
    if session_class is not None and _is_oauth1_session(session_class) == (
        protocol == OAUTH1
    ):
        common["session_class"] = session_class
    blueprint: _Settles
    if protocol == OAUTH1:
        blueprint = TwitterOAuth1Blueprint(
            "twitter",
            __name__,
            client_key=args["api_key"],
            client_secret=args["api_secret"],
            base_url="https://api.twitter.com/1.1/",
            request_token_url="https://api.twitter.com/oauth/request_token",
            authorization_url="https://api.twitter.com/oauth/authorize",
            access_token_url="https://api.twitter.com/oauth/access_token",
            **common,
        )
        blueprint.from_config.update(
            {"client_key": _CLIENT_KEY_KEY, "client_secret": _SECRET_KEY}
        )
    else:
        scope = args["scope"] or _DEFAULT_SCOPE
        offline = "offline.access" in _base.scope_list(scope)
        blueprint = t.cast(
            _Settles,
            _base.oauth2_blueprint(
                "twitter",
                __name__,
                blueprint_class=TwitterOAuth2Blueprint,
                client_id=args["client_id"],
                client_secret=args["client_secret"],
                scope=scope,
                base_url="https://api.x.com/2/",
                authorization_url="https://x.com/i/oauth2/authorize",
                token_url=_TOKEN_URL,
                auto_refresh_url=_TOKEN_URL if offline else None,
                use_pkce=True,
                code_challenge_method="S256",
                **common,
            ),
        )
    return blueprint


@_base.preset_docs("twitter")
def make_twitter_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    api_key: str | None = None,
    api_secret: str | None = None,
    scope: _base.Scope = None,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | type[OAuth1Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint | OAuth1ConsumerBlueprint:
    """Make a blueprint for signing in with X (Twitter), with OAuth 2.0, or
    with OAuth 1.0a for apps written for Flask-Dance 6.

    For OAuth 2.0, in the developer portal
    (https://developer.x.com/en/portal/dashboard), set up "User
    authentication" for your app as a "Web App" (a confidential client) and
    add the ``authorized`` view to its callback URIs. Use the OAuth 2.0 client
    ID and secret, not the API key. PKCE is always on. API paths are relative
    to ``https://api.x.com/2/``, such as ``users/me``. Add ``offline.access``
    to the scopes to get a refresh token; tokens are then refreshed
    automatically.

    For OAuth 1.0a, pass the API key and secret as ``api_key`` and
    ``api_secret``, or set ``TWITTER_OAUTH_CLIENT_KEY`` and
    ``TWITTER_OAUTH_CLIENT_SECRET``: API paths are then relative to
    ``https://api.twitter.com/1.1/``, as in Flask-Dance 6.

    Without credentials, the app's configuration decides when the blueprint
    is registered: ``TWITTER_OAUTH_CLIENT_ID`` means OAuth 2.0,
    ``TWITTER_OAUTH_CLIENT_KEY`` alone OAuth 1.0a. Both kinds at once raise
    :exc:`ValueError`.

    :param api_key: The OAuth 1.0a API key (consumer key). Default: the
        ``TWITTER_OAUTH_CLIENT_KEY`` config value.
    :param api_secret: The OAuth 1.0a API secret (consumer secret). Default:
        the ``TWITTER_OAUTH_CLIENT_SECRET`` config value.
    :param scope: The OAuth 2.0 scopes to ask for. Default:
        ``["tweet.read", "users.read"]``.
    """
    args = dict(locals())
    oauth2_given = [name for name in ("client_id", "client_secret") if args[name]]
    oauth1_given = [name for name in ("api_key", "api_secret") if args[name]]
    if oauth2_given and oauth1_given:
        raise ValueError(
            _BOTH_MSG.format(
                oauth2=", ".join(f"'{name}'" for name in oauth2_given),
                oauth1=", ".join(f"'{name}'" for name in oauth1_given),
            )
        )
    fixed = OAUTH1 if oauth1_given else OAUTH2 if oauth2_given else None
    if fixed is None and session_class is not None:
        fixed = OAUTH1 if _is_oauth1_session(session_class) else None
    blueprint = _build(fixed or OAUTH2, args)
    blueprint._fixed_protocol = fixed
    blueprint._factory_args = args
    return t.cast("OAuth2ConsumerBlueprint | OAuth1ConsumerBlueprint", blueprint)


#: The session of the current request, for the ``twitter`` blueprint.
twitter: OAuth2Session = _base.session_proxy("twitter")  # type: ignore[assignment]
