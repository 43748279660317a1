"""Generic checks run over the table of every provider preset.

Per-provider files (``test_<name>.py``) hold only what is special about one
provider.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import inspect
import pathlib
import pkgutil
import re
import typing as t
from urllib.parse import quote

import flask
import pytest
import responses as responses_lib

import flask_dance.contrib
from contrib.preset_helpers import APP_URL
from contrib.preset_helpers import assert_documented
from contrib.preset_helpers import form
from contrib.preset_helpers import make_app
from contrib.preset_helpers import query
from contrib.preset_helpers import rsa_private_key
from flask_dance.consumer import OAuth1ConsumerBlueprint
from flask_dance.consumer import OAuth1Session
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import OAuth2Session
from flask_dance.consumer.storage import MemoryStorage

JIRA_BASE = "https://jira.example.com/jira"
DOCS = pathlib.Path(__file__).parents[2] / "docs" / "providers.rst"


@dataclasses.dataclass(frozen=True)
class Preset:
    #: The test id: the module name, or ``module-variant``.
    id: str
    base_url: str
    authorization_url: str
    token_url: str
    scope: t.Any = None
    authorization_url_params: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    token_url_params: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    auto_refresh_url: str | None = None
    #: Extra factory arguments of a variant.
    kwargs: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    #: How API requests carry the token: "bearer", "slack-body", "zoho", "oauth1".
    token_style: str = "bearer"
    #: What the token endpoint answers in the dance test.
    token_response: dict[str, t.Any] = dataclasses.field(
        default_factory=lambda: {"access_token": "new-token", "token_type": "Bearer"}
    )
    #: Text docs/providers.rst must contain for a variant.
    doc_marker: str | None = None

    @property
    def module(self) -> str:
        return self.id.split("-")[0]

    @property
    def oauth1(self) -> bool:
        return self.token_style == "oauth1"

    @property
    def config_keys(self) -> tuple[str, str]:
        if self.module == "jira":
            return "JIRA_OAUTH_CONSUMER_KEY", "JIRA_OAUTH_RSA_KEY"
        prefix = self.module.upper()
        return f"{prefix}_OAUTH_CLIENT_ID", f"{prefix}_OAUTH_CLIENT_SECRET"

    def import_module(self) -> t.Any:
        return importlib.import_module(f"flask_dance.contrib.{self.module}")

    def factory(self) -> t.Callable[..., t.Any]:
        return getattr(self.import_module(), f"make_{self.module}_blueprint")  # type: ignore[no-any-return]

    def proxy(self) -> t.Any:
        return getattr(self.import_module(), self.module)

    def build(self, *credentials: t.Any, **kwargs: t.Any) -> t.Any:
        options = {**self.kwargs, **kwargs}
        if self.module == "jira":
            return self.factory()(JIRA_BASE, *credentials, **options)
        return self.factory()(*credentials, **options)


P = Preset
_TOKEN = {"access_token": "new-token", "token_type": "Bearer"}

PRESETS = [
    P(
        "atlassian",
        "https://api.atlassian.com/",
        "https://auth.atlassian.com/authorize",
        "https://auth.atlassian.com/oauth/token",
        authorization_url_params={"audience": "api.atlassian.com"},
    ),
    P(
        "authentiq",
        "https://connect.authentiq.io/",
        "https://connect.authentiq.io/authorize",
        "https://connect.authentiq.io/token",
        scope="openid profile",
    ),
    P(
        "azure",
        "https://graph.microsoft.com",
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        scope=["openid", "email", "profile", "User.Read"],
    ),
    P(
        "dexcom",
        "https://api.dexcom.com/",
        "https://api.dexcom.com/v2/oauth2/login",
        "https://api.dexcom.com/v2/oauth2/token",
        scope="offline_access",
        auto_refresh_url="https://api.dexcom.com/v2/oauth2/token",
    ),
    P(
        "dexcom-sandbox",
        "https://sandbox-api.dexcom.com/",
        "https://sandbox-api.dexcom.com/v2/oauth2/login",
        "https://sandbox-api.dexcom.com/v2/oauth2/token",
        scope="offline_access",
        auto_refresh_url="https://sandbox-api.dexcom.com/v2/oauth2/token",
        kwargs={"sandbox": True},
        doc_marker="sandbox=True",
    ),
    P(
        "digitalocean",
        "https://cloud.digitalocean.com/v1/oauth",
        "https://cloud.digitalocean.com/v1/oauth/authorize",
        "https://cloud.digitalocean.com/v1/oauth/token",
    ),
    P(
        "discord",
        "https://discord.com/",
        "https://discord.com/api/oauth2/authorize",
        "https://discord.com/api/oauth2/token",
        scope=["identify"],
        authorization_url_params={"prompt": "consent"},
    ),
    P(
        "dropbox",
        "https://api.dropbox.com/2/",
        "https://www.dropbox.com/oauth2/authorize",
        "https://api.dropbox.com/oauth2/token",
    ),
    P(
        "facebook",
        "https://graph.facebook.com/",
        "https://www.facebook.com/dialog/oauth",
        "https://graph.facebook.com/oauth/access_token",
    ),
    P(
        "fitbit",
        "https://api.fitbit.com/",
        "https://www.fitbit.com/oauth2/authorize",
        "https://api.fitbit.com/oauth2/token",
        auto_refresh_url="https://api.fitbit.com/oauth2/token",
    ),
    P(
        "github",
        "https://api.github.com/",
        "https://github.com/login/oauth/authorize",
        "https://github.com/login/oauth/access_token",
    ),
    P(
        "gitlab",
        "https://gitlab.com/api/v4/",
        "https://gitlab.com/oauth/authorize",
        "https://gitlab.com/oauth/token",
        token_url_params={"verify": True},
    ),
    P(
        "google",
        "https://www.googleapis.com/",
        "https://accounts.google.com/o/oauth2/auth",
        "https://accounts.google.com/o/oauth2/token",
        scope=["https://www.googleapis.com/auth/userinfo.profile"],
    ),
    P(
        "google-current",
        "https://www.googleapis.com/",
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
        scope=["https://www.googleapis.com/auth/userinfo.profile"],
        kwargs={"legacy_endpoints": False},
        doc_marker="legacy_endpoints=False",
    ),
    P(
        "heroku",
        "https://api.heroku.com/",
        "https://id.heroku.com/oauth/authorize",
        "https://id.heroku.com/oauth/token",
    ),
    P(
        "jira",
        JIRA_BASE,
        JIRA_BASE + "/plugins/servlet/oauth/authorize",
        JIRA_BASE + "/plugins/servlet/oauth/access-token",
        token_style="oauth1",
    ),
    P(
        "linkedin",
        "https://api.linkedin.com/v2/",
        "https://www.linkedin.com/oauth/v2/authorization",
        "https://www.linkedin.com/oauth/v2/accessToken",
        token_url_params={"include_client_id": True},
    ),
    P(
        "meetup",
        "https://api.meetup.com/2/",
        "https://secure.meetup.com/oauth2/authorize",
        "https://secure.meetup.com/oauth2/access",
        scope=["basic"],
        token_url_params={"include_client_id": True},
    ),
    P(
        "nylas",
        "https://api.nylas.com/",
        "https://api.nylas.com/oauth/authorize",
        "https://api.nylas.com/oauth/token",
        scope="email",
        token_url_params={"include_client_id": True},
    ),
    P(
        "orcid",
        "https://api.orcid.org",
        "https://orcid.org/oauth/authorize",
        "https://orcid.org/oauth/token",
    ),
    P(
        "osm",
        "https://www.openstreetmap.org/api/0.6/",
        "https://www.openstreetmap.org/oauth2/authorize",
        "https://www.openstreetmap.org/oauth2/token",
    ),
    P(
        "reddit",
        "https://oauth.reddit.com/",
        "https://www.reddit.com/api/v1/authorize",
        "https://www.reddit.com/api/v1/access_token",
        scope="identity",
        auto_refresh_url="https://www.reddit.com/api/v1/access_token",
    ),
    P(
        "salesforce",
        "https://login.salesforce.com/",
        "https://login.salesforce.com/services/oauth2/authorize",
        "https://login.salesforce.com/services/oauth2/token",
    ),
    P(
        "salesforce-instance",
        "https://example.my.salesforce.com/",
        "https://login.salesforce.com/services/oauth2/authorize",
        "https://login.salesforce.com/services/oauth2/token",
        kwargs={"instance_url": "https://example.my.salesforce.com"},
        doc_marker="instance_url",
    ),
    P(
        "slack",
        "https://slack.com/api/",
        "https://slack.com/oauth/authorize",
        "https://slack.com/api/oauth.access",
        scope=["identify", "chat:write:bot"],
        token_style="slack-body",
    ),
    P(
        "slack-v2",
        "https://slack.com/api/",
        "https://slack.com/oauth/v2/authorize",
        "https://slack.com/api/oauth.v2.access",
        scope="chat:write,channels:read",
        authorization_url_params={"user_scope": "users:read"},
        auto_refresh_url="https://slack.com/api/oauth.v2.access",
        kwargs={
            "v2": True,
            "scope": ["chat:write", "channels:read"],
            "user_scope": ["users:read"],
        },
        token_response={
            "ok": True,
            "access_token": "new-token",
            "token_type": "bot",
            "scope": "chat:write,channels:read",
            "authed_user": {"id": "U1", "scope": "users:read"},
        },
        doc_marker="v2=True",
    ),
    P(
        "spotify",
        "https://api.spotify.com",
        "https://accounts.spotify.com/authorize",
        "https://accounts.spotify.com/api/token",
    ),
    P(
        "strava",
        "https://www.strava.com/api/v3",
        "https://www.strava.com/api/v3/oauth/authorize",
        "https://www.strava.com/api/v3/oauth/token",
        scope="read",
        token_url_params={"include_client_id": True},
        auto_refresh_url="https://www.strava.com/api/v3/oauth/token",
    ),
    P(
        "twitch",
        "https://api.twitch.tv/helix/",
        "https://id.twitch.tv/oauth2/authorize",
        "https://id.twitch.tv/oauth2/token",
        token_url_params={"include_client_id": True},
        auto_refresh_url="https://id.twitch.tv/oauth2/token",
    ),
    P(
        "zoho",
        "https://www.zohoapis.com/",
        "https://accounts.zoho.com/oauth/v2/auth",
        "https://accounts.zoho.com/oauth/v2/token",
        scope=["ZohoCRM.users.all"],
        authorization_url_params={"access_type": "online"},
        token_style="zoho",
    ),
    P(
        "zoho-eu",
        "https://www.zohoapis.eu/",
        "https://accounts.zoho.eu/oauth/v2/auth",
        "https://accounts.zoho.eu/oauth/v2/token",
        scope=["ZohoCRM.users.all"],
        authorization_url_params={"access_type": "online"},
        kwargs={"region": "eu"},
        token_style="zoho",
        doc_marker='region="eu"',
    ),
    # New presets.
    P(
        "twitter",
        "https://api.x.com/2/",
        "https://x.com/i/oauth2/authorize",
        "https://api.x.com/2/oauth2/token",
        scope=["tweet.read", "users.read"],
    ),
    P(
        "bitbucket",
        "https://api.bitbucket.org/2.0/",
        "https://bitbucket.org/site/oauth2/authorize",
        "https://bitbucket.org/site/oauth2/access_token",
        auto_refresh_url="https://bitbucket.org/site/oauth2/access_token",
    ),
    P(
        "patreon",
        "https://www.patreon.com/api/oauth2/v2/",
        "https://www.patreon.com/oauth2/authorize",
        "https://www.patreon.com/api/oauth2/token",
        scope=["identity"],
        token_url_params={"include_client_id": True},
        auto_refresh_url="https://www.patreon.com/api/oauth2/token",
    ),
    P(
        "notion",
        "https://api.notion.com/v1/",
        "https://api.notion.com/v1/oauth/authorize",
        "https://api.notion.com/v1/oauth/token",
        authorization_url_params={"owner": "user"},
    ),
    P(
        "zoom",
        "https://api.zoom.us/v2/",
        "https://zoom.us/oauth/authorize",
        "https://zoom.us/oauth/token",
        auto_refresh_url="https://zoom.us/oauth/token",
    ),
    P(
        "mastodon",
        "https://mastodon.social/",
        "https://mastodon.social/oauth/authorize",
        "https://mastodon.social/oauth/token",
        scope="read",
    ),
]

OAUTH2_PRESETS = [preset for preset in PRESETS if not preset.oauth1]

#: The 26 presets of Flask-Dance 7.1.
REFERENCE_MODULES = (
    "atlassian authentiq azure dexcom digitalocean discord dropbox facebook fitbit"
    " github gitlab google heroku jira linkedin meetup nylas orcid osm reddit"
    " salesforce slack spotify strava twitch zoho"
).split()

_COMMON = {
    "scope": None,
    "redirect_url": None,
    "redirect_to": None,
    "login_url": None,
    "authorized_url": None,
    "session_class": None,
    "storage": None,
    "rule_kwargs": None,
}
_POSITIONAL = {"client_id": None, "client_secret": None}

#: Flask-Dance 7.1's factory signatures: positional parameters (in order) and
#: keyword-only parameters, each with its default (``REQUIRED`` if none).
REQUIRED = inspect.Parameter.empty
REFERENCE_SIGNATURES: dict[str, tuple[dict[str, t.Any], dict[str, t.Any]]] = {
    "atlassian": (
        _POSITIONAL,
        {
            **{k: v for k, v in _COMMON.items() if k != "rule_kwargs"},
            "reprompt_consent": False,
        },
    ),
    "authentiq": (
        _POSITIONAL,
        {**_COMMON, "scope": "openid profile", "hostname": "connect.authentiq.io"},
    ),
    "azure": (
        _POSITIONAL,
        {
            **_COMMON,
            "tenant": "common",
            "prompt": None,
            "domain_hint": None,
            "login_hint": None,
        },
    ),
    "dexcom": (
        _POSITIONAL,
        {**_COMMON, "base_url": "https://api.dexcom.com/", "scope": "offline_access"},
    ),
    "digitalocean": (_POSITIONAL, _COMMON),
    "discord": (_POSITIONAL, {**_COMMON, "prompt": "consent"}),
    "dropbox": (
        {"app_key": None, "app_secret": None},
        {
            **_COMMON,
            "offline": False,
            "force_reapprove": False,
            "disable_signup": False,
            "require_role": None,
        },
    ),
    "facebook": (_POSITIONAL, {**_COMMON, "rerequest_declined_permissions": False}),
    "fitbit": (_POSITIONAL, _COMMON),
    "github": (_POSITIONAL, _COMMON),
    "gitlab": (
        _POSITIONAL,
        {**_COMMON, "hostname": "gitlab.com", "verify_tls_certificates": True},
    ),
    "google": (
        _POSITIONAL,
        {
            **_COMMON,
            "offline": False,
            "reprompt_consent": False,
            "reprompt_select_account": False,
            "hosted_domain": None,
        },
    ),
    "heroku": (_POSITIONAL, {**_COMMON, "api_version": "3"}),
    "jira": (
        {"base_url": REQUIRED, "consumer_key": None, "rsa_key": None},
        {k: v for k, v in _COMMON.items() if k != "scope"},
    ),
    "linkedin": (_POSITIONAL, _COMMON),
    "meetup": ({"key": None, "secret": None}, _COMMON),
    "nylas": (_POSITIONAL, {**_COMMON, "scope": "email"}),
    "orcid": (_POSITIONAL, {**_COMMON, "sandbox": False}),
    "osm": (_POSITIONAL, _COMMON),
    "reddit": (
        _POSITIONAL,
        {**_COMMON, "scope": "identity", "permanent": False, "user_agent": None},
    ),
    "salesforce": (
        _POSITIONAL,
        {
            **{k: v for k, v in _COMMON.items() if k != "rule_kwargs"},
            "reprompt_consent": False,
            "hostname": None,
            "is_sandbox": False,
        },
    ),
    "slack": (_POSITIONAL, {**_COMMON, "subdomain": None}),
    "spotify": (_POSITIONAL, _COMMON),
    "strava": (_POSITIONAL, {**_COMMON, "scope": "read", "user_agent": None}),
    "twitch": (
        _POSITIONAL,
        {**_COMMON, "session_class": "ClientIdHeaderOAuth2Session"},
    ),
    "zoho": (
        _POSITIONAL,
        {
            **{k: v for k, v in _COMMON.items() if k != "authorized_url"},
            "offline": False,
            "reprompt_consent": False,
        },
    ),
}

#: Parameters this project adds to the reference factories, with defaults.
ADDED_PARAMETERS: dict[str, dict[str, t.Any]] = {
    "atlassian": {"rule_kwargs": None},
    "dexcom": {"sandbox": False},
    "google": {"legacy_endpoints": True},
    "salesforce": {"rule_kwargs": None, "instance_url": None},
    "slack": {"v2": False, "user_scope": None},
    "zoho": {"authorized_url": None, "region": "com"},
}


def _ids(presets: list[Preset]) -> list[str]:
    return [preset.id for preset in presets]


@pytest.fixture(autouse=True)
def _no_ca_bundle_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def _token_for(preset: Preset, value: str) -> dict[str, str]:
    if preset.oauth1:
        return {"oauth_token": value, "oauth_token_secret": value + "-secret"}
    return {"access_token": value, "token_type": "Bearer"}


def _credentials(preset: Preset) -> tuple[str, str]:
    if preset.oauth1:
        return "consumer-key", rsa_private_key()
    return "client-id", "client-secret"


def _token_seen(preset: Preset, request: t.Any) -> str | None:
    """The access token an API request carried, however the provider wants it."""
    authorization = request.headers.get("Authorization", "")
    if isinstance(authorization, bytes):
        authorization = authorization.decode()
    if preset.token_style == "oauth1":
        match = re.search(r'oauth_token="([^"]+)"', authorization)
        return match.group(1) if match else None
    if preset.token_style == "slack-body":
        return form(request.body).get("token")
    scheme = "Zoho-oauthtoken " if preset.token_style == "zoho" else "Bearer "
    return authorization[len(scheme) :] if authorization.startswith(scheme) else None


# -- the table itself --------------------------------------------------------------


def test_table_has_every_preset() -> None:
    modules = {preset.module for preset in PRESETS}
    found = {
        info.name
        for info in pkgutil.iter_modules(flask_dance.contrib.__path__)
        if not info.name.startswith("_")
    }
    assert modules <= found
    assert set(REFERENCE_MODULES) <= modules
    assert len(REFERENCE_MODULES) == 26
    assert len(PRESETS) >= 36


# -- factory values ------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS, ids=_ids(PRESETS))
def test_blueprint_factory(preset: Preset) -> None:
    bp = preset.build(*_credentials(preset))
    assert bp.name == preset.module
    assert bp.base_url == preset.base_url
    assert bp.authorization_url == preset.authorization_url
    assert [rule.rule for rule in _rules(bp)] == [
        f"/login/{preset.module}",
        f"/login/{preset.module}/authorized",
    ]
    if preset.oauth1:
        assert isinstance(bp, OAuth1ConsumerBlueprint)
        assert bp.access_token_url == preset.token_url
        assert (
            bp.request_token_url == JIRA_BASE + "/plugins/servlet/oauth/request-token"
        )
        assert bp.client_key == "consumer-key"
        assert bp.rsa_key == rsa_private_key()
        return
    assert isinstance(bp, OAuth2ConsumerBlueprint)
    assert bp.client_id == "client-id"
    assert bp.client_secret == "client-secret"
    assert bp.token_url == preset.token_url
    assert bp.scope == preset.scope
    assert bp.authorization_url_params == preset.authorization_url_params
    assert bp.token_url_params == preset.token_url_params
    assert bp.auto_refresh_url == preset.auto_refresh_url
    assert bp.from_config == {
        "client_id": preset.config_keys[0],
        "client_secret": preset.config_keys[1],
    }


def _rules(bp: flask.Blueprint) -> list[t.Any]:
    """The rules of the login and authorized views, in that order."""
    app = make_app(bp)
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    return [rules[f"{bp.name}.login"], rules[f"{bp.name}.authorized"]]


@pytest.mark.parametrize("preset", PRESETS, ids=_ids(PRESETS))
def test_module_metadata(preset: Preset) -> None:
    assert_documented(preset.import_module(), preset.factory())


@pytest.mark.parametrize("module", REFERENCE_MODULES)
def test_reference_signature(module: str) -> None:
    factory = getattr(
        importlib.import_module(f"flask_dance.contrib.{module}"),
        f"make_{module}_blueprint",
    )
    params = inspect.signature(factory).parameters.values()
    positional, keyword = REFERENCE_SIGNATURES[module]
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert [(p.name, p.default) for p in params if p.kind == kind] == list(
        positional.items()
    )
    keyword_only = {
        p.name: getattr(p.default, "__name__", p.default)
        for p in params
        if p.kind == inspect.Parameter.KEYWORD_ONLY
    }
    # Every preset also accepts a fixed callback URL.
    added = {**ADDED_PARAMETERS.get(module, {}), "redirect_uri": None}
    assert keyword_only == {**keyword, **added}
    assert {p.kind for p in params} <= {kind, inspect.Parameter.KEYWORD_ONLY}


@pytest.mark.parametrize("preset", PRESETS, ids=_ids(PRESETS))
def test_fixed_redirect_uri(
    preset: Preset, responses: responses_lib.RequestsMock
) -> None:
    """The answer to Host-header and proxy problems: a fixed callback URL,
    sent instead of one built from the request."""
    fixed = f"https://app.example/cb/{preset.module}"
    bp = preset.build(redirect_uri=fixed)
    assert bp.redirect_uri == fixed
    app = make_app(bp)
    app.config.update(
        {preset.config_keys[0]: "config-id", preset.config_keys[1]: "config-secret"}
    )
    if preset.oauth1:
        responses.add(
            responses.POST,
            bp.request_token_url,
            body="oauth_token=request-token&oauth_token_secret=request-secret"
            "&oauth_callback_confirmed=true",
        )
        app.config[preset.config_keys[1]] = rsa_private_key()
    response = app.test_client().get(
        f"/login/{preset.module}", base_url="http://evil.example"
    )
    assert response.status_code == 302, response.data
    if preset.oauth1:
        (call,) = responses.calls
        authorization = call.request.headers["Authorization"]
        assert quote(fixed, safe="") in str(authorization)
    else:
        assert query(response.headers["Location"])["redirect_uri"] == fixed


# -- configuration -------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS, ids=_ids(PRESETS))
def test_load_from_config(preset: Preset) -> None:
    bp = preset.build()
    app = make_app(bp)
    id_key, secret_key = preset.config_keys
    secret_value = rsa_private_key() if preset.oauth1 else "config-secret"
    app.config[id_key] = "config-id"
    app.config[secret_key] = secret_value
    with app.test_request_context("/"):
        session = preset.proxy()._get_current_object()
        if preset.oauth1:
            assert bp.client_key == "config-id"
            assert bp.rsa_key == secret_value
            assert session._client.client.client_key == "config-id"
            assert session._client.client.rsa_key == secret_value
        else:
            assert bp.client_id == "config-id"
            assert bp.client_secret == "config-secret"
            assert session.client_id == "config-id"


#: Every OAuth 2 preset; those whose default scope asks for ``openid`` but that
#: have no fixed issuer (Azure's "common" tenant, Authentiq) log in without
#: id_token validation.
_DANCE_PRESETS = [pytest.param(preset, id=preset.id) for preset in OAUTH2_PRESETS]


@pytest.mark.parametrize("preset", _DANCE_PRESETS)
def test_login_and_callback_with_config_credentials(
    preset: Preset, responses: responses_lib.RequestsMock
) -> None:
    bp = preset.build(storage=MemoryStorage())
    app = make_app(bp)
    app.config.update(
        {preset.config_keys[0]: "config-id", preset.config_keys[1]: "config-secret"}
    )
    client = app.test_client()

    response = client.get(f"/login/{preset.module}", base_url=APP_URL)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.split("?")[0] == preset.authorization_url
    params = query(location)
    assert params["client_id"] == "config-id"
    assert params["response_type"] == "code"
    assert params["redirect_uri"] == f"{APP_URL}/login/{preset.module}/authorized"
    for key, value in preset.authorization_url_params.items():
        assert params[key] == value
    scope = preset.scope
    if scope is None:
        assert "scope" not in params
    else:
        assert params["scope"] == (scope if isinstance(scope, str) else " ".join(scope))

    responses.add(responses.POST, preset.token_url, json=preset.token_response)
    callback = (
        f"/login/{preset.module}/authorized?code=the-code&state={params['state']}"
    )
    response = client.get(callback, base_url=APP_URL)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

    (call,) = responses.calls
    body = form(call.request.body)
    assert body["code"] == "the-code"
    assert body["grant_type"] == "authorization_code"
    basic = base64.b64encode(b"config-id:config-secret").decode()
    in_header = call.request.headers.get("Authorization") == f"Basic {basic}"
    in_body = body.get("client_id") == "config-id" and body.get("client_secret") == (
        "config-secret"
    )
    assert in_header or in_body
    if preset.token_url_params.get("include_client_id"):
        assert in_body
    assert bp.storage.get(bp)["access_token"] == "new-token"


# -- the proxy -------------------------------------------------------------------------


def _catch_all(responses: responses_lib.RequestsMock) -> None:
    for method in (responses.GET, responses.POST):
        responses.add(method, re.compile(r"https://.*"), json={})


@pytest.mark.parametrize("preset", PRESETS, ids=_ids(PRESETS))
def test_context_local(preset: Preset, responses: responses_lib.RequestsMock) -> None:
    _catch_all(responses)
    credentials = _credentials(preset)
    app1 = make_app(
        preset.build(*credentials, storage=MemoryStorage(_token_for(preset, "app1")))
    )
    app2 = make_app(
        preset.build(*credentials, storage=MemoryStorage(_token_for(preset, "app2")))
    )
    proxy = preset.proxy()

    with app1.test_request_context("/"):
        proxy.get("some/path")
        with app2.test_request_context("/"):
            proxy.get("some/path")
        proxy.get("some/path")

    seen = [_token_seen(preset, call.request) for call in responses.calls]
    assert seen == ["app1", "app2", "app1"]
    assert responses.calls[0].request.url.split("?")[0] == preset.base_url.rstrip(
        "/"
    ) + ("/some/path")


@pytest.mark.parametrize("preset", PRESETS, ids=_ids(PRESETS))
def test_proxy_outside_context(preset: Preset) -> None:
    with pytest.raises(RuntimeError) as exc_info:
        preset.proxy().get("some/path")
    message = str(exc_info.value)
    expected = f"The '{preset.module}' proxy works only in an application context"
    assert expected in message
    assert "'with app.app_context():'" in message


@pytest.mark.parametrize("preset", PRESETS, ids=_ids(PRESETS))
def test_proxy_without_registered_blueprint(preset: Preset) -> None:
    app = make_app()
    with app.test_request_context("/"), pytest.raises(RuntimeError) as exc_info:
        preset.proxy().get("some/path")
    message = str(exc_info.value)
    assert f"make_{preset.module}_blueprint" in message
    assert "app.register_blueprint" in message


@pytest.mark.parametrize("preset", PRESETS, ids=_ids(PRESETS))
def test_proxy_is_lazy_and_cached(preset: Preset) -> None:
    base = OAuth1Session if preset.oauth1 else OAuth2Session
    built: list[t.Any] = []

    class Counting(base):  # type: ignore[valid-type, misc]
        def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    app = make_app(preset.build(*_credentials(preset), session_class=Counting))
    attr = f"flask_dance_{preset.module}"
    with app.test_request_context("/"):
        app.preprocess_request()
        assert built == []
        assert attr not in flask.g
        session = preset.proxy()._get_current_object()
        assert built == [session]
        assert flask.g.get(attr) is session
        assert preset.proxy()._get_current_object() is session
    with app.test_request_context("/"):
        flask.g.setdefault(attr, "a session set by the app")
        assert preset.proxy()._get_current_object() == "a session set by the app"
    assert len(built) == 1


@pytest.mark.parametrize("preset", PRESETS, ids=_ids(PRESETS))
def test_custom_session_class(
    preset: Preset, responses: responses_lib.RequestsMock
) -> None:
    _catch_all(responses)
    base = OAuth1Session if preset.oauth1 else OAuth2Session

    class Custom(base):  # type: ignore[valid-type, misc]
        pass

    bp = preset.build(
        *_credentials(preset),
        session_class=Custom,
        storage=MemoryStorage(_token_for(preset, "custom")),
    )
    app = make_app(bp)
    with app.test_request_context("/"):
        assert isinstance(preset.proxy()._get_current_object(), Custom)
        preset.proxy().get("some/path")
    assert _token_seen(preset, responses.calls[0].request) == "custom"


@pytest.mark.parametrize("preset", PRESETS, ids=_ids(PRESETS))
def test_rule_kwargs(preset: Preset) -> None:
    bp = preset.build(*_credentials(preset), rule_kwargs={"host": "login.example"})
    assert [rule.host for rule in _rules(bp)] == ["login.example", "login.example"]


@pytest.mark.parametrize("preset", PRESETS, ids=_ids(PRESETS))
def test_custom_routes(preset: Preset) -> None:
    bp = preset.build(
        *_credentials(preset), login_url="/in/{bp.name}", authorized_url="/back"
    )
    assert [rule.rule for rule in _rules(bp)] == [
        f"/login/in/{preset.module}",
        "/login/back",
    ]


# -- documentation -------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS, ids=_ids(PRESETS))
def test_documented(preset: Preset) -> None:
    text = DOCS.read_text("utf-8")
    assert f".. module:: flask_dance.contrib.{preset.module}" in text
    assert f"make_{preset.module}_blueprint" in text
    for key in preset.config_keys:
        assert key in text
    if preset.doc_marker:
        section = text.split(f".. module:: flask_dance.contrib.{preset.module}")[1]
        section = section.split(".. module::")[0]
        assert preset.doc_marker in section
