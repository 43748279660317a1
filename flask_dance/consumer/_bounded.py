"""Bounded calls to a provider: no redirect followed blindly, an overall
deadline, and a cap on the body read.

Every request to a token-side endpoint (the code exchange, refresh,
revocation, and OAuth 1's request and access tokens) is sent inside
:func:`~flask_dance.consumer._deadline.token_endpoint`; the provider sessions
then send it through :func:`send`, loading this module on the first such
call. A redirect is never followed there: the form it would post
again holds a code, a refresh token or client credentials. Discovery and
key-set fetches follow only redirects to HTTPS on the same origin.

A token answer is then checked (:func:`check`) before anything reads it:
answers that oauthlib would crash on are refused, namely a JSON body that is
not an object (``null``, a list, a number, or nested too deep to parse), an
``expires_in`` that is not a reasonable number, a ``scope`` that is neither a
string nor a list of strings, and OAuth 1 answers that are not a form with a
non-empty ``oauth_token``.
"""

from __future__ import annotations

import json
import math
import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests

from . import _deadline

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


# -- token answers ---------------------------------------------------------------

#: The largest ``expires_in`` accepted, in seconds (about 300 years).
MAX_EXPIRES_IN: t.Final[int] = 10**10


class MalformedAnswer(UnusableAnswer):
    """The provider's answer is not a token this library can use."""


def send_token_side(
    kind: str,
    request: t.Callable[..., requests.Response],
    method: str,
    url: str,
    **kwargs: t.Any,
) -> requests.Response:
    """Send a token-side call of this ``kind`` through :func:`send`, then
    :func:`check` its answer; what the provider sessions do inside
    :func:`~flask_dance.consumer._deadline.token_endpoint`.

    :param kind: As for :func:`check`.
    :param request: As for :func:`send`.
    :param method: The HTTP method.
    :param url: The URL.
    :param kwargs: Passed to :func:`send`.
    """
    response = send(request, method, url, **kwargs)
    check(kind, response)
    return response


def check(kind: str, response: requests.Response) -> None:
    """Raise :class:`MalformedAnswer` unless the answer of a token-side call
    of this ``kind`` can be parsed safely.

    :param kind: ``"token"`` (OAuth 2 token answer), ``"oauth1"`` (OAuth 1
        request or access token answer), or anything else for no check.
    :param response: The answer, its body read.
    """
    if kind == "token":
        _check_oauth2(response)
    elif kind == "oauth1" and response.status_code < 400:
        _check_oauth1(response)


def _malformed(why: str, response: requests.Response) -> MalformedAnswer:
    return MalformedAnswer(f"The provider's token answer {why}.", response=response)


class _NotFinite(Exception):
    """A JSON number that is not finite (``NaN``, ``Infinity``, ``1e400``)."""


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NotFinite()
    return number


def _no_constant(text: str) -> t.NoReturn:
    raise _NotFinite()


#: Reads JSON that holds only finite numbers; made once (:func:`json.loads`
#: with arguments makes a new decoder for each call).
_finite_json = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant)


def _check_oauth2(response: requests.Response) -> None:
    text = response.text
    try:
        data: t.Any = _finite_json.decode(text)
    except RecursionError:
        raise _malformed("is nested too deep", response) from None
    except _NotFinite:
        # no database stores it as JSON, and no expiry can be computed
        raise _malformed("holds a number that is not finite", response) from None
    except ValueError:
        # not JSON: oauthlib reads a form-encoded answer, as GitHub's once was
        try:
            data = dict(parse_qsl(text.strip(), max_num_fields=100))
        except ValueError:
            return  # oauthlib refuses it with a ValueError of its own
    if not isinstance(data, dict):
        raise _malformed(f"is a JSON {type(data).__name__}, not an object", response)
    if not _usable_expires_in(data.get("expires_in")):
        raise _malformed("has an 'expires_in' that is not a number", response)
    scope = data.get("scope")
    if not (
        scope is None
        or isinstance(scope, str)
        or (isinstance(scope, list) and all(isinstance(s, str) for s in scope))
    ):
        raise _malformed("has a 'scope' that is neither text nor a list", response)


def _usable_expires_in(value: t.Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit() or len(text) > 11:
            return False
        value = int(text)
    if isinstance(value, int):
        return abs(value) < MAX_EXPIRES_IN
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) < MAX_EXPIRES_IN
    return False


def _check_oauth1(response: requests.Response) -> None:
    text = response.text.strip()
    try:
        fields = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=100))
    except ValueError:
        raise _malformed("is not a form", response) from None
    if not fields.get("oauth_token"):
        raise _malformed("has no 'oauth_token'", response)
