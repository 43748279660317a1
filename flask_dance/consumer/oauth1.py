"""The OAuth 1 consumer blueprint."""

from __future__ import annotations

import logging
import sys
import time
import typing as t

import flask
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC
from oauthlib.oauth1 import SIGNATURE_TYPE_AUTH_HEADER
from requests_oauthlib.oauth1_session import TokenMissing
from requests_oauthlib.oauth1_session import TokenRequestDenied
from werkzeug.wrappers import Response

from ._pending import PendingLogin
from ._urls import EndpointsMixin
from .base import BaseOAuthConsumerBlueprint
from .base import BlueprintOptions
from .base import oauth_before_login
from .base import split_options

# at run time too, so that typing.get_type_hints resolves ``Unpack[...]``
if sys.version_info >= (3, 11):
    from typing import Unpack
elif t.TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

if t.TYPE_CHECKING:  # pragma: no cover
    from oauthlib.oauth1 import Client

    from ._oauth1_session import OAuth1Session

log: logging.Logger = logging.getLogger(__name__)


class OAuth1ConsumerBlueprint(EndpointsMixin, BaseOAuthConsumerBlueprint):
    """A blueprint that signs users in with an OAuth 1.0a provider and gives
    the app a :class:`requests.Session` to call the provider's API with their
    token.

    The request token and its secret are remembered in the browser that
    started the login; the callback must bring back that request token, and
    the access-token request is signed with its secret (RFC 5849).
    """

    #: The class of the per-request sessions; default
    #: :class:`~flask_dance.consumer.requests.OAuth1Session`.
    session_class: type[OAuth1Session]

    _url_arguments = "'request_token_url', 'authorization_url' and 'access_token_url'"

    if t.TYPE_CHECKING:  # pragma: no cover
        #: The :class:`~flask_dance.consumer.requests.OAuth1Session` of the
        #: current request.
        session: OAuth1Session

    def __init__(
        self,
        name: str,
        import_name: str,
        client_key: str | None = None,
        client_secret: str | None = None,
        *,
        signature_method: str = SIGNATURE_HMAC,
        signature_type: str = SIGNATURE_TYPE_AUTH_HEADER,
        rsa_key: str | None = None,
        client_class: type[Client] | None = None,
        force_include_body: bool = False,
        request_token_url: str | None = None,
        access_token_url: str | None = None,
        session_class: type[OAuth1Session] | None = None,
        **options: Unpack[BlueprintOptions],
    ) -> None:
        """
        :param name: The blueprint's name.
        :param import_name: The import name, usually ``__name__``.
        :param client_key: The client key from the provider.
        :param client_secret: The client secret from the provider.
        :param signature_method: ``HMAC-SHA1`` (default), ``RSA-SHA1`` or
            ``PLAINTEXT``.
        :param signature_type: Where the OAuth parameters go: the
            ``Authorization`` header (default), the query or the body.
        :param rsa_key: The private RSA key, for ``RSA-SHA1``.
        :param client_class: An :class:`oauthlib.oauth1.Client` subclass.
        :param force_include_body: Always sign the request body.
        :param request_token_url: The request-token endpoint.
        :param access_token_url: The access-token endpoint.
        :param session_class: The session class; default
            :class:`~flask_dance.consumer.requests.OAuth1Session`.
        :param options: The options every consumer blueprint takes, such as
            ``base_url`` (the token URLs are resolved against it too),
            ``authorization_url``, ``redirect_url``, ``storage`` and
            ``url_prefix``: see :class:`~.base.BlueprintOptions`. Any other
            keyword argument is passed to ``session_class``.
        """
        if session_class is None and not hasattr(type(self), "session_class"):
            # Imported by the first OAuth 1 blueprint, not with the package.
            from ._oauth1_session import OAuth1Session

            session_class = OAuth1Session
        shared, kwargs = split_options(options)
        super().__init__(
            name,
            import_name,
            session_class=session_class,
            client_secret=client_secret,
            **shared,
        )
        #: The client key.
        self.client_key = client_key
        #: The signature method.
        self.signature_method = signature_method
        #: Where the OAuth parameters go.
        self.signature_type = signature_type
        #: The private RSA key.
        self.rsa_key = rsa_key
        #: The oauthlib client class.
        self.client_class = client_class
        #: Whether the body is always signed.
        self.force_include_body = force_include_body
        #: The request-token endpoint.
        self.request_token_url = request_token_url
        #: The access-token endpoint.
        self.access_token_url = access_token_url
        #: Keyword arguments for ``session_class``.
        self.kwargs = kwargs

    def _build_session(self) -> OAuth1Session:
        session: OAuth1Session = self.session_class(
            client_key=self.client_key,
            client_secret=self.client_secret,
            signature_method=self.signature_method,
            signature_type=self.signature_type,
            rsa_key=self.rsa_key,
            client_class=self.client_class,
            force_include_body=self.force_include_body,
            blueprint=self,
            base_url=self.base_url,
            **self.kwargs,
        )
        return session

    def _token_failure(self, reason: str, error: str, exc: Exception) -> t.Any:
        message = exc.args[0] if exc.args else str(exc)
        return self._fail(
            reason,
            error=error,
            error_description=str(message),
            message=message,
            response=getattr(exc, "response", None),
        )

    def login(self) -> Response:
        """Start the dance: get a request token, remember it (with its
        secret) for this browser, and redirect the user to the provider."""
        self.load_config()
        from . import _setup

        _setup.check_credentials(self)
        session = self.session
        session._client.client.callback_uri = self._redirect_uri()
        try:
            token = session.fetch_request_token(
                self._absolute(self.request_token_url), should_load_token=False
            )
        except (TokenRequestDenied, TokenMissing) as exc:
            return t.cast(
                Response,
                self._token_failure(
                    "the request token was refused", "request_token_refused", exc
                ),
            )
        except (requests.RequestException, ValueError) as exc:
            return t.cast(
                Response,
                self._fail(
                    f"the request-token request failed ({type(exc).__name__})",
                    error="request_token_failed",
                    error_description=(
                        "The provider's request-token endpoint could not be used."
                    ),
                    response=getattr(exc, "response", None),
                ),
            )
        self.pending_logins.add(
            PendingLogin(
                key=token["oauth_token"],
                created_at=time.time(),
                secret=token.get("oauth_token_secret"),
                next_url=self._requested_next_url(),
            ),
            legacy=False,
        )
        url = session.authorization_url(self._absolute(self.authorization_url))
        oauth_before_login.send(self, url=url)
        return flask.redirect(url)

    def authorized(self) -> t.Any:
        """Finish the dance: match the callback's request token to one this
        browser started, fetch the access token signed with the request
        token's secret, send :data:`~flask_dance.consumer.oauth_authorized`,
        store the token and redirect."""
        self.load_config()
        session = self.session
        try:
            params = session.parse_authorization_response(flask.request.url)
        except TokenMissing as exc:
            denied = flask.request.args.get("denied")
            self.pending_logins.consume(denied)
            return self._token_failure(
                "the callback carried no request token",
                "access_denied" if denied else "invalid_request",
                exc,
            )
        except ValueError:
            # oauthlib refuses a query string with characters that a form
            # encoding never leaves raw, such as "{".
            return self._fail(
                "the callback's query string could not be parsed",
                error="invalid_request",
                error_description="The provider's answer could not be read.",
            )
        pending = self.pending_logins.consume(params.get("oauth_token"))
        if pending is None:
            return self._no_pending_login(
                "the callback's request token matches no pending login",
                error="invalid_request_token",
                error_description=(
                    "The login could not be completed: it expired, was already"
                    " used, or was started in another browser. Please try again."
                ),
            )
        session._client.client.resource_owner_secret = pending.secret
        try:
            token = session.fetch_access_token(
                self._absolute(self.access_token_url), should_load_token=False
            )
        except ValueError as exc:
            return self._token_failure(
                "the access token was refused", "access_token_refused", exc
            )
        except requests.RequestException as exc:
            return self._token_failure(
                "the access-token request failed", "access_token_failed", exc
            )
        return self._finish_login(token, pending.next_url)
