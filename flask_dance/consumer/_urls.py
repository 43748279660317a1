"""Joining request URLs with a provider's base URL, the blueprints' endpoint
and callback URLs, and vetting ``next``."""

from __future__ import annotations

import functools
import typing as t
from urllib.parse import urljoin
from urllib.parse import urlsplit

from flask import url_for
from oauthlib.oauth2.rfc6749.utils import is_secure_transport


def is_secure_url(url: str) -> bool:
    """Whether oauthlib lets a request go to ``url``: an HTTPS URL, or any
    URL when ``OAUTHLIB_INSECURE_TRANSPORT`` is set. The scheme is checked
    first, so that the environment is read only for other URLs.

    :param url: An absolute URL.
    """
    return url[:8].lower() == "https://" or is_secure_transport(url)


def join_url(base_url: str | None, url: str) -> str:
    """Resolve ``url`` against ``base_url``.

    An absolute URL (with a scheme, or starting with ``//``) is returned
    unchanged. Otherwise the base URL is treated as a directory, whether or not
    it ends with a slash, and ``url`` is resolved beneath its path, whether or
    not it starts with one: ``https://gitlab.com/api/v4`` and ``/user`` give
    ``https://gitlab.com/api/v4/user``. A path that already starts with the base
    path is not repeated.

    :param base_url: The provider's base URL, or ``None``.
    :param url: An absolute URL or a path.
    """
    if not base_url or not url:
        return url
    return _join_url(base_url, url)


@functools.lru_cache(maxsize=512)
def _join_url(base_url: str, url: str) -> str:
    # Cached: an app calls the same few endpoints over and over.
    if urlsplit(url).scheme or url.startswith("//"):
        return url
    base = base_url if base_url.endswith("/") else base_url + "/"
    base_path = urlsplit(base).path
    if url.startswith("/"):
        if base_path != "/" and (url + "/").startswith(base_path):
            return urljoin(base, url)
        url = url.lstrip("/")
    return urljoin(base, url)


_FORBIDDEN_NEXT_CHARS = frozenset("\\") | frozenset(chr(c) for c in range(0x20))


def safe_next_url(value: str | None) -> str | None:
    """Return ``value`` if it is a same-origin relative path, else ``None``.

    Accepted: ``/dashboard``, ``/a/b?x=1#top``. Refused: anything with a
    scheme or a host (``https://evil.example``, ``//evil.example``,
    ``javascript:...``), backslashes (``/\\evil.example``, which browsers read as
    ``//``), control characters, and paths that do not start with ``/``.

    :param value: The ``next`` parameter of a login request.
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return None
    if any(char in _FORBIDDEN_NEXT_CHARS or char == "\x7f" for char in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


class EndpointsMixin:
    """The provider endpoint URLs and the callback URL of the OAuth 1 and
    OAuth 2 blueprints."""

    #: The arguments that give the endpoint URLs, named in the error about a
    #: missing one; set by each blueprint class.
    _url_arguments: str = "the endpoint URLs to the blueprint"

    if t.TYPE_CHECKING:  # pragma: no cover
        name: str
        base_url: str | None
        redirect_uri: str | None

    def _absolute(self, url: str | None) -> str:
        if not url:
            raise RuntimeError(
                f"The blueprint {self.name!r} has no URL for this endpoint:"
                f" pass {self._url_arguments}."
            )
        return join_url(self.base_url, url)

    def _redirect_uri(self) -> str:
        if self.redirect_uri:
            return self.redirect_uri
        return url_for(".authorized", _external=True)
