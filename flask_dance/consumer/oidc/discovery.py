"""Provider metadata: OpenID Connect Discovery 1.0 and RFC 8414.

:func:`get_provider_metadata` returns the metadata of an issuer from a
process-wide cache, fetching it lazily (once per TTL and per issuer, however
many threads ask) with :func:`fetch_provider_metadata`.
"""

from __future__ import annotations

import collections.abc as cabc
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
from .errors import DiscoveryError

log: logging.Logger = logging.getLogger(__name__)

#: How long fetched metadata is reused, in seconds.
DEFAULT_METADATA_TTL: t.Final[float] = 3600.0

#: After a failed refresh, stale metadata is served for this long before the
#: next attempt, in seconds.
RETRY_INTERVAL: t.Final[float] = 60.0

_URL_FIELDS = (
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "revocation_endpoint",
    "end_session_endpoint",
    "introspection_endpoint",
    "pushed_authorization_request_endpoint",
)
_LIST_FIELDS = (
    "code_challenge_methods_supported",
    "id_token_signing_alg_values_supported",
    "response_modes_supported",
    "response_types_supported",
    "grant_types_supported",
    "scopes_supported",
    "claims_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "acr_values_supported",
    "dpop_signing_alg_values_supported",
)
_BOOL_FIELDS = (
    "authorization_response_iss_parameter_supported",
    "backchannel_logout_supported",
    "backchannel_logout_session_supported",
    "require_pushed_authorization_requests",
)


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


