"""What differs between the supported versions of our dependencies: the
package imports and works whichever of them is installed (CI runs the whole
suite on the lowest and the latest, see .ci/matrix)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import flask

from flask_dance.consumer import _request_local

# Import the package with what only some supported versions have taken away:
# requests-oauthlib 1.3 has no ``OAuth2Session.scope`` on the class, and
# Flask's context variables are private. Then run a login.
WITHOUT_VERSION_SPECIFIC_ATTRIBUTES = """
import flask.globals
import flask.testing  # (Flask 2.2's test client imports _cv_request itself)
import requests_oauthlib

for owner, name in [
    (requests_oauthlib.OAuth2Session, "scope"),
    (flask.globals, "_cv_request"),
    (flask.globals, "_cv_app"),
]:
    if name in vars(owner):
        delattr(owner, name)

import flask
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.contrib.github import make_github_blueprint
import flask_dance.consumer.storage.sqla

app = flask.Flask(__name__)
app.secret_key = "k"
bp = OAuth2ConsumerBlueprint(
    "p", __name__, client_id="c", authorization_url="https://p.example/auth",
    token_url="https://p.example/token", scope=["a", "b"],
)
app.register_blueprint(bp, url_prefix="/login")
app.register_blueprint(make_github_blueprint(client_id="g"), url_prefix="/login")
location = app.test_client().get("/login/p").headers["Location"]
assert location.startswith("https://p.example/auth?"), location
assert "scope=a+b" in location, location
print("ok")
"""


def test_imports_and_logs_in_without_version_specific_attributes() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            textwrap.dedent(WITHOUT_VERSION_SPECIFIC_ATTRIBUTES),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_contexts_found_through_the_public_proxies() -> None:
    app = flask.Flask(__name__)
    app.secret_key = "k"
    assert _request_local.current_request() is None
    assert _request_local.app_context() is None
    with app.app_context() as app_ctx:
        assert _request_local.app_context() is app_ctx
        assert _request_local.current_request() is None
    with app.test_request_context("/") as request_ctx:
        assert _request_local.current_request() is request_ctx
        assert (
            _request_local.app_context() is flask.globals.app_ctx._get_current_object()
        )
        flask.session["x"] = 1
        assert _request_local.browser_session() is request_ctx.session
