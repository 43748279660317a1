"""Which provider sessions a request takes over from the code that ran
before it.

Tests and fixtures written for Flask-Dance prepare a blueprint's session
before the request that uses it: they set ``bp.session.token``, patch
``bp.session.fetch_token`` or wrap the session in a Betamax recorder, outside
any context or inside ``with app.app_context():``, then run the test client
or ``app.test_request_context()``. The request uses that session, once.

A session is taken over only in the thread that built it: a session built
outside any context is kept per thread, and one built in an app context
lives in that context, which only its own thread runs. A background job
that calls the provider with its own token therefore never lends its
session, token, headers or cookies to a user's request.
"""

from __future__ import annotations

import threading
import typing as t


class DetachedSessions(threading.local):
    """The session a blueprint built outside any context, one per thread."""

    #: This thread's session, or ``None``.
    session: t.Any = None


def inherits_from(previous_owner: t.Any) -> bool:
    """Whether the current request takes over the sessions kept for
    ``previous_owner`` in the same app context: the code that ran in the
    app context before any request (``None``), or a request context that is
    still pushed beneath the current one (a test client request made inside
    ``app.test_request_context()``).

    :param previous_owner: The request context the sessions were built for,
        or ``None`` for the app context alone.
    """
    if previous_owner is None:
        return True
    # Flask keeps the tokens of its context variables while a context is
    # pushed; an older Flask without them gets fresh sessions.
    return bool(getattr(previous_owner, "_cv_tokens", None))


def forget_loaded_token(session: t.Any) -> None:
    """Make ``session`` read its token again (the request knows the user),
    unless code assigned it one (``bp.session.token = {...}``).

    :param session: A session being taken over by a request.
    """
    forget = getattr(session, "_forget_loaded_token", None)
    if forget is None:
        forget = getattr(session, "_forget_token", None)
    if forget is not None:
        forget()