class ProviderMetadata:
    """Validated, read-only metadata of one authorization server.

    Build it with :func:`get_provider_metadata`, :func:`fetch_provider_metadata`
    or, for a provider without discovery, :meth:`from_dict`.

    :param data: The metadata document.
    :param expected_issuer: The configured issuer; ``data["issuer"]`` must
        equal it exactly.
    :param source: Where the document came from, used in error messages.
    :param allow_insecure: Accept ``http://`` endpoint URLs (development only).
    :raises DiscoveryError: ``"issuer_mismatch"`` or ``"discovery_failed"``
        when a field has the wrong type or an endpoint is not an https URL.
    """

    def __init__(
        self,
        data: cabc.Mapping[str, t.Any],
        *,
        expected_issuer: str,
        source: str = "<static>",
        allow_insecure: bool = False,
    ) -> None:
        issuer = data.get("issuer")
        if not isinstance(issuer, str) or not issuer:
            raise DiscoveryError(
                "discovery_failed",
                f"The metadata at '{source}' has no 'issuer'.",
                url=source,
            )
        if issuer != expected_issuer:
            raise DiscoveryError(
                "issuer_mismatch",
                f"The metadata at '{source}' names the issuer '{issuer}', but"
                f" '{expected_issuer}' is configured. They must be equal exactly"
                " (OpenID Connect Discovery 4.3); check the configured issuer.",
                url=source,
            )
        for name in _URL_FIELDS:
            value = data.get(name)
            if value is None:
                continue
            try:
                if not isinstance(value, str):
                    raise FetchFailed(f"'{name}' is not a string")
                check_url(value, allow_insecure=allow_insecure)
            except FetchFailed as exc:
                raise DiscoveryError(
                    "discovery_failed",
                    f"The metadata at '{source}' has a bad '{name}': {exc}.",
                    url=source,
                ) from None
        for name in _LIST_FIELDS:
            value = data.get(name)
            if value is not None and not (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            ):
                raise DiscoveryError(
                    "discovery_failed",
                    f"The metadata at '{source}' has a bad '{name}': not a list"
                    " of strings.",
                    url=source,
                )
        for name in _BOOL_FIELDS:
            value = data.get(name)
            if value is not None and not isinstance(value, bool):
                raise DiscoveryError(
                    "discovery_failed",
                    f"The metadata at '{source}' has a bad '{name}': not a boolean.",
                    url=source,
                )
        #: A copy of the whole document.
        self.raw: dict[str, t.Any] = dict(data)
        #: The URL the document was fetched from (``"<static>"`` if built).
        self.source: str = source

    @classmethod
    def from_dict(
        cls,
        data: cabc.Mapping[str, t.Any],
        *,
        allow_insecure: bool = False,
    ) -> ProviderMetadata:
        """Build metadata from a static document whose ``issuer`` is trusted.

        :param data: The document; it must contain ``issuer``.
        :param allow_insecure: Accept ``http://`` endpoint URLs.
        """
        issuer = data.get("issuer")
        return cls(
            data,
            expected_issuer=issuer if isinstance(issuer, str) else "",
            allow_insecure=allow_insecure,
        )

    def __repr__(self) -> str:
        return f"<ProviderMetadata {self.issuer!r}>"

    def get(self, name: str, default: t.Any = None) -> t.Any:
        """Return the raw metadata value ``name``, or ``default``."""
        return self.raw.get(name, default)

    def _str(self, name: str) -> str | None:
        value = self.raw.get(name)
        return value if isinstance(value, str) else None

    def _list(self, name: str) -> tuple[str, ...] | None:
        value = self.raw.get(name)
        return tuple(value) if isinstance(value, list) else None

    @property
    def issuer(self) -> str:
        """The issuer identifier (equal to the configured one)."""
        return t.cast(str, self.raw["issuer"])

    @property
    def authorization_endpoint(self) -> str | None:
        """``authorization_endpoint``, or ``None``."""
        return self._str("authorization_endpoint")

    @property
    def token_endpoint(self) -> str | None:
        """``token_endpoint``, or ``None``."""
        return self._str("token_endpoint")

    @property
    def userinfo_endpoint(self) -> str | None:
        """``userinfo_endpoint``, or ``None``."""
        return self._str("userinfo_endpoint")

    @property
    def jwks_uri(self) -> str | None:
        """``jwks_uri``, or ``None``."""
        return self._str("jwks_uri")

    @property
    def revocation_endpoint(self) -> str | None:
        """``revocation_endpoint`` (RFC 7009), or ``None``."""
        return self._str("revocation_endpoint")

    @property
    def introspection_endpoint(self) -> str | None:
        """``introspection_endpoint`` (RFC 7662), or ``None``."""
        return self._str("introspection_endpoint")

    @property
    def pushed_authorization_request_endpoint(self) -> str | None:
        """``pushed_authorization_request_endpoint`` (RFC 9126), or ``None``."""
        return self._str("pushed_authorization_request_endpoint")

    @property
    def require_pushed_authorization_requests(self) -> bool:
        """Whether the server accepts only pushed authorization requests."""
        return self.raw.get("require_pushed_authorization_requests") is True

    @property
    def end_session_endpoint(self) -> str | None:
        """``end_session_endpoint`` (RP-Initiated Logout), or ``None``."""
        return self._str("end_session_endpoint")

    @property
    def code_challenge_methods_supported(self) -> tuple[str, ...] | None:
        """PKCE methods the server announces, or ``None`` when absent."""
        return self._list("code_challenge_methods_supported")

    @property
    def authorization_response_iss_parameter_supported(self) -> bool:
        """Whether the server sends ``iss`` on the redirect (RFC 9207)."""
        return self.raw.get("authorization_response_iss_parameter_supported") is True

    @property
    def id_token_signing_alg_values_supported(self) -> tuple[str, ...] | None:
        """ID token signing algorithms the server announces, or ``None``."""
        return self._list("id_token_signing_alg_values_supported")

    @property
    def response_modes_supported(self) -> tuple[str, ...] | None:
        """Response modes the server announces, or ``None`` when absent."""
        return self._list("response_modes_supported")

    @property
    def token_endpoint_auth_methods_supported(self) -> tuple[str, ...] | None:
        """Client authentication methods at the token endpoint, or ``None``."""
        return self._list("token_endpoint_auth_methods_supported")

    def supports_pkce_s256(self) -> bool:
        """Whether the server announces PKCE with ``S256``.

        When this is false the client must still rely on ``state`` (it always
        sends PKCE S256 anyway; the metadata only says whether PKCE can be
        counted on as a CSRF defence).
        """
        return "S256" in (self.code_challenge_methods_supported or ())

    def requires_iss_parameter(self) -> bool:
        """Whether a callback without ``iss`` must be rejected (RFC 9207 2.4)."""
        return self.authorization_response_iss_parameter_supported


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
