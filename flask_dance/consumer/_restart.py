"""Where a failed dance sends the browser.

A callback that matches no pending login (the page was reloaded, the
browser's session was lost between login and callback, the login expired)
starts the dance again, as Flask-Dance 7.1 does, but at most once per browser
and blueprint within the pending-login lifetime; after that, and after any
other failure, the browser goes to the blueprint's post-login URL, unless
that URL is the blueprint's own callback, which would only fail again: then
it gets a page with a link to log in again.
"""

from __future__ import annotations

import html
import time
import typing as t
from urllib.parse import urlsplit

import flask

from ._request_local import browser_session

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import AnyBlueprint


def _restart_key(blueprint: AnyBlueprint) -> str:
    return f"{blueprint.name}_oauth_restarted"


def may_restart(blueprint: AnyBlueprint) -> bool:
    """Whether the dance may start again by itself; if so, note that it did,
    so that the next time within the pending-login lifetime it does not.

    :param blueprint: The blueprint whose callback failed.
    """
    session = browser_session()
    key = _restart_key(blueprint)
    now = time.time()
    last = session.get(key)
    if (
        isinstance(last, (int, float))
        and not isinstance(last, bool)
        and 0 <= now - last <= blueprint.pending_login_ttl
    ):
        return False
    session[key] = int(now)
    return True


def forget_restart(blueprint: AnyBlueprint) -> None:
    """Allow an automatic restart again: a login succeeded.

    :param blueprint: The blueprint.
    """
    session = browser_session()
    session.pop(_restart_key(blueprint), None)


def restart(blueprint: AnyBlueprint) -> t.Any:
    """A redirect to the blueprint's login view.

    :param blueprint: The blueprint.
    """
    return flask.redirect(flask.url_for(f"{blueprint.name}.login"))


def is_own_callback(blueprint: AnyBlueprint, url: str) -> bool:
    """Whether ``url`` leads to the blueprint's own ``authorized`` view.

    :param blueprint: The blueprint.
    :param url: Where a failure would send the browser.
    """
    request = flask.request
    target = urlsplit(url)
    if target.netloc and target.netloc.lower() != request.host.lower():
        return False
    own = urlsplit(flask.url_for(f"{blueprint.name}.authorized")).path.rstrip("/")
    path = target.path.rstrip("/")
    if not path.startswith("/"):
        path = urlsplit(request.base_url).path.rsplit("/", 1)[0] + "/" + path
    script_root = request.script_root.rstrip("/")
    return path == own or (bool(script_root) and script_root + path == own)


def failure_redirect(blueprint: AnyBlueprint, next_url: str) -> t.Any:
    """A redirect to ``next_url`` after a failure, or a page that offers to
    log in again when ``next_url`` is the blueprint's own callback.

    :param blueprint: The blueprint.
    :param next_url: The post-login URL.
    """
    if not is_own_callback(blueprint, next_url):
        return flask.redirect(next_url)
    return login_again_page(blueprint, 400, "The login could not be completed.")


def login_again_page(
    blueprint: AnyBlueprint,
    status: int,
    reason: str,
    *,
    later: bool = False,
    headers: dict[str, str] | None = None,
) -> flask.Response:
    """A short page that says the login did not complete, and why, with a
    link to the login view.

    :param blueprint: The blueprint.
    :param status: The HTTP status.
    :param reason: A sentence that says why.
    :param later: Ask the user to try again in a moment.
    :param headers: Extra response headers.
    """
    login_url = html.escape(flask.url_for(f"{blueprint.name}.login"))
    when = " in a moment" if later else ""
    body = (
        "<!doctype html><title>Login not completed</title>"
        f"<h1>Login not completed</h1><p>{html.escape(reason)} Please"
        f' <a href="{login_url}">log in again</a>{when}.</p>'
    )
    return flask.Response(
        body,
        status,
        {"Cache-Control": "no-store", **(headers or {})},
        content_type="text/html; charset=utf-8",
    )
