"""The token that a request to a blueprint's ``logout`` route must carry.

Logging out revokes and deletes the user's token, so a cross-site page must
not be able to trigger it with an ``<img>`` or a form of its own. Each
browser session gets one random token per blueprint; the logout route acts
only when the request carries it, as the ``logout_token`` query parameter of
a link or the field of a form posted to the route.
"""

from __future__ import annotations

import hmac
import secrets
import typing as t

import flask

from ._request_local import browser_session

#: The name of the query parameter or form field that carries the token.
FIELD = "logout_token"


def _session_key(name: str) -> str:
    return f"{name}_oauth_logout_token"


def token_for(name: str) -> str:
    """The current browser's logout token for the blueprint called ``name``,
    made on first use.

    :param name: The blueprint's name.
    """
    session = browser_session()
    key = _session_key(name)
    token = session.get(key)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(24)
        session[key] = token
    return token


def carries_token(name: str) -> bool:
    """Whether the current request carries the browser's logout token for
    the blueprint called ``name``.

    :param name: The blueprint's name.
    """
    expected = browser_session().get(_session_key(name))
    given: t.Any = flask.request.values.get(FIELD)
    if not isinstance(expected, str) or not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
