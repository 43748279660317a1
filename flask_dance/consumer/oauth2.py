"""The OAuth 2 consumer blueprint."""

from __future__ import annotations

import logging
import sys
import typing as t

from . import _backchannel
from . import _openid
from ._authorization import LoginMixin
from ._authorization import make_code_challenge as make_code_challenge
from ._authorization import make_code_verifier as make_code_verifier
from ._backchannel import BackchannelMixin
from ._callback import CallbackMixin
from ._oidc_errors import OIDCError
from ._openid import OpenIDMixin
from ._session_building import SessionBuildingMixin
from ._token_endpoint import TokenCallsMixin
from ._urls import EndpointsMixin
from ._urls import join_url
from .base import BaseOAuthConsumerBlueprint
from .base import BlueprintOptions
from .base import split_options
from .requests import OAuth2Session

# at run time too, so that typing.get_type_hints resolves ``Unpack[...]``
if sys.version_info >= (3, 11):
    from typing import Unpack
elif t.TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

if t.TYPE_CHECKING:  # pragma: no cover
    from oauthlib.oauth2 import Client

log: logging.Logger = logging.getLogger(__name__)


#: The exceptions a failed OpenID Connect check raises. Their module loads
#: without the ``oidc`` extra, so catching them imports neither PyJWT nor
#: cryptography.
OIDCErrorTypes: tuple[type[Exception], ...] = (OIDCError,)


#: The PKCE code challenge methods this blueprint accepts. ``plain`` is
#: refused: it protects nothing the state does not (RFC 9700 2.1.1).
_CHALLENGE_METHODS = ("S256",)


def _default_id_token_algorithms() -> tuple[str, ...]:
    """The id_token signature algorithms accepted unless told otherwise."""
    from ._jose import ASYMMETRIC_ALGS

    return ASYMMETRIC_ALGS


def _pop_renamed(kwargs: dict[str, t.Any]) -> dict[str, t.Any]:
    """The older argument names in ``kwargs``, taken out (see :mod:`._renamed`,
    loaded only when there are some)."""
    if not kwargs:
        return {}
    from . import _renamed

    return _renamed.pop_renamed(kwargs)


class OAuth2ConsumerBlueprint(
    LoginMixin,
    CallbackMixin,
    OpenIDMixin,
    BackchannelMixin,
    TokenCallsMixin,
    SessionBuildingMixin,
    EndpointsMixin,
    BaseOAuthConsumerBlueprint,
):
    """A blueprint that signs users in with an OAuth 2 provider and gives the
    app a :class:`requests.Session` to call the provider's API with their
    token.

    Register it on the app; its ``login`` view starts the dance and its
    ``authorized`` view finishes it. Each login uses a fresh state and PKCE
    (S256), remembered in the user's session until the provider sends the user
    back; several logins may be pending at once.
    """

    #: The class of the per-request sessions.
    session_class: type[OAuth2Session] = OAuth2Session

    _url_arguments = (
        "'authorization_url' and 'token_url' (or 'issuer') to the blueprint"
    )

    if t.TYPE_CHECKING:  # pragma: no cover
        #: The :class:`~flask_dance.consumer.requests.OAuth2Session` of the
        #: current request.
        session: OAuth2Session

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
        authorization_url_params: dict[str, t.Any] | None = None,
        token_url: str | None = None,
        token_url_params: dict[str, t.Any] | None = None,
        session_class: type[OAuth2Session] | None = None,
        use_pkce: bool = True,
        code_challenge_method: str = "S256",
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
        **options: Unpack[BlueprintOptions],
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
        :param authorization_url_params: Extra query parameters for it.
        :param token_url: The provider's token endpoint.
        :param token_url_params: Extra arguments for
            :meth:`~requests_oauthlib.OAuth2Session.fetch_token`.
        :param session_class: The session class; default
            :class:`~flask_dance.consumer.requests.OAuth2Session`.
        :param use_pkce: Use PKCE (RFC 7636). On by default.
        :param code_challenge_method: Only ``"S256"`` is accepted.
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
        :param options: The options every consumer blueprint takes, such as
            ``base_url``, ``authorization_url``, ``redirect_url``, ``storage``
            and ``url_prefix``: see :class:`~.base.BlueprintOptions`. Any other
            keyword argument is passed to ``session_class``. The older
            spellings ``client_key``, ``access_token_url``, ``authorize_url``
            and ``request_token_params`` are accepted with a
            :class:`DeprecationWarning`.
        """
        shared, kwargs = split_options(options)
        renamed = _pop_renamed(kwargs)
        super().__init__(
            name,
            import_name,
            session_class=session_class,
            client_secret=client_secret,
            **shared,
        )
        if code_challenge_method not in _CHALLENGE_METHODS:
            raise ValueError(
                f"Unsupported code_challenge_method {code_challenge_method!r}:"
                " only 'S256' is allowed ('plain' offers no protection)."
                " Pass use_pkce=False to turn PKCE off."
            )

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
        #: Extra query parameters of the authorization request.
        self.authorization_url_params: dict[str, t.Any] = dict(
            authorization_url_params or {}
        )
        #: The provider's token endpoint.
        self.token_url = token_url
        #: Extra arguments for the token request.
        self.token_url_params: dict[str, t.Any] = dict(token_url_params or {})
        #: The PKCE challenge method.
        self.code_challenge_method = code_challenge_method
        #: Whether PKCE is used.
        self.use_pkce = use_pkce
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
            id_token_algorithms or _default_id_token_algorithms()
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
        #: Whether tokens are DPoP-bound; ``None``: when the provider asks.
        self.dpop = dpop
        self._dpop_nonces: t.Any = None
        if issuer is not None:
            from .oidc import require_oidc_dependencies

            require_oidc_dependencies()
        rule_options = shared.get("rule_kwargs") or {}
        self._add_logout_routes(logout, logout_url, logged_out_url, rule_options)
        self._init_backchannel(
            backchannel_logout,
            backchannel_logout_url,
            backchannel_logout_store,
            rule_options,
        )
        if renamed:
            from . import _renamed

            _renamed.apply_renamed(self, renamed)

    def _authorized_methods(self) -> list[str]:
        return ["GET", "POST"]

    # -- URLs and endpoints ---------------------------------------------------------

    def _endpoint(self, name: str) -> str:
        return self._absolute(_openid.endpoint(self, name))

    def _refresh_endpoint(self) -> str | None:
        """Where tokens are refreshed: the token endpoint, if known."""
        try:
            url = _openid.endpoint(self, "token")
        except OIDCErrorTypes:
            return None
        return join_url(self.base_url, url) if url else None
