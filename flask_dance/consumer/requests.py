"""The provider sessions: :class:`requests.Session` subclasses that know their
blueprint, join paths onto the provider's base URL, load the user's token
lazily and keep it fresh."""

from __future__ import annotations

import collections
import contextlib
import copy
import functools
import hashlib
import logging
import threading
import time
import typing as t
import weakref
from collections.abc import Mapping

import flask
import requests
import requests.adapters
import requests.cookies
import requests.structures
from oauthlib.oauth2 import InsecureTransportError
from oauthlib.oauth2 import InvalidGrantError
from oauthlib.oauth2 import LegacyApplicationClient
from oauthlib.oauth2 import OAuth2Error
from oauthlib.oauth2 import TokenExpiredError
from oauthlib.oauth2 import WebApplicationClient
from oauthlib.oauth2.rfc6749.utils import list_to_scope
from requests_oauthlib import OAuth1Session as _OAuth1Session
from requests_oauthlib import OAuth2Session as _OAuth2Session

from . import _bounded
from . import _client_auth
from . import _expiry
from . import _token_answer
from . import _token_endpoint
from ._basic_auth import BasicAuth
from ._basic_auth import ClientAuthError
from ._token_endpoint import TokenRefreshError
from ._urls import is_secure_url
from ._urls import join_url

if t.TYPE_CHECKING:  # pragma: no cover
    from .base import BaseOAuthConsumerBlueprint

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


class _RefreshLocks:
    """One lock per refresh token, so that concurrent requests of one user
    refresh once while other users are not held up."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, threading.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._guard = threading.Lock()

    def get(self, refresh_token: str) -> threading.Lock:
        key = hashlib.sha256(refresh_token.encode()).hexdigest()
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = threading.Lock()
                self._locks[key] = lock
            return lock


_refresh_locks = _RefreshLocks()


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


def _hook(owner: t.Any, name: str) -> t.Any:
    """``owner``'s attribute ``name`` if its class defines it, else ``None``.

    A session may be built with any blueprint-like object (tests use
    :class:`unittest.mock.Mock`, which makes up every attribute asked for):
    the private hooks of our blueprints and storages are used only when the
    object's class really has them.

    :param owner: A blueprint, storage or anything standing in for one.
    :param name: The attribute.
    """
    if owner is None or getattr(type(owner), name, None) is None:
        return None
    return getattr(owner, name)


def _timeout_of(blueprint: t.Any) -> t.Any:
    timeout = getattr(blueprint, "timeout", _UNLOADED)
    if timeout is None or isinstance(timeout, (int, float, tuple)):
        return timeout
    from .base import DEFAULT_TIMEOUT

    return DEFAULT_TIMEOUT


def _text(owner: t.Any, name: str) -> str | None:
    """``owner``'s attribute ``name`` if it is a string, else ``None``."""
    value = getattr(owner, name, None)
    return value if isinstance(value, str) else None


def _redirect_to_login(blueprint: BaseOAuthConsumerBlueprint) -> t.Any:
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


def _fresh_value(value: t.Any) -> t.Any:
    return value


def _fresh_copy_plan() -> list[tuple[str, t.Any, t.Callable[[t.Any], t.Any]]]:
    """How :class:`_PooledSessionInit` fills a new session: for each attribute
    a plain :class:`requests.Session` sets (its adapters aside), the value a
    new one has and how to give each session its own copy of it."""
    pristine = requests.Session()
    plan: list[tuple[str, t.Any, t.Callable[[t.Any], t.Any]]] = []
    for name, value in vars(pristine).items():
        copier: t.Callable[[t.Any], t.Any]
        if name == "adapters":
            continue
        if value is None or isinstance(value, (bool, int, float, str, bytes, tuple)):
            copier = _fresh_value
        elif name == "hooks":
            copier = _copy_hooks
        elif isinstance(value, requests.cookies.RequestsCookieJar):
            copier = _new_cookie_jar
        elif isinstance(value, requests.structures.CaseInsensitiveDict):
            copier = _copy_headers
        elif type(value) in (dict, list, set):
            copier = type(value)
        else:
            copier = copy.deepcopy
        plan.append((name, value, copier))
    pristine.close()
    return plan


def _copy_hooks(hooks: dict[str, list[t.Any]]) -> dict[str, list[t.Any]]:
    return {event: list(handlers) for event, handlers in hooks.items()}


