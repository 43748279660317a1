"""A provider session's own token requests: the code exchange
(``fetch_token``, and the direct path of the callback), the refresh request,
and the answers they get. Each is built and authenticated by
:mod:`._token_endpoint` when the blueprint says how the client
authenticates, and goes through requests-oauthlib as in Flask-Dance 7.1
otherwise."""

from __future__ import annotations

import logging
import typing as t
from collections.abc import Mapping

import requests
import requests.adapters
import requests.cookies
import requests.structures
from oauthlib.oauth2 import LegacyApplicationClient
from oauthlib.oauth2 import WebApplicationClient

from . import _client_auth
from . import _deadline
from . import _token_endpoint
from ._basic_auth import BasicAuth
from ._session_base import OAuth2SessionHost

log: logging.Logger = logging.getLogger(__name__)


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


def raise_for_server_error(response: requests.Response) -> requests.Response:
    """A token endpoint that fails with a 5xx answered no OAuth error: say so
    instead of letting its error page be parsed as a token."""
    if response.status_code >= 500:
        raise requests.HTTPError(
            f"The token endpoint answered HTTP {response.status_code}.",
            response=response,
        )
    return response


class ExchangeMixin(OAuth2SessionHost):
    """The token requests of :class:`~.requests.OAuth2Session`."""

    if t.TYPE_CHECKING:  # pragma: no cover - given by the session
        blueprint: t.Any
        _client: t.Any
        _pkce: t.Any

        def _absolute(self, url: str | bytes) -> str: ...

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
            with _deadline.token_endpoint("token"):
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
            with _deadline.token_endpoint("token"):
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
