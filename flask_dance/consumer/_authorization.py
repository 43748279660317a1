"""The start of an OAuth 2 login: a new state, the PKCE pair (S256) and the
nonce of an OpenID Connect login are kept in a pending login, and the user is
sent to the provider's authorization endpoint."""

from __future__ import annotations

import base64
import copy
import hashlib
import logging
import secrets
import string
import time
import typing as t
from urllib.parse import urlencode

import flask
from oauthlib.oauth2 import InsecureTransportError
from oauthlib.oauth2 import WebApplicationClient
from oauthlib.oauth2.rfc6749.utils import list_to_scope
from requests_oauthlib import OAuth2Session as _RequestsOAuth2Session

from . import _openid
from ._oidc_errors import OIDCError
from ._pending import PendingLogin
from ._token_endpoint import CLIENT_AUTH_ERRORS
from ._urls import is_secure_url
from .base import oauth_before_login

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import OAuth2Host
else:
    OAuth2Host = object


log: logging.Logger = logging.getLogger(__name__)


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


class LoginMixin(OAuth2Host):
    """The login view of :class:`~.oauth2.OAuth2ConsumerBlueprint`."""

    def _new_state(self) -> str:
        if callable(self.state):
            return self.state()
        if self.state:
            return self.state
        return _random_state()

    def login(self) -> t.Any:
        """Start the dance: remember a new pending login and redirect the
        user to the provider."""
        self._refresh_config()
        if not _set_up_plainly(self):
            from . import _setup

            _setup.check_credentials(self)
            _setup.check_issuer_transport(self)
        try:
            authorization_url = self._endpoint("authorization")
        except OIDCError as exc:
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
            from . import _setup

            what = f"the authorization URL {authorization_url!r}"
            _setup.refuse_insecure_transport(what, exc)
        # PAR needs use_par=True, or an issuer whose metadata asks for it.
        if self.use_par or (self.use_par is None and self.issuer):
            from . import _par

            par_errors: tuple[type[Exception], ...] = (
                _par.PushRefused,
                *CLIENT_AUTH_ERRORS,
            )
            try:
                if _par.applies(self):
                    url = _par.push(self, authorization_url, url)
            except par_errors as exc:
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


def _set_up_plainly(blueprint: t.Any) -> bool:
    """Whether :mod:`._setup` would find nothing to say about a login: the
    blueprint has a client ID and a client secret (or key), and no issuer or
    an HTTPS one. The common case, answered without loading that module."""
    if not (getattr(blueprint, "client_id", None) and blueprint.client_secret):
        return False
    issuer = getattr(blueprint, "issuer", None)
    return issuer is None or (
        isinstance(issuer, str) and issuer.lower().startswith("https://")
    )