def _copy_headers(
    headers: requests.structures.CaseInsensitiveDict[str],
) -> requests.structures.CaseInsensitiveDict[str]:
    # CaseInsensitiveDict.copy() lower-cases every key again; copying its
    # store is the same, several times quicker.
    store = getattr(headers, "_store", None)
    if not isinstance(store, collections.OrderedDict):
        return headers.copy()
    cls: t.Any = requests.structures.CaseInsensitiveDict
    copy_: requests.structures.CaseInsensitiveDict[str] = cls.__new__(cls)
    copy_._store = store.copy()  # type: ignore[attr-defined]
    return copy_


def _new_cookie_jar(_: t.Any) -> requests.cookies.RequestsCookieJar:
    return requests.cookies.RequestsCookieJar()


_FRESH_COPY_PLAN = _fresh_copy_plan()


class _PooledSessionInit(requests.Session):
    """Sets up the :class:`requests.Session` part of a provider session.

    A new :class:`requests.Session` builds two connection pools, which a
    provider session would then drop for the pools its blueprint shares: most
    of the cost of making a session. This sets every other attribute to a
    fresh copy of what a new :class:`requests.Session` has, and the adapters to
    the blueprint's shared ones (or to new ones without a blueprint). It sits
    between the requests-oauthlib session and :class:`requests.Session` in the
    method resolution order.
    """

    #: The transport adapters, by URL prefix.
    adapters: collections.OrderedDict[str, requests.adapters.BaseAdapter]

    def __init__(self) -> None:
        for name, value, copier in _FRESH_COPY_PLAN:
            setattr(self, name, copier(value))
        shared = _hook(getattr(self, "blueprint", None), "_shared_adapters")
        if shared is not None:
            self.adapters = collections.OrderedDict(shared())
        else:
            self.adapters = collections.OrderedDict()
            self.mount("https://", requests.adapters.HTTPAdapter())
            self.mount("http://", requests.adapters.HTTPAdapter())


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
        if _hook(self.blueprint, "_shared_adapters") is not None:
            shared = self.blueprint._adapters or {}
        shared_ids = {id(adapter) for adapter in shared.values()}
        for adapter in self.adapters.values():
            if id(adapter) not in shared_ids:
                adapter.close()


