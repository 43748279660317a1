"""The OAuth 2 consumer blueprint."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import logging
import secrets
import string
import time
import typing as t
import warnings
from html import escape
from urllib.parse import urlencode

import flask
import requests
from oauthlib.oauth2 import InsecureTransportError
from oauthlib.oauth2 import MissingCodeError
from oauthlib.oauth2 import OAuth2Error
from oauthlib.oauth2 import WebApplicationClient
from oauthlib.oauth2.rfc6749.utils import list_to_scope
from requests_oauthlib import OAuth2Session as _RequestsOAuth2Session
from werkzeug.wrappers import Response

from . import _backchannel
from . import _client_auth
from . import _logout_guard
from . import _openid
from . import _par
from . import _setup
from . import _token_endpoint
from ._basic_auth import ClientAuthError
from ._oidc_errors import OIDCError
from ._pending import DEFAULT_TTL
from ._pending import PendingLogin
from ._urls import is_secure_url
from ._urls import join_url
from ._urls import safe_next_url
from .base import BaseOAuthConsumerBlueprint
from .base import DEFAULT_TIMEOUT
from .base import oauth_before_login
from .requests import OAuth2Session

if t.TYPE_CHECKING:  # pragma: no cover
    from oauthlib.oauth2 import Client

    from .storage import BaseStorage

log: logging.Logger = logging.getLogger(__name__)


#: The exceptions a failed OpenID Connect check raises. Their module loads
#: without the ``oidc`` extra, so catching them imports neither PyJWT nor
#: cryptography.
OIDCErrorTypes: tuple[type[Exception], ...] = (OIDCError,)

#: What deciding the client authentication may raise: a configuration the
#: method cannot use, or failed discovery.
_CLIENT_AUTH_ERRORS: tuple[type[Exception], ...] = (ClientAuthError, *OIDCErrorTypes)

#: What pushing an authorization request may raise.
_PAR_ERRORS: tuple[type[Exception], ...] = (_par.PushRefused, *_CLIENT_AUTH_ERRORS)

#: The PKCE code challenge methods this blueprint accepts. ``plain`` is
#: refused: it protects nothing the state does not (RFC 9700 2.1.1).
_CHALLENGE_METHODS = ("S256",)

_DEFAULT_ID_TOKEN_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "Ed25519",
)

_NO_PENDING_LOGIN = (
    "The login could not be completed: it expired, was already used, or was"
    " started in another browser. Please try again."
)

#: A hidden field marking a form_post callback we posted again ourselves.
_REPOST_FIELD = "_flask_dance_repost"

_MISSING_CODE_MESSAGE = (
    "The redirect request did not contain the expected parameters. Instead I got: {}"
)

#: Older spellings of constructor arguments, from Flask-Dance's first
#: releases, and what they are called now.
_RENAMED_ARGUMENTS = {
    "client_key": "client_id",
    "access_token_url": "token_url",
    "authorize_url": "authorization_url",
}


#: The characters of a generated state, as oauthlib's ``generate_token``.
_STATE_CHARS = string.ascii_letters + string.digits
#: Maps each random byte to a character; the bytes the table does not cover
#: (the last 256 % 62) are dropped, so that each character is equally likely.
_STATE_TABLE = bytes.maketrans(
    bytes(range(256 - 256 % len(_STATE_CHARS))),
    (_STATE_CHARS * (256 // len(_STATE_CHARS))).encode("ascii"),
)
_STATE_DROPPED = bytes(range(256 - 256 % len(_STATE_CHARS), 256))


def _random_state(length: int = 30) -> str:
    """A new state: ``length`` characters from ``[A-Za-z0-9]`` (30 give
    about 178 bits), read from the OS's generator in one call rather than one
    call per character."""
    state = b""
    while len(state) < length:
        state += secrets.token_bytes(length + 8).translate(_STATE_TABLE, _STATE_DROPPED)
    return state[:length].decode("ascii")


_STOCK_AUTHORIZATION_URL = _RequestsOAuth2Session.authorization_url
# requests-oauthlib 2 made ``scope`` a property; 1.3 sets it per instance.
_STOCK_SCOPE = getattr(_RequestsOAuth2Session, "scope", None)
_STOCK_PREPARE_REQUEST_URI = WebApplicationClient.prepare_request_uri
_STOCK_FETCH_TOKEN = OAuth2Session.fetch_token
_STOCK_LIBRARY_FETCH_TOKEN = _RequestsOAuth2Session.fetch_token


def _fetch_token_is_stock(session: t.Any) -> bool:
    """Whether ``session.fetch_token`` is the library's own, not patched
    (as tests do with ``bp.session.fetch_token = Mock()``) or overridden."""
    return (
        "fetch_token" not in vars(session)
        and getattr(type(session), "fetch_token", None) is _STOCK_FETCH_TOKEN
        and _RequestsOAuth2Session.fetch_token is _STOCK_LIBRARY_FETCH_TOKEN
    )


def _plain_grant_uri_applies(url: str) -> bool:
    """Whether :func:`_grant_uri` builds for ``url`` what an unpatched
    :class:`~oauthlib.oauth2.WebApplicationClient` would: an endpoint with no
    query, fragment or path parameters of its own."""
    return (
        WebApplicationClient.prepare_request_uri is _STOCK_PREPARE_REQUEST_URI
        and not any(char in url for char in "?#;")
    )


def _grant_uri(
    url: str,
    client_id: str | None,
    redirect_uri: str | None,
    scope: t.Any,
    state: str,
    params: dict[str, t.Any],
) -> str:
    """The authorization request URL of the code grant (RFC 6749 4.1.1),
    with the parameters in the order and the encoding oauthlib gives them.

    :param url: The authorization endpoint, without a query.
    :param client_id: The client ID.
    :param redirect_uri: The callback URL.
    :param scope: The scope: a string or a list, set or tuple of strings.
    :param state: The state.
    :param params: ``code_challenge``, ``code_challenge_method`` and extra
        parameters; those with a false value are left out.
    """
    if not is_secure_url(url):
        raise InsecureTransportError()
    extra = dict(params)
    query: list[tuple[str, t.Any]] = [
        ("response_type", "code"),
        ("client_id", client_id),
    ]
    if redirect_uri:
        query.append(("redirect_uri", redirect_uri))
    if scope:
        query.append(("scope", list_to_scope(scope)))
    query.append(("state", state))
    challenge = extra.pop("code_challenge", None)
    method = extra.pop("code_challenge_method", "plain")
    if challenge is not None:
        query.append(("code_challenge", challenge))
        query.append(("code_challenge_method", method))
    query.extend((str(key), value) for key, value in extra.items() if value)
    return f"{url}?{urlencode(query)}"


def make_code_verifier() -> str:
    """Return a fresh PKCE code verifier: 64 characters from the unreserved
    set, about 380 bits of entropy (RFC 7636 4.1)."""
    return secrets.token_urlsafe(48)


def make_code_challenge(verifier: str) -> str:
    """Return the S256 code challenge of ``verifier`` (RFC 7636 4.2).

    :param verifier: A code verifier.
    """
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OAuth2ConsumerBlueprint(BaseOAuthConsumerBlueprint):
    """A blueprint that signs users in with an OAuth 2 provider and gives the
    app a :class:`requests.Session` to call the provider's API with their
    token.

    Register it on the app; its ``login`` view starts the dance and its
    ``authorized`` view finishes it. Each login uses a fresh state and PKCE
    (S256), remembered in the user's session until the provider sends the user
    back; several logins may be pending at once.
    """

    def __init__(
        self,
        name: str,
        import_name: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        client: Client | None = None,
        auto_refresh_url: str | None = None,
        auto_refresh_kwargs: dict[str, t.Any] | None = None,
        scope: str | list[str] | tuple[str, ...] | None = None,
        state: str | t.Callable[[], str] | None = None,
        static_folder: str | None = None,
        static_url_path: str | None = None,
        template_folder: str | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, t.Any] | None = None,
        root_path: str | None = None,
        login_url: str | None = None,
        authorized_url: str | None = None,
        base_url: str | None = None,
        authorization_url: str | None = None,
        authorization_url_params: dict[str, t.Any] | None = None,
        token_url: str | None = None,
        token_url_params: dict[str, t.Any] | None = None,
        redirect_url: str | None = None,
        redirect_to: str | None = None,
        session_class: type[OAuth2Session] | None = None,
        storage: BaseStorage | t.Callable[[], BaseStorage] | None = None,
        rule_kwargs: dict[str, t.Any] | None = None,
        use_pkce: bool = True,
        code_challenge_method: str = "S256",
        redirect_uri: str | None = None,
        timeout: float | tuple[float, float] | None = DEFAULT_TIMEOUT,
        pending_login_ttl: float = DEFAULT_TTL,
        issuer: str | None = None,
        userinfo_url: str | None = None,
        revocation_url: str | None = None,
        end_session_url: str | None = None,
        jwks_url: str | None = None,
        max_age: int | None = None,
        response_mode: str | None = None,
        id_token_algorithms: t.Collection[str] | None = None,
        trusted_audiences: t.Collection[str] = (),
        post_logout_redirect_uri: str | None = None,
        logout_url: str | None = None,
        logged_out_url: str | None = None,
        logout: bool = False,
        token_endpoint_auth_method: str | None = None,
        client_signing_key: t.Any = None,
        client_signing_key_id: str | None = None,
        client_assertion_audience: str | None = None,
        introspection_url: str | None = None,
        use_par: bool | None = None,
        par_url: str | None = None,
        backchannel_logout: bool = False,
        backchannel_logout_url: str | None = None,
        backchannel_logout_store: _backchannel.LogoutStore | None = None,
        dpop: bool | None = None,
        **kwargs: t.Any,
    ) -> None:
        """
        :param name: The blueprint's name.
        :param import_name: The import name, usually ``__name__``.
        :param client_id: The client ID from the provider.
        :param client_secret: The client secret from the provider.
        :param client: An :class:`oauthlib.oauth2.Client` to use instead of a
            :class:`~oauthlib.oauth2.WebApplicationClient`. Each session gets
            its own copy.
        :param auto_refresh_url: Where to refresh tokens; default
            ``token_url``.
        :param auto_refresh_kwargs: Extra fields for the refresh request body.
        :param scope: The scope to ask for.
        :param state: A callable returning a state, or a fixed state (a fixed
            state is still single-use, but predictable: only for tests).
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
        :param base_url: The provider's API root. Relative request URLs,
            ``authorization_url`` and ``token_url`` are resolved against it.
        :param authorization_url: The provider's authorization endpoint.
        :param authorization_url_params: Extra query parameters for it.
        :param token_url: The provider's token endpoint.
        :param token_url_params: Extra arguments for
            :meth:`~requests_oauthlib.OAuth2Session.fetch_token`.
        :param redirect_url: Where to send the user after logging in.
        :param redirect_to: An endpoint to send the user to after logging in,
            used when ``redirect_url`` is not set. Default: ``/``.
        :param session_class: The session class; default
            :class:`~flask_dance.consumer.requests.OAuth2Session`.
        :param storage: The token storage; default
            :class:`~flask_dance.consumer.storage.session.SessionStorage`.
        :param rule_kwargs: Extra keyword arguments for both URL rules.
        :param use_pkce: Use PKCE (RFC 7636). On by default.
        :param code_challenge_method: Only ``"S256"`` is accepted.
        :param redirect_uri: The absolute callback URL to register with the
            provider and send to it. Default: built with
            :func:`flask.url_for` from the request (set ``SERVER_NAME`` or
            this when the app runs behind a proxy).
        :param timeout: Timeout, in seconds, of every request to the provider.
        :param pending_login_ttl: How long, in seconds, a started login may
            take before its callback is refused.
        :param issuer: The OpenID Connect issuer. Its metadata is discovered
            on first use; endpoints not given here come from it, and the
            id_token of every login is validated against it.
        :param userinfo_url: The userinfo endpoint (default: discovered).
        :param revocation_url: The RFC 7009 revocation endpoint (default:
            discovered).
        :param end_session_url: The RP-initiated logout endpoint (default:
            discovered).
        :param jwks_url: The provider's key set (default: discovered).
        :param max_age: Ask the provider to re-authenticate users whose last
            login is older than this many seconds, and check ``auth_time``.
        :param response_mode: ``"form_post"`` to receive the callback as a
            POST (needed by Apple when asking for name or email).
        :param id_token_algorithms: The id_token signature algorithms accepted
            (default: RSA, RSA-PSS, ECDSA and EdDSA; never ``none``).
        :param trusted_audiences: Audiences besides the client id an id_token
            may name.
        :param post_logout_redirect_uri: Where the provider sends the user
            after RP-initiated logout (default: the ``logged_out`` view).
        :param logout_url: The rule of the logout view; default
            ``/{bp.name}/logout``. Giving it turns the logout routes on.
        :param logged_out_url: The rule of the view the provider sends the user
            back to after logout; default ``/{bp.name}/logged-out``. Giving it
            turns the logout routes on.
        :param logout: Register the ``logout`` and ``logged_out`` routes.
            Off by default, so that the blueprint has Flask-Dance 7.1's two
            routes; on when ``logout_url`` or ``logged_out_url`` is given.
        :param token_endpoint_auth_method: How the client authenticates on
            every call to the token endpoint, revocation, introspection and
            PAR: ``"client_secret_basic"``, ``"client_secret_post"``,
            ``"client_secret_jwt"``, ``"private_key_jwt"`` or ``"none"``.
            Default: with an ``issuer``, the first method of the provider's
            ``token_endpoint_auth_methods_supported`` this blueprint has a
            secret or key for; without one, Flask-Dance 7.1's behaviour
            (Basic with the client secret).
        :param client_signing_key: The private key of ``private_key_jwt``: PEM text,
            a private JWK (a dict or its JSON text; its ``kid`` and ``alg``
            are used), or a :mod:`cryptography` key object.
        :param client_signing_key_id: The ``kid`` to send, when the key has none.
        :param client_assertion_audience: The ``aud`` of JWT client
            assertions. Default: the issuer, else the token endpoint URL.
        :param introspection_url: The RFC 7662 introspection endpoint
            (default: discovered).
        :param use_par: Push each authorization request to the provider
            (RFC 9126) and send the browser only a ``request_uri``. Default:
            when the provider's metadata says
            ``require_pushed_authorization_requests``.
        :param par_url: The PAR endpoint (default: discovered).
        :param backchannel_logout: Add the ``backchannel_logout`` route (a
            POST), where the provider sends logout tokens (OpenID Connect
            Back-Channel Logout 1.0). Needs ``issuer``.
        :param backchannel_logout_url: Its rule; default
            ``/{bp.name}/backchannel-logout``.
        :param backchannel_logout_store: Where logouts are remembered for
            every process of the app: a
            :class:`~flask_dance.consumer.CacheLogoutStore` over the app's
            cache, say. Default: this process's memory.
        :param dpop: Bind tokens to a key kept with each stored token (DPoP,
            RFC 9449): proofs on the code exchange, every refresh and every
            API call through the session. Default (``None``): only when the
            provider's token endpoint asks for a DPoP proof.
        :param kwargs: Passed to ``session_class``. The older spellings
            ``client_key``, ``access_token_url``, ``authorize_url`` and
            ``request_token_params`` are accepted with a
            :class:`DeprecationWarning`.
        """
        renamed = {
            old: kwargs.pop(old) for old in list(_RENAMED_ARGUMENTS) if old in kwargs
        }
        request_token_params = kwargs.pop("request_token_params", None)
        super().__init__(
            name,
            import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            url_prefix=url_prefix,
            subdomain=subdomain,
            url_defaults=url_defaults,
            root_path=root_path,
            login_url=login_url,
            authorized_url=authorized_url,
            storage=storage,
            rule_kwargs=rule_kwargs,
            timeout=timeout,
            pending_login_ttl=pending_login_ttl,
        )
        if code_challenge_method not in _CHALLENGE_METHODS:
            raise ValueError(
                f"Unsupported code_challenge_method {code_challenge_method!r}:"
                " only 'S256' is allowed ('plain' offers no protection)."
                " Pass use_pkce=False to turn PKCE off."
            )

        #: The provider's API root.
        self.base_url = base_url
        #: The class of the per-request sessions.
        self.session_class: type[OAuth2Session] = session_class or OAuth2Session
        self._client_id = client_id
        #: The oauthlib client each session copies, or ``None``.
        self.client = client
        #: Where expired tokens are refreshed.
        self.auto_refresh_url = auto_refresh_url
        #: Extra fields of the refresh request.
        self.auto_refresh_kwargs = auto_refresh_kwargs
        #: The scope asked for.
        self.scope: str | list[str] | tuple[str, ...] | None = scope
        #: A fixed state or a state factory; ``None`` for a random state.
        self.state = state
        #: Keyword arguments for ``session_class``.
        self.kwargs = kwargs
        #: The client secret.
        self.client_secret = client_secret
        #: The provider's authorization endpoint.
        self.authorization_url = authorization_url
        #: Extra query parameters of the authorization request.
        self.authorization_url_params: dict[str, t.Any] = dict(
            authorization_url_params or {}
        )
        #: The provider's token endpoint.
        self.token_url = token_url
        #: Extra arguments for the token request.
        self.token_url_params: dict[str, t.Any] = dict(token_url_params or {})
        #: Where to go after logging in.
        self.redirect_url = redirect_url
        #: The endpoint to go to after logging in.
        self.redirect_to = redirect_to
        #: The PKCE challenge method.
        self.code_challenge_method = code_challenge_method
        #: Whether PKCE is used.
        self.use_pkce = use_pkce
        #: A fixed callback URL, or ``None`` to build it per request.
        self.redirect_uri = redirect_uri
        #: The OpenID Connect issuer, or ``None``.
        self.issuer = issuer
        #: The userinfo endpoint, if not discovered.
        self.userinfo_url = userinfo_url
        #: The revocation endpoint, if not discovered.
        self.revocation_url = revocation_url
        #: The end-session endpoint, if not discovered.
        self.end_session_url = end_session_url
        #: The key set URL, if not discovered.
        self.jwks_url = jwks_url
        #: ``max_age`` for OpenID Connect logins.
        self.max_age = max_age
        #: The response mode asked for, such as ``"form_post"``.
        self.response_mode = response_mode
        #: The id_token signature algorithms accepted.
        self.id_token_algorithms: t.Collection[str] = tuple(
            id_token_algorithms or _DEFAULT_ID_TOKEN_ALGORITHMS
        )
        #: Audiences besides the client id an id_token may name.
        self.trusted_audiences: tuple[str, ...] = tuple(trusted_audiences)
        #: Where the provider sends the user after logout.
        self.post_logout_redirect_uri = post_logout_redirect_uri
        #: How the client authenticates to the token-side endpoints; ``None``
        #: to discover it (with an issuer) or do as Flask-Dance 7.1 did.
        self.token_endpoint_auth_method = token_endpoint_auth_method
        #: The private key of ``private_key_jwt`` (PEM, JWK or key object).
        self.client_signing_key: t.Any = client_signing_key
        #: The ``kid`` sent with assertions when the key names none.
        self.client_signing_key_id = client_signing_key_id
        #: The ``aud`` of JWT client assertions; default the issuer.
        self.client_assertion_audience = client_assertion_audience
        #: The introspection endpoint, if not discovered.
        self.introspection_url = introspection_url
        #: Push authorization requests (RFC 9126); ``None``: when required.
        self.use_par = use_par
        #: The PAR endpoint, if not discovered.
        self.par_url = par_url
        #: Whether the back-channel logout route is on.
        self.backchannel_logout = backchannel_logout
        #: Where back-channel logouts are remembered.
        self.backchannel_logout_store: _backchannel.LogoutStore = (
            backchannel_logout_store or _backchannel.MemoryLogoutStore()
        )
        #: Whether tokens are DPoP-bound; ``None``: when the provider asks.
        self.dpop = dpop
        self._dpop_nonces: t.Any = None
        #: How long logout records and seen ``jti`` values are kept, seconds.
        self.backchannel_logout_ttl: float = _backchannel.DEFAULT_RECORD_TTL
        if backchannel_logout and not issuer:
            raise ValueError(
                "backchannel_logout=True needs the provider's 'issuer' to"
                " validate logout tokens."
            )
        if issuer is not None:
            from .oidc import require_oidc_dependencies

            require_oidc_dependencies()
        #: Whether the ``logout`` and ``logged_out`` routes are registered.
        self.logout_routes = bool(
            logout or logout_url is not None or logged_out_url is not None
        )
        rule_options = rule_kwargs or {}
        if self.logout_routes:
            self.add_url_rule(
                (logout_url or "/{bp.name}/logout").format(bp=self),
                endpoint="logout",
                view_func=self._logout_view,
                methods=["GET", "POST"],
                **rule_options,
            )
            self.add_url_rule(
                (logged_out_url or "/{bp.name}/logged-out").format(bp=self),
                endpoint="logged_out",
                view_func=self.logged_out,
                **rule_options,
            )
        if backchannel_logout:
            self.add_url_rule(
                (backchannel_logout_url or "/{bp.name}/backchannel-logout").format(
                    bp=self
                ),
                endpoint="backchannel_logout",
                view_func=self.receive_backchannel_logout,
                methods=["POST"],
                **rule_options,
            )

        self._apply_renamed_arguments(renamed, request_token_params)

    def _apply_renamed_arguments(
        self, renamed: dict[str, t.Any], request_token_params: t.Any
    ) -> None:
        for old, value in renamed.items():
            new = _RENAMED_ARGUMENTS[old]
            warnings.warn(
                f"'{old}' is the old name of '{new}'; use '{new}'.",
                DeprecationWarning,
                stacklevel=4,
            )
            if new == "client_id":
                self._client_id = value
            else:
                setattr(self, new, value)
        if request_token_params is not None:
            warnings.warn(
                "'request_token_params' is the old way to pass them; use 'scope'"
                " and 'authorization_url_params'.",
                DeprecationWarning,
                stacklevel=4,
            )
            params = dict(request_token_params)
            if "scope" in params:
                self.scope = params.pop("scope")
            self.authorization_url_params.update(params)

    # -- the session --------------------------------------------------------------

    if t.TYPE_CHECKING:  # pragma: no cover

        @property
        def session(self) -> OAuth2Session:
            """The :class:`~flask_dance.consumer.requests.OAuth2Session` of
            the current request."""

        @session.setter
        def session(self, value: OAuth2Session) -> None: ...

        @session.deleter
        def session(self) -> None: ...

    @property
    def client_id(self) -> str | None:
        """The client ID. Assigning it also updates the current session."""
        return self._client_id

    @client_id.setter
    def client_id(self, value: str | None) -> None:
        self._client_id = value
        session = self._current_session()
        if session is not None:
            session.client_id = value
            session._client.client_id = value

    def _build_session(self) -> OAuth2Session:
        client = None
        if self.client is not None:
            client = copy.copy(self.client)
            if self._client_id is not None:
                client.client_id = self._client_id
        session = self.session_class(
            client_id=self._client_id,
            client=client,
            auto_refresh_url=self.auto_refresh_url,
            auto_refresh_kwargs=self.auto_refresh_kwargs,
            scope=self.scope,
            state=self.state,
            blueprint=self,
            base_url=self.base_url,
            **self.kwargs,
        )

        def token_updater(token: t.Any) -> None:
            self.token = token

        session.token_updater = token_updater
        return self.session_created(session)

    def session_created(self, session: OAuth2Session) -> OAuth2Session:
        """A hook to adjust each new session; returns it.

        :param session: The new session.
        """
        return session

    def _authorized_methods(self) -> list[str]:
        return ["GET", "POST"]

    # -- URLs and endpoints ---------------------------------------------------------

    def _absolute(self, url: str | None) -> str:
        if not url:
            raise RuntimeError(
                f"The blueprint {self.name!r} has no URL for this endpoint:"
                " pass 'authorization_url' and 'token_url' (or 'issuer') to the"
                " blueprint."
            )
        return join_url(self.base_url, url)

    def _endpoint(self, name: str) -> str:
        return self._absolute(_openid.endpoint(self, name))

    def _redirect_uri(self) -> str:
        if self.redirect_uri:
            return self.redirect_uri
        return flask.url_for(".authorized", _external=True)

    def _refresh_endpoint(self) -> str | None:
        """Where tokens are refreshed: the token endpoint, if known."""
        try:
            url = _openid.endpoint(self, "token")
        except OIDCErrorTypes:
            return None
        return join_url(self.base_url, url) if url else None

    def _new_state(self) -> str:
        if callable(self.state):
            return self.state()
        if self.state:
            return self.state
        return _random_state()

    @property
    def is_openid(self) -> bool:
        """Whether logins are OpenID Connect logins: an issuer is set, or the
        scope asks for ``openid``. Such logins send a nonce; their id_token is
        validated when :attr:`issuer` is set (without an issuer, such as
        Azure's multi-tenant ``common`` endpoint, it is stored unvalidated and
        no claims are added)."""
        return bool(self.issuer) or _openid.scope_has_openid(self.scope)

    # -- views --------------------------------------------------------------------

    def login(self) -> t.Any:
        """Start the dance: remember a new pending login and redirect the
        user to the provider."""
        self._refresh_config()
        _setup.check_credentials(self)
        _setup.check_issuer_transport(self)
        try:
            authorization_url = self._endpoint("authorization")
        except OIDCErrorTypes as exc:
            return self._fail(
                f"discovery failed: {exc}",
                error=getattr(exc, "error", "discovery_failed"),
                error_description=str(exc),
                error_uri=None,
            )
        redirect_uri = self._redirect_uri()
        params = dict(self.authorization_url_params)
        verifier = nonce = None
        if self.use_pkce:
            verifier = make_code_verifier()
            params["code_challenge"] = make_code_challenge(verifier)
            params["code_challenge_method"] = self.code_challenge_method
        if self.is_openid:
            nonce = _openid.new_nonce()
            params["nonce"] = nonce
            if self.max_age is not None:
                params["max_age"] = str(self.max_age)
        if self.response_mode:
            params["response_mode"] = self.response_mode
        try:
            url, state = self._authorization_request(
                authorization_url, redirect_uri, self._new_state(), params
            )
        except InsecureTransportError as exc:
            what = f"the authorization URL {authorization_url!r}"
            _setup.refuse_insecure_transport(what, exc)
        try:
            if self.use_par is not False and _par.applies(self):
                url = _par.push(self, authorization_url, url)
        except _PAR_ERRORS as exc:
            return self._fail(
                f"the pushed authorization request failed: {exc}",
                error=getattr(exc, "error", "par_failed"),
                error_description=getattr(exc, "description", str(exc)),
                error_uri=None,
            )
        self.pending_logins.add(
            PendingLogin(
                key=state,
                created_at=time.time(),
                code_verifier=verifier,
                nonce=nonce,
                next_url=self._requested_next_url(),
                redirect_uri=redirect_uri,
                max_age=self.max_age,
            )
        )
        log.debug("Sending the user to %r's authorization endpoint.", self.name)
        oauth_before_login.send(self, url=url)
        return flask.redirect(url)

    def _authorization_request(
        self, url: str, redirect_uri: str, state: str, params: dict[str, t.Any]
    ) -> tuple[str, str]:
        """Return the authorization URL and the state.

        The session builds it, unless nothing could tell the difference: then
        the oauthlib client the session would have builds the same URL, and
        no session is made for a view that does not otherwise need one.
        """
        if state and self._login_needs_no_session():
            if self.client is None and _plain_grant_uri_applies(url):
                uri = _grant_uri(
                    url, self._client_id, redirect_uri, self.scope, state, params
                )
                return uri, state
            client: t.Any = None
            if self.client is not None:
                client = copy.copy(self.client)
                if self._client_id is not None:
                    client.client_id = self._client_id
            else:
                # As the session does, even without a client ID.
                client = WebApplicationClient(self._client_id)  # type: ignore[arg-type]
            scope = self.scope if self.scope is not None else client.scope
            uri = client.prepare_request_uri(
                url, redirect_uri=redirect_uri, scope=scope, state=state, **params
            )
            return uri, state
        session = self.session
        session.redirect_uri = redirect_uri
        url, state = session.authorization_url(url, state=state, **params)
        return url, state

    def _login_needs_no_session(self) -> bool:
        """Whether a session built for the login would only call its
        oauthlib client: stock session class, session building and hooks, no
        ``session.*`` configuration, no session of this context or detached
        one (a test may have patched it), and no ``oauth_before_login``
        receiver (it may look at the session)."""
        cls = self.session_class
        kind = type(self)
        return (
            getattr(cls, "authorization_url", None) is _STOCK_AUTHORIZATION_URL
            and getattr(cls, "scope", None) is _STOCK_SCOPE
            and kind.session_created is OAuth2ConsumerBlueprint.session_created
            and kind._build_session is OAuth2ConsumerBlueprint._build_session
            and kind._make_session is BaseOAuthConsumerBlueprint._make_session
            and not self.kwargs
            and not oauth_before_login.receivers
            and self._detached_session is None
            and self._current_session() is None
            and not self._session_bindings()
        )

    def _callback_params(self) -> t.Mapping[str, str]:
        if flask.request.method == "POST":
            return flask.request.form
        return flask.request.args

    def _callback_url(self) -> str:
        if flask.request.method == "POST":
            fields = [
                (key, value)
                for key, value in flask.request.form.items(multi=True)
                if key != _REPOST_FIELD
            ]
            return flask.request.base_url + "?" + urlencode(fields)
        return flask.request.url

    def authorized(self) -> t.Any:
        """Finish the dance: check the state, exchange the code for a token,
        validate the id_token of an OpenID Connect login, send
        :data:`~flask_dance.consumer.oauth_authorized`, store the token and
        redirect."""
        self._refresh_config()
        params = self._callback_params()
        state = params.get("state")
        if "error" in params:
            self.pending_logins.consume(state)
            return self._fail(
                f"the provider answered {params['error']!r}",
                error=params["error"],
                error_description=params.get("error_description"),
                error_uri=params.get("error_uri"),
                message=params.get("error_description")
                or f"The provider refused the login ({params['error']}).",
            )
        if (
            flask.request.method == "POST"
            and _REPOST_FIELD not in params
            and not self.pending_logins.has_key(state)
        ):
            # A cross-site POST arrives without the SameSite=Lax session
            # cookie; posting it again from our own page brings the cookie.
            return _repost_page(flask.request.base_url, params)
        pending = self.pending_logins.consume(state)
        if pending is None:
            return self._no_pending_login(
                "the callback's state matches no pending login",
                error="invalid_state",
                error_description=_NO_PENDING_LOGIN,
            )
        if "code" not in params:
            exc = MissingCodeError(description="Missing code parameter in response.")
            exc.args = (
                exc.args[0] if exc.args else "",
                _MISSING_CODE_MESSAGE.format(json.dumps(dict(params))),
            )
            raise exc
        if not params.get("code"):
            return self._fail(
                "the callback's code is empty",
                error="invalid_request",
                error_description="The provider sent back an empty code.",
                error_uri=None,
            )
        try:
            # (``in`` first: werkzeug's MultiDict.get raises and catches a
            # KeyError for a missing key, and most providers send no ``iss``.)
            issuer = params.get("iss") if "iss" in params else None
            _openid.check_callback_issuer(self, issuer)
            token_url = self._endpoint("token")
        except OIDCErrorTypes as exc:
            return self._oidc_failure(exc)
        return self._exchange_code(pending, token_url, params.get("code"))

    def _exchange_client_auth(
        self, token_url: str, token_params: dict[str, t.Any]
    ) -> _client_auth.ClientAuth | None:
        """The client authentication of the code exchange; ``None`` for
        Flask-Dance 7.1's. An ``auth`` or ``include_client_id`` in
        ``token_url_params`` is the app's (or preset's) own choice, which
        only a configured ``token_endpoint_auth_method`` overrides."""
        own = ("auth", "include_client_id")
        if any(key in token_params for key in own):
            if _client_auth.configured_method(self) is None:
                return None
            for key in own:
                token_params.pop(key, None)
        return _client_auth.for_request(self, token_url, keep_legacy=True)

    def _stored_token(self) -> t.Any:
        token = super()._stored_token()
        if token and self.backchannel_logout:
            return _backchannel.check_token(self, token)
        return token

    def receive_backchannel_logout(self) -> t.Any:
        """The ``backchannel_logout`` view: validate the provider's logout
        token, forget the user's tokens, tell the app with
        :data:`~flask_dance.consumer.oauth_backchannel_logout`, and answer
        200, or 400 with an error object."""
        self._refresh_config()
        return _backchannel.receive(self)

    def _client_auth_failure(self, exc: Exception) -> t.Any:
        return self._fail(
            f"the client cannot authenticate: {exc}",
            error=getattr(exc, "error", "invalid_client"),
            error_description=str(exc),
            error_uri=None,
        )

    def _oidc_failure(self, exc: Exception) -> t.Any:
        return self._fail(
            f"OpenID Connect check failed: {getattr(exc, 'error', exc)}",
            error=getattr(exc, "error", "invalid_id_token"),
            error_description=str(exc),
            error_uri=None,
        )

    def _exchange_code(
        self, pending: PendingLogin, token_url: str, code: str | None
    ) -> t.Any:
        session = self.session
        session._token_response = None
        session._state = pending.key
        session.redirect_uri = pending.redirect_uri or self._redirect_uri()
        token_params = dict(self.token_url_params)
        if pending.code_verifier:
            token_params["code_verifier"] = pending.code_verifier
        try:
            client_auth = self._exchange_client_auth(token_url, token_params)
        except _CLIENT_AUTH_ERRORS as exc:
            return self._client_auth_failure(exc)
        dpop_key = None
        try:
            if code and _fetch_token_is_stock(session):
                # The state was checked against the pending login already:
                # hand over the code rather than the callback URL to parse.
                token, dpop_key = self._fetch_code_token(
                    session, token_url, code, token_params, client_auth
                )
            else:
                # As Flask-Dance 7.1 called it, for a patched fetch_token.
                auth_kwargs: dict[str, t.Any] = {"client_secret": self.client_secret}
                if client_auth is not None:
                    auth_kwargs = client_auth.fetch_token_kwargs(self.client_secret)
                token = session.fetch_token(
                    token_url,
                    authorization_response=self._callback_url(),
                    **auth_kwargs,
                    **token_params,
                )
        except InsecureTransportError as exc:
            what = f"the token URL {token_url!r} or the callback URL"
            _setup.refuse_insecure_transport(what, exc)
        except OAuth2Error as exc:
            return self._fail(
                f"the token endpoint answered {exc.error!r}",
                error=exc.error,
                error_description=exc.description,
                error_uri=exc.uri,
                response=_token_response(session, exc),
            )
        except (requests.RequestException, ValueError) as exc:
            return self._fail(
                f"the token request failed ({type(exc).__name__})",
                error="token_request_failed",
                error_description=(
                    "The provider's token endpoint could not be reached or gave"
                    " an answer that is not a token."
                ),
                response=_token_response(session, exc),
            )
        if self.issuer and isinstance(token, dict):
            try:
                claims = _openid.validate_login_token(
                    self,
                    token,
                    nonce=pending.nonce,
                    max_age=pending.max_age,
                    code=code,
                )
            except OIDCErrorTypes as exc:
                session.token = None
                return self._oidc_failure(exc)
            token = dict(token)
            token[_openid.CLAIMS_KEY] = claims
            session.token = token
        if dpop_key is not None and isinstance(token, dict):
            # The key goes wherever the token goes (sealed with it).
            token = {**token, _token_endpoint.DPOP_KEY_FIELD: dpop_key}
            session.token = token
        return self._finish_login(token, pending.next_url)

    def _fetch_code_token(
        self,
        session: OAuth2Session,
        token_url: str,
        code: str,
        token_params: dict[str, t.Any],
        client_auth: _client_auth.ClientAuth | None,
    ) -> tuple[t.Any, dict[str, str] | None]:
        """Exchange the code, with a DPoP proof when DPoP is on; left to
        ``None``, once more with one when the provider asks for DPoP.
        Return the token and the DPoP key it is bound to, if any."""
        dpop_key = self._new_dpop_key() if self.dpop else None
        while True:
            try:
                token = session._fetch_token_for_code(
                    token_url,
                    code,
                    client_secret=self.client_secret,
                    params=token_params,
                    client_auth=client_auth,
                    prover=self._dpop_prover(dpop_key),
                )
            except OAuth2Error as exc:
                if dpop_key is not None or self.dpop is not None:
                    raise
                if not self._may_want_dpop(exc):
                    raise
                log.info(
                    "%r's token endpoint asks for DPoP; sending a proof.", self.name
                )
                dpop_key = self._new_dpop_key()
                client_auth = client_auth.renewed() if client_auth else None
                continue
            kind = token.get("token_type") if isinstance(token, t.Mapping) else None
            return token, dpop_key if str(kind).lower() == "dpop" else None

    def _may_want_dpop(self, exc: OAuth2Error) -> bool:
        """Whether a refused proof-less code exchange may be for want of a
        DPoP proof: the error says so, or the provider supports DPoP and
        answered ``invalid_grant`` (as servers that hide the reason do)."""
        if _asks_for_dpop(exc):
            return True
        if exc.error not in ("invalid_grant", "invalid_request"):
            return False
        try:
            meta = _openid.metadata(self)
        except OIDCErrorTypes:
            return False
        return bool(meta is not None and meta.get("dpop_signing_alg_values_supported"))

    def _new_dpop_key(self) -> dict[str, str]:
        from . import _dpop

        return _dpop.new_key()

    def _dpop_prover(self, token: t.Any) -> _token_endpoint.Prover | None:
        """The DPoP proof maker of a token's key (or of a bare key)."""
        if not isinstance(token, t.Mapping):
            return None
        jwk = token.get(_token_endpoint.DPOP_KEY_FIELD, token)
        if not isinstance(jwk, t.Mapping) or "d" not in jwk:
            return None
        from . import _dpop

        nonces = self._dpop_nonces
        if nonces is None:
            nonces = self._dpop_nonces = _dpop.Nonces()
        return _dpop.Prover(jwk, nonces)

    # -- OpenID Connect, revocation and logout --------------------------------------

    def _validate_refreshed_token(
        self, old: t.Mapping[str, t.Any], new: dict[str, t.Any]
    ) -> None:
        if self.issuer:
            _openid.validate_refreshed_token(self, old, new)

    @property
    def id_token_claims(self) -> dict[str, t.Any] | None:
        """The validated id_token claims of the current user's login, or
        ``None``. Inside an :data:`~flask_dance.consumer.oauth_authorized`
        receiver, read ``token["id_token_claims"]`` instead."""
        token = self.token
        if isinstance(token, t.Mapping):
            claims = token.get(_openid.CLAIMS_KEY)
            return dict(claims) if isinstance(claims, t.Mapping) else None
        return None

    def userinfo(self) -> dict[str, t.Any]:
        """Fetch the current user's claims from the provider's userinfo
        endpoint. Their ``sub`` must equal the id_token's.

        :raises flask_dance.consumer.oidc.OIDCError: on a ``sub`` mismatch.
        :raises requests.HTTPError: when the endpoint answers an error.
        """
        response = self.session.get(self._endpoint("userinfo"))
        response.raise_for_status()
        info: dict[str, t.Any] = response.json()
        claims = self.id_token_claims
        if claims is not None:
            from .oidc import check_userinfo

            check_userinfo(info, claims)
        return info

    def revoke_token(self, token: t.Mapping[str, t.Any] | None = None) -> bool:
        """Revoke the current user's token (or ``token``) at the provider
        (RFC 7009): the refresh token if there is one, else the access token.

        :param token: The token to revoke; default: the stored one.
        :return: Whether the provider confirmed the revocation. ``False`` also
            when the provider has no revocation endpoint or is unreachable.
        """
        if token is None:
            token = self.token
        if not isinstance(token, t.Mapping):
            return False
        try:
            url = _openid.endpoint(self, "revocation")
        except OIDCErrorTypes:
            return False
        if not url:
            return False
        hint = "refresh_token" if token.get("refresh_token") else "access_token"
        value = token.get(hint)
        if not value:
            return False
        response = self._token_side_post(
            "revocation", url, {"token": value, "token_type_hint": hint}
        )
        if response is None:
            return False
        if response.status_code != 200:
            log.warning(
                "%r's revocation endpoint answered HTTP %s.",
                self.name,
                response.status_code,
            )
            return False
        return True

    def _token_side_post(
        self, what: str, url: str, fields: dict[str, str]
    ) -> requests.Response | None:
        """POST to a token-side endpoint other than the token endpoint,
        authenticated the blueprint's way; ``None`` (logged) when the request
        could not be made."""
        target = self._absolute(url)
        try:
            client_auth = _client_auth.for_request(self, target, keep_legacy=False)
            return _token_endpoint.post(
                self.session, target, fields, client_auth=client_auth
            )
        except _CLIENT_AUTH_ERRORS as exc:
            log.warning(
                "Cannot authenticate to %r's %s endpoint: %s", self.name, what, exc
            )
        except requests.RequestException:
            log.warning("Could not reach %r's %s endpoint.", self.name, what)
        return None

    def introspect_token(
        self, token: str | None = None, token_type_hint: str = "access_token"
    ) -> dict[str, t.Any] | None:
        """Ask the provider about a token (RFC 7662 token introspection),
        authenticated as every token-side call is.

        :param token: The token; default: the current user's access token.
        :param token_type_hint: ``"access_token"`` or ``"refresh_token"``.
        :return: The provider's answer (``{"active": false}`` for a dead
            token), or ``None`` when there is no token, no introspection
            endpoint, or no usable answer.
        """
        if token is None:
            stored = self.token
            token = (
                stored.get(token_type_hint) if isinstance(stored, t.Mapping) else None
            )
        if not token:
            return None
        try:
            url = _openid.endpoint(self, "introspection")
        except OIDCErrorTypes:
            return None
        if not url:
            return None
        response = self._token_side_post(
            "introspection", url, {"token": token, "token_type_hint": token_type_hint}
        )
        if response is None or response.status_code != 200:
            return None
        try:
            answer = response.json()
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None

    def client_credentials_token(
        self, scope: t.Any = None, **params: str
    ) -> dict[str, t.Any]:
        """Get a token for the client itself (the client-credentials grant,
        RFC 6749 4.4), authenticated as every token-side call is. The token
        is returned, not stored: it belongs to no user.

        :param scope: The scope to ask for.
        :param params: Extra fields of the token request.
        :raises oauthlib.oauth2.OAuth2Error: when the provider refuses.
        :raises requests.RequestException: when it cannot be reached.
        """
        from oauthlib.oauth2.rfc6749.parameters import parse_token_response

        target = self._endpoint("token")
        fields = {"grant_type": "client_credentials", **params}
        if scope:
            fields["scope"] = str(list_to_scope(scope))
        client_auth = _client_auth.for_request(self, target, keep_legacy=False)
        response = _token_endpoint.post(
            self.session, target, fields, client_auth=client_auth
        )
        if response.status_code >= 500:
            response.raise_for_status()
        try:
            return dict(parse_token_response(response.text, scope=scope))
        except Warning as warning:
            return dict(getattr(warning, "token", None) or {})

    def logout(self) -> t.Any:
        """Log the current user out of this provider: revoke the token,
        delete it, and for an OpenID Connect provider with an end-session
        endpoint, redirect there (RP-initiated logout) with the id_token as a
        hint and a state checked on return. ``?next=`` says where to land."""
        self.load_config()
        token = self.token
        next_url = self._requested_next_url() or self._default_next_url()
        if isinstance(token, t.Mapping):
            self.revoke_token(token)
        del self.token
        id_token = token.get("id_token") if isinstance(token, t.Mapping) else None
        try:
            end_session = _openid.endpoint(self, "end_session") if id_token else None
        except OIDCErrorTypes:
            end_session = None
        if not end_session:
            return flask.redirect(next_url)
        from .oidc import build_end_session_url
        from .oidc import new_logout_state

        logout_state = new_logout_state()
        flask.session[self._logout_key] = {"state": logout_state, "next": next_url}
        url = build_end_session_url(
            self._absolute(end_session),
            id_token_hint=id_token,
            post_logout_redirect_uri=self.post_logout_redirect_uri
            or flask.url_for(".logged_out", _external=True),
            state=logout_state,
            client_id=str(self.client_id) if self.client_id else None,
        )
        return flask.redirect(url)

    @property
    def logout_token(self) -> str:
        """The current browser's token for the ``logout`` route: a request
        to the route logs out only when it carries it, as the
        ``logout_token`` query parameter (``url_for("<name>.logout",
        logout_token=bp.logout_token)``) or form field, so that another site
        can not log your users out."""
        return _logout_guard.token_for(self.name)

    def _logout_view(self) -> t.Any:
        """The ``logout`` route: :meth:`logout`, for a request that carries
        :attr:`logout_token`."""
        if not _logout_guard.carries_token(self.name):
            log.info("Refused a logout from %r without its token.", self.name)
            return Response(
                "The logout request did not carry its token.",
                403,
                content_type="text/plain; charset=utf-8",
            )
        return self.logout()

    @property
    def _logout_key(self) -> str:
        return f"{self.name}_oauth_logout"

    def logged_out(self) -> t.Any:
        """Where the provider sends the user back after logout: check the
        state, then redirect to where the logout asked to land."""
        from .oidc import check_logout_state

        pending = flask.session.pop(self._logout_key, None)
        expected = pending.get("state") if isinstance(pending, dict) else None
        try:
            check_logout_state(flask.request.args.get("state"), expected)
        except OIDCErrorTypes as exc:
            return self._oidc_failure(exc)
        next_url = pending.get("next") if isinstance(pending, dict) else None
        return flask.redirect(safe_next_url(next_url) or self._default_next_url())


def _asks_for_dpop(exc: OAuth2Error) -> bool:
    """Whether a token endpoint refused a request for want of a DPoP proof."""
    if exc.error in ("invalid_dpop_proof", "use_dpop_nonce"):
        return True
    return "dpop" in str(exc.description or "").lower()


def _token_response(session: t.Any, exc: Exception) -> requests.Response | None:
    """The token endpoint's answer behind ``exc``, if there was one."""
    response = getattr(exc, "response", None)
    if isinstance(response, requests.Response):
        return response
    noted = getattr(session, "_token_response", None)
    return noted if isinstance(noted, requests.Response) else None


def _repost_page(action: str, params: t.Mapping[str, str]) -> Response:
    fields = "".join(
        f'<input type="hidden" name="{escape(key)}" value="{escape(value)}">'
        for key, value in params.items()
    )
    body = (
        "<!doctype html><html><head><title>Signing in…</title></head>"
        '<body onload="document.forms[0].submit()">'
        f'<form method="post" action="{escape(action)}">{fields}'
        f'<input type="hidden" name="{_REPOST_FIELD}" value="1">'
        '<noscript><button type="submit">Continue</button></noscript>'
        "</form></body></html>"
    )
    response = Response(body, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
