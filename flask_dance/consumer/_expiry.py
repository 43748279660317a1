"""Stored tokens whose expiry is not a number.

A token stored with an ``expires_at`` (or ``expires_in``) that is not a
finite number, such as ``"abc"``, made every later API call of its user fail.
Such a token is read as expired when it has a refresh token, so that it is
refreshed before its next use, and as no token otherwise (the user logs in
again). A warning is logged once per request.
"""

from __future__ import annotations

import logging
import math
import typing as t

from ._context import app_context

log: logging.Logger = logging.getLogger(__name__)

#: What :data:`flask.g` notes, per blueprint, once the warning was logged.
_WARNED_ATTR = "_flask_dance_bad_expiry_warned"

#: The ``expires_at`` given to a token with an unusable expiry and a refresh
#: token: long past, yet true, so that it reads as expired.
LONG_EXPIRED: t.Final[float] = 1.0


def as_time(value: t.Any) -> float | None:
    """``value`` as a finite number of seconds, or ``None`` when it is not
    one (a number in a string counts).

    :param value: An ``expires_at`` or ``expires_in`` value.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if math.isfinite(number) else None
    return None


def is_plain(token: t.Mapping[str, t.Any]) -> bool:
    """Whether the token's expiry fields are absent or usable numbers.

    :param token: A stored token.
    """
    for field in ("expires_at", "expires_in"):
        value = token.get(field)
        if value is not None and as_time(value) is None:
            return False
    return True


def repaired(token: dict[str, t.Any], name: str) -> dict[str, t.Any] | None:
    """The token to use in place of one whose expiry is not a number: marked
    long expired when it has a refresh token, else ``None``.

    :param token: A copy of the stored token; changed in place.
    :param name: The blueprint's name, for the warning.
    """
    refreshable = bool(token.get("refresh_token"))
    _warn_once(name, refreshable)
    if not refreshable:
        return None
    token["expires_at"] = LONG_EXPIRED
    token.pop("expires_in", None)
    return token


def _warn_once(name: str, refreshable: bool) -> None:
    app_ctx = app_context()
    if app_ctx is not None:
        state = vars(app_ctx.g)
        warned: set[str] = state.setdefault(_WARNED_ATTR, set())
        if name in warned:
            return
        warned.add(name)
    log.warning(
        "The stored %r token has an expiry that is not a number; %s.",
        name,
        "it is treated as expired and refreshed"
        if refreshable
        else "it is ignored, and the user must log in again",
    )
