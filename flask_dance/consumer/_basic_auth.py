"""HTTP Basic client authentication (``client_secret_basic``), the one
builder every request that sends it uses, and the client-authentication
error. A leaf module: it imports nothing else of the package."""

from __future__ import annotations

import base64
from urllib.parse import quote_plus

import requests.auth


def basic_header(client_id: str, client_secret: str) -> str:
    """Return the ``Authorization`` value of ``client_secret_basic``: both
    parts form-urlencoded, then joined and base64-encoded (RFC 6749 2.3.1).

    :param client_id: The client ID.
    :param client_secret: The client secret.
    """
    pair = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


class BasicAuth(requests.auth.AuthBase):
    """A :mod:`requests` auth that sends ``client_secret_basic``.

    :param client_id: The client ID.
    :param client_secret: The client secret.
    """

    def __init__(self, client_id: str, client_secret: str) -> None:
        self._header = basic_header(client_id, client_secret)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self._header
        return r

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BasicAuth) and other._header == self._header

    def __hash__(self) -> int:
        return hash(self._header)

    def __repr__(self) -> str:
        return "<client_secret_basic>"


class ClientAuthError(ValueError):
    """The blueprint cannot authenticate as configured: an unknown method, or
    one whose secret or key is missing. The message says what to set."""
