"""The OpenID Connect presets: oidc, okta, auth0, keycloak, linkedin_oidc and
apple.

Generic checks run over a table of the presets; each preset also signs in
end to end against the local provider, with its issuer pointed there.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pathlib
import typing as t
from urllib.parse import urlsplit

import flask
import jwt
import pytest
import responses as responses_lib
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from freezegun import freeze_time

from contrib.preset_helpers import assert_documented
from contrib.preset_helpers import form
from contrib.preset_helpers import make_app
from contrib.preset_helpers import query
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_authorized
from flask_dance.consumer import oauth_error
from flask_dance.consumer.oidc import clear_caches
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.contrib.apple import AppleBlueprint
from flask_dance.contrib.apple import make_apple_blueprint
from flask_dance.contrib.auth0 import make_auth0_blueprint
from flask_dance.contrib.keycloak import make_keycloak_blueprint
from flask_dance.contrib.oidc import make_oidc_blueprint
from flask_dance.contrib.oidc import oidc_session
from flask_dance.contrib.okta import make_okta_blueprint
from flask_dance.testing import LocalProvider
from flask_dance.testing.provider import LOOPBACK_REDIRECT_PATTERNS

DOCS = pathlib.Path(__file__).parents[2] / "docs" / "providers-oidc.rst"
TEAM_ID = "TEAM123456"
KEY_ID = "KEY7654321"


def _p256_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


#: A Sign in with Apple private key (a ``.p8`` file's text).
APPLE_KEY = _p256_pem()


def _apple_public_key() -> t.Any:
    private = serialization.load_pem_private_key(APPLE_KEY.encode(), password=None)
    return private.public_key()


@dataclasses.dataclass(frozen=True)
class Case:
    #: The module under flask_dance.contrib.
    module: str
    #: The blueprint's name (and config prefix, in upper case).
    name: str
    #: Positional arguments before the credentials.
    args: tuple[t.Any, ...]
    issuer: str
    base_url: str | None
    scope: list[str]
    response_mode: str | None = None
    #: Whether the client credentials go in the token request's body.
    secret_in_body: bool = False
    #: Extra factory arguments.
    kwargs: dict[str, t.Any] = dataclasses.field(default_factory=dict)

    @property
    def config_keys(self) -> tuple[str, str]:
        prefix = self.name.upper()
        return f"{prefix}_OAUTH_CLIENT_ID", f"{prefix}_OAUTH_CLIENT_SECRET"

    def factory(self) -> t.Callable[..., OAuth2ConsumerBlueprint]:
        module = importlib.import_module(f"flask_dance.contrib.{self.module}")
        return getattr(module, f"make_{self.module}_blueprint")  # type: ignore[no-any-return]

    def build(self, *credentials: str | None, **kwargs: t.Any) -> t.Any:
        return self.factory()(*self.args, *credentials, **{**self.kwargs, **kwargs})

    def proxy(self) -> t.Any:
        if self.module == "oidc":
            return oidc_session(self.name)
        module = importlib.import_module(f"flask_dance.contrib.{self.module}")
        return getattr(module, self.module)


CASES = [
    Case(
        "oidc",
        "corp",
        ("corp", "https://id.example.com"),
        issuer="https://id.example.com",
        base_url="https://id.example.com/",
        scope=["openid", "profile", "email"],
    ),
    Case(
        "okta",
        "okta",
        ("dev-123456.okta.com",),
        issuer="https://dev-123456.okta.com/oauth2/default",
        base_url="https://dev-123456.okta.com/",
        scope=["openid", "profile", "email"],
    ),
    Case(
        "auth0",
        "auth0",
        ("example.us.auth0.com",),
        issuer="https://example.us.auth0.com/",
        base_url="https://example.us.auth0.com/",
        scope=["openid", "profile", "email"],
    ),
    Case(
        "keycloak",
        "keycloak",
        ("https://sso.example.com/", "my realm"),
        issuer="https://sso.example.com/realms/my%20realm",
        base_url="https://sso.example.com/realms/my%20realm/protocol/openid-connect/",
        scope=["openid", "profile", "email"],
    ),
    Case(
        "linkedin_oidc",
        "linkedin_oidc",
        (),
        issuer="https://www.linkedin.com/oauth",
        base_url="https://api.linkedin.com/v2/",
        scope=["openid", "profile", "email"],
        secret_in_body=True,
    ),
    Case(
        "apple",
        "apple",
        (),
        issuer="https://appleid.apple.com",
        base_url=None,
        scope=["name", "email"],
        response_mode="form_post",
        secret_in_body=True,
    ),
]
IDS = [case.module for case in CASES]


@pytest.fixture(autouse=True)
def _fresh_caches() -> t.Iterator[None]:
    clear_caches()
    yield
    clear_caches()


def _metadata(issuer: str) -> dict[str, t.Any]:
    root = issuer.rstrip("/")
    return {
        "issuer": issuer,
        "authorization_endpoint": root + "/authorize",
        "token_endpoint": root + "/token",
        "jwks_uri": root + "/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }


def _discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


# -- factory values ---------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_blueprint_factory(case: Case) -> None:
    bp = case.build("client-id", "client-secret")
    assert isinstance(bp, OAuth2ConsumerBlueprint)
    assert bp.name == case.name
    assert bp.issuer == case.issuer
    assert bp.is_openid
    assert bp.scope == case.scope
    assert bp.response_mode == case.response_mode
    assert bp.base_url == case.base_url
    assert bp.client_id == "client-id"
    assert bp.client_secret == "client-secret"
    assert bp.from_config["client_id"] == case.config_keys[0]
    assert bp.from_config["client_secret"] == case.config_keys[1]
    assert bp.token_url_params == (
        {"include_client_id": True} if case.secret_in_body else {}
    )
    app = make_app(bp)
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    assert rules[f"{case.name}.login"] == f"/login/{case.name}"
    assert rules[f"{case.name}.authorized"] == f"/login/{case.name}/authorized"
    # Flask-Dance 7.1's two rules: logout is opt-in, even with an issuer
    assert [key for key in rules if key.startswith(f"{case.name}.")] == [
        f"{case.name}.login",
        f"{case.name}.authorized",
    ]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_parameter_is_documented(case: Case) -> None:
    module = importlib.import_module(f"flask_dance.contrib.{case.module}")
    assert_documented(module, case.factory())
    assert ":return:" in (inspect.getdoc(case.factory()) or "")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_documented_in_providers_page(case: Case) -> None:
    text = DOCS.read_text("utf-8")
    assert f".. module:: flask_dance.contrib.{case.module}" in text
    assert f"make_{case.module}_blueprint" in text
    for key in case.config_keys:
        if case.module != "oidc":
            assert f"``{key}``" in text


# -- configuration ------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_load_from_config(case: Case) -> None:
    bp = case.build()
    app = make_app(bp)
    id_key, secret_key = case.config_keys
    app.config[id_key] = "config-id"
    app.config[secret_key] = "config-secret"
    with app.test_request_context("/"):
        session = case.proxy()._get_current_object()
        assert bp.client_id == "config-id"
        assert bp.client_secret == "config-secret"
        assert session.client_id == "config-id"
        assert session is bp.session


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_proxy_is_context_local(case: Case) -> None:
    first, second = MemoryStorage(), MemoryStorage()
    app1 = make_app(case.build("id", "secret", storage=first))
    app2 = make_app(case.build("id", "secret", storage=second))
    first.set(app1.blueprints[case.name], {"access_token": "one"})
    second.set(app2.blueprints[case.name], {"access_token": "two"})
    proxy = case.proxy()
    with app1.test_request_context("/"):
        assert proxy.authorized
        assert proxy.access_token == "one"
        assert proxy.blueprint is app1.blueprints[case.name]
    with app2.test_request_context("/"):
        assert proxy.access_token == "two"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_proxy_needs_a_context_and_a_blueprint(case: Case) -> None:
    proxy = case.proxy()
    with pytest.raises(RuntimeError, match="application context"):
        proxy.get("anything")
    with flask.Flask(__name__).app_context():
        with pytest.raises(RuntimeError, match="not registered"):
            proxy.get("anything")


# -- the login redirect, with discovery mocked ----------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_login_discovers_the_issuer(
    case: Case, responses: responses_lib.RequestsMock
) -> None:
    responses.get(_discovery_url(case.issuer), json=_metadata(case.issuer))
    bp = case.build("client-id", "client-secret")
    app = make_app(bp)
    response = app.test_client().get(f"/login/{case.name}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(case.issuer.rstrip("/") + "/authorize?")
    params = query(location)
    assert params["client_id"] == "client-id"
    assert params["scope"] == " ".join(case.scope)
    assert params["nonce"]
    assert params["code_challenge_method"] == "S256"
    assert params.get("response_mode") == case.response_mode
    assert [call.request.url for call in responses.calls] == [
        _discovery_url(case.issuer)
    ]


# -- signing in end to end against the local provider --------------------------------


@pytest.fixture(scope="module")
def provider() -> t.Iterator[LocalProvider]:
    with LocalProvider() as running:
        yield running


@pytest.fixture
def local(provider: LocalProvider, monkeypatch: pytest.MonkeyPatch) -> LocalProvider:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    provider.reset()
    return provider


def _dance(provider: LocalProvider, client: t.Any, name: str) -> t.Any:
    response = client.get(f"/login/{name}")
    assert response.status_code == 302, response.data
    result = provider.authorize(response.headers["Location"])
    path = urlsplit(result.url)
    if result.method == "POST":
        return client.post(path.path, data=result.params), result
    return client.get(path.path + "?" + path.query), result


def _local_blueprint(
    case: Case, provider: LocalProvider, storage: MemoryStorage
) -> t.Any:
    """The preset, with its issuer and API root moved to the local provider."""
    if case.module == "apple":
        # The local provider sends an id_token only when asked for "openid";
        # Apple sends one anyway.
        bp = case.build(
            "apple-client",
            team_id=TEAM_ID,
            key_id=KEY_ID,
            private_key=APPLE_KEY,
            scope="openid name email",
            storage=storage,
        )
        # Registered with the secret of the moment, which is reused until it
        # nears its expiry.
        provider.add_client(
            "apple-client",
            bp.client_secret,
            LOOPBACK_REDIRECT_PATTERNS,
            auth_methods=("client_secret_post",),
        )
        bp.revocation_url = provider.revocation_url
    elif case.secret_in_body:
        provider.add_client(
            "body-client",
            "body-secret",
            LOOPBACK_REDIRECT_PATTERNS,
            auth_methods=("client_secret_post",),
        )
        bp = case.build("body-client", "body-secret", storage=storage)
    else:
        bp = case.build("test-client", "test-secret", storage=storage)
    bp.issuer = provider.issuer
    bp.base_url = provider.url + "/"
    return bp


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_full_login(case: Case, local: LocalProvider) -> None:
    storage = MemoryStorage()
    bp = _local_blueprint(case, local, storage)
    app = make_app(bp)
    errors: list[t.Any] = []
    seen: list[t.Any] = []

    def on_error(sender: t.Any, **kwargs: t.Any) -> None:
        errors.append(kwargs)

    def on_authorized(sender: t.Any, token: t.Any) -> None:
        seen.append(token["id_token_claims"]["sub"])

    with (
        oauth_error.connected_to(on_error),
        oauth_authorized.connected_to(on_authorized),
        app.test_client() as client,
    ):
        response, result = _dance(local, client, case.name)
    assert errors == []
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert result.method == ("POST" if case.response_mode == "form_post" else "GET")
    token = storage.get(bp)
    assert token is not None
    claims = token["id_token_claims"]
    assert claims["iss"] == local.issuer
    assert seen == [claims["sub"]]
    token_request = local.requests_for("token")[-1]
    body = token_request.form
    if case.secret_in_body:
        assert token_request.client_auth == "client_secret_post"
        assert body["client_id"] == bp.client_id
        assert body["client_secret"] == bp.client_secret
        assert "Authorization" not in token_request.headers
    else:
        assert token_request.client_auth == "client_secret_basic"
        assert "client_secret" not in body
    with app.test_request_context("/"):
        assert bp.id_token_claims == claims
        assert case.proxy().get("user").json()["login"] == "octocat"


def test_oidc_userinfo_and_logout(local: LocalProvider) -> None:
    storage = MemoryStorage()
    bp = make_oidc_blueprint(
        "corp",
        local.issuer,
        "test-client",
        "test-secret",
        storage=storage,
        post_logout_redirect_uri="http://localhost/login/corp/logged-out",
        logout=True,
    )
    app = make_app(bp)
    with app.test_client() as client:
        _dance(local, client, "corp")
        with client.session_transaction() as browser:
            browser["corp_oauth_logout_token"] = "per-session"
        with app.test_request_context("/"):
            claims = bp.id_token_claims
            assert claims is not None
            assert bp.userinfo()["sub"] == claims["sub"]
        token = storage.get(bp)
        assert token is not None
        response = client.get("/login/corp/logout?logout_token=per-session")
    assert response.headers["Location"].startswith(local.end_session_url + "?")
    assert storage.get(bp) is None
    assert not local.is_active(token["refresh_token"])


def test_oidc_login_with_bad_id_token_stores_nothing(local: LocalProvider) -> None:
    local.faults.id_token_aud = "someone-else"
    storage = MemoryStorage()
    bp = make_oidc_blueprint(
        "corp", local.issuer, "test-client", "test-secret", storage=storage
    )
    errors: list[t.Any] = []

    def on_error(sender: t.Any, **kwargs: t.Any) -> None:
        errors.append(kwargs["error"])

    with oauth_error.connected_to(on_error), make_app(bp).test_client() as client:
        _dance(local, client, "corp")
    assert errors == ["invalid_audience"]
    assert storage.get(bp) is None


@pytest.mark.parametrize(
    "case",
    [case for case in CASES if case.module in ("oidc", "okta", "auth0", "keycloak")],
    ids=lambda case: case.module,
)
def test_max_age_reaches_the_blueprint(case: Case) -> None:
    assert case.build().max_age is None
    assert case.build(max_age=0).max_age == 0
    assert case.build(max_age=600).max_age == 600


# -- oidc ---------------------------------------------------------------------------


def test_oidc_adds_openid_and_passes_other_options() -> None:
    bp = make_oidc_blueprint(
        "corp",
        "https://id.example.com/tenant",
        scope=["profile"],
        base_url="https://api.example.com/",
        max_age=300,
        response_mode="form_post",
        authorization_url_params={"prompt": "login"},
        trusted_audiences=["other-app"],
        id_token_algorithms=["ES256"],
        userinfo_url="https://id.example.com/me",
        login_url="/sso",
    )
    assert bp.scope == ["openid", "profile"]
    assert bp.base_url == "https://api.example.com/"
    assert bp.max_age == 300
    assert bp.response_mode == "form_post"
    assert bp.authorization_url_params == {"prompt": "login"}
    assert bp.trusted_audiences == ("other-app",)
    assert tuple(bp.id_token_algorithms) == ("ES256",)
    assert bp.userinfo_url == "https://id.example.com/me"
    app = make_app(bp)
    assert "/login/sso" in {rule.rule for rule in app.url_map.iter_rules()}


def test_oidc_blueprints_side_by_side() -> None:
    one = make_oidc_blueprint("one", "https://one.example.com")
    two = make_oidc_blueprint("two", "https://two.example.com")
    app = make_app(
        one,
        two,
        ONE_OAUTH_CLIENT_ID="id-1",
        TWO_OAUTH_CLIENT_ID="id-2",
    )
    with app.test_request_context("/"):
        assert oidc_session("one").client_id == "id-1"
        assert oidc_session("two").client_id == "id-2"
        assert oidc_session("two").blueprint is two


# -- okta, auth0, keycloak ------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "issuer"),
    [
        ("default", "https://dev-1.okta.com/oauth2/default"),
        ("aus1a2b3c", "https://dev-1.okta.com/oauth2/aus1a2b3c"),
        (None, "https://dev-1.okta.com"),
    ],
)
def test_okta_authorization_server(server: str | None, issuer: str) -> None:
    bp = make_okta_blueprint("dev-1.okta.com", authorization_server=server)
    assert bp.issuer == issuer


@pytest.mark.parametrize(
    "factory", [make_okta_blueprint, make_auth0_blueprint], ids=["okta", "auth0"]
)
@pytest.mark.parametrize(
    "domain", ["https://dev-1.okta.com", "a.com/x", "", "a.com?x", "u@a.com", ":443"]
)
def test_domain_must_be_a_host_name(factory: t.Any, domain: str) -> None:
    with pytest.raises(ValueError, match="host name"):
        factory(domain)


def test_auth0_audience(responses: responses_lib.RequestsMock) -> None:
    issuer = "https://example.eu.auth0.com/"
    responses.get(_discovery_url(issuer), json=_metadata(issuer))
    bp = make_auth0_blueprint("example.eu.auth0.com", "id", audience="https://api")
    assert bp.authorization_url_params == {"audience": "https://api"}
    response = make_app(bp).test_client().get("/login/auth0")
    assert query(response.headers["Location"])["audience"] == "https://api"
    assert make_auth0_blueprint("x.auth0.com").authorization_url_params == {}


@pytest.mark.parametrize(
    ("server_url", "issuer"),
    [
        ("https://sso.example.com", "https://sso.example.com/realms/r"),
        ("https://sso.example.com/auth/", "https://sso.example.com/auth/realms/r"),
        ("http://localhost:8080", "http://localhost:8080/realms/r"),
    ],
)
def test_keycloak_issuer(server_url: str, issuer: str) -> None:
    assert make_keycloak_blueprint(server_url, "r").issuer == issuer


@pytest.mark.parametrize(
    ("server_url", "realm", "message"),
    [
        ("sso.example.com", "r", "absolute URL"),
        ("ftp://sso.example.com", "r", "absolute URL"),
        ("https://admin@sso.example.com", "r", "absolute URL"),
        ("https://sso.example.com/?realm=r", "r", "absolute URL"),
        ("https://sso.example.com", "", "realm"),
    ],
)
def test_keycloak_bad_arguments(server_url: str, realm: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_keycloak_blueprint(server_url, realm)


def test_linkedin_oidc_accepts_only_rs256() -> None:
    from flask_dance.contrib.linkedin_oidc import make_linkedin_oidc_blueprint

    bp = make_linkedin_oidc_blueprint()
    assert tuple(bp.id_token_algorithms) == ("RS256",)


# -- apple ----------------------------------------------------------------------------


def _apple(**kwargs: t.Any) -> AppleBlueprint:
    options: dict[str, t.Any] = {
        "team_id": TEAM_ID,
        "key_id": KEY_ID,
        "private_key": APPLE_KEY,
    }
    options.update(kwargs)
    bp = make_apple_blueprint("com.example.web", **options)
    assert isinstance(bp, AppleBlueprint)
    return bp


def test_apple_client_secret_is_a_signed_jwt() -> None:
    bp = _apple()
    secret = bp.client_secret
    assert secret is not None
    header = jwt.get_unverified_header(secret)
    assert header["alg"] == "ES256"
    assert header["kid"] == KEY_ID
    claims = jwt.decode(
        secret,
        _apple_public_key(),
        algorithms=["ES256"],
        audience="https://appleid.apple.com",
    )
    assert claims["iss"] == TEAM_ID
    assert claims["sub"] == "com.example.web"
    assert claims["aud"] == "https://appleid.apple.com"
    assert claims["exp"] - claims["iat"] == 3600


def test_apple_client_secret_is_renewed_before_it_expires() -> None:
    bp = _apple()
    with freeze_time("2026-01-01 12:00:00") as frozen:
        first = bp.client_secret
        frozen.tick(3299)
        assert bp.client_secret == first
        frozen.tick(2)
        second = bp.client_secret
    assert first is not None
    assert second is not None
    assert second != first
    old = jwt.decode(first, options={"verify_signature": False})
    new = jwt.decode(second, options={"verify_signature": False})
    assert new["iat"] == old["iat"] + 3301
    # the old secret had 299 seconds left: still valid when replaced
    assert old["exp"] > new["iat"]


def test_apple_settings_from_config() -> None:
    bp = make_apple_blueprint()
    app = make_app(
        bp,
        APPLE_OAUTH_CLIENT_ID="com.example.config",
        APPLE_OAUTH_TEAM_ID="CONFIGTEAM",
        APPLE_OAUTH_KEY_ID="CONFIGKEY",
        APPLE_OAUTH_PRIVATE_KEY=APPLE_KEY,
    )
    assert bp.client_secret is None
    with app.test_request_context("/"):
        bp.load_config()
        secret = bp.client_secret
    assert secret is not None
    claims = jwt.decode(secret, options={"verify_signature": False})
    assert (claims["iss"], claims["sub"]) == ("CONFIGTEAM", "com.example.config")
    assert jwt.get_unverified_header(secret)["kid"] == "CONFIGKEY"


def test_apple_secret_follows_the_client_id() -> None:
    bp = _apple()
    first = bp.client_secret
    bp.client_id = "com.example.other"
    second = bp.client_secret
    assert second is not None
    assert jwt.decode(second, options={"verify_signature": False})["sub"] == (
        "com.example.other"
    )
    assert second != first


def test_apple_fixed_secret_without_a_key() -> None:
    bp = make_apple_blueprint("com.example.web", "made-beforehand", team_id=TEAM_ID)
    assert bp.client_secret == "made-beforehand"


def test_apple_refuses_a_key_that_is_not_p256() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ValueError, match="P-256"):
        _apple(private_key=rsa_key)


@pytest.mark.parametrize(
    ("scope", "response_mode"),
    [
        ("name email", "form_post"),
        ("email", "form_post"),
        (["name"], "form_post"),
        ("openid", None),
        (None, None),
    ],
)
def test_apple_form_post_when_name_or_email(
    scope: t.Any, response_mode: str | None
) -> None:
    assert _apple(scope=scope).response_mode == response_mode


def test_apple_has_no_userinfo() -> None:
    bp = _apple()
    with make_app(bp).test_request_context("/"):
        with pytest.raises(RuntimeError, match="id_token_claims"):
            bp.userinfo()


def test_apple_refresh_sends_a_fresh_secret_in_the_body(
    responses: responses_lib.RequestsMock,
) -> None:
    storage = MemoryStorage()
    bp = _apple(storage=storage)
    bp.issuer = None  # no discovery, no id_token checks: the refresh alone
    bp.auto_refresh_url = "https://appleid.apple.com/auth/token"
    app = make_app(bp)
    storage.set(
        bp,
        {"access_token": "old", "refresh_token": "r1", "expires_at": 1.0},
    )
    responses.post(
        "https://appleid.apple.com/auth/token",
        json={"access_token": "new", "token_type": "Bearer", "expires_in": 3600},
    )
    responses.get("https://appleid.apple.com/anything", body="ok")
    with app.test_request_context("/"):
        assert bp.session.get("https://appleid.apple.com/anything").text == "ok"
    body = form(responses.calls[0].request.body)
    assert body["grant_type"] == "refresh_token"
    assert body["client_id"] == "com.example.web"
    claims = jwt.decode(body["client_secret"], options={"verify_signature": False})
    assert claims["sub"] == "com.example.web"
    assert "Authorization" not in responses.calls[0].request.headers
    stored = storage.get(bp)
    assert stored is not None
    assert stored["access_token"] == "new"


def test_apple_revoke_sends_credentials_in_the_body(local: LocalProvider) -> None:
    storage = MemoryStorage()
    case = next(case for case in CASES if case.module == "apple")
    bp = _local_blueprint(case, local, storage)
    app = make_app(bp)
    with app.test_client() as client:
        response, result = _dance(local, client, "apple")
    assert result.method == "POST"
    token = storage.get(bp)
    assert token is not None
    with app.test_request_context("/"):
        assert bp.revoke_token() is True
    recorded = local.requests_for("revoke")[-1]
    assert recorded.client_auth == "client_secret_post"
    revoke = recorded.form
    assert revoke["client_id"] == "apple-client"
    assert revoke["client_secret"] == bp.client_secret
    assert revoke["token"] == token["refresh_token"]
    assert not local.is_active(token["refresh_token"])


def test_apple_revoke_without_token_or_endpoint() -> None:
    bp = _apple(storage=MemoryStorage())
    with make_app(bp).test_request_context("/"):
        assert bp.revoke_token() is False
        bp.revocation_url = None
        assert bp.revoke_token({"access_token": "a"}) is False


def test_apple_user_field_reaches_the_authorized_receiver(local: LocalProvider) -> None:
    storage = MemoryStorage()
    case = next(case for case in CASES if case.module == "apple")
    bp = _local_blueprint(case, local, storage)
    app = make_app(bp)
    users: list[t.Any] = []

    def on_authorized(sender: t.Any, token: t.Any) -> None:
        users.append(json.loads(flask.request.form["user"]))

    user = {"name": {"firstName": "Ada", "lastName": "Lovelace"}}
    with oauth_authorized.connected_to(on_authorized), app.test_client() as client:
        response = client.get("/login/apple")
        result = local.authorize(response.headers["Location"])
        params = dict(result.params)
        params["user"] = json.dumps(user)
        client.post(urlsplit(result.url).path, data=params)
    assert users == [user]


def test_apple_cross_site_post_keeps_the_user_field() -> None:
    bp = _apple()
    app = make_app(bp)
    user = json.dumps({"name": {"firstName": "Ada"}})
    # Apple's POST is cross-site: the SameSite=Lax session cookie is missing,
    # so the view posts the form again from the app's own origin.
    response = app.test_client().post(
        "/login/apple/authorized", data={"code": "c", "state": "s", "user": user}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="user"' in page
    assert "Ada" in page
