"""A speed device: a page that only checks ``authorized`` through a provider
proxy (``github.authorized``) gets its answer from the stored token, without
building a provider session (``bp.session.authorized`` builds the session).
The token read is kept for the rest of the context and handed to the session
if one is built, so the storage is read once.

Measured A/B in one bench/run.py run, on two copies of the
``authorized_check`` app, one with the device switched off: a page with it
took 0.84 times as long (153 against 182 us, the same in two runs), and
``authorized_check`` came out at 1.04 times the hand-written app.

It applies only when nothing could tell the difference: the blueprint's class
keeps the stock ``token`` property, the session class answers ``authorized``
from the blueprint's token as :class:`~.requests.OAuth2Session` does, and no
session was built in this context or outside it (a test may have prepared
one). The checks compare class attributes with the stock ones by identity;
anything else, a mock blueprint or a custom session class included, takes the
plain path and builds the session.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from . import _refresh
from .requests import OAuth2Session

#: Where the current context keeps the tokens read before its sessions were
#: built, by ``id(blueprint)``.
TOKENS_ATTR = "_flask_dance_tokens"

#: Where the current context keeps its sessions, by ``id(blueprint)``.
SESSIONS_ATTR = "_flask_dance_sessions"

_STOCK_AUTHORIZED = OAuth2Session.authorized
_STOCK_ACCESS_TOKEN = OAuth2Session.access_token
_STOCK_TOKEN = OAuth2Session.token


def answers_from_blueprint_token(session_class: type[t.Any]) -> bool:
    """Whether sessions of ``session_class`` answer ``authorized`` exactly as
    :class:`~.requests.OAuth2Session` does: from the token their blueprint
    gives them. A class that overrides (or a test that patches)
    ``authorized``, ``access_token`` or ``token`` does not.

    :param session_class: A session class.
    """
    return (
        getattr(session_class, "authorized", None) is _STOCK_AUTHORIZED
        and getattr(session_class, "access_token", None) is _STOCK_ACCESS_TOKEN
        and getattr(session_class, "token", None) is _STOCK_TOKEN
    )


def authorized_from_token(blueprint: t.Any, state: dict[str, t.Any]) -> bool | None:
    """Whether the current user of ``blueprint`` has an access token, read
    from the storage, or ``None`` when a session must answer.

    :param blueprint: A consumer blueprint.
    :param state: The current context's state (``_sessions.context_state``).
    """
    if blueprint._detached_session is not None:
        return None
    kind = type(blueprint)
    if getattr(kind, "token", None) is not kind._stock_token:
        return None
    if not answers_from_blueprint_token(blueprint.session_class):
        return None
    key = id(blueprint)
    sessions = state.get(SESSIONS_ATTR)
    if sessions and key in sessions:
        return None
    tokens: dict[int, t.Any] | None = state.get(TOKENS_ATTR)
    if tokens is None:
        tokens = state[TOKENS_ATTR] = {}
    if key in tokens:
        stored = tokens[key]
    else:
        # As read from the storage: the ``token`` property makes its copy
        # only if a session is built.
        stored = blueprint._stored_token()
        tokens[key] = stored
    if not stored:
        return False
    if type(stored) is dict or isinstance(stored, Mapping):
        # (the exact type first: quicker than the ABC check)
        if ("expires_at" in stored or "expires_in" in stored) and not (
            _refresh.is_plain(stored)
        ):
            stored = _refresh.token_copy(stored, blueprint.name)
    return bool(stored and stored.get("access_token"))


def hand_over_token(blueprint: t.Any, session: t.Any, state: dict[str, t.Any]) -> None:
    """Give ``session``, just built, the token of ``blueprint`` already read
    in this context, if any.

    :param blueprint: The blueprint that built it.
    :param session: The new session.
    :param state: The current context's state.
    """
    tokens = state.get(TOKENS_ATTR)
    if tokens and id(blueprint) in tokens:
        stored = tokens.pop(id(blueprint))
        if answers_from_blueprint_token(type(session)):
            session._set_loaded_token(_refresh.token_copy(stored, blueprint.name))
