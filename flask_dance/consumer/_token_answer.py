"""Refuse token answers that oauthlib would crash on, before anything reads
them: a JSON body that is not an object (``null``, a list, a number, or
nested too deep to parse), an ``expires_in`` that is not a reasonable number,
a ``scope`` that is neither a string nor a list of strings, and OAuth 1
answers that are not a form with a non-empty ``oauth_token``.
"""

from __future__ import annotations

import json
import math
import typing as t
from urllib.parse import parse_qsl

import requests

from ._bounded import UnusableAnswer

#: The largest ``expires_in`` accepted, in seconds (about 300 years).
MAX_EXPIRES_IN: t.Final[int] = 10**10


class MalformedAnswer(UnusableAnswer):
    """The provider's answer is not a token this library can use."""


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


def _check_oauth2(response: requests.Response) -> None:
    text = response.text
    try:
        data: t.Any = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
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
