"""Flask's current contexts, as the objects themselves.

Code that runs on every request reads the current request context or app
context once through Flask's public proxies (:data:`flask.globals.request_ctx`,
:data:`flask.globals.app_ctx`), then works with the object rather than going
through a proxy for each attribute.
"""

from __future__ import annotations

import typing as t

import flask
import flask.globals


def current_request() -> t.Any:
    """The current request context, or ``None`` outside a request."""
    if not flask.has_request_context():
        return None
    ctx: t.Any = flask.globals.request_ctx
    return ctx._get_current_object()


def app_context() -> t.Any:
    """The current app context, or ``None`` outside one."""
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