class OAuth2Session(_BlueprintSessionMixin, _OAuth2Session, _PooledSessionInit):
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
        blueprint: BaseOAuthConsumerBlueprint | None = None,
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
            or getattr(self, "_pkce", None)
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
        response = _token_endpoint.post(
            self,
            url,
            fields,
            client_auth=client_auth,
            hook="access_token",
            prover=prover,
        )
        try:
            token = _token_endpoint.parse_token(self, response)
        except Warning as warning:
            return self._accept_changed_scope(warning)
        self.token = token
        return self.token

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
        if not withhold_token and self.token:
            for hook in self.compliance_hook["protected_request"]:
                target, headers, data = hook(target, headers, data)
            if self._should_refresh():
                self._refresh_once()
            response = self._send_with_token(method_name, target, headers, data, kwargs)
            if _replayable(data, kwargs) and self._refreshed_after(response):
                response.close()
                response = self._send_with_token(
                    method_name, target, headers, data, kwargs
                )
            return response
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

    def _send_with_token(
        self,
        method: str,
        url: str,
        headers: t.Any,
        data: t.Any,
        kwargs: dict[str, t.Any],
    ) -> requests.Response:
        """Send the request with this user's token: as a bearer token, or
        DPoP-bound with a new proof."""
        prover = self._dpop_prover(self.token)
        if prover is not None:
            sent = self._dpop_headers(url, method, headers, prover)
            return self._send_with_dpop(
                method, url, headers, sent, data, prover, kwargs
            )
        if isinstance(headers, Mapping):
            headers = dict(headers)  # the caller's stay as they were, for a retry
        url, headers, data = self._add_token(url, method, headers, data)
        return requests.Session.request(
            self, method, url, headers=headers, data=data, **kwargs
        )

    def _refreshed_after(self, response: requests.Response) -> bool:
        """Whether the resource server refused the access token
        (``401`` with ``error="invalid_token"``, RFC 6750 3.1) and a refresh
        then gave a new one, so that the request is worth sending again."""
        if response.status_code != 401 or not self._can_refresh():
            return False
        if "invalid_token" not in response.headers.get("WWW-Authenticate", ""):
            return False
        before = self.token.get("access_token")
        log.info("The provider refused an access token; refreshing it.")
        self._refresh_once()
        token = self.token
        return bool(token) and token.get("access_token") != before

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

    def _refresh_url(self) -> str | None:
        if self.auto_refresh_url:
            return str(self.auto_refresh_url)
        find = _hook(self.blueprint, "_refresh_endpoint")
        return find() if find is not None else None

    def _can_refresh(self) -> bool:
        token = self.token
        return bool(
            isinstance(token, Mapping)
            and token.get("refresh_token")
            and self._refresh_url()
        )

    def _should_refresh(self) -> bool:
        token = self.token
        if not self._can_refresh():
            return False
        expires_at = token.get("expires_at")
        if not expires_at:
            return False
        seconds = _expiry.as_time(expires_at)
        if seconds is None:
            return True  # not a time: refresh rather than fail
        return seconds - time.time() < self.refresh_leeway

    def _refresh_once(self) -> None:
        """Refresh the token, once per user even under concurrency.

        Whoever gets the lock first refreshes; the others then find the new
        token in the storage and use it, or, when the provider refused the
        refresh token and the first one removed the token, go on without one
        rather than send the refused refresh token again. A storage with a
        ``refresh_lock`` method (a context manager taking the blueprint) also
        serialises refreshes across processes, for example with a database
        row lock.
        """
        old = dict(self.token)
        # Whether the storage holds this very token: if it is gone once the
        # lock is ours, another request removed it after a failed refresh.
        was_stored = self._stores_refresh_token(old["refresh_token"])
        lock = _refresh_locks.get(str(old["refresh_token"]))
        storage_lock = _hook(getattr(self.blueprint, "storage", None), "refresh_lock")
        with contextlib.ExitStack() as stack:
            stack.enter_context(lock)
            if storage_lock is not None:
                stack.enter_context(storage_lock(self.blueprint))
            if self.blueprint is not None:
                self._forget_token()
                current = self.token
                if (
                    isinstance(current, Mapping)
                    and current.get("access_token")
                    and current.get("access_token") != old.get("access_token")
                ):
                    return
                if not current and was_stored:
                    log.info(
                        "Not refreshing a token that a concurrent request could"
                        " not refresh and removed."
                    )
                    return
                self.token = old
            self._do_refresh(old)

    def _stores_refresh_token(self, refresh_token: t.Any) -> bool:
        """Whether the blueprint's storage holds a token with this refresh
        token."""
        if self.blueprint is None:
            return False
        stored = self.blueprint.token
        return (
            isinstance(stored, Mapping) and stored.get("refresh_token") == refresh_token
        )

    def _refresh_auth(self) -> requests.auth.AuthBase | None:
        """Flask-Dance 7.1's refresh authentication: Basic with the
        blueprint's secret, unless ``auto_refresh_kwargs`` carry one."""
        blueprint = self.blueprint
        client_id = _text(blueprint, "client_id") or self.client_id
        client_secret = _text(blueprint, "client_secret")
        if self.auto_refresh_kwargs.get("client_secret"):
            return None
        if client_id and client_secret:
            return BasicAuth(str(client_id), str(client_secret))
        return None

    def _dpop_prover(self, token: t.Any) -> _token_endpoint.Prover | None:
        """The DPoP proof maker for requests made with ``token``: when the
        token is DPoP-bound and keeps its key."""
        if not (
            isinstance(token, Mapping)
            and token.get(_token_endpoint.DPOP_KEY_FIELD)
            and str(token.get("token_type", "")).lower() == "dpop"
            and _is_real(self.blueprint)
        ):
            return None
        return self.blueprint._dpop_prover(token)  # type: ignore[no-any-return]

    def _request_refresh(self, url: str, refresh_token: str) -> t.Any:
        """Send the refresh request; return the new token.

        Without a configured or discovered client authentication method and
        without DPoP, it is requests-oauthlib's ``refresh_token``, as in
        Flask-Dance 7.1; otherwise the request is built by
        :mod:`._token_endpoint`, authenticated the blueprint's way.
        """
        url = self._absolute(url)
        client_auth = _client_auth.for_request(self.blueprint, url, keep_legacy=True)
        prover = self._dpop_prover(self.token)
        if client_auth is None and prover is None:
            return self.refresh_token(
                url, refresh_token=refresh_token, auth=self._refresh_auth()
            )
        extra = {k: v for k, v in dict(self.auto_refresh_kwargs or {}).items()}
        if client_auth is None:
            basic = self._refresh_auth()
            if basic is not None:
                client_auth = _client_auth.ClientAuth("client_secret_basic", {}, basic)
        else:
            # the method decides where the client's credentials go
            extra.pop("client_secret", None)
            extra.pop("client_id", None)
        fields = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if self.scope:
            fields["scope"] = str(list_to_scope(self.scope))
        fields.update((k, str(v)) for k, v in extra.items() if v is not None)
        response = _token_endpoint.post(
            self,
            url,
            fields,
            client_auth=client_auth,
            hook="refresh_token",
            prover=prover,
        )
        try:
            token = _token_endpoint.parse_token(self, response)
        except Warning as warning:
            return self._accept_changed_scope(warning)
        self.token = token
        return token

    def _refresh_refused(self, exc: Exception, old: dict[str, t.Any]) -> t.NoReturn:
        """The provider refused the refresh for another reason than an
        expired grant (the client's authentication, say): keep the token,
        send :data:`~flask_dance.consumer.oauth_error`, and raise
        :class:`~flask_dance.consumer.TokenRefreshError` (or answer with a
        receiver's response)."""
        self.token = old
        error = getattr(exc, "error", None) or type(exc).__name__
        log.warning("The provider refused to refresh a token: %s.", error)
        failure = TokenRefreshError.from_exception(exc)
        send = getattr(self.blueprint, "_send_error", None)
        if callable(send) and _is_real(self.blueprint):
            response = send(
                error=failure.error,
                error_description=failure.description,
                error_uri=failure.uri,
            )
            if response is not None:
                flask.abort(response)
        raise failure from exc

    def _refresh_failed(self, exc: Exception, old: dict[str, t.Any]) -> None:
        """Forget a token that can not be refreshed, and tell the app."""
        from .signals import is_response
        from .signals import oauth_refresh_failed

        self.token = None
        if self.blueprint is None:
            return
        del self.blueprint.token
        self.token = None
        results = oauth_refresh_failed.send(self.blueprint, error=exc, token=old)
        for _, value in results:
            if is_response(value):
                flask.abort(value)

    def _do_refresh(self, old: dict[str, t.Any]) -> None:
        refresh_url = self._refresh_url()
        assert refresh_url is not None
        try:
            new = self._request_refresh(refresh_url, old["refresh_token"])
        except InvalidGrantError as exc:
            log.warning("The provider refused to refresh a token: invalid_grant.")
            self._refresh_failed(exc, old)
            return
        except (OAuth2Error, ClientAuthError, _bounded.UnusableAnswer) as exc:
            # (a redirect, an oversized or malformed answer: the provider's
            # fault, as a refused client authentication is)
            self._refresh_refused(exc, old)
        new = dict(new)
        if not new.get("refresh_token"):
            new["refresh_token"] = old["refresh_token"]
        key_field = _token_endpoint.DPOP_KEY_FIELD
        if old.get(key_field) and str(new.get("token_type", "")).lower() == "dpop":
            new[key_field] = old[key_field]
        validate = _hook(self.blueprint, "_validate_refreshed_token")
        if validate is not None:
            try:
                validate(old, new)
            except ValueError as exc:
                log.warning("A refreshed token failed validation: %s", exc)
                self._refresh_failed(exc, old)
                return
        if self.token_updater:
            self.token_updater(new)
        self.token = new


def _replayable(data: t.Any, kwargs: dict[str, t.Any]) -> bool:
    """Whether a request body can be sent twice (no stream, no files)."""
    if kwargs.get("files"):
        return False
    return data is None or isinstance(data, (str, bytes, Mapping, list, tuple))


def _asks_for_dpop_nonce(response: requests.Response) -> bool:
    """Whether a resource server refused a DPoP request for want of a nonce
    (RFC 9449 9)."""
    return (
        response.status_code == 401
        and bool(response.headers.get("DPoP-Nonce"))
        and "use_dpop_nonce" in response.headers.get("WWW-Authenticate", "")
    )


def _is_real(blueprint: t.Any) -> bool:
    """Whether ``blueprint`` is one of ours rather than a mock a test built a
    session with (whose ``getattr`` would invent any hook)."""
    from .base import BaseOAuthConsumerBlueprint

    return isinstance(blueprint, BaseOAuthConsumerBlueprint)


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


class OAuth1Session(_BlueprintSessionMixin, _OAuth1Session, _PooledSessionInit):
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
        blueprint: BaseOAuthConsumerBlueprint | None = None,
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
