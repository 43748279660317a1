"""How a login ends: the token is handed to the app and stored and the user
sent on, or the failure is told to the app (:data:`~.signals.oauth_error`) and
the user gets a redirect or a page that says what to do."""

from __future__ import annotations

import logging
import typing as t

import flask
from werkzeug.exceptions import HTTPException

from ._pending import json_size
from ._transport import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from ._urls import safe_next_url
from .signals import is_response as _is_response
from .signals import oauth_authorized as oauth_authorized
from .signals import oauth_before_login as oauth_before_login
from .signals import oauth_error as oauth_error
from .signals import oauth_refresh_failed as oauth_refresh_failed
from .signals import send_oauth_error

log: logging.Logger = logging.getLogger(__name__)


#: The longest ``?next=`` URL kept, in characters as the session cookie
#: stores them; a longer one is ignored, so that a crafted link cannot push
#: the cookie past the size browsers keep.
MAX_NEXT_LENGTH = 2000


class OutcomeMixin:
    """The end of the dance, for the ``authorized`` views."""

    if t.TYPE_CHECKING:  # pragma: no cover - given by the blueprint
        name: str
        token: t.Any

        def _run_logged_in_funcs(self, token: t.Any) -> None: ...

    def _requested_next_url(self) -> str | None:
        request: t.Any = flask.request
        request = request._get_current_object()
        query = request.query_string
        if b"next" not in query and b"%" not in query:
            return None  # no ``next`` parameter: skip parsing the query
        value = request.args.get("next")
        if value is not None and len(value) * 6 > MAX_NEXT_LENGTH:
            size = json_size(value)
            if size is None or size - 2 > MAX_NEXT_LENGTH:
                log.info(
                    "Ignoring a 'next' URL of %d characters (more than %d).",
                    len(value),
                    MAX_NEXT_LENGTH,
                )
                return None
        return safe_next_url(value)

    def _default_next_url(self) -> str:
        redirect_url: str | None = getattr(self, "redirect_url", None)
        redirect_to: str | None = getattr(self, "redirect_to", None)
        if redirect_url:
            return redirect_url
        if redirect_to:
            return flask.url_for(redirect_to)
        return "/"

    def _send_error(self, **kwargs: t.Any) -> t.Any:
        """Send :data:`oauth_error` (see
        :func:`~flask_dance.consumer.signals.send_oauth_error` for the
        keyword arguments) and return the first response a receiver
        returned, or ``None``."""
        return send_oauth_error(self, **kwargs)

    def _fail(self, reason: str, **signal_kwargs: t.Any) -> t.Any:
        """End a failed dance: log ``reason``, send :data:`oauth_error` with
        ``signal_kwargs``, and answer with a receiver's response or a redirect
        to the next URL."""
        from . import _restart

        log.warning("OAuth login with %r failed: %s", self.name, reason)
        response = self._send_error(**signal_kwargs)
        if response is not None:
            return response
        return _restart.failure_redirect(self, self._default_next_url())

    def _fail_for(self, reason: str, exc: Exception, error: str) -> t.Any:
        """End a dance failed by ``exc``: as :meth:`_fail`, with the ``error``
        code of ``exc`` when it has one (else ``error``) and its message."""
        return self._fail(
            reason,
            error=getattr(exc, "error", error),
            error_description=str(exc),
            error_uri=None,
        )

    def _no_pending_login(self, reason: str, **signal_kwargs: t.Any) -> t.Any:
        """End a callback that matches no pending login: send
        :data:`oauth_error`, then answer with a receiver's response, or start
        the dance again (once within the pending-login lifetime), or redirect
        to the next URL."""
        from . import _restart

        log.info("OAuth login with %r failed: %s", self.name, reason)
        response = self._send_error(**signal_kwargs)
        if response is not None:
            return response
        if _restart.may_restart(self):
            log.info("Starting the login with %r again.", self.name)
            return _restart.restart(self)
        return _restart.failure_redirect(self, self._default_next_url())

    def _finish_login(self, token: t.Any, next_url: str | None) -> t.Any:
        """Send :data:`oauth_authorized`, store the token unless a receiver
        said not to, and redirect."""
        from . import _restart

        results = oauth_authorized.send(self, token=token)
        store = True
        for _, value in results:
            if _is_response(value):
                return value
            if value is False:
                store = False
        if store:
            try:
                self.token = token
            except ValueError as exc:
                return self._fail(
                    f"the token could not be stored: {exc}",
                    error=exc,
                    error_description=str(exc),
                )
            except HTTPException:
                raise
            except Exception as exc:
                return self._storage_failure(exc)
            self._run_logged_in_funcs(token)
        _restart.forget_restart(self)
        return flask.redirect(next_url or self._default_next_url())

    def _storage_failure(self, exc: Exception) -> t.Any:
        """The storage failed to keep a new token (its database is down,
        say): send :data:`oauth_error` with ``error=exc``, and answer with a
        receiver's response or a ``503`` page that asks the user to log in
        again. The exception's message is not logged or sent: it may quote
        the token."""
        from . import _restart

        log.error(
            "OAuth login with %r failed: the token could not be stored (%s).",
            self.name,
            type(exc).__name__,
        )
        response = self._send_error(
            error=exc, error_description="The token could not be stored."
        )
        if response is not None:
            return response
        return _restart.login_again_page(
            self,
            503,
            "The login could not be saved because a service is temporarily"
            " unavailable.",
            later=True,
            headers={"Retry-After": "5"},
        )
