"""Sends every request to the provider's token-side endpoints: the code
exchange, refresh, revocation, introspection, pushed authorization requests
and the client-credentials grant.

Each request is a form POST that carries the client authentication of
:mod:`._client_auth`, never follows a redirect (it carries a code, a token or
a client credential), goes through the session (its timeout and connection
pool) without the user's token, ends within an overall deadline and reads a
bounded answer (:mod:`._bounded`), and, for a DPoP client, carries a fresh
proof, sent once more with the server's nonce when it asks for one
(RFC 9449 8).
"""

from __future__ import annotations

import logging
import typing as t

import requests
from oauthlib.oauth2 import InsecureTransportError
from oauthlib.oauth2 import OAuth2Error
from oauthlib.oauth2.rfc6749.utils import list_to_scope

from . import _bounded
from . import _client_auth
from . import _openid
from ._basic_auth import ClientAuthError
from ._oidc_errors import OIDCError
from ._urls import is_secure_url

if t.TYPE_CHECKING:  # pragma: no cover
    from ._client_auth import ClientAuth
    from ._dpop import Prover as Prover

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import OAuth2Host
else:
    OAuth2Host = object


log: logging.Logger = logging.getLogger(__name__)

#: What a client authentication that can not be done raises.
CLIENT_AUTH_ERRORS: tuple[type[Exception], ...] = (ClientAuthError, OIDCError)


#: Where a token keeps its DPoP private key (a JWK); see :mod:`._dpop`.
DPOP_KEY_FIELD: t.Final[str] = "dpop_jwk"

_FORM_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/x-www-form-urlencoded",
}


class TokenRefreshError(OAuth2Error):
    """The provider refused to refresh a token for another reason than an
    expired or revoked grant, most often because it did not accept the
    client's authentication (``invalid_client``), or it answered no token.

    The stored token is kept (the fault is the client's configuration or the
    provider's, not the user's) and :data:`~flask_dance.consumer.oauth_error`
    was sent. It is an :class:`oauthlib.oauth2.OAuth2Error`: ``error``,
    ``description`` and ``uri`` carry the provider's answer; the original
    exception is the ``__cause__``.
    """

    error: str = "refresh_failed"

    @classmethod
    def from_exception(cls, exc: Exception) -> TokenRefreshError:
        """Wrap what the refresh raised."""
        error = getattr(exc, "error", None)
        description = getattr(exc, "description", None)
        if not isinstance(description, str) or not description:
            description = (
                f"The provider refused to refresh the token ({error})."
                if isinstance(error, str)
                else "The token could not be refreshed."
            )
        failure = cls(
            description=description,
            uri=getattr(exc, "uri", None),
            status_code=getattr(exc, "status_code", 400),
        )
        if isinstance(error, str) and error:
            failure.error = error
        return failure


def _asks_for_nonce(response: requests.Response) -> str | None:
    """The server's new DPoP nonce when it refused the proof for want of one
    (RFC 9449 8 at the authorization server, 9 at a resource server)."""
    nonce = response.headers.get("DPoP-Nonce")
    if not nonce or response.status_code not in (400, 401):
        return None
    if "use_dpop_nonce" in response.headers.get("WWW-Authenticate", ""):
        return nonce
    try:
        body = response.json()
    except ValueError:
        return None
    return (
        nonce
        if isinstance(body, dict) and body.get("error") == "use_dpop_nonce"
        else None
    )


