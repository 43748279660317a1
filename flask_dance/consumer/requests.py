"""The provider sessions: :class:`requests.Session` subclasses that know their
blueprint, join paths onto the provider's base URL, load the user's token
lazily and keep it fresh."""

from __future__ import annotations

import collections
import functools
import logging
import typing as t
from collections.abc import Mapping

import flask
import requests
import requests.adapters
import requests.cookies
import requests.structures
from oauthlib.oauth2 import InsecureTransportError
from oauthlib.oauth2 import LegacyApplicationClient
from oauthlib.oauth2 import TokenExpiredError
from oauthlib.oauth2 import WebApplicationClient
from requests_oauthlib import OAuth1Session as _OAuth1Session
from requests_oauthlib import OAuth2Session as _OAuth2Session

from . import _bounded
from . import _client_auth
from . import _token_answer
from . import _token_endpoint
from ._basic_auth import BasicAuth
from ._duck import hook
from ._refresh import RefreshMixin
from ._transport import DEFAULT_TIMEOUT
from ._urls import is_secure_url
from ._urls import join_url

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import AnyBlueprint

log: logging.Logger = logging.getLogger(__name__)

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])

#: Refresh a token this many seconds before it expires.
DEFAULT_REFRESH_LEEWAY = 60

_UNLOADED: t.Any = object()

_STOCK_PREPARE_REQUEST_BODY = WebApplicationClient.prepare_request_body

#: The token request fields of the code grant that
#: :meth:`OAuth2Session._fetch_token_for_code` sets itself.
_CODE_GRANT_FIELDS = frozenset(
    ("grant_type", "code", "redirect_uri", "client_id", "client_secret", "scope")
)


def _asks_for_password_grant(
    client: t.Any, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
) -> bool:
    """Whether a ``fetch_token`` call asks for the resource owner password
    grant: a ``username`` or ``password`` (by keyword, or in their positions
    after ``token_url``), or a ``LegacyApplicationClient``."""
    positional = args[4:6]
    return (
        isinstance(client, LegacyApplicationClient)
        or kwargs.get("username") is not None
        or kwargs.get("password") is not None
        or any(value is not None for value in positional)
    )


def _timeout_of(blueprint: t.Any) -> t.Any:
    timeout = getattr(blueprint, "timeout", _UNLOADED)
    if timeout is None or isinstance(timeout, (int, float, tuple)):
        return timeout
    return DEFAULT_TIMEOUT


def _redirect_to_login(blueprint: AnyBlueprint) -> t.Any:
    return flask.redirect(flask.url_for(f"{blueprint.name}.login"))


#: HTTP Basic client authentication as RFC 6749 2.3.1 defines it: both parts
#: form-urlencoded first, so that a secret with ``:`` or ``%`` works.
client_secret_basic = BasicAuth


def _raise_for_server_error(response: requests.Response) -> requests.Response:
    """A token endpoint that fails with a 5xx answered no OAuth error: say so
    instead of letting its error page be parsed as a token."""
    if response.status_code >= 500:
        raise requests.HTTPError(
            f"The token endpoint answered HTTP {response.status_code}.",
            response=response,
        )
    return response


class _SharedPoolInit(requests.Session):
    """Sets up the :class:`requests.Session` part of a provider session on the
    connection pools its blueprint shares, so that a connection outlives the
    request that opened it. It sits between the requests-oauthlib session and
    :class:`requests.Session` in the method resolution order."""

    def __init__(self) -> None:
        super().__init__()
        shared = hook(getattr(self, "blueprint", None), "_shared_adapters")
        if shared is not None:
            self.adapters = collections.OrderedDict(shared())


