"""The checks of flask_dance/audit.py: each finding, its level and its fix."""

from __future__ import annotations

import secrets
import typing as t

import flask
import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from dance_helpers import checked_app
from dance_helpers import checked_blueprint
from flask_dance.audit import audit
from flask_dance.audit import ERROR
from flask_dance.audit import Finding
from flask_dance.audit import WARNING
from flask_dance.consumer import OAuth1ConsumerBlueprint
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.oidc import clear_caches
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.contrib.github import make_github_blueprint

pytestmark = pytest.mark.usefixtures("fresh_oidc_caches")

ISSUER = "https://idp.example"
DISCOVERY = f"{ISSUER}/.well-known/openid-configuration"


def _codes(app: flask.Flask) -> dict[str, str]:
    return {finding.code: finding.level for finding in audit(app)}


def _metadata(issuer: str, **extra: t.Any) -> dict[str, t.Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": ["code"],
        **extra,
    }


def test_errors_come_first():
    app = checked_app(FLASK_DANCE_TOKEN_KEYS=None, SECRET_KEY=None)
    levels = [finding.level for finding in audit(app)]
    assert levels == [ERROR, WARNING]


def test_finding_str_has_level_code_and_fix():
    finding = Finding(ERROR, "some-code", "What is wrong.", "Do this.", "bp")
    assert str(finding) == "ERROR [some-code] What is wrong. Fix: Do this."


def test_audit_defaults_to_the_current_app():
    app = checked_app(SECRET_KEY="short")
    with app.app_context():
        assert [finding.code for finding in audit()] == ["secret-key-weak"]


def test_missing_secret_key():
    assert _codes(checked_app(SECRET_KEY=None)) == {"secret-key-missing": ERROR}
    assert _codes(checked_app(SECRET_KEY="")) == {"secret-key-missing": ERROR}


@pytest.mark.parametrize("key", ["short", b"0123456789abcdef", "x" * 23])
def test_short_secret_key(key):
    assert _codes(checked_app(SECRET_KEY=key)) == {"secret-key-weak": ERROR}


@pytest.mark.parametrize("key", ["dev", "Change-Me", "your-secret-key-here"])
def test_placeholder_secret_key(key):
    assert _codes(checked_app(SECRET_KEY=key)) == {"secret-key-placeholder": ERROR}


def test_long_random_bytes_key_passes():
    assert _codes(checked_app(SECRET_KEY=secrets.token_bytes(24))) == {}


def test_cookie_not_secure_with_https_scheme():
    app = checked_app(SESSION_COOKIE_SECURE=False, PREFERRED_URL_SCHEME="https")
    assert _codes(app) == {"session-cookie-not-secure": WARNING}


def test_cookie_not_secure_with_https_redirect_uri():
    bp = checked_blueprint(redirect_uri="https://app.example/login/example/authorized")
    assert _codes(checked_app(bp, SESSION_COOKIE_SECURE=False)) == {
        "session-cookie-not-secure": WARNING
    }


def test_cookie_not_secure_on_plain_http_development_is_fine():
    assert _codes(checked_app(SESSION_COOKIE_SECURE=False)) == {}


def test_samesite_strict_breaks_form_post():
    bp = checked_blueprint(response_mode="form_post")
    findings = audit(checked_app(bp, SESSION_COOKIE_SAMESITE="Strict"))
    assert [(f.level, f.code, f.blueprint) for f in findings] == [
        (ERROR, "samesite-strict-form-post", "example")
    ]
    assert "'Lax'" in findings[0].fix


def test_samesite_strict_without_form_post_warns():
    assert _codes(checked_app(SESSION_COOKIE_SAMESITE="Strict")) == {
        "samesite-strict": WARNING
    }


def test_samesite_lax_passes_with_form_post():
    bp = checked_blueprint(response_mode="form_post")
    assert _codes(checked_app(bp, SESSION_COOKIE_SAMESITE="Lax")) == {}


def test_samesite_none_without_secure():
    app = checked_app(SESSION_COOKIE_SAMESITE="None", SESSION_COOKIE_SECURE=False)
    assert _codes(app) == {"samesite-none-not-secure": ERROR}
    assert _codes(checked_app(SESSION_COOKIE_SAMESITE="None")) == {}