def post(
    session: t.Any,
    url: str,
    fields: t.Mapping[str, str],
    *,
    client_auth: ClientAuth | None,
    hook: str | None = None,
    prover: Prover | None = None,
    nonce: str | None = None,
) -> requests.Response:
    """POST ``fields`` to a token-side endpoint and return the answer.

    :param session: The blueprint's provider session for this request.
    :param url: The absolute endpoint URL.
    :param fields: The form fields of the request itself.
    :param client_auth: How the client authenticates, or ``None`` for not.
    :param hook: ``"access_token"`` or ``"refresh_token"``: run the
        session's requests-oauthlib compliance hooks of that name.
    :param prover: Makes the DPoP proof, for a DPoP client.
    :param nonce: The server's DPoP nonce; default: the last one it sent.
    :raises oauthlib.oauth2.InsecureTransportError: for a URL that is not
        ``https`` (unless ``OAUTHLIB_INSECURE_TRANSPORT`` is set).
    """
    if not is_secure_url(url):
        raise InsecureTransportError()
    data = dict(fields)
    auth = None
    if client_auth is not None:
        data.update(client_auth.fields)
        auth = client_auth.auth
    headers: dict[str, str] = dict(_FORM_HEADERS)
    request_kwargs: dict[str, t.Any] = {"data": data}
    hooks: t.Any = getattr(session, "compliance_hook", None) or {}
    if hook is not None:
        for before in hooks.get(f"{hook}_request", ()):
            url, headers, request_kwargs = before(url, headers, request_kwargs)
    # The session sends them through :mod:`._bounded`: no redirect, an
    # overall deadline, a bounded body, and a token answer it can parse.
    with _bounded.token_endpoint("token" if hook is not None else "other"):
        response = _send(session, url, headers, request_kwargs, auth, prover, nonce)
        if prover is not None:
            fresh = _asks_for_nonce(response)
            if fresh is not None:
                if client_auth is not None:
                    # a JWT assertion is single use: the first one may be spent
                    renewed = client_auth.renewed()
                    data = {**(request_kwargs.get("data") or {}), **renewed.fields}
                    request_kwargs = {**request_kwargs, "data": data}
                    auth = renewed.auth
                response = _send(
                    session, url, headers, request_kwargs, auth, prover, fresh
                )
    if hook is not None:
        for after in hooks.get(f"{hook}_response", ()):
            response = after(response)
    return response


def _send(
    session: t.Any,
    url: str,
    headers: dict[str, str],
    request_kwargs: dict[str, t.Any],
    auth: t.Any,
    prover: Prover | None,
    nonce: str | None,
) -> requests.Response:
    if prover is not None:
        headers = {**headers, "DPoP": prover.proof("POST", url, nonce=nonce)}
    response: requests.Response = session.post(
        url,
        headers=headers,
        auth=auth,
        allow_redirects=False,
        withhold_token=True,
        **request_kwargs,
    )
    if prover is not None:
        prover.remember_nonce(url, response)
    return response


def parse_token(session: t.Any, response: requests.Response) -> dict[str, t.Any]:
    """Parse a token answer as requests-oauthlib does (the oauthlib client
    raises the provider's OAuth error), and return the token.

    :param session: The provider session whose oauthlib client parses.
    :param response: The token endpoint's answer.
    :raises oauthlib.oauth2.OAuth2Error: for an error answer.
    """
    if 300 <= response.status_code < 400:
        raise requests.HTTPError(
            f"The token endpoint answered a redirect (HTTP {response.status_code}),"
            " which is not followed.",
            response=response,
        )
    client = session._client
    client.parse_request_body_response(response.text, scope=session.scope)
    return dict(client.token)


def _token_response(session: t.Any, exc: Exception) -> requests.Response | None:
    """The token endpoint's answer behind ``exc``, if there was one."""
    response = getattr(exc, "response", None)
    if isinstance(response, requests.Response):
        return response
    noted = getattr(session, "_token_response", None)
    return noted if isinstance(noted, requests.Response) else None


class TokenCallsMixin(OAuth2Host):
    """The blueprint's own calls to the token-side endpoints: revocation,
    introspection and the client-credentials grant."""

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
        except OIDCError:
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
            return post(self.session, target, fields, client_auth=client_auth)
        except CLIENT_AUTH_ERRORS as exc:
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
        except OIDCError:
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
        response = post(self.session, target, fields, client_auth=client_auth)
        if response.status_code >= 500:
            response.raise_for_status()
        try:
            return dict(parse_token_response(response.text, scope=scope))
        except Warning as warning:
            return dict(getattr(warning, "token", None) or {})
