"""Fetch a small JSON document over HTTP, failing with a reason, never a crash."""

from __future__ import annotations

import json
import logging
import re
import typing as t
from urllib.parse import urlsplit

import requests

from .._bounded import BodyTooLarge
from .._bounded import MAX_BODY_BYTES
from .._bounded import MAX_METADATA_REDIRECTS
from .._bounded import RedirectRefused
from .._bounded import send

log: logging.Logger = logging.getLogger(__name__)

#: Timeout, in seconds, of every metadata and key-set request.
DEFAULT_TIMEOUT: t.Final[float] = 10.0

#: Largest JSON document accepted from a provider, in bytes.
MAX_DOCUMENT_BYTES: t.Final[int] = MAX_BODY_BYTES

#: A :mod:`requests` timeout: seconds, or ``(connect, read)``.
Timeout: t.TypeAlias = float | tuple[float, float]


class FetchFailed(Exception):
    """Private: the document could not be fetched; ``str()`` is the reason."""


#: The operating system's reason inside a connection error's text, such as
#: ``[Errno 111] Connection refused``.
_OS_REASON = re.compile(r"\[Errno -?\d+\] ([^'\"()\[\]]+)")


def describe_request_error(exc: requests.RequestException) -> str:
    """A failed request in a few words, without the nested reprs that
    urllib3's messages carry.

    :param exc: The error requests raised.
    """
    if isinstance(exc, requests.Timeout):
        return "the request timed out"
    if isinstance(exc, requests.exceptions.SSLError):
        return "the TLS handshake failed (certificate or protocol)"
    if isinstance(exc, requests.ConnectionError):
        reason = _OS_REASON.search(str(exc))
        detail = f" ({reason.group(1).strip()})" if reason else ""
        return f"the server could not be reached{detail}"
    return type(exc).__name__


def check_url(url: str, *, allow_insecure: bool) -> None:
    """Raise :class:`FetchFailed` unless ``url`` is absolute and uses TLS.

    :param url: The URL to check.
    :param allow_insecure: Accept ``http://`` (for development only).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise FetchFailed(f"'{url}' is not an absolute http(s) URL")
    if parts.scheme == "http" and not allow_insecure:
        raise FetchFailed(
            f"'{url}' does not use https (for local development only, set"
            " OAUTHLIB_INSECURE_TRANSPORT=1 to allow http)"
        )


def fetch_json(
    session: requests.Session, url: str, *, timeout: Timeout
) -> dict[str, t.Any]:
    """GET ``url`` and return its JSON object.

    :param session: The session whose connection pool is used.
    :param url: The document URL.
    :param timeout: Passed to :meth:`requests.Session.get`.
    :raises FetchFailed: on a network error, a non-200 status, a redirect
        other than to HTTPS on the same origin, an answer larger than
        :data:`MAX_DOCUMENT_BYTES` or slower than the connect and read
        timeouts added up, or a body that is not a JSON object.
    """
    log.debug("Fetching %s", url)
    try:
        resp = send(
            session.request,
            "GET",
            url,
            redirects=MAX_METADATA_REDIRECTS,
            max_bytes=MAX_DOCUMENT_BYTES,
            timeout=timeout,
            headers={"Accept": "application/json"},
        )
    except BodyTooLarge as exc:
        raise FetchFailed(f"document larger than {MAX_DOCUMENT_BYTES} bytes") from exc
    except RedirectRefused as exc:
        raise FetchFailed(
            "a redirect to another origin or to plain http is not followed"
        ) from exc
    except requests.RequestException as exc:
        raise FetchFailed(describe_request_error(exc)) from exc
    if resp.status_code != 200:
        raise FetchFailed(f"HTTP status {resp.status_code}")
    body = resp.content
    try:
        data = json.loads(bytes(body))
    except (ValueError, RecursionError) as exc:
        raise FetchFailed("the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise FetchFailed("the body is not a JSON object")
    return data
