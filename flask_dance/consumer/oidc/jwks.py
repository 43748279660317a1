"""Signing keys of a provider (JSON Web Key Sets), cached per ``jwks_uri``.

A *key resolver* is any callable ``resolver(kid, alg) -> jwt.PyJWK`` that
returns the verification key for a token header. :class:`StaticJWKS` serves a
fixed key set; :meth:`JWKSCache.resolver` serves a provider's published keys.
"""

from __future__ import annotations

import collections.abc as cabc
import logging
import threading
import time
import typing as t

import jwt
import requests

from ._http import check_url
from ._http import DEFAULT_TIMEOUT
from ._http import fetch_json
from ._http import FetchFailed
from ._http import Timeout
from ._keys import JWK as JWK
from ._keys import keys_of
from ._keys import ParsedKeys
from ._keys import select_key as select_key
from ._keys import unknown_kid
from .errors import JWKSError

log: logging.Logger = logging.getLogger(__name__)

#: How long a fetched key set is reused, in seconds.
DEFAULT_JWKS_TTL: t.Final[float] = 3600.0

#: Shortest interval between two re-fetches of the same key set that unknown
#: ``kid`` values trigger, in seconds (scheduled fetches do not count). Also
#: how long a failed scheduled fetch waits before the next attempt.
DEFAULT_MIN_REFRESH_INTERVAL: t.Final[float] = 60.0


class KeyResolver(t.Protocol):
    """Return the verification key for a token's ``kid`` and ``alg``.

    Implementations raise :class:`~.errors.JWKSError` when no key fits.
    """

    def __call__(self, kid: str | None, alg: str) -> jwt.PyJWK: ...


class StaticJWKS:
    """A key resolver over a fixed JWKS document (no HTTP).

    :param jwks: A JWKS document, ``{"keys": [...]}``.
    :raises JWKSError: ``"jwks_unavailable"`` when ``keys`` is missing.
    """

    def __init__(self, jwks: cabc.Mapping[str, t.Any]) -> None:
        self._keys = ParsedKeys(keys_of(jwks, "<static>"))

    def __call__(self, kid: str | None, alg: str) -> jwt.PyJWK:
        jwk = select_key(self._keys.keys, kid, alg)
        if jwk is None:
            raise unknown_kid(kid, alg, None)
        return self._keys.get(jwk, alg, None)


def fetch_jwks(
    jwks_uri: str,
    *,
    session: requests.Session,
    timeout: Timeout = DEFAULT_TIMEOUT,
    allow_insecure: bool = False,
) -> tuple[JWK, ...]:
    """Fetch the key set at ``jwks_uri`` and return its keys.

    :param jwks_uri: The provider's ``jwks_uri``.
    :param session: A plain :class:`requests.Session` (no user token).
    :param timeout: Timeout of the request.
    :param allow_insecure: Accept an ``http://`` URL (development only).
    :raises JWKSError: ``"jwks_unavailable"`` naming the URL and the reason.
    """
    try:
        check_url(jwks_uri, allow_insecure=allow_insecure)
        document = fetch_json(session, jwks_uri, timeout=timeout)
    except FetchFailed as exc:
        raise JWKSError(
            "jwks_unavailable",
            f"Could not fetch the key set at '{jwks_uri}': {exc}.",
            url=jwks_uri,
        ) from None
    return keys_of(document, jwks_uri)


