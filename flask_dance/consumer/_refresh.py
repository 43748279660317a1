"""Refreshing a provider session's token: before it expires, once per user
under concurrency (one lock per refresh token, and the storage's own
``refresh_lock`` across processes), authenticated as the blueprint says; a
refusal removes the token and tells the app.

It also reads the expiry of stored tokens. A token stored with an
``expires_at`` (or ``expires_in``) that is not a finite number, such as
``"abc"``, made every later API call of its user fail. Such a token is read
as expired when it has a refresh token, so that it is refreshed before its
next use, and as no token otherwise (the user logs in again). A warning is
logged once per request.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
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
from oauthlib.oauth2 import InvalidGrantError
from oauthlib.oauth2 import OAuth2Error
from oauthlib.oauth2.rfc6749.utils import list_to_scope

from . import _client_auth
from . import _token_endpoint
from ._basic_auth import BasicAuth
from ._basic_auth import ClientAuthError
from ._exchange import ExchangeMixin
from ._request_local import app_context
from ._session_base import hook
from ._session_base import text_attr
from ._token_endpoint import TokenRefreshError

log: logging.Logger = logging.getLogger(__name__)


#: What :data:`flask.g` notes, per blueprint, once the warning was logged.
_WARNED_ATTR = "_flask_dance_bad_expiry_warned"

#: The ``expires_at`` given to a token with an unusable expiry and a refresh
#: token: long past, yet true, so that it reads as expired.
LONG_EXPIRED: t.Final[float] = 1.0


def as_time(value: t.Any) -> float | None:
    """``value`` as a finite number of seconds, or ``None`` when it is not
    one (a number in a string counts).

    :param value: An ``expires_at`` or ``expires_in`` value.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if math.isfinite(number) else None
    return None


def is_plain(token: t.Mapping[str, t.Any]) -> bool:
    """Whether the token's expiry fields are absent or usable numbers.

    :param token: A stored token.
    """
    for field in ("expires_at", "expires_in"):
        value = token.get(field)
        if value is not None and as_time(value) is None:
            return False
    return True


def repaired(token: dict[str, t.Any], name: str) -> dict[str, t.Any] | None:
    """The token to use in place of one whose expiry is not a number: marked
    long expired when it has a refresh token, else ``None``.

    :param token: A copy of the stored token; changed in place.
    :param name: The blueprint's name, for the warning.
    """
    refreshable = bool(token.get("refresh_token"))
    _warn_once(name, refreshable)
    if not refreshable:
        return None
    token["expires_at"] = LONG_EXPIRED
    token.pop("expires_in", None)
    return token


def token_copy(stored: t.Any, name: str) -> t.Any:
    """What :attr:`BaseOAuthConsumerBlueprint.token` returns for ``stored``:
    a copy with ``expires_in`` recomputed from ``expires_at``; one whose
    expiry is not a number reads as expired, or as no token (see
    :func:`repaired`).

    :param stored: The token as stored.
    :param name: The blueprint's name.
    """
    if not stored or not isinstance(stored, Mapping):
        return stored
    token = dict(stored)
    if not is_plain(token):
        return repaired(token, name)
    if token.get("expires_in") and token.get("expires_at"):
        token["expires_in"] = float(token["expires_at"]) - time.time()
    return token


def _warn_once(name: str, refreshable: bool) -> None:
    app_ctx = app_context()
    if app_ctx is not None:
        state = vars(app_ctx.g)
        warned: set[str] = state.setdefault(_WARNED_ATTR, set())
        if name in warned:
            return
        warned.add(name)
    log.warning(
        "The stored %r token has an expiry that is not a number; %s.",
        name,
        "it is treated as expired and refreshed"
        if refreshable
        else "it is ignored, and the user must log in again",
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


class RefreshMixin(ExchangeMixin):
    """The refresh of :class:`~.requests.OAuth2Session`, sent as its other
    token requests are (:class:`~._exchange.ExchangeMixin`)."""

    if t.TYPE_CHECKING:  # pragma: no cover - given by the session
        refresh_leeway: float

        def _forget_token(self) -> None: ...

    def _refresh_url(self) -> str | None:
        if self.auto_refresh_url:
            return str(self.auto_refresh_url)
        find = hook(self.blueprint, "_refresh_endpoint")
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
        seconds = as_time(expires_at)
        if seconds is None:
            return True  # not a time: refresh rather than fail
        return seconds - time.time() < self.refresh_leeway

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
        storage_lock = hook(getattr(self.blueprint, "storage", None), "refresh_lock")
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
        client_id = text_attr(blueprint, "client_id") or self.client_id
        client_secret = text_attr(blueprint, "client_secret")
        if self.auto_refresh_kwargs.get("client_secret"):
            return None
        if client_id and client_secret:
            return BasicAuth(str(client_id), str(client_secret))
        return None

    def _dpop_prover(self, token: t.Any) -> _token_endpoint.Prover | None:
        """The DPoP proof maker for requests made with ``token``: when the
        token is DPoP-bound and keeps its key."""
        make = hook(self.blueprint, "_dpop_prover")
        if not (
            make is not None
            and isinstance(token, Mapping)
            and token.get(_token_endpoint.DPOP_KEY_FIELD)
            and str(token.get("token_type", "")).lower() == "dpop"
        ):
            return None
        return make(token)  # type: ignore[no-any-return]

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
        return self._token_request(url, fields, client_auth, "refresh_token", prover)

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
        send = hook(self.blueprint, "_send_error")
        if send is not None:
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
        from . import _bounded

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
        validate = hook(self.blueprint, "_validate_refreshed_token")
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