class _BlueprintSessionMixin(requests.Session):
    """What the OAuth 1 and OAuth 2 sessions have in common: they belong to a
    blueprint, resolve paths against its ``base_url``, guard views, and, when
    closed, leave alone the connection pool the blueprint shares with every
    other session."""

    blueprint: t.Any
    base_url: str | None
    #: Whether code assigned the token, rather than it being read from the
    #: blueprint (a request that takes the session over keeps such a token).
    _token_given: bool = False

    @property
    def authorization_required(self) -> t.Callable[[_F], _F]:
        """A view decorator that sends users without a token to the login
        view."""

        def decorator(func: _F) -> _F:
            @functools.wraps(func)
            def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
                # ask the session of this request: ``self`` may be a session
                # built for another request (or none) that holds its token
                if self.blueprint is not None and not self.blueprint.session.authorized:
                    return _redirect_to_login(self.blueprint)
                return func(*args, **kwargs)

            return t.cast(_F, wrapper)

        return decorator

    def _absolute(self, url: str | bytes) -> str:
        text = url.decode() if isinstance(url, bytes) else str(url)
        return join_url(self.base_url, text)

    def close(self) -> None:
        """Close the adapters this session owns, not the shared ones."""
        shared: t.Any = {}
        if hook(self.blueprint, "_shared_adapters") is not None:
            shared = self.blueprint._adapters or {}
        shared_ids = {id(adapter) for adapter in shared.values()}
        for adapter in self.adapters.values():
            if id(adapter) not in shared_ids:
                adapter.close()