def test_insecure_transport_env(monkeypatch):
    """A warning on the developer's machine, an error where the config
    names a public host or https."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    assert _codes(checked_app()) == {"insecure-transport": WARNING}
    app = checked_app()
    app.debug = True
    assert _codes(app) == {"insecure-transport": WARNING}
    assert _codes(checked_app(SERVER_NAME="localhost:5000")) == {
        "insecure-transport": WARNING
    }
    public_host = _codes(checked_app(SERVER_NAME="app.example"))
    assert public_host["insecure-transport"] == ERROR
    assert _codes(checked_app(PREFERRED_URL_SCHEME="https")) == {
        "insecure-transport": ERROR
    }
    public = checked_blueprint(
        redirect_uri="https://app.example/login/example/authorized"
    )
    assert _codes(checked_app(public)) == {"insecure-transport": ERROR}
    local = checked_blueprint(
        redirect_uri="http://127.0.0.1:5000/login/example/authorized"
    )
    assert _codes(checked_app(local)) == {"insecure-transport": WARNING}


def test_http_redirect_uri():
    bp = checked_blueprint(redirect_uri="http://app.example/login/example/authorized")
    findings = audit(checked_app(bp))
    assert [(f.level, f.code, f.blueprint) for f in findings] == [
        (ERROR, "redirect-uri-http", "example")
    ]
    assert "http://app.example/login/example/authorized" in findings[0].message


@pytest.mark.parametrize(
    "uri", ["http://127.0.0.1:5000/cb", "http://localhost/cb", "http://[::1]:8000/cb"]
)
def test_http_loopback_redirect_uri_is_fine(uri):
    assert _codes(checked_app(checked_blueprint(redirect_uri=uri))) == {}


def test_http_scheme_with_public_server_name():
    app = checked_app(SERVER_NAME="app.example")
    assert _codes(app) == {"preferred-scheme-http": WARNING}
    assert _codes(checked_app(SERVER_NAME="localhost:5000")) == {}
    # A fixed https redirect URI is not built from the scheme.
    bp = checked_blueprint(redirect_uri="https://app.example/cb")
    assert _codes(checked_app(bp, SERVER_NAME="app.example")) == {}


def test_missing_client_id_and_secret_of_a_preset():
    app = checked_app(make_github_blueprint())
    findings = {f.code: f for f in audit(app)}
    assert set(findings) == {"client-id-missing", "client-secret-missing"}
    assert findings["client-id-missing"].level == ERROR
    assert findings["client-id-missing"].blueprint == "github"
    assert "GITHUB_OAUTH_CLIENT_ID" in findings["client-id-missing"].fix
    assert "GITHUB_OAUTH_CLIENT_SECRET" in findings["client-secret-missing"].fix


def test_credentials_from_config_count():
    app = checked_app(
        make_github_blueprint(),
        GITHUB_OAUTH_CLIENT_ID="id",
        GITHUB_OAUTH_CLIENT_SECRET="secret",
    )
    assert _codes(app) == {}


def test_missing_client_id_of_a_plain_blueprint():
    findings = audit(checked_app(checked_blueprint(client_id=None)))
    assert [(f.level, f.code) for f in findings] == [(ERROR, "client-id-missing")]
    assert "client_id=" in findings[0].fix


def test_public_oauth2_client_without_secret_warns():
    assert _codes(checked_app(checked_blueprint(client_secret=None))) == {
        "client-secret-missing": WARNING
    }


def test_oauth1_without_secret_is_an_error():
    urls = {
        "request_token_url": "https://as.example/request",
        "authorization_url": "https://as.example/authorize",
        "access_token_url": "https://as.example/access",
    }
    hmac = OAuth1ConsumerBlueprint("hmac", __name__, client_key="key", **urls)
    assert _codes(checked_app(hmac)) == {"client-secret-missing": ERROR}
    bp = OAuth1ConsumerBlueprint(
        "rsa",
        __name__,
        client_key="key",
        rsa_key="-----BEGIN RSA PRIVATE KEY-----",
        signature_method="RSA-SHA1",
        **urls,
    )
    assert _codes(checked_app(bp)) == {}


def test_behind_proxy_without_proxy_fix():
    assert _codes(checked_app(FLASK_DANCE_BEHIND_PROXY=True)) == {
        "proxy-fix-missing": WARNING
    }
    app = checked_app(SERVER_NAME="app.example", PREFERRED_URL_SCHEME="https")
    assert _codes(app) == {"proxy-fix-missing": WARNING}


def test_proxy_fix_present():
    app = checked_app(FLASK_DANCE_BEHIND_PROXY=True)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    assert _codes(app) == {}


def test_proxy_fix_under_another_middleware():
    class Middleware:
        def __init__(self, app: t.Any) -> None:
            self.app = app

        def __call__(self, environ: t.Any, start_response: t.Any) -> t.Any:
            return self.app(environ, start_response)

    app = checked_app(FLASK_DANCE_BEHIND_PROXY=True)
    app.wsgi_app = Middleware(ProxyFix(app.wsgi_app))  # type: ignore[method-assign]
    assert _codes(app) == {}


def test_unencrypted_session_tokens():
    findings = audit(checked_app(FLASK_DANCE_TOKEN_KEYS=None))
    assert [(f.level, f.code, f.blueprint) for f in findings] == [
        (WARNING, "session-tokens-unencrypted", "example")
    ]
    assert "FLASK_DANCE_TOKEN_KEYS" in findings[0].fix


def test_other_storages_need_no_session_encryption():
    bp = checked_blueprint(storage=MemoryStorage())
    assert _codes(checked_app(bp, FLASK_DANCE_TOKEN_KEYS=None)) == {}


def test_invalid_token_keys():
    findings = audit(checked_app(FLASK_DANCE_TOKEN_KEYS="not-a-key"))
    assert [(f.level, f.code) for f in findings] == [(ERROR, "token-keys-invalid")]
    assert "not-a-key" not in findings[0].message


def test_provider_without_s256_and_iss_parameter(responses):
    responses.get(DISCOVERY, json=_metadata(ISSUER))
    findings = audit(checked_app(checked_blueprint(issuer=ISSUER)))
    assert [(f.level, f.code, f.blueprint) for f in findings] == [
        (WARNING, "provider-no-pkce-s256", "example"),
        (WARNING, "provider-no-iss-parameter", "example"),
    ]


def test_provider_with_s256_and_iss_parameter(responses):
    responses.get(
        DISCOVERY,
        json=_metadata(
            ISSUER,
            code_challenge_methods_supported=["plain", "S256"],
            authorization_response_iss_parameter_supported=True,
        ),
    )
    assert _codes(checked_app(checked_blueprint(issuer=ISSUER))) == {}


def test_metadata_from_a_local_provider(monkeypatch):
    from flask_dance.testing import LocalProvider

    # The local provider speaks plain HTTP on 127.0.0.1: development mode.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with LocalProvider() as provider:
        kwargs = provider.blueprint_kwargs(issuer=provider.issuer)
        app = checked_app(OAuth2ConsumerBlueprint("local", __name__, **kwargs))
        app.debug = True
        assert _codes(app) == {"insecure-transport": WARNING}
        provider.faults.metadata_overrides.update(
            code_challenge_methods_supported=["plain"],
            authorization_response_iss_parameter_supported=None,
        )
        clear_caches()
        assert _codes(app) == {
            "insecure-transport": WARNING,
            "provider-no-pkce-s256": WARNING,
            "provider-no-iss-parameter": WARNING,
        }
        assert any("openid-configuration" in r.url for r in provider.requests)


@pytest.mark.parametrize(
    "config",
    [
        {"SERVER_NAME": "app.example.com", "PREFERRED_URL_SCHEME": "https"},
        {"TRUSTED_HOSTS": ["app.example.com"]},
    ],
)
def test_fixed_host_or_redirect_uri_is_not_reported(config):
    app = checked_app(**config, FLASK_DANCE_BEHIND_PROXY=False)
    assert "redirect-uri-from-host" not in _codes(app)
    app = checked_app(checked_blueprint(redirect_uri="https://app.example.com/cb"))
    app.config["TRUSTED_HOSTS"] = None
    assert "redirect-uri-from-host" not in _codes(app)


def test_oauth1_and_preset_blueprints_are_checked_too():
    github = make_github_blueprint(client_id="id", client_secret="secret")
    oauth1 = OAuth1ConsumerBlueprint(
        "legacy",
        __name__,
        client_key="key",
        client_secret="secret",
        request_token_url="https://as.example/rt",
        access_token_url="https://as.example/at",
        authorization_url="https://as.example/auth",
    )
    app = checked_app(github, oauth1, TRUSTED_HOSTS=None)
    flagged = sorted(
        f.blueprint for f in audit(app) if f.code == "redirect-uri-from-host"
    )
    assert flagged == ["github", "legacy"]
