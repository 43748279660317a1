"""Discovering provider metadata: OpenID Connect Discovery 1.0 and RFC 8414.

:func:`get_provider_metadata` returns the metadata of an issuer from a
process-wide cache, fetching it lazily (once per TTL and per issuer, however
many threads ask) with :func:`fetch_provider_metadata`. The document itself,
:class:`ProviderMetadata`, is defined in :mod:`._metadata`.
"""

from __future__ import annotations

import logging
import threading
import time
import typing as t
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import requests

from ._http import check_url
from ._http import DEFAULT_TIMEOUT
from ._http import fetch_json
from ._http import FetchFailed
from ._http import Timeout
from ._metadata import ProviderMetadata as ProviderMetadata
from .errors import DiscoveryError

log: logging.Logger = logging.getLogger(__name__)

#: How long fetched metadata is reused, in seconds.
DEFAULT_METADATA_TTL: t.Final[float] = 3600.0

#: After a failed refresh, stale metadata is served for this long before the
#: next attempt, in seconds.
RETRY_INTERVAL: t.Final[float] = 60.0


def discovery_urls(issuer: str) -> tuple[str, str]:
    """Return the two metadata URLs tried for ``issuer``, in order.

    The OpenID Connect URL appends ``/.well-known/openid-configuration`` to
    the issuer. The RFC 8414 URL inserts ``/.well-known/oauth-authorization-server``
    between the host and the issuer's path, so ``https://as.example/tenant``
    gives ``https://as.example/.well-known/oauth-authorization-server/tenant``.

    :param issuer: The issuer identifier, as configured.
    """
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    oidc = urlunsplit(
        (parts.scheme, parts.netloc, f"{path}/.well-known/openid-configuration", "", "")
    )
    rfc8414 = urlunsplit(
        (
            parts.scheme,
            parts.netloc,
            f"/.well-known/oauth-authorization-server{path}",
            "",
            "",
        )
    )
    return oidc, rfc8414


def fetch_provider_metadata(
    issuer: str,
    *,
    session: requests.Session,
    timeout: Timeout = DEFAULT_TIMEOUT,
    allow_insecure: bool = False,
) -> ProviderMetadata:
    """Fetch and validate the metadata of ``issuer``, without any cache.

    The OpenID Connect location is tried first, then the RFC 8414 one (see
    :func:`discovery_urls`). A document naming another issuer is refused at
    once, never skipped.

    :param issuer: The configured issuer identifier.
    :param session: A plain :class:`requests.Session` (no user token), whose
        connection pool is used.
    :param timeout: Timeout of each request.
    :param allow_insecure: Accept an ``http://`` issuer and endpoints
        (development only).
    :raises DiscoveryError: ``"discovery_failed"`` naming the URLs tried, or
        ``"issuer_mismatch"``.
    """
    try:
        check_url(issuer, allow_insecure=allow_insecure)
    except FetchFailed as exc:
        raise DiscoveryError(
            "discovery_failed",
            f"Cannot discover the issuer: {exc}. Configure an https issuer URL.",
            url=issuer,
        ) from None
    reasons: list[str] = []
    urls = discovery_urls(issuer)
    for url in urls:
        try:
            data = fetch_json(session, url, timeout=timeout)
        except FetchFailed as exc:
            log.debug("Discovery at %s failed: %s", url, exc)
            reasons.append(f"'{url}': {exc}")
            continue
        return ProviderMetadata(
            data, expected_issuer=issuer, source=url, allow_insecure=allow_insecure
        )
    raise DiscoveryError(
        "discovery_failed",
        f"Could not fetch the metadata of '{issuer}' ({'; '.join(reasons)}).",
        url=", ".join(urls),
    )


class _Entry(t.NamedTuple):
    metadata: ProviderMetadata
    fetched_at: float
    next_attempt: float


class DiscoveryCache:
    """A thread-safe, per-issuer cache of :class:`ProviderMetadata`.

    Metadata is fetched lazily on first use, reused for ``ttl`` seconds, and
    fetched once per issuer however many threads ask at the same time. When a
    refresh fails, the stale metadata is kept and the next attempt waits
    :data:`RETRY_INTERVAL` seconds; with nothing cached, the failure is raised.

    :param ttl: Lifetime of fetched metadata, in seconds.
    """

    def __init__(self, ttl: float = DEFAULT_METADATA_TTL) -> None:
        #: Lifetime of fetched metadata, in seconds.
        self.ttl: float = ttl
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock_for(self, issuer: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(issuer, threading.Lock())

    def get(
        self,
        issuer: str,
        *,
        session: requests.Session,
        timeout: Timeout = DEFAULT_TIMEOUT,
        allow_insecure: bool = False,
    ) -> ProviderMetadata:
        """Return the metadata of ``issuer``, fetching it when stale.

        Parameters are those of :func:`fetch_provider_metadata`.
        """
        entry = self._entries.get(issuer)
        if entry is not None and time.monotonic() < entry.next_attempt:
            return entry.metadata
        with self._lock_for(issuer):
            entry = self._entries.get(issuer)
            now = time.monotonic()
            if entry is not None and now < entry.next_attempt:
                return entry.metadata
            try:
                metadata = fetch_provider_metadata(
                    issuer,
                    session=session,
                    timeout=timeout,
                    allow_insecure=allow_insecure,
                )
            except DiscoveryError as exc:
                if entry is None or exc.error == "issuer_mismatch":
                    self._entries.pop(issuer, None)
                    raise
                log.warning(
                    "Refreshing the metadata of %s failed, keeping the old one: %s",
                    issuer,
                    exc,
                )
                self._entries[issuer] = entry._replace(
                    next_attempt=now + RETRY_INTERVAL
                )
                return entry.metadata
            now = time.monotonic()
            self._entries[issuer] = _Entry(metadata, now, now + self.ttl)
            return metadata

    def clear(self) -> None:
        """Forget every cached document."""
        with self._guard:
            self._entries.clear()


_default_cache = DiscoveryCache()


def get_provider_metadata(
    issuer: str,
    *,
    session: requests.Session,
    timeout: Timeout = DEFAULT_TIMEOUT,
    allow_insecure: bool = False,
    cache: DiscoveryCache | None = None,
) -> ProviderMetadata:
    """Return the metadata of ``issuer`` from the process-wide cache.

    :param issuer: The configured issuer identifier.
    :param session: A plain :class:`requests.Session` (no user token).
    :param timeout: Timeout of each request.
    :param allow_insecure: Accept ``http://`` URLs (development only).
    :param cache: Use this cache instead of the process-wide one.
    :raises DiscoveryError: see :func:`fetch_provider_metadata`.
    """
    return (cache if cache is not None else _default_cache).get(
        issuer, session=session, timeout=timeout, allow_insecure=allow_insecure
    )