class OAuth2Session(
    _BlueprintSessionMixin, RefreshMixin, _OAuth2Session, _SharedPoolInit
):
    """A :class:`requests_oauthlib.OAuth2Session` for one user of one
    blueprint.

    Relative URLs are resolved against ``base_url`` (see :func:`join_url`).
    The token comes from the blueprint's storage the first time it is needed.
    An expired token, or one about to expire, is refreshed when a refresh
    token and a token endpoint are known; concurrent requests of one user
    refresh it once, and the new token is stored.

    :param blueprint: The blueprint this session belongs to.
    :param base_url: The provider's API root.
    :param args: Passed to :class:`requests_oauthlib.OAuth2Session`.
    :param kwargs: Passed to :class:`requests_oauthlib.OAuth2Session`.
    """

    _client: t.Any
    _state: t.Any
    _pkce: t.Any

    def __init__(
        self,
        blueprint: AnyBlueprint | None = None,
        base_url: str | None = None,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> None:
        self._flask_dance_token: t.Any = _UNLOADED
        # Known before the requests.Session part is set up, which borrows
        # the blueprint's connection pools.
        self.blueprint: t.Any = blueprint
        super().__init__(*args, **kwargs)
        #: The blueprint this session belongs to.
        self.blueprint = blueprint
        #: The provider's API root; relative request URLs are joined onto it.
        self.base_url: str | None = str(base_url) if base_url else None
        #: Refresh tokens this many seconds before they expire.
        self.refresh_leeway: float = DEFAULT_REFRESH_LEEWAY
        self._flask_dance_token = _UNLOADED
        self._token_given = False
        #: The token endpoint's last answer to a code exchange, for
        #: :data:`~flask_dance.consumer.oauth_error` receivers.
        self._token_response: requests.Response | None = None
        self.register_compliance_hook("access_token_response", self._note_response)
        self.register_compliance_hook("access_token_response", _raise_for_server_error)
        self.register_compliance_hook("refresh_token_response", _raise_for_server_error)

    def _note_response(self, response: requests.Response) -> requests.Response:
        self._token_response = response
        return response

    # -- the token ------------------------------------------------------------

    @property
    def token(self) -> t.Any:
        """This user's token; read from the blueprint on first use."""
        if self._flask_dance_token is _UNLOADED:
            loaded = self.blueprint.token if self.blueprint is not None else None
            self._set_loaded_token(loaded)
        return self._flask_dance_token

    @token.setter
    def token(self, value: t.Any) -> None:
        self._flask_dance_token = value
        self._token_given = True
        self._load_client_token(value)

    @token.deleter
    def token(self) -> None:
        self._forget_token()

    def _set_loaded_token(self, value: t.Any) -> None:
        """Hold ``value``, read from the blueprint's storage."""
        self._flask_dance_token = value
        self._token_given = False
        self._load_client_token(value)

    def _forget_token(self) -> None:
        self._flask_dance_token = _UNLOADED
        self._token_given = False
        self._load_client_token(None)

    def _forget_loaded_token(self) -> None:
        """Forget the token unless it was assigned rather than read."""
        if not getattr(self, "_token_given", False):
            self._forget_token()

    def _load_client_token(self, token: t.Any) -> None:
        client = self._client
        client.token = token
        # clear what the previous token left: oauthlib only sets the
        # attributes the new token has (a stale expiry would stick)
        client.access_token = None
        client.refresh_token = None
        client._expires_at = None
        if token and isinstance(token, Mapping):
            client.populate_token_attributes(token)

    def load_token(self) -> bool:
        """Make sure the user's token is loaded into the oauthlib client.

        :return: Whether there is a token.
        """
        return bool(self.token)

    @property
    def access_token(self) -> t.Any:
        """The access token, or ``None``."""
        token = self.token
        return token and token.get("access_token")

    @access_token.setter
    def access_token(self, value: t.Any) -> None:
        self._client.access_token = value

    @property
    def authorized(self) -> bool:
        """Whether this user has an access token.

        It does not tell whether the provider still accepts it.
        """
        return bool(self.access_token)

    # -- token endpoint calls -----------------------------------------------------

    def fetch_token(self, token_url: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Exchange an authorization code for a token; see
        :meth:`requests_oauthlib.OAuth2Session.fetch_token`. ``token_url`` may
        be relative to ``base_url``. A token whose scope differs from the one
        asked for is accepted (the provider decides what it grants).

        :raises ValueError: when asked for the resource owner password grant
            (a ``username`` or ``password``, or a ``LegacyApplicationClient``),
            which RFC 9700 (section 2.4) says must not be used.
        """
        if _asks_for_password_grant(self._client, args, kwargs):
            raise ValueError(
                "The resource owner password grant is not supported: a web"
                " application must not ask for the user's password at the"
                " provider (RFC 9700, section 2.4). Use the authorization code"
                " flow of the blueprint's login view."
            )
        if (
            kwargs.get("auth") is None
            and kwargs.get("include_client_id") is not True
            and self.client_id
        ):
            kwargs["auth"] = self._basic_client_auth(kwargs.get("client_secret"))
            kwargs.setdefault("include_client_id", False)
        try:
            with _bounded.token_endpoint("token"):
                return super().fetch_token(self._absolute(token_url), *args, **kwargs)
        except Warning as warning:
            return self._accept_changed_scope(warning)

    def _basic_client_auth(self, client_secret: str | None) -> requests.auth.AuthBase:
        """The ``client_secret_basic`` authentication that the code exchange
        sends when the session has a client ID (a missing secret counts as
        empty, as requests-oauthlib does)."""
        return BasicAuth(
            str(self.client_id), client_secret if client_secret is not None else ""
        )

    def _fetch_token_for_code(
        self,
        token_url: str,
        code: str,
        *,
        client_secret: str | None,
        params: Mapping[str, t.Any],
        client_auth: _client_auth.ClientAuth | None = None,
        prover: _token_endpoint.Prover | None = None,
    ) -> t.Any:
        """Exchange ``code`` for a token: ``fetch_token(token_url, code=code,
        client_secret=client_secret, **params)``, with the same request
        (fields, headers, client authentication, compliance hooks), parsing
        and errors, but without having oauthlib encode the form and decoding
        it again, when the request is one this builds alike: the stock
        oauthlib client, and parameters that are strings and name no field of
        their own.

        :param client_auth: How the client authenticates; default: Basic
            with ``client_secret`` when the session has a client ID, as
            Flask-Dance 7.1 did.
        :param prover: Makes DPoP proofs, for a DPoP client.
        """
        client = self._client
        if (
            type(client).prepare_request_body is not _STOCK_PREPARE_REQUEST_BODY
            or self._pkce
            or any(
                not isinstance(value, str) or key in _CODE_GRANT_FIELDS
                for key, value in params.items()
            )
        ):
            auth_kwargs: dict[str, t.Any] = {"client_secret": client_secret}
            if client_auth is not None:
                auth_kwargs = client_auth.fetch_token_kwargs(client_secret)
            return self.fetch_token(token_url, code=code, **auth_kwargs, **params)
        url = self._absolute(token_url)
        # oauthlib's field order; empty values are left out, as it does.
        extra = dict(params)
        fields = {"grant_type": client.grant_type}
        verifier = extra.pop("code_verifier", None)
        if verifier is not None:
            fields["code_verifier"] = verifier
        fields["code"] = code
        if self.redirect_uri:
            fields["redirect_uri"] = self.redirect_uri
        fields.update((key, value) for key, value in extra.items() if value)
        if client_auth is None and self.client_id:
            client_auth = _client_auth.ClientAuth(
                "client_secret_basic", {}, self._basic_client_auth(client_secret)
            )
        self.token = {}
        return self._token_request(url, fields, client_auth, "access_token", prover)

    def _token_request(
        self,
        url: str,
        fields: dict[str, str],
        client_auth: t.Any,
        hook: str,
        prover: _token_endpoint.Prover | None,
    ) -> t.Any:
        """Post ``fields`` to the token endpoint at ``url``, authenticated with
        ``client_auth`` (see :func:`._token_endpoint.post`), and take the new
        token from the answer: the one way the code exchange and the refresh
        send their requests when they do not go through requests-oauthlib.

        :param url: The token endpoint.
        :param fields: The form fields.
        :param client_auth: The client authentication, or ``None``.
        :param hook: ``"access_token"`` or ``"refresh_token"``: whose
            compliance hooks apply.
        :param prover: The DPoP proof maker, if any.
        """
        response = _token_endpoint.post(
            self, url, fields, client_auth=client_auth, hook=hook, prover=prover
        )
        try:
            token = _token_endpoint.parse_token(self, response)
        except Warning as warning:
            return self._accept_changed_scope(warning)
        self.token = token
        return token

    def refresh_token(self, token_url: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Refresh the token; see
        :meth:`requests_oauthlib.OAuth2Session.refresh_token`. ``token_url``
        may be relative to ``base_url``."""
        try:
            with _bounded.token_endpoint("token"):
                return super().refresh_token(self._absolute(token_url), *args, **kwargs)
        except Warning as warning:
            return self._accept_changed_scope(warning)

    def _accept_changed_scope(self, warning: Warning) -> t.Any:
        token = getattr(warning, "token", None)
        if token is None:
            raise warning
        log.info("The provider granted another scope than the one requested.")
        token = dict(token)
        self.token = token
        return token

    # -- requests -----------------------------------------------------------------

    def request(  # type: ignore[override]
        self,
        method: str | bytes,
        url: str | bytes,
        data: t.Any = None,
        headers: t.Any = None,
        withhold_token: bool = False,
        client_id: str | None = None,
        client_secret: str | None = None,
        **kwargs: t.Any,
    ) -> requests.Response:
        """Send a request, with this user's token unless ``withhold_token``.

        Relative URLs are joined onto ``base_url``; a timeout applies unless
        one is given.
        """
        target = self._absolute(url)
        if not is_secure_url(target):
            raise InsecureTransportError()
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = _timeout_of(self.blueprint)
        method_name = method.decode() if isinstance(method, bytes) else method
        prover = None
        if not withhold_token and self.token:
            for hook in self.compliance_hook["protected_request"]:
                target, headers, data = hook(target, headers, data)
            if self._should_refresh():
                self._refresh_once()
            prover = self._dpop_prover(self.token)
            if prover is None:
                target, headers, data = self._add_token(
                    target, method_name, headers, data
                )
            else:
                sent = self._dpop_headers(target, method_name, headers, prover)
                return self._send_with_dpop(
                    method_name, target, headers, sent, data, prover, kwargs
                )
        kind = _bounded.token_endpoint_kind()
        if kind is not None:
            response = _bounded.send(
                functools.partial(requests.Session.request, self),
                method_name,
                target,
                headers=headers,
                data=data,
                **kwargs,
            )
            _token_answer.check(kind, response)
            return response
        return requests.Session.request(
            self, method_name, target, headers=headers, data=data, **kwargs
        )

    def _dpop_headers(
        self, url: str, method: str, headers: t.Any, prover: t.Any
    ) -> dict[str, t.Any]:
        """The request's headers with the DPoP-bound access token and a new
        proof for it (RFC 9449 7.1)."""
        access_token = str(self.token.get("access_token") or "")
        sent = dict(headers or {})
        sent["Authorization"] = f"DPoP {access_token}"
        sent["DPoP"] = prover.proof(method, url, access_token=access_token)
        return sent

    def _send_with_dpop(
        self,
        method: str,
        url: str,
        headers: t.Any,
        sent: dict[str, t.Any],
        data: t.Any,
        prover: t.Any,
        kwargs: dict[str, t.Any],
    ) -> requests.Response:
        """Send a DPoP request; once more with the resource server's nonce
        when it asks for one."""
        response = requests.Session.request(
            self, method, url, headers=sent, data=data, **kwargs
        )
        prover.remember_nonce(url, response)
        if _asks_for_dpop_nonce(response):
            response.close()
            sent = self._dpop_headers(url, method, headers, prover)
            response = requests.Session.request(
                self, method, url, headers=sent, data=data, **kwargs
            )
            prover.remember_nonce(url, response)
        return response

    def _add_token(
        self, url: str, method: str, headers: t.Any, data: t.Any
    ) -> tuple[str, t.Any, t.Any]:
        if not self.token:
            return url, headers, data
        try:
            return self._client.add_token(  # type: ignore[no-any-return]
                url, http_method=method, body=data, headers=headers
            )
        except TokenExpiredError:
            if not self._can_refresh():
                raise
        self._refresh_once()
        if not self.token:
            return url, headers, data
        return self._client.add_token(  # type: ignore[no-any-return]
            url, http_method=method, body=data, headers=headers
        )

    # -- refresh ------------------------------------------------------------------


def _asks_for_dpop_nonce(response: requests.Response) -> bool:
    """Whether a resource server refused a DPoP request for want of a nonce
    (RFC 9449 9)."""
    return (
        response.status_code == 401
        and bool(response.headers.get("DPoP-Nonce"))
        and "use_dpop_nonce" in response.headers.get("WWW-Authenticate", "")
    )


def _answers_from_blueprint_token(session_class: type[t.Any]) -> bool:
    """Whether sessions of ``session_class`` answer ``authorized`` exactly as
    :class:`OAuth2Session` does: from the token their blueprint gives them.
    A class that overrides (or a test that patches) ``authorized``,
    ``access_token`` or ``token`` does not.

    :param session_class: A session class.
    """
    return (
        getattr(session_class, "authorized", None) is _STOCK_AUTHORIZED
        and getattr(session_class, "access_token", None) is _STOCK_ACCESS_TOKEN
        and getattr(session_class, "token", None) is _STOCK_TOKEN
    )


_STOCK_AUTHORIZED = OAuth2Session.authorized
_STOCK_ACCESS_TOKEN = OAuth2Session.access_token
_STOCK_TOKEN = OAuth2Session.token


def _oauth1_token_call(method: _F) -> _F:
    """Make an OAuth 1 session method send its requests as token-side calls
    (see :func:`flask_dance.consumer._bounded.token_endpoint`)."""

    @functools.wraps(method)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        with _bounded.token_endpoint("oauth1"):
            return method(*args, **kwargs)

    return t.cast(_F, wrapper)


class OAuth1Session(_BlueprintSessionMixin, _OAuth1Session, _SharedPoolInit):
    """A :class:`requests_oauthlib.OAuth1Session` for one user of one
    blueprint.

    :param blueprint: The blueprint this session belongs to.
    :param base_url: The provider's API root.
    :param args: Passed to :class:`requests_oauthlib.OAuth1Session`.
    :param kwargs: Passed to :class:`requests_oauthlib.OAuth1Session`.
    """

    _client: t.Any
    _populate_attributes: t.Callable[[t.Any], None]

    def __init__(
        self,
        blueprint: AnyBlueprint | None = None,
        base_url: str | None = None,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> None:
        # Known before the requests.Session part is set up, which borrows
        # the blueprint's connection pools.
        self.blueprint: t.Any = blueprint
        super().__init__(*args, **kwargs)
        #: The blueprint this session belongs to.
        self.blueprint = blueprint
        #: The provider's API root; relative request URLs are joined onto it.
        self.base_url: str | None = str(base_url) if base_url else None
        self._flask_dance_token: t.Any = _UNLOADED
        self._token_given = False

    @property
    def token(self) -> t.Any:
        """This user's token; read from the blueprint on first use."""
        if self._flask_dance_token is _UNLOADED:
            self._flask_dance_token = (
                self.blueprint.token if self.blueprint is not None else None
            )
            self._token_given = False
        return self._flask_dance_token

    @token.setter
    def token(self, value: t.Any) -> None:
        self._flask_dance_token = value
        self._token_given = True
        if value:
            self._populate_attributes(value)

    def _forget_token(self) -> None:
        self._flask_dance_token = _UNLOADED
        self._token_given = False

    def _forget_loaded_token(self) -> None:
        """Forget the token unless it was assigned rather than read."""
        if not getattr(self, "_token_given", False):
            self._forget_token()

    def load_token(self) -> bool:
        """Put the user's token into the oauthlib client, or clear the client
        when there is none.

        :return: Whether a complete token was loaded.
        """
        token = self.token
        client = self._client.client
        if token and "oauth_token" in token and "oauth_token_secret" in token:
            client.resource_owner_key = token["oauth_token"]
            client.resource_owner_secret = token["oauth_token_secret"]
            return True
        client.resource_owner_key = None
        client.resource_owner_secret = None
        return False

    @property
    def authorized(self) -> bool:
        """Whether this user has a complete token."""
        self.load_token()
        return bool(super().authorized)

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        """Join the request's URL onto ``base_url`` before preparing it."""
        request.url = self._absolute(request.url)
        return super().prepare_request(request)

    def request(  # type: ignore[override]
        self,
        method: str | bytes,
        url: str | bytes,
        data: t.Any = None,
        headers: t.Any = None,
        should_load_token: bool = True,
        **kwargs: t.Any,
    ) -> requests.Response:
        """Send a signed request; the user's token is loaded first unless
        ``should_load_token`` is false (as during the dance)."""
        if should_load_token:
            self.load_token()
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = _timeout_of(self.blueprint)
        kind = _bounded.token_endpoint_kind()
        if kind is not None:
            response = _bounded.send(
                super().request,
                method.decode() if isinstance(method, bytes) else method,
                url.decode() if isinstance(url, bytes) else url,
                data=data,
                headers=headers,
                **kwargs,
            )
            _token_answer.check(kind, response)
            return response
        return super().request(method, url, data=data, headers=headers, **kwargs)

    #: Fetch a request token, as requests-oauthlib does; the request follows
    #: no redirect, and an answer without a non-empty ``oauth_token`` is refused.
    fetch_request_token = _oauth1_token_call(_OAuth1Session.fetch_request_token)

    #: Fetch an access token, as requests-oauthlib does; the request follows
    #: no redirect, and an answer without a non-empty ``oauth_token`` is refused.
    fetch_access_token = _oauth1_token_call(_OAuth1Session.fetch_access_token)
