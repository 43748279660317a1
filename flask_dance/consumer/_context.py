"""Quick access to Flask's current contexts.

Flask's proxies (:data:`flask.request`, :data:`flask.session`, ...) look the
context up on every attribute access. Code that runs on every request reads
the context variables behind them once instead, where the installed Flask
has them, and falls back to the public proxies otherwise.
"""

from __future__ import annotations

import typing as t

import flask
import flask.globals

#: The context variable behind :data:`flask.globals.request_ctx`, if any.
_request_var: t.Any = getattr(flask.globals, "_cv_request", None)

#: The context variable behind :data:`flask.globals.app_ctx`, if any.
_app_var: t.Any = getattr(flask.globals, "_cv_app", None)


def current_request() -> t.Any:
    """The current request context, or ``None`` outside a request."""
    if _request_var is not None:
        return _request_var.get(None)
    if not flask.has_request_context():
        return None
    ctx: t.Any = flask.globals.request_ctx
    return ctx._get_current_object()


def app_context() -> t.Any:
    """The current app context, or ``None`` outside one."""
    if _app_var is not None:
        return _app_var.get(None)
    if not flask.has_app_context():
        return None
    ctx: t.Any = flask.globals.app_ctx
    return ctx._get_current_object()


def browser_session() -> t.Any:
    """The current request's :data:`flask.session` object itself, for a
    function that reads or writes it several times.

    :raises RuntimeError: outside a request, as the proxy does.
    """
    ctx = current_request()
    if ctx is not None and ctx.session is not None:
        return ctx.session
    proxy: t.Any = flask.session
    return proxy._get_current_object()
