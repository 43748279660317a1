"""How large the signed session cookie of the current request would be.

Browsers keep about 4 KB per cookie (name and attributes included) and drop a
larger one silently, which ends the user's session. The pending logins and
:class:`~flask_dance.consumer.storage.session.SessionStorage` measure the
cookie before it grows near that.
"""

from __future__ import annotations

import json
import logging
import typing as t

import flask

log: logging.Logger = logging.getLogger(__name__)

#: Compact JSON, as Flask's session serializer writes it; made once, since
#: :func:`json.dumps` with arguments builds a new encoder on every call.
_compact_json = json.JSONEncoder(separators=(",", ":"))


def json_size(value: t.Any) -> int | None:
    """The length of ``value`` as compact JSON, or ``None`` when it holds
    something only Flask's serializer writes.

    :param value: A session value, or the whole session as a dict.
    """
    try:
        return len(_compact_json.encode(value))
    except (TypeError, ValueError):
        return None


def clearly_below(session: t.Mapping[str, t.Any], limit: int) -> bool:
    """Whether the session's cookie is sure to stay below ``limit`` bytes,
    judged from its plain JSON, several times quicker than signing it: the
    signed cookie is its base64 (compressed or not) plus a timestamp and a
    signature, and Flask's type tags add a few bytes per value, which the
    margin covers.

    :param session: The session.
    :param limit: The size in bytes.
    """
    size = json_size(dict(session))
    if size is None:
        return False
    return size * 4 // 3 + 64 < limit * 3 // 4


def signed_size(
    session: t.Mapping[str, t.Any], logger: logging.Logger = log
) -> int | None:
    """The length of the session cookie's value as the current app would
    sign it, or ``None`` when there is no cookie to measure (a server-side
    session, or no secret key).

    :param session: The session.
    :param logger: Where to log, at DEBUG, why the cookie could not be
        measured.
    """
    app = flask.current_app
    make_serializer = getattr(app.session_interface, "get_signing_serializer", None)
    if make_serializer is None:
        return None
    serializer = make_serializer(app)
    if serializer is None:
        return None
    try:
        return len(serializer.dumps(dict(session)))
    except Exception as exc:  # the session's own save reports it better
        logger.debug("Could not measure the session cookie (%s).", type(exc).__name__)
        return None
