"""A small app that logs in with OpenID Connect, to try Flask-Dance in a minute.

Run it with::

    python -m flask_dance.demo

It starts the local provider (:class:`flask_dance.testing.LocalProvider`) on
``http://127.0.0.1:5001`` and the demo app on ``http://127.0.0.1:5000``, and
prints the URL to open. Nothing needs registering and no internet access is
needed: the demo registers its own client with the local provider. Options:

``--port PORT``
    The demo app's port (default 5000; ``0`` picks a free one).
``--provider-port PORT``
    The local provider's port (default 5001; ``0`` picks a free one).
``--form-post``
    Ask for ``response_mode=form_post``: the provider sends the user back
    with a POST instead of a redirect.

The demo app has a home page with a "Log in" button. After the consent page of
the provider, it shows who you are (from the provider's API ``GET /user``,
or from the userinfo endpoint for a real provider), the validated OpenID
Connect claims, and the stored token with its secrets masked (only the first
four characters of the access, refresh and id tokens are shown). The
"Refresh token" button marks the token expired and calls the API, so that the
session refreshes it; the "Log out" button revokes the token, deletes it and
goes through the provider's end-session endpoint (RP-initiated logout).

To try it with a real OpenID Connect provider instead, set these environment
variables; no local provider is started then:

``FLASK_DANCE_DEMO_ISSUER``
    The issuer URL, for example ``https://accounts.google.com``.
``FLASK_DANCE_DEMO_CLIENT_ID``
    The client ID you registered.
``FLASK_DANCE_DEMO_CLIENT_SECRET``
    Its secret (leave unset for a public client).
``FLASK_DANCE_DEMO_API_PATH``
    An API path (relative to the issuer) to show as "who you are"; the
    userinfo endpoint is used when unset.

Register ``http://127.0.0.1:5000/login/demo/authorized`` as the redirect URI
and ``http://127.0.0.1:5000/login/demo/logged-out`` as the post-logout
redirect URI (with the port you use).

The demo sets ``OAUTHLIB_INSECURE_TRANSPORT=1`` in its own process: oauthlib
refuses plain-HTTP callbacks and endpoints, and both the demo and the local
provider serve plain HTTP on the loopback interface, where nothing can
intercept the traffic. Never set it in a deployed app. The demo listens on
127.0.0.1 only, uses a random ``SECRET_KEY`` per process (so restarting it
logs everybody out), and keeps the token in Flask's signed session cookie,
the library's default storage.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
import typing as t
from datetime import datetime
from datetime import timezone
from urllib.parse import urlsplit

import flask
import requests
from markupsafe import Markup
from oauthlib.oauth2 import OAuth2Error
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server as _werkzeug_make_server
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Response

from .. import _html
from ..consumer import OAuth2ConsumerBlueprint
from ..consumer import oauth_authorized
from ..consumer import oauth_error
from ..consumer import oauth_refresh_failed

if t.TYPE_CHECKING:  # pragma: no cover
    from ..testing import Client
    from ..testing import LocalProvider

log: logging.Logger = logging.getLogger(__name__)

#: The name of the demo's blueprint: its views live under ``/login/demo``.
BLUEPRINT_NAME = "demo"
#: The client ID the demo registers with the local provider.
DEMO_CLIENT_ID = "flask-dance-demo"
#: The scope the demo asks for.
DEMO_SCOPE = "openid profile email"
#: How many characters of a secret token the pages show.
VISIBLE_CHARS = 4

#: The session key of the demo's CSRF token.
_CSRF_KEY = "demo_csrf_token"
#: Token fields that hold secrets, shown masked.
_SECRET_FIELDS = ("access_token", "refresh_token", "id_token")
#: Token fields shown as they are.
_PLAIN_FIELDS = ("token_type", "scope", "expires_in")

#: The banner on every page of the demo.
BANNER = (
    "<strong>Flask-Dance demo</strong>"
    " <span>· an app that logs in with OpenID Connect</span>"
)

_BODY = """
<h1>Flask-Dance demo</h1>
{% for category, message in get_flashed_messages(with_categories=true) %}
<p class="flash {{ category }}" id="flash-{{ loop.index }}">{{ message }}</p>
{% endfor %}
{% if token %}
<h2>Signed in as <span id="name">{{ who.get("name") or who.get("login")
  or claims.get("name") or claims.get("sub") }}</span></h2>
{% if api_error %}<p class="flash error" id="api-error">{{ api_error }}</p>{% endif %}
<div class="actions">
<form method="post" action="{{ url_for('refresh') }}">
<input type="hidden" name="csrf_token" value="{{ csrf_token }}">
<button type="submit" id="refresh">Refresh token</button>
</form>
<form method="post" action="{{ url_for(bp_name + '.logout') }}">
<input type="hidden" name="csrf_token" value="{{ csrf_token }}">
<input type="hidden" name="logout_token" value="{{ logout_token }}">
<button type="submit" id="logout">Log out</button>
</form>
</div>
<h2>From the provider's API</h2>
<table id="who">
<caption>{{ api_label }}</caption>
{% for key, value in who.items() %}
<tr><th scope="row">{{ key }}</th><td id="who-{{ key }}">{{ value }}</td></tr>
{% endfor %}
</table>
<h2>OpenID Connect claims (validated id_token)</h2>
<table id="claims">
{% for key, value in claims.items() %}
<tr><th scope="row">{{ key }}</th><td id="claim-{{ key }}">{{ value }}</td></tr>
{% endfor %}
</table>
<h2>Stored token</h2>
<table id="token">
{% for key, value in token %}
<tr><th scope="row">{{ key }}</th>
<td><code id="token-{{ key }}">{{ value }}</code></td></tr>
{% endfor %}
</table>
{% else %}
<div class="card">
<p id="status">You are not logged in.</p>
<p class="muted">Log in at the provider: it asks for your consent, then sends
you back here with a code that the app exchanges for tokens.</p>
<div class="actions">
<form method="get" action="{{ url_for(bp_name + '.login') }}">
<button type="submit" class="primary" id="login">Log in</button>
</form>
</div>
</div>
{% endif %}
<footer>Provider: <code id="issuer">{{ issuer }}</code>
{% if response_mode %}, response mode <code>{{ response_mode }}</code>{% endif %}
</footer>
"""

_PAGE = _html.page("Flask-Dance demo", _BODY, banner=BANNER)

_ERROR_PAGE = _html.page(
    "{{ name }} · Flask-Dance demo",
    "{{ error_body }}"
    '<div class="actions"><a class="button primary" id="home"'
    " href=\"{{ url_for('index') }}\">Back to the demo</a></div>",
    banner=BANNER,
)


def mask(value: t.Any) -> str:
    """Show the first :data:`VISIBLE_CHARS` characters of a secret only.

    :param value: A token string, or anything else.
    """
    if not value:
        return "(none)"
    text = str(value)
    if len(text) <= VISIBLE_CHARS * 2:
        return "…"
    return text[:VISIBLE_CHARS] + "…"


def _text(value: t.Any) -> str:
    """A token or claim value as text: lists space-separated, numbers whole."""
    if isinstance(value, (list, tuple)):
        return " ".join(str(item) for item in value)
    if isinstance(value, float):
        return str(int(value))
    return str(value)


def _format_time(value: t.Any) -> str:
    try:
        moment = datetime.fromtimestamp(float(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return str(value)
    return f"{int(float(value))} ({moment:%Y-%m-%d %H:%M:%S} UTC)"


def _token_rows(token: t.Mapping[str, t.Any]) -> list[tuple[str, str]]:
    rows = [(name, mask(token.get(name))) for name in _SECRET_FIELDS]
    rows += [(name, _text(token[name])) for name in _PLAIN_FIELDS if name in token]
    if "expires_at" in token:
        rows.append(("expires_at", _format_time(token["expires_at"])))
    return rows


def _claim_rows(claims: t.Mapping[str, t.Any]) -> dict[str, str]:
    rows: dict[str, str] = {}
    for name in sorted(claims):
        value = claims[name]
        if name in ("exp", "iat", "auth_time", "nbf"):
            rows[name] = _format_time(value)
        elif name in ("nonce", "at_hash", "c_hash"):
            rows[name] = mask(value)
        else:
            rows[name] = _text(value)
    return rows


def _csrf_token() -> str:
    token = flask.session.get(_CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        flask.session[_CSRF_KEY] = token
    return token


def _check_csrf() -> None:
    expected = flask.session.get(_CSRF_KEY)
    given = flask.request.form.get("csrf_token", "")
    if not isinstance(expected, str) or not hmac.compare_digest(
        expected.encode(), given.encode()
    ):
        flask.abort(400, "The form expired; reload the page and try again.")


def create_app(
    provider_url: str,
    client_id: str,
    client_secret: str | None = None,
    *,
    response_mode: str | None = None,
    api_path: str | None = "user",
    secret_key: str | bytes | None = None,
    post_logout_redirect_uri: str | None = None,
    scope: str = DEMO_SCOPE,
) -> flask.Flask:
    """Build the demo app for an OpenID Connect provider.

    The caller sets ``OAUTHLIB_INSECURE_TRANSPORT`` when the provider or the
    app use plain HTTP (``python -m flask_dance.demo`` does).

    :param provider_url: The provider's issuer URL.
    :param client_id: The client ID registered with the provider.
    :param client_secret: Its secret; ``None`` for a public client.
    :param response_mode: ``"form_post"`` to receive the callback as a POST.
    :param api_path: The API path, relative to ``provider_url``, that says who
        the user is; ``None`` uses the userinfo endpoint.
    :param secret_key: The session signing key; random when omitted.
    :param post_logout_redirect_uri: Where the provider sends the user after
        logout; default: the blueprint's ``logged_out`` view.
    :param scope: The scope to ask for.
    """
    # Kept as given: the id_token's "iss" must match it exactly, and some
    # issuers end with a slash.
    issuer = provider_url
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = secret_key or secrets.token_bytes(32)
    bp = OAuth2ConsumerBlueprint(
        BLUEPRINT_NAME,
        __name__,
        client_id=client_id,
        client_secret=client_secret,
        issuer=issuer,
        base_url=issuer if issuer.endswith("/") else issuer + "/",
        scope=scope,
        response_mode=response_mode,
        post_logout_redirect_uri=post_logout_redirect_uri,
        redirect_to="index",
        logout=True,
    )
    app.register_blueprint(bp, url_prefix="/login")
    # The blueprint, for tests and for apps that build on the demo.
    app.extensions["flask_dance_demo"] = bp

    def on_authorized(sender: t.Any, token: t.Any = None, **kwargs: t.Any) -> None:
        claims = token.get("id_token_claims") if isinstance(token, dict) else None
        name = (claims or {}).get("name") or (claims or {}).get("sub") or "you"
        flask.flash(f"Logged in as {name}.", "info")

    def on_error(
        sender: t.Any,
        error: t.Any = None,
        error_description: str | None = None,
        **kwargs: t.Any,
    ) -> None:
        message = f"Login failed: {error}"
        if error_description:
            message += f" ({error_description})"
        flask.flash(message, "error")

    def on_refresh_failed(sender: t.Any, **kwargs: t.Any) -> None:
        flask.flash("The token could not be refreshed; please log in again.", "error")

    # Strong references: the receivers live as long as the blueprint.
    oauth_authorized.connect(on_authorized, sender=bp, weak=False)
    oauth_error.connect(on_error, sender=bp, weak=False)
    oauth_refresh_failed.connect(on_refresh_failed, sender=bp, weak=False)

    def call_api() -> tuple[dict[str, t.Any], str | None]:
        """Ask the provider who the user is; return the answer and an error."""
        try:
            if api_path is None:
                return bp.userinfo(), None
            response = bp.session.get(api_path)
        except (requests.RequestException, OAuth2Error, ValueError) as exc:
            log.warning("The provider's API failed: %s", type(exc).__name__)
            return (
                {},
                f"The provider's API could not be reached ({type(exc).__name__}).",
            )
        if response.status_code != 200:
            return {}, f"The provider's API answered HTTP {response.status_code}."
        try:
            data = response.json()
        except ValueError:
            return {}, "The provider's API answered something that is not JSON."
        return (data if isinstance(data, dict) else {"value": data}), None

    @app.before_request
    def _protect_forms() -> None:
        if flask.request.method == "POST" and flask.request.endpoint in (
            "refresh",
            f"{BLUEPRINT_NAME}.logout",
        ):
            _check_csrf()
            if flask.request.endpoint == f"{BLUEPRINT_NAME}.logout":
                flask.flash("You have been logged out.", "info")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[str, int]:
        """Error pages (400, 404, 405, ...) in the demo's style."""
        code = exc.code or 500
        body = Markup(_html.error_body(code, exc.name, exc.description))
        page = flask.render_template_string(_ERROR_PAGE, name=exc.name, error_body=body)
        return page, code

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.get("/")
    def index() -> str:
        token = bp.token
        context: dict[str, t.Any] = {
            "token": None,
            "bp_name": BLUEPRINT_NAME,
            "issuer": issuer,
            "response_mode": response_mode,
            "api_label": "userinfo" if api_path is None else f"GET /{api_path}",
        }
        if isinstance(token, t.Mapping) and token.get("access_token"):
            who, api_error = call_api()
            token = bp.token  # the API call may have refreshed it
            if isinstance(token, t.Mapping) and token.get("access_token"):
                context.update(
                    token=_token_rows(token),
                    who=who,
                    api_error=api_error,
                    claims=_claim_rows(bp.id_token_claims or {}),
                    csrf_token=_csrf_token(),
                    logout_token=bp.logout_token,
                )
        return flask.render_template_string(_PAGE, **context)

    @app.post("/refresh")
    def refresh() -> Response:
        token = bp.token
        if not isinstance(token, t.Mapping) or not token.get("access_token"):
            flask.flash("Log in first.", "error")
            return flask.redirect(flask.url_for("index"))
        if not token.get("refresh_token"):
            flask.flash("The provider gave no refresh token.", "error")
            return flask.redirect(flask.url_for("index"))
        old_access = token["access_token"]
        # Mark the token expired: the session refreshes it before the next
        # API call, as it would an hour from now, and stores the new one.
        expired = dict(token)
        expired.pop("expires_in", None)
        expired["expires_at"] = time.time() - 1
        bp.token = expired
        _, api_error = call_api()
        new = bp.token
        if isinstance(new, t.Mapping) and new.get("access_token") not in (
            None,
            old_access,
        ):
            flask.flash(
                f"Token refreshed: the access token now starts with"
                f" {mask(new['access_token'])}",
                "info",
            )
        elif api_error:
            flask.flash(f"The refresh failed: {api_error}", "error")
        return flask.redirect(flask.url_for("index"))

    return app


