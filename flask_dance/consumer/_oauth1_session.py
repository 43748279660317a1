"""The OAuth 1 provider session, :class:`~flask_dance.consumer.OAuth1Session`;
imported from :mod:`flask_dance.consumer.requests`."""

from __future__ import annotations

import typing as t
from contextlib import AbstractContextManager

import requests
from requests_oauthlib import OAuth1Session as _OAuth1Session

from . import _deadline
from ._session_base import BlueprintSessionMixin
from ._session_base import send_request
from ._session_base import SharedPoolInit
from ._session_base import timeout_of
from ._session_base import UNLOADED


class OAuth1Session(BlueprintSessionMixin, _OAuth1Session, SharedPoolInit):
    """A :class:`requests_oauthlib.OAuth1Session` for one user of one
    blueprint.

    :param blueprint: The blueprint this session belongs to.
    :param base_url: The provider's API root.
    :param args: Passed to :class:`requests_oauthlib.OAuth1Session`.
    :param kwargs: Passed to :class:`requests_oauthlib.OAuth1Session`.
    """

    _client: t.Any
    _populate_attributes: t.Callable[[t.Any], None]

    @property
    def token(self) -> t.Any:
        """This user's token; read from the blueprint on first use."""
        if self._flask_dance_token is UNLOADED:
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
        self._flask_dance_token = UNLOADED
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
            kwargs["timeout"] = timeout_of(self.blueprint)
        return send_request(
            super().request,
            method.decode() if isinstance(method, bytes) else method,
            url.decode() if isinstance(url, bytes) else url,
            data=data,
            headers=headers,
            **kwargs,
        )

    def fetch_request_token(
        self, url: str, realm: t.Any = None, **request_kwargs: t.Any
    ) -> dict[str, t.Any]:
        """Fetch a request token, as requests-oauthlib does; the request
        follows no redirect, and an answer without a non-empty
        ``oauth_token`` is refused."""
        with _at_token_endpoint():
            return super().fetch_request_token(url, realm, **request_kwargs)

    def fetch_access_token(
        self, url: str, verifier: t.Any = None, **request_kwargs: t.Any
    ) -> dict[str, t.Any]:
        """Fetch an access token, under the rules of
        :meth:`fetch_request_token`."""
        with _at_token_endpoint():
            return super().fetch_access_token(url, verifier, **request_kwargs)


def _at_token_endpoint() -> AbstractContextManager[None]:
    """Mark the requests of the block as OAuth 1 token requests (see
    :mod:`._bounded`)."""
    return _deadline.token_endpoint("oauth1")
