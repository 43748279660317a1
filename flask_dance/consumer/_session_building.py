"""How the OAuth 2 blueprint builds the provider session of a request: a copy
of its oauthlib client, the client id kept in step, the token updater and the
:meth:`~flask_dance.consumer.OAuth2ConsumerBlueprint.session_created` hook;
and the login that builds none."""

from __future__ import annotations

import copy
import typing as t

from ._authorization import _STOCK_AUTHORIZATION_URL
from ._authorization import _STOCK_SCOPE
from ._sessions import SessionsMixin
from .signals import oauth_before_login

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import OAuth2Host
    from .requests import OAuth2Session
else:
    OAuth2Host = object

#: The session factory of the blueprint base, which calls ``_build_session``.
_STOCK_MAKE_SESSION: t.Any = SessionsMixin._make_session


class SessionBuildingMixin(OAuth2Host):
    """Builds the :class:`~flask_dance.consumer.requests.OAuth2Session` of
    each request for :class:`~flask_dance.consumer.OAuth2ConsumerBlueprint`."""

    if t.TYPE_CHECKING:  # pragma: no cover
        session_class: type[OAuth2Session]
        auto_refresh_url: str | None
        auto_refresh_kwargs: dict[str, t.Any] | None
        base_url: str | None
        kwargs: dict[str, t.Any]
        _detached_session: t.Any
        _current_session: t.Callable[[], t.Any]
        _make_session: t.Callable[[], t.Any]
        _session_bindings: t.Callable[[], tuple[tuple[str, str], ...]]

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

    # -- the login without a session ------------------------------------------
    # A speed device: the login view builds no session when none could tell
    # the difference. Measured A/B in one bench/run.py run, on two copies of
    # the ``login_redirect`` app, one with the device switched off: a login
    # with it took 0.87 times as long (253 against 292 us, the same in two
    # runs), and ``login_redirect`` came out at 1.09 times the hand-written
    # app.

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
            and kind.session_created is SessionBuildingMixin.session_created
            and kind._build_session is SessionBuildingMixin._build_session
            and kind._make_session is _STOCK_MAKE_SESSION
            and not self.kwargs
            and not oauth_before_login.receivers
            and self._detached_session is None
            and self._current_session() is None
            and not self._session_bindings()
        )
