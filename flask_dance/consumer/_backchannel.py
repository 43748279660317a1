"""OpenID Connect Back-Channel Logout 1.0: the receiving end.

The provider POSTs a signed logout token to the blueprint's
``backchannel_logout`` route when a user signs out elsewhere. The route
validates it (signature, ``iss``, ``aud``, ``iat``, the logout ``events``
claim, no ``nonce``, ``sid`` or ``sub``, and a ``jti`` never seen before),
deletes the matching tokens of storages that keep them on the server, and
records ``(iss, sid or sub, time)`` in a server-side :class:`LogoutStore`, so
that a token kept in a user's cookie is dropped on that user's next request.
:data:`oauth_backchannel_logout` tells the app both times, so that it can end
its own login (Flask-Login's ``logout_user()`` on the user's request).

This module holds what every OAuth 2 blueprint has: the stores and the
mixin. The work itself, validating a logout token and checking a stored
token, is in :mod:`._backchannel_logout`, imported when a blueprint with
``backchannel_logout=True`` first needs it.
"""

from __future__ import annotations

import functools
import threading
import time
import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from types import ModuleType

    from .._typing import OAuth2Host
else:
    OAuth2Host = object

#: How long logout records and seen ``jti`` values are kept, in seconds
#: (14 days; longer than a typical refresh token lives).
DEFAULT_RECORD_TTL: t.Final[float] = 14 * 24 * 3600.0


class LogoutStore(t.Protocol):
    """Where back-channel logouts are remembered, shared by every process of
    the app. Values are Unix times."""

    def add(self, key: str, value: float, ttl: float) -> bool:
        """Store ``value`` under ``key`` unless the key exists; return whether
        it was stored."""

    def put(self, key: str, value: float, ttl: float) -> None:
        """Store ``value`` under ``key``."""

    def get(self, key: str) -> float | None:
        """Return the value under ``key``, or ``None``."""


class MemoryLogoutStore:
    """A :class:`LogoutStore` in this process's memory: for one process
    (development, tests). Use :class:`CacheLogoutStore` for several."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _prune(self, now: float) -> None:
        if len(self._values) > 10_000:
            for key in [k for k, (_, end) in self._values.items() if end <= now]:
                del self._values[key]

    def add(self, key: str, value: float, ttl: float) -> bool:
        now = time.time()
        with self._lock:
            self._prune(now)
            current = self._values.get(key)
            if current is not None and current[1] > now:
                return False
            self._values[key] = (value, now + ttl)
            return True

    def put(self, key: str, value: float, ttl: float) -> None:
        with self._lock:
            self._values[key] = (value, time.time() + ttl)

    def get(self, key: str) -> float | None:
        entry = self._values.get(key)
        if entry is None or entry[1] <= time.time():
            return None
        return entry[0]


class CacheLogoutStore:
    """A :class:`LogoutStore` in the app's cache: a Flask-Caching ``Cache``
    or a cachelib cache (Redis, Memcached...), anything with ``add``, ``set``
    and ``get`` taking a ``timeout`` in seconds.

    :param cache: The cache.
    """

    def __init__(self, cache: t.Any) -> None:
        #: The cache.
        self.cache = cache

    def add(self, key: str, value: float, ttl: float) -> bool:
        return bool(self.cache.add(key, value, timeout=int(ttl)))

    def put(self, key: str, value: float, ttl: float) -> None:
        self.cache.set(key, value, timeout=int(ttl))

    def get(self, key: str) -> float | None:
        value = self.cache.get(key)
        return float(value) if isinstance(value, (int, float)) else None


class BackchannelMixin(OAuth2Host):
    """The ``backchannel_logout`` route of
    :class:`~.oauth2.OAuth2ConsumerBlueprint`, and the check of each stored
    token against the logouts it received."""

    def _init_backchannel(
        self,
        enabled: bool,
        rule: str | None,
        store: LogoutStore | None,
        rule_options: dict[str, t.Any],
    ) -> None:
        #: Whether the back-channel logout route is on.
        self.backchannel_logout = enabled
        #: Where back-channel logouts are remembered.
        self.backchannel_logout_store: LogoutStore = store or MemoryLogoutStore()
        #: How long logout records and seen ``jti`` values are kept, seconds.
        self.backchannel_logout_ttl: float = DEFAULT_RECORD_TTL
        if not enabled:
            return
        if not self.issuer:
            raise ValueError(
                "backchannel_logout=True needs the provider's 'issuer' to"
                " validate logout tokens."
            )
        self.add_url_rule(
            (rule or "/{bp.name}/backchannel-logout").format(bp=self),
            endpoint="backchannel_logout",
            view_func=self.receive_backchannel_logout,
            methods=["POST"],
            **rule_options,
        )

    @functools.cached_property
    def _logouts(self) -> ModuleType:
        """:mod:`._backchannel_logout`, imported on the first use; later
        reads find it in the instance's ``__dict__``."""
        from . import _backchannel_logout

        return _backchannel_logout

    def _stored_token(self) -> t.Any:
        token = super()._stored_token()
        if token and self.backchannel_logout:
            return self._logouts.check_token(self, token)
        return token

    def receive_backchannel_logout(self) -> t.Any:
        """The ``backchannel_logout`` view: validate the provider's logout
        token, forget the user's tokens, tell the app with
        :data:`~flask_dance.consumer.oauth_backchannel_logout`, and answer
        200, or 400 with an error object."""
        self._refresh_config()
        return self._logouts.receive(self)
