"""Bounded calls to a provider: no redirect followed blindly, an overall
deadline, and a cap on the body read.

Every request to a token-side endpoint (the code exchange, refresh,
revocation, and OAuth 1's request and access tokens) is sent inside
:func:`token_endpoint`; the provider sessions then send it through
:func:`send`. A redirect is never followed there: the form it would post
again holds a code, a refresh token or client credentials. Discovery and
key-set fetches follow only redirects to HTTPS on the same origin.
"""

from __future__ import annotations

import contextlib
import contextvars
import typing as t
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests

from . import _deadline

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator

#: Largest answer read from a provider's token-side endpoint, in bytes.
MAX_BODY_BYTES: t.Final[int] = 512 * 1024

#: How many same-origin HTTPS redirects a metadata fetch follows.
MAX_METADATA_REDIRECTS: t.Final[int] = 3

_CHUNK = 16384


class ProviderCallError(requests.RequestException):
    """A call to the provider that was stopped before its answer was used."""

    @property
    def description(self) -> str:
        """What went wrong, in a sentence."""
        return str(self.args[0]) if self.args else type(self).__name__


class UnusableAnswer(ProviderCallError):
    """The provider answered, but not with something that can be used."""


class RedirectRefused(UnusableAnswer):
    """The provider answered with a redirect that is not followed."""


class BodyTooLarge(UnusableAnswer):
    """The provider's answer is larger than allowed."""


class DeadlineExceeded(ProviderCallError, requests.Timeout):
    """The provider's whole answer took longer than the deadline."""


#: What the current token-side call expects back: ``"token"`` for an OAuth 2
#: token answer, ``"oauth1"`` for an OAuth 1 one, ``"other"`` for anything
#: else (revocation), or ``None`` outside such a call.
_kind: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "flask_dance_token_endpoint", default=None
)


@contextlib.contextmanager
def token_endpoint(kind: str = "other") -> Iterator[None]:
    """Send the provider-session requests made in the block as token-side
    calls: bounded, with no redirect followed, and the answer checked.

    :param kind: ``"token"``, ``"oauth1"`` or ``"other"``; see
        :func:`flask_dance.consumer._token_answer.check`.
    """
    reset = _kind.set(kind)
    try:
        yield
    finally:
        _kind.reset(reset)


def token_endpoint_kind() -> str | None:
    """What the current token-side call expects, or ``None`` outside one."""
    return _kind.get()


def send(
    request: t.Callable[..., requests.Response],
    method: str,
    url: str,
    *,
    redirects: int = 0,
    max_bytes: int = MAX_BODY_BYTES,
    **kwargs: t.Any,
) -> requests.Response:
    """Send a request and read its answer within an overall deadline (the
    connect and read timeouts added up) and ``max_bytes``.

    :param request: Sends one request: :meth:`requests.Session.request` or
        alike, called with ``method``, the URL and ``kwargs``.
    :param method: The HTTP method.
    :param url: The URL.
    :param redirects: How many redirects to HTTPS on the same origin to
        follow; any other redirect is refused.
    :param max_bytes: The largest body read.
    :param kwargs: Passed to ``request``; ``allow_redirects`` and ``stream``
        are set here.
    :raises RedirectRefused: the answer is a redirect not followed.
    :raises BodyTooLarge: the body is larger than ``max_bytes``.
    :raises DeadlineExceeded: the whole call took too long.
    """
    kwargs["allow_redirects"] = False
    kwargs["stream"] = True
    seconds = _deadline.seconds_for(kwargs.get("timeout"))
    with _deadline.deadline(seconds) as call:
        try:
            for _ in range(redirects + 1):
                response = request(method, url, **kwargs)
                if not 300 <= response.status_code < 400:
                    _read_body(response, max_bytes, call)
                    return response
                response.close()
                target = _redirect_target(url, response)
                if target is None:
                    break
                url = target
            raise RedirectRefused(
                f"The provider answered HTTP {response.status_code}, a redirect"
                " that is not followed.",
                response=response,
            )
        except (requests.RequestException, OSError) as exc:
            if call is not None and call.expired and not isinstance(exc, BodyTooLarge):
                raise DeadlineExceeded(
                    f"The provider's answer took longer than {seconds:g} seconds."
                ) from exc
            raise


def _redirect_target(url: str, response: requests.Response) -> str | None:
    """Where a same-origin HTTPS redirect leads, or ``None`` for any other."""
    location = response.headers.get("Location")
    if not location:
        return None
    target = urljoin(url, location)
    old, new = urlsplit(url), urlsplit(target)
    if new.scheme != "https" or old.scheme != "https":
        return None
    if (new.hostname, new.port) != (old.hostname, old.port):
        return None
    return target


def _read_body(
    response: requests.Response, max_bytes: int, call: _deadline.Call | None
) -> None:
    """Read the body into ``response``, at most ``max_bytes`` of it."""
    loaded: t.Any = response
    if loaded._content is not False:
        # read already (an adapter that built the response in memory)
        if loaded._content is not None and len(loaded._content) > max_bytes:
            raise BodyTooLarge(f"The answer is larger than {max_bytes} bytes.")
        return
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        response.close()
        raise BodyTooLarge(f"The answer is larger than {max_bytes} bytes.")
    body = bytearray()
    for chunk in response.iter_content(_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            response.close()
            raise BodyTooLarge(f"The answer is larger than {max_bytes} bytes.")
        if call is not None and call.remaining() < 0:
            call.expired = True
            response.close()
            raise DeadlineExceeded("The provider's answer took too long.")
    if call is not None and call.expired:
        raise DeadlineExceeded("The provider's answer took too long.")
    loaded._content = bytes(body)
    loaded._content_consumed = True
