"""Use the public API the way applications do, for mypy and pyright.

Nothing here runs: the type checkers read it. ``assert_type`` fails when a
type regresses, including to ``Any``, which a plain annotated assignment
would accept.
"""

from __future__ import annotations

import typing as t

import requests
from blinker import NamedSignal
from flask import Flask
from flask import redirect
from flask import url_for
from typing_extensions import assert_type
from werkzeug.wrappers import Response

from flask_dance import OAuth1ConsumerBlueprint
from flask_dance import OAuth2ConsumerBlueprint
from flask_dance.consumer import OAuth1Session
from flask_dance.consumer import OAuth2Session
from flask_dance.consumer import oauth_authorized
from flask_dance.consumer import oauth_before_login
from flask_dance.consumer import oauth_error
from flask_dance.consumer import oauth_refresh_failed
from flask_dance.consumer.base import BaseOAuthConsumerBlueprint
from flask_dance.contrib.github import github
from flask_dance.contrib.github import make_github_blueprint
from flask_dance.contrib.google import google
from flask_dance.contrib.google import make_google_blueprint
from flask_dance.contrib.jira import jira
from flask_dance.contrib.jira import make_jira_blueprint

app = Flask(__name__)
app.secret_key = "not-a-secret"

# -- provider presets and their proxies ----------------------------------------

github_bp = make_github_blueprint(
    client_id="id",
    client_secret="secret",
    scope=["read:user", "user:email"],
    redirect_to="index",
)
assert_type(github_bp, OAuth2ConsumerBlueprint)
app.register_blueprint(github_bp, url_prefix="/login")

google_bp = make_google_blueprint(scope="openid email profile", offline=True)
assert_type(google_bp, OAuth2ConsumerBlueprint)

jira_bp = make_jira_blueprint(base_url="https://jira.example.com")
assert_type(jira_bp, OAuth1ConsumerBlueprint)

assert_type(github, OAuth2Session)
assert_type(google, OAuth2Session)
assert_type(jira, OAuth1Session)


@app.route("/")
def index() -> str | Response:
    if not github.authorized:
        return redirect(url_for("github.login"))
    resp = github.get("/user")
    assert_type(resp, requests.Response)
    assert resp.ok, resp.text
    login: str = resp.json()["login"]
    return f"You are @{login} on GitHub"


def google_email() -> str | None:
    authorized: bool = google.authorized
    if not authorized:
        return None
    resp = google.post("/oauth2/v2/userinfo", json={}, timeout=5)
    assert_type(resp, requests.Response)
    email: str = resp.json()["email"]
    return email


def jira_projects() -> list[t.Any]:
    projects: list[t.Any] = jira.get("rest/api/2/project").json()
    return projects


@app.route("/repos")
@github.authorization_required
def repos() -> str:
    return github.get("/user/repos").text


# The decorator keeps the view's type.
assert_type(repos(), str)

# -- the blueprint's session, token and configuration --------------------------

assert_type(github_bp.session, OAuth2Session)
assert_type(jira_bp.session, OAuth1Session)
github_bp.session.headers["User-Agent"] = "typing-test"


@app.route("/settings")
@github_bp.session.authorization_required
def settings() -> str:
    return "settings"


token = github_bp.token
github_bp.token = {"access_token": "abc", "token_type": "bearer", "expires_in": 60}
del github_bp.token
github_bp.from_config["client_id"] = "GITHUB_OAUTH_CLIENT_ID"
github_bp.config["user"] = object()
client_id: str | None = github_bp.client_id
scope: str | list[str] | tuple[str, ...] | None = github_bp.scope
auth_params: dict[str, t.Any] = github_bp.authorization_url_params
session_class: type[OAuth2Session] = github_bp.session_class


@github_bp.token_getter
def get_token() -> dict[str, t.Any] | None:
    return None


# -- hand-built blueprints -----------------------------------------------------


class GitHubSession(OAuth2Session):
    """A session subclass, as ``session_class``."""

    def user_login(self) -> str:
        login: str = self.get("/user").json()["login"]
        return login


oauth2_bp = OAuth2ConsumerBlueprint(
    "example",
    __name__,
    client_id="id",
    client_secret="secret",
    base_url="https://api.example.com/",
    authorization_url="https://example.com/oauth/authorize",
    token_url="https://example.com/oauth/token",
    auto_refresh_url="https://example.com/oauth/token",
    scope=["profile"],
    session_class=GitHubSession,
    use_pkce=True,
    redirect_to="index",
    rule_kwargs={"host": "example.com"},
    timeout=(3.0, 10.0),
)
app.register_blueprint(oauth2_bp, url_prefix="/login")
assert_type(oauth2_bp.timeout, float | tuple[float, float] | None)
assert_type(oauth2_bp.base_url, str | None)

# The shared options (BlueprintOptions) are checked by name and type...
OAuth2ConsumerBlueprint("typo", __name__, url_prefix=3)  # type: ignore[arg-type]
OAuth1ConsumerBlueprint("typo", __name__, timeout="soon")  # type: ignore[arg-type]
# ...and an argument for the session class is passed on, but a type checker
# without PEP 728 does not know it.
OAuth2ConsumerBlueprint("extra", __name__, flavour="mint")  # type: ignore[call-arg]

oauth1_bp = OAuth1ConsumerBlueprint(
    "legacy",
    __name__,
    client_key="key",
    client_secret="secret",
    base_url="https://api.example.com/1.1/",
    request_token_url="https://api.example.com/oauth/request_token",
    authorization_url="https://api.example.com/oauth/authorize",
    access_token_url="https://api.example.com/oauth/access_token",
    session_class=OAuth1Session,
)
assert_type(oauth1_bp.session_class, type[OAuth1Session])

generic_bp: BaseOAuthConsumerBlueprint = oauth1_bp

# -- signals -------------------------------------------------------------------

assert_type(oauth_authorized, NamedSignal)
assert_type(oauth_before_login, NamedSignal)
assert_type(oauth_error, NamedSignal)
assert_type(oauth_refresh_failed, NamedSignal)


@oauth_authorized.connect_via(github_bp)
def github_logged_in(
    blueprint: OAuth2ConsumerBlueprint, token: dict[str, t.Any]
) -> bool | Response:
    if not token:
        return redirect(url_for("index"))
    resp = blueprint.session.get("/user")
    return bool(resp.ok)


# connect_via returns the receiver unchanged.
assert_type(github_logged_in(github_bp, {}), bool | Response)


@oauth_error.connect_via(github_bp)
def github_error(
    blueprint: OAuth2ConsumerBlueprint,
    error: str | None = None,
    error_description: str | None = None,
    error_uri: str | None = None,
    **kwargs: t.Any,
) -> None:
    app.logger.warning("OAuth error from %s: %s", blueprint.name, error)


@oauth_before_login.connect
def before_login(blueprint: BaseOAuthConsumerBlueprint, url: str) -> None:
    pass


@oauth_refresh_failed.connect_via(github_bp)
def refresh_failed(
    blueprint: OAuth2ConsumerBlueprint, error: Exception, token: dict[str, t.Any]
) -> None:
    pass


results = oauth_authorized.send(github_bp, token={"access_token": "abc"})
for receiver, value in results:
    print(receiver, value)
