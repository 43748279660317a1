"""The Flask apps the benchmark drives: each scenario has an app that uses
Flask-Dance ("ours") and an app of the same shape written by hand with
:mod:`requests` and one long-lived :class:`requests.Session` ("baseline")
that does the same HTTP work."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import typing as t
from urllib.parse import urlencode

import flask
import requests
from _provider import AUTHORIZE_PATH
from _provider import TOKEN_PATH
from _provider import USER_PATH

from flask_dance.contrib.github import github
from flask_dance.contrib.github import make_github_blueprint

if t.TYPE_CHECKING:
    from flask_dance.consumer import OAuth2ConsumerBlueprint
    from flask_dance.consumer.storage import BaseStorage

CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret"
SECRET_KEY = "bench-secret-key"
#: The session key where both sides keep the token, Flask-Dance's default.
TOKEN_KEY = "github_oauth_token"
#: The timeout both sides give every provider call.
TIMEOUT = (10.0, 30.0)

#: Ten presets for the "unused presets" page.
UNUSED_PRESETS = (
    "github",
    "google",
    "facebook",
    "gitlab",
    "slack",
    "discord",
    "dropbox",
    "reddit",
    "spotify",
    "twitch",
)


def _new_app(name: str) -> flask.Flask:
    app = flask.Flask(name)
    app.config["SECRET_KEY"] = SECRET_KEY
    app.config["GITHUB_OAUTH_CLIENT_ID"] = CLIENT_ID
    app.config["GITHUB_OAUTH_CLIENT_SECRET"] = CLIENT_SECRET
    return app


# -- ours ------------------------------------------------------------------------


def ours_app(
    provider_url: str, *, storage: BaseStorage | None = None
) -> tuple[flask.Flask, OAuth2ConsumerBlueprint]:
    """The Flask-Dance app: the GitHub preset pointed at the local provider.

    :param provider_url: The provider's root URL.
    :param storage: The token storage; default the session.
    """
    app = _new_app("ours")
    bp = make_github_blueprint(storage=storage)
    bp.base_url = provider_url
    bp.authorization_url = provider_url + AUTHORIZE_PATH.lstrip("/")
    bp.token_url = provider_url + TOKEN_PATH.lstrip("/")
    app.register_blueprint(bp, url_prefix="/login")

    @app.route("/api")
    def api() -> t.Any:
        if not github.authorized:
            return flask.redirect(flask.url_for("github.login"))
        resp = github.get(USER_PATH)
        resp.raise_for_status()
        return resp.json()["login"]

    @app.route("/check")
    def check() -> str:
        return "yes" if github.authorized else "no"

    return app, bp


def ours_presets_app(count: int) -> flask.Flask:
    """An app with ``count`` presets registered, none used by its page.

    :param count: How many of :data:`UNUSED_PRESETS` to register.
    """
    import importlib

    app = _new_app("presets")
    for name in UNUSED_PRESETS[:count]:
        module = importlib.import_module(f"flask_dance.contrib.{name}")
        bp = getattr(module, f"make_{name}_blueprint")()
        app.config[f"{name.upper()}_OAUTH_CLIENT_ID"] = CLIENT_ID
        app.config[f"{name.upper()}_OAUTH_CLIENT_SECRET"] = CLIENT_SECRET
        app.register_blueprint(bp, url_prefix="/login")

    @app.route("/")
    def index() -> str:
        return "hello"

    return app


# -- the speed devices switched off ------------------------------------------
# Each keeps a speed device only if it pays at least 3 % (issue 15): the
# ``device_*`` scenarios of run.py time an app with the device against the
# same app with it switched off, here, on that one app only.


def without_authorized_shortcut(
    app: flask.Flask, bp: OAuth2ConsumerBlueprint
) -> flask.Flask:
    """``app`` with ``authorized`` always answered by a built session."""
    bp._authorized_without_session = lambda state=None: None  # type: ignore[method-assign]
    return app


def without_sessionless_login(
    app: flask.Flask, bp: OAuth2ConsumerBlueprint
) -> flask.Flask:
    """``app`` whose login view always builds a session."""
    bp._login_needs_no_session = lambda: False  # type: ignore[method-assign]
    return app


def without_config_counters(app: flask.Flask) -> flask.Flask:
    """``app`` whose per-app check compares every blueprint's configuration
    on each request, as if no change counters existed."""
    from flask_dance.consumer._config import APP_HOOKS_KEY

    hooks = app.extensions[APP_HOOKS_KEY]
    funcs = app.before_request_funcs[None]

    def before_request() -> None:
        for blueprint in hooks.blueprints:
            blueprint._refresh_config(hooks.app.config)

    funcs[funcs.index(hooks.before_request)] = before_request
    return app


# -- baseline ---------------------------------------------------------------------


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def baseline_app(provider_url: str) -> flask.Flask:
    """The same app by hand: one long-lived :class:`requests.Session`, the
    token in :data:`flask.session` under the same key.

    :param provider_url: The provider's root URL.
    """
    app = _new_app("baseline")
    http = requests.Session()
    user_url = provider_url + USER_PATH.lstrip("/")
    token_url = provider_url + TOKEN_PATH.lstrip("/")
    authorize_url = provider_url + AUTHORIZE_PATH.lstrip("/")

    @app.route("/api")
    def api() -> t.Any:
        token = flask.session.get(TOKEN_KEY)
        if not token or not token.get("access_token"):
            return flask.redirect(flask.url_for("login"))
        resp = http.get(
            user_url,
            headers={"Authorization": "Bearer " + token["access_token"]},
            timeout=TIMEOUT,
        )
        resp.raise_for_status()
        return resp.json()["login"]

    @app.route("/check")
    def check() -> str:
        token = flask.session.get(TOKEN_KEY)
        return "yes" if token and token.get("access_token") else "no"

    @app.route("/login/github")
    def login() -> t.Any:
        state = secrets.token_urlsafe(30)
        verifier = secrets.token_urlsafe(48)
        redirect_uri = flask.url_for("authorized", _external=True)
        pending = dict(flask.session.get("github_oauth_pending") or {})
        pending[state] = {"t": time.time(), "v": verifier, "r": redirect_uri}
        flask.session["github_oauth_pending"] = pending
        query = urlencode(
            {
                "response_type": "code",
                "client_id": CLIENT_ID,
                "redirect_uri": redirect_uri,
                "state": state,
                "code_challenge": _challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        return flask.redirect(f"{authorize_url}?{query}")

    @app.route("/login/github/authorized")
    def authorized() -> t.Any:
        pending = dict(flask.session.get("github_oauth_pending") or {})
        record = pending.pop(flask.request.args.get("state", ""), None)
        flask.session["github_oauth_pending"] = pending
        code = flask.request.args.get("code")
        if record is None or time.time() - record["t"] > 600 or not code:
            return flask.redirect("/")
        resp = http.post(
            token_url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": record["r"],
                "code_verifier": record["v"],
            },
            auth=(CLIENT_ID, CLIENT_SECRET),
            headers={"Accept": "application/json"},
            timeout=TIMEOUT,
        )
        token = resp.json() if resp.status_code == 200 else None
        if not token or not token.get("access_token"):
            return flask.redirect("/")
        flask.session[TOKEN_KEY] = token
        return flask.redirect("/")

    return app


def baseline_presets_app() -> flask.Flask:
    """The "unused presets" app with no preset registered."""
    app = _new_app("presets")

    @app.route("/")
    def index() -> str:
        return "hello"

    return app
