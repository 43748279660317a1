"""The provider sessions: :class:`requests.Session` subclasses that know their
blueprint, join paths onto the provider's base URL, load the user's token
lazily and keep it fresh, and send DPoP-bound tokens with a proof (RFC 9449).
:class:`OAuth1Session` is defined in :mod:`._oauth1_session` and imported from
here on first use, so that apps without an OAuth 1 provider never load it."""

from __future__ import annotations

import logging
import types
import typing as t
import weakref
from collections.abc import Mapping

import requests
import requests.adapters
import requests.cookies
import requests.structures
from oauthlib.oauth2 import InsecureTransportError
from oauthlib.oauth2 import TokenExpiredError
from requests_oauthlib import OAuth2Session as _OAuth2Session

from ._basic_auth import BasicAuth
from ._exchange import raise_for_server_error
from ._refresh import RefreshMixin
from ._session_base import BlueprintSessionMixin
from ._session_base import OAuth2SessionHost
from ._session_base import send_request
from ._session_base import SharedPoolInit
from ._session_base import timeout_of
from ._session_base import UNLOADED
from ._urls import is_secure_url

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import AnyBlueprint
    from ._oauth1_session import OAuth1Session as OAuth1Session

log: logging.Logger = logging.getLogger(__name__)


#: Refresh a token this many seconds before it expires.
DEFAULT_REFRESH_LEEWAY = 60


#: HTTP Basic client authentication as RFC 6749 2.3.1 defines it: both parts
#: form-urlencoded first, so that a secret with ``:`` or ``%`` works.
client_secret_basic = BasicAuth


def _asks_for_dpop_nonce(response: requests.Response) -> bool:
    """Whether a resource server refused a DPoP request for want of a nonce
    (RFC 9449 9)."""
    return (
        response.status_code == 401
        and bool(response.headers.get("DPoP-Nonce"))
        and "use_dpop_nonce" in response.headers.get("WWW-Authenticate", "")
    )


class DPoPSessionMixin(OAuth2SessionHost):
    """DPoP on the requests of :class:`~.requests.OAuth2Session`."""

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


class _ResponseNote:
    """A compliance hook that keeps the token endpoint's answer on the
    session as ``_token_response``.

    It holds the session weakly: a bound method of the session, kept in the
    session's own hooks, would make every session a reference cycle, left for
    the garbage collector rather than freed when its request ends.
    """

    __slots__ = ("_session",)

    def __init__(self, session: OAuth2Session) -> None:
        self._session = weakref.ref(session)

    def __call__(self, response: requests.Response) -> requests.Response:
        session = self._session()
        if session is not None:
            session._token_response = response
        return response


class OAuth2Session(
    BlueprintSessionMixin,
    RefreshMixin,
    DPoPSessionMixin,
    _OAuth2Session,
    SharedPoolInit,
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
        super().__init__(blueprint, base_url, *args, **kwargs)
        #: Refresh tokens this many seconds before they expire.
        self.refresh_leeway: float = DEFAULT_REFRESH_LEEWAY
        #: The token endpoint's last answer to a code exchange, for
        #: :data:`~flask_dance.consumer.oauth_error` receivers.
        self._token_response: requests.Response | None = None
        self.register_compliance_hook("access_token_response", _ResponseNote(self))
        self.register_compliance_hook("access_token_response", raise_for_server_error)
        self.register_compliance_hook("refresh_token_response", raise_for_server_error)

    # -- the token ------------------------------------------------------------

    @property
    def token(self) -> t.Any:
        """This user's token; read from the blueprint on first use."""
        if self._flask_dance_token is UNLOADED:
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
        self._flask_dance_token = UNLOADED
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
            kwargs["timeout"] = timeout_of(self.blueprint)
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
        # requests.Session's request, past requests-oauthlib's: this method
        # takes its place
        return send_request(
            types.MethodType(requests.Session.request, self),
            method_name,
            target,
            headers=headers,
            data=data,
            **kwargs,
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


def _replayable(data: t.Any, kwargs: dict[str, t.Any]) -> bool:
    """Whether a request body can be sent twice (no stream, no files)."""
    if kwargs.get("files"):
        return False
    return data is None or isinstance(data, (str, bytes, Mapping, list, tuple))


def __getattr__(name: str) -> t.Any:
    """Import :class:`OAuth1Session` when it is first asked for, so that apps
    without an OAuth 1 provider never load it."""
    if name != "OAuth1Session":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ._oauth1_session import OAuth1Session

    globals()[name] = OAuth1Session
    return OAuth1Session