class JWKSCache:
    """The published keys of one ``jwks_uri``, cached and thread-safe.

    Keys are fetched lazily, reused for ``ttl`` seconds, and fetched by one
    thread at a time. A token whose ``kid`` is unknown triggers a re-fetch
    (key rotation), but never more than once per ``min_refresh_interval``,
    so a stream of tokens with random ``kid`` values cannot make the client
    hammer the provider. When a fetch fails, the previous keys stay in use.

    Use :func:`get_jwks_cache` to share one cache per URI in the process.

    :param jwks_uri: The provider's ``jwks_uri``.
    :param ttl: Lifetime of a fetched key set, in seconds.
    :param min_refresh_interval: Shortest interval between two fetches.
    :param allow_insecure: Accept an ``http://`` URL (development only).
    """

    def __init__(
        self,
        jwks_uri: str,
        *,
        ttl: float = DEFAULT_JWKS_TTL,
        min_refresh_interval: float = DEFAULT_MIN_REFRESH_INTERVAL,
        allow_insecure: bool = False,
    ) -> None:
        #: The key set URL.
        self.jwks_uri: str = jwks_uri
        #: Lifetime of a fetched key set, in seconds.
        self.ttl: float = ttl
        #: Shortest interval between two fetches, in seconds.
        self.min_refresh_interval: float = min_refresh_interval
        #: Accept an ``http://`` URL.
        self.allow_insecure: bool = allow_insecure
        self._keys: ParsedKeys | None = None
        self._expires_at = 0.0
        self._last_attempt: float | None = None
        self._last_kid_refetch: float | None = None
        self._lock = threading.Lock()

    def _fetch_locked(self, session: requests.Session, timeout: Timeout) -> None:
        self._last_attempt = time.monotonic()
        try:
            keys = fetch_jwks(
                self.jwks_uri,
                session=session,
                timeout=timeout,
                allow_insecure=self.allow_insecure,
            )
        except JWKSError as exc:
            if self._keys is None:
                raise
            log.warning("Keeping the previous keys of %s: %s", self.jwks_uri, exc)
            return
        self._keys = ParsedKeys(keys)
        self._expires_at = time.monotonic() + self.ttl

    def _may_fetch(self) -> bool:
        return (
            self._last_attempt is None
            or time.monotonic() - self._last_attempt >= self.min_refresh_interval
        )

    def _may_refetch_for_kid(self) -> bool:
        """Whether an unknown ``kid`` may trigger a fetch: only re-fetches of
        this kind count toward the rate limit, so a key published and used
        right after a scheduled fetch is found at once."""
        return (
            self._last_kid_refetch is None
            or time.monotonic() - self._last_kid_refetch >= self.min_refresh_interval
        )

    def _current(self, session: requests.Session, timeout: Timeout) -> ParsedKeys:
        keys = self._keys
        if keys is not None and time.monotonic() < self._expires_at:
            return keys
        with self._lock:
            if self._keys is None or (
                time.monotonic() >= self._expires_at and self._may_fetch()
            ):
                self._fetch_locked(session, timeout)
            assert self._keys is not None
            return self._keys

    def _refreshed(
        self, seen: ParsedKeys, session: requests.Session, timeout: Timeout
    ) -> ParsedKeys:
        with self._lock:
            if self._keys is seen and self._may_refetch_for_kid():
                log.debug("Unknown key, re-fetching %s", self.jwks_uri)
                self._last_kid_refetch = time.monotonic()
                self._fetch_locked(session, timeout)
            assert self._keys is not None
            return self._keys

    def get_key(
        self,
        kid: str | None,
        alg: str,
        *,
        session: requests.Session,
        timeout: Timeout = DEFAULT_TIMEOUT,
    ) -> jwt.PyJWK:
        """Return the key for ``kid`` and ``alg``, fetching keys as needed.

        :param kid: The token's ``kid`` header, if any.
        :param alg: The token's ``alg`` header.
        :param session: A plain :class:`requests.Session` used for fetches.
        :param timeout: Timeout of a fetch.
        :raises JWKSError: ``"jwks_unavailable"``, ``"unknown_kid"``,
            ``"invalid_jwk"`` or ``"alg_not_allowed"``.
        """
        keys = self._current(session, timeout)
        jwk = select_key(keys.keys, kid, alg, source=self.jwks_uri)
        if jwk is None:
            keys = self._refreshed(keys, session, timeout)
            jwk = select_key(keys.keys, kid, alg, source=self.jwks_uri)
        if jwk is None:
            raise unknown_kid(kid, alg, self.jwks_uri)
        return keys.get(jwk, alg, self.jwks_uri)

    def resolver(
        self, session: requests.Session, *, timeout: Timeout = DEFAULT_TIMEOUT
    ) -> KeyResolver:
        """Return a key resolver that fetches through ``session``.

        :param session: A plain :class:`requests.Session` (no user token).
        :param timeout: Timeout of a fetch.
        """

        def resolve(kid: str | None, alg: str) -> jwt.PyJWK:
            return self.get_key(kid, alg, session=session, timeout=timeout)

        return resolve

    def clear(self) -> None:
        """Forget the cached keys and the rate limit."""
        with self._lock:
            self._keys = None
            self._expires_at = 0.0
            self._last_attempt = None
            self._last_kid_refetch = None


_registry: dict[str, JWKSCache] = {}
_registry_lock = threading.Lock()


def get_jwks_cache(
    jwks_uri: str,
    *,
    ttl: float = DEFAULT_JWKS_TTL,
    min_refresh_interval: float = DEFAULT_MIN_REFRESH_INTERVAL,
    allow_insecure: bool = False,
) -> JWKSCache:
    """Return the process-wide :class:`JWKSCache` of ``jwks_uri``.

    The first call for a URI creates the cache with the given settings; later
    calls return the same object.
    """
    with _registry_lock:
        cache = _registry.get(jwks_uri)
        if cache is None:
            cache = _registry[jwks_uri] = JWKSCache(
                jwks_uri,
                ttl=ttl,
                min_refresh_interval=min_refresh_interval,
                allow_insecure=allow_insecure,
            )
        return cache


def clear_jwks_caches() -> None:
    """Forget every process-wide key set (for tests)."""
    with _registry_lock:
        _registry.clear()