def register_demo_client(
    provider: LocalProvider,
    app_url: str,
    client_id: str = DEMO_CLIENT_ID,
    client_secret: str | None = None,
) -> Client:
    """Register the demo's client with a local provider.

    It accepts any loopback redirect URI, and as post-logout redirect URIs the
    demo's ``logged_out`` view at ``app_url`` and at the same port on the
    other loopback name (``localhost`` or ``127.0.0.1``).

    :param provider: The local provider.
    :param app_url: The demo app's root URL, such as ``http://127.0.0.1:5000``.
    :param client_id: The client ID.
    :param client_secret: The secret; random when omitted.
    """
    from ..testing.provider import LOOPBACK_REDIRECT_PATTERNS

    parts = urlsplit(app_url)
    port = f":{parts.port}" if parts.port else ""
    path = f"/login/{BLUEPRINT_NAME}/logged-out"
    logout_uris = [
        f"{parts.scheme}://{host}{port}{path}" for host in ("127.0.0.1", "localhost")
    ]
    return provider.add_client(
        client_id,
        client_secret or secrets.token_urlsafe(24),
        list(LOOPBACK_REDIRECT_PATTERNS),
        name="Flask-Dance demo",
        post_logout_redirect_uris=logout_uris,
    )


class _QuietRequestHandler(WSGIRequestHandler):
    """Logs request lines without their query strings, which carry codes and
    states on the callback."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info("%s %s -> %s", self.command, urlsplit(self.path).path, code)


def make_server(
    app: flask.Flask, host: str = "127.0.0.1", port: int = 0
) -> BaseWSGIServer:
    """A threaded werkzeug server for ``app``; call ``serve_forever()`` on it.

    :param app: The demo app.
    :param host: The address to listen on.
    :param port: The port; ``0`` picks a free one.
    """
    return _werkzeug_make_server(
        host, port, app, threaded=True, request_handler=_QuietRequestHandler
    )
