from __future__ import annotations

import secrets
import typing as t
from importlib.metadata import EntryPoint
from pathlib import Path

import flask
import pytest
from cryptography.fernet import Fernet
from flask.cli import FlaskGroup
from flask.cli import ScriptInfo
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_dance.audit import audit
from flask_dance.audit import ERROR
from flask_dance.audit import Finding
from flask_dance.audit import WARNING
from flask_dance.cli import dance
from flask_dance.consumer import OAuth1ConsumerBlueprint
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.oidc import clear_caches
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.contrib.github import make_github_blueprint

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_discovery() -> t.Iterator[None]:
    clear_caches()
    yield
    clear_caches()


def _oauth2(name: str = "example", **kwargs: t.Any) -> OAuth2ConsumerBlueprint:
    kwargs.setdefault("client_id", "client-id")
    kwargs.setdefault("client_secret", "client-secret")
    if "issuer" not in kwargs:
        kwargs.setdefault("authorization_url", "https://as.example/authorize")
        kwargs.setdefault("token_url", "https://as.example/token")
    return OAuth2ConsumerBlueprint(name, __name__, **kwargs)


def _app(*blueprints: flask.Blueprint, **config: t.Any) -> flask.Flask:
    """An app that passes every check, changed by ``config``."""
    app = flask.Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_hex(32),
        SESSION_COOKIE_SECURE=True,
        FLASK_DANCE_TOKEN_KEYS=[Fernet.generate_key().decode()],
        TRUSTED_HOSTS=["app.example.com"],
    )
    app.config.update(config)
    for bp in blueprints or (_oauth2(),):
        app.register_blueprint(bp, url_prefix="/login")
    return app


def _codes(app: flask.Flask) -> dict[str, str]:
    return {finding.code: finding.level for finding in audit(app)}


def _run(app: flask.Flask, *args: str) -> t.Any:
    return app.test_cli_runner().invoke(dance, ["check", *args])


def _metadata(issuer: str, **extra: t.Any) -> dict[str, t.Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": ["code"],
        **extra,
    }


# -- the baseline and the command ---------------------------------------------


def test_a_good_app_has_no_findings():
    app = _app()
    assert audit(app) == []
    result = _run(app)
    assert result.exit_code == 0
    assert "No problems found." in result.output


def test_errors_exit_non_zero_and_print_a_fix():
    app = _app(SECRET_KEY="short")
    result = _run(app)
    assert result.exit_code == 1
    assert "ERROR secret-key-weak: SECRET_KEY is only 5 bytes long" in result.output
    assert "bytes long (fewer than 24): it can be guessed, and the session cookie" in (
        result.output
    )
    assert "forged. Fix: Use a random value" in result.output
    assert "1 error(s), 0 warning(s)." in result.output


def test_warnings_alone_exit_zero_unless_strict():
    app = _app(FLASK_DANCE_TOKEN_KEYS=None)
    result = _run(app)
    assert result.exit_code == 0
    assert "WARNING session-tokens-unencrypted (example):" in result.output
    assert _run(app, "--strict").exit_code == 1


def test_errors_come_first():
    app = _app(FLASK_DANCE_TOKEN_KEYS=None, SECRET_KEY=None)
    levels = [finding.level for finding in audit(app)]
    assert levels == [ERROR, WARNING]


def test_finding_str_has_level_code_and_fix():
    finding = Finding(ERROR, "some-code", "What is wrong.", "Do this.", "bp")
    assert str(finding) == "ERROR [some-code] What is wrong. Fix: Do this."


def test_audit_defaults_to_the_current_app():
    app = _app(SECRET_KEY="short")
    with app.app_context():
        assert [finding.code for finding in audit()] == ["secret-key-weak"]


def test_the_command_is_registered_through_the_entry_point():
    pyproject = (ROOT / "pyproject.toml").read_text()
    target = "flask_dance.cli:dance"
    assert f'[project.entry-points."flask.commands"]\ndance = "{target}"' in pyproject
    assert EntryPoint("dance", target, "flask.commands").load() is dance
    # Flask's own CLI finds it among the installed entry points.
    cli = FlaskGroup(create_app=_app)
    ctx = cli.make_context("flask", ["dance"], obj=ScriptInfo(create_app=_app))
    assert cli.get_command(ctx, "dance") is dance


# -- the secret key -----------------------------------------------------------


def test_missing_secret_key():
    assert _codes(_app(SECRET_KEY=None)) == {"secret-key-missing": ERROR}
    assert _codes(_app(SECRET_KEY="")) == {"secret-key-missing": ERROR}


@pytest.mark.parametrize("key", ["short", b"0123456789abcdef", "x" * 23])
def test_short_secret_key(key):
    assert _codes(_app(SECRET_KEY=key)) == {"secret-key-weak": ERROR}


@pytest.mark.parametrize("key", ["dev", "Change-Me", "your-secret-key-here"])
def test_placeholder_secret_key(key):
    assert _codes(_app(SECRET_KEY=key)) == {"secret-key-placeholder": ERROR}


def test_long_random_bytes_key_passes():
    assert _codes(_app(SECRET_KEY=secrets.token_bytes(24))) == {}


# -- cookies ------------------------------------------------------------------


def test_cookie_not_secure_with_https_scheme():
    app = _app(SESSION_COOKIE_SECURE=False, PREFERRED_URL_SCHEME="https")
    assert _codes(app) == {"session-cookie-not-secure": WARNING}


def test_cookie_not_secure_with_https_redirect_uri():
    bp = _oauth2(redirect_uri="https://app.example/login/example/authorized")
    assert _codes(_app(bp, SESSION_COOKIE_SECURE=False)) == {
        "session-cookie-not-secure": WARNING
    }


def test_cookie_not_secure_on_plain_http_development_is_fine():
    assert _codes(_app(SESSION_COOKIE_SECURE=False)) == {}


def test_samesite_strict_breaks_form_post():
    bp = _oauth2(response_mode="form_post")
    findings = audit(_app(bp, SESSION_COOKIE_SAMESITE="Strict"))
    assert [(f.level, f.code, f.blueprint) for f in findings] == [
        (ERROR, "samesite-strict-form-post", "example")
    ]
    assert "'Lax'" in findings[0].fix


def test_samesite_strict_without_form_post_warns():
    assert _codes(_app(SESSION_COOKIE_SAMESITE="Strict")) == {
        "samesite-strict": WARNING
    }


def test_samesite_lax_passes_with_form_post():
    bp = _oauth2(response_mode="form_post")
    assert _codes(_app(bp, SESSION_COOKIE_SAMESITE="Lax")) == {}


def test_samesite_none_without_secure():
    app = _app(SESSION_COOKIE_SAMESITE="None", SESSION_COOKIE_SECURE=False)
    assert _codes(app) == {"samesite-none-not-secure": ERROR}
    assert _codes(_app(SESSION_COOKIE_SAMESITE="None")) == {}


# -- transport and URLs -------------------------------------------------------


def test_insecure_transport_env(monkeypatch):
    """A warning on the developer's machine, an error where the config
    names a public host or https."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    assert _codes(_app()) == {"insecure-transport": WARNING}
    app = _app()
    app.debug = True
    assert _codes(app) == {"insecure-transport": WARNING}
    assert _codes(_app(SERVER_NAME="localhost:5000")) == {"insecure-transport": WARNING}
    public_host = _codes(_app(SERVER_NAME="app.example"))
    assert public_host["insecure-transport"] == ERROR
    assert _codes(_app(PREFERRED_URL_SCHEME="https")) == {"insecure-transport": ERROR}
    public = _oauth2(redirect_uri="https://app.example/login/example/authorized")
    assert _codes(_app(public)) == {"insecure-transport": ERROR}
    local = _oauth2(redirect_uri="http://127.0.0.1:5000/login/example/authorized")
    assert _codes(_app(local)) == {"insecure-transport": WARNING}


def test_documented_local_setup_gives_warnings_only(monkeypatch):
    """The GitHub quickstart, run on the developer's machine as its page
    says, with OAUTHLIB_INSECURE_TRANSPORT: warnings, exit status 0."""
    import importlib.util

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("FLASK_SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("GITHUB_OAUTH_CLIENT_ID", "the-id")
    monkeypatch.setenv("GITHUB_OAUTH_CLIENT_SECRET", "the-secret")
    path = ROOT / "docs" / "examples" / "github_quickstart.py"
    spec = importlib.util.spec_from_file_location("cli_github_quickstart", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = _run(module.app)
    assert result.exit_code == 0, result.output
    assert "ERROR" not in result.output
    assert "WARNING insecure-transport:" in result.output
    lines = result.output.splitlines()
    assert all(line.startswith(("WARNING ", "0 error(s)")) for line in lines)


def test_http_redirect_uri():
    bp = _oauth2(redirect_uri="http://app.example/login/example/authorized")
    findings = audit(_app(bp))
    assert [(f.level, f.code, f.blueprint) for f in findings] == [
        (ERROR, "redirect-uri-http", "example")
    ]
    assert "http://app.example/login/example/authorized" in findings[0].message


@pytest.mark.parametrize(
    "uri", ["http://127.0.0.1:5000/cb", "http://localhost/cb", "http://[::1]:8000/cb"]
)
def test_http_loopback_redirect_uri_is_fine(uri):
    assert _codes(_app(_oauth2(redirect_uri=uri))) == {}


def test_http_scheme_with_public_server_name():
    app = _app(SERVER_NAME="app.example")
    assert _codes(app) == {"preferred-scheme-http": WARNING}
    assert _codes(_app(SERVER_NAME="localhost:5000")) == {}
    # A fixed https redirect URI is not built from the scheme.
    bp = _oauth2(redirect_uri="https://app.example/cb")
    assert _codes(_app(bp, SERVER_NAME="app.example")) == {}


# -- credentials --------------------------------------------------------------


def test_missing_client_id_and_secret_of_a_preset():
    app = _app(make_github_blueprint())
    findings = {f.code: f for f in audit(app)}
    assert set(findings) == {"client-id-missing", "client-secret-missing"}
    assert findings["client-id-missing"].level == ERROR
    assert findings["client-id-missing"].blueprint == "github"
    assert "GITHUB_OAUTH_CLIENT_ID" in findings["client-id-missing"].fix
    assert "GITHUB_OAUTH_CLIENT_SECRET" in findings["client-secret-missing"].fix


def test_credentials_from_config_count():
    app = _app(
        make_github_blueprint(),
        GITHUB_OAUTH_CLIENT_ID="id",
        GITHUB_OAUTH_CLIENT_SECRET="secret",
    )
    assert _codes(app) == {}


def test_missing_client_id_of_a_plain_blueprint():
    findings = audit(_app(_oauth2(client_id=None)))
    assert [(f.level, f.code) for f in findings] == [(ERROR, "client-id-missing")]
    assert "client_id=" in findings[0].fix


def test_public_oauth2_client_without_secret_warns():
    assert _codes(_app(_oauth2(client_secret=None))) == {
        "client-secret-missing": WARNING
    }


def test_oauth1_without_secret_is_an_error():
    urls = {
        "request_token_url": "https://as.example/request",
        "authorization_url": "https://as.example/authorize",
        "access_token_url": "https://as.example/access",
    }
    hmac = OAuth1ConsumerBlueprint("hmac", __name__, client_key="key", **urls)
    assert _codes(_app(hmac)) == {"client-secret-missing": ERROR}
    bp = OAuth1ConsumerBlueprint(
        "rsa",
        __name__,
        client_key="key",
        rsa_key="-----BEGIN RSA PRIVATE KEY-----",
        signature_method="RSA-SHA1",
        **urls,
    )
    assert _codes(_app(bp)) == {}


# -- the proxy ----------------------------------------------------------------


def test_behind_proxy_without_proxy_fix():
    assert _codes(_app(FLASK_DANCE_BEHIND_PROXY=True)) == {"proxy-fix-missing": WARNING}
    app = _app(SERVER_NAME="app.example", PREFERRED_URL_SCHEME="https")
    assert _codes(app) == {"proxy-fix-missing": WARNING}


def test_proxy_fix_present():
    app = _app(FLASK_DANCE_BEHIND_PROXY=True)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    assert _codes(app) == {}


def test_proxy_fix_under_another_middleware():
    class Middleware:
        def __init__(self, app: t.Any) -> None:
            self.app = app

        def __call__(self, environ: t.Any, start_response: t.Any) -> t.Any:
            return self.app(environ, start_response)

    app = _app(FLASK_DANCE_BEHIND_PROXY=True)
    app.wsgi_app = Middleware(ProxyFix(app.wsgi_app))  # type: ignore[method-assign]
    assert _codes(app) == {}


# -- token encryption ---------------------------------------------------------


def test_unencrypted_session_tokens():
    findings = audit(_app(FLASK_DANCE_TOKEN_KEYS=None))
    assert [(f.level, f.code, f.blueprint) for f in findings] == [
        (WARNING, "session-tokens-unencrypted", "example")
    ]
    assert "FLASK_DANCE_TOKEN_KEYS" in findings[0].fix


def test_other_storages_need_no_session_encryption():
    bp = _oauth2(storage=MemoryStorage())
    assert _codes(_app(bp, FLASK_DANCE_TOKEN_KEYS=None)) == {}


def test_invalid_token_keys():
    findings = audit(_app(FLASK_DANCE_TOKEN_KEYS="not-a-key"))
    assert [(f.level, f.code) for f in findings] == [(ERROR, "token-keys-invalid")]
    assert "not-a-key" not in findings[0].message


# -- provider metadata --------------------------------------------------------


ISSUER = "https://idp.example"
DISCOVERY = f"{ISSUER}/.well-known/openid-configuration"


def test_provider_without_s256_and_iss_parameter(responses):
    responses.get(DISCOVERY, json=_metadata(ISSUER))
    findings = audit(_app(_oauth2(issuer=ISSUER)))
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
    assert _codes(_app(_oauth2(issuer=ISSUER))) == {}


def test_discovery_failure_is_a_finding(responses):
    responses.get(DISCOVERY, status=500)
    responses.get(f"{ISSUER}/.well-known/oauth-authorization-server", status=404)
    app = _app(_oauth2(issuer=ISSUER))
    result = _run(app)
    assert result.exit_code == 1
    assert "ERROR discovery-failed (example):" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unreachable_issuer_is_one_line_without_reprs():
    import socket

    with socket.socket() as sock:  # a port that refuses connections
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = _app(_oauth2(issuer=f"https://127.0.0.1:{port}"))
    result = _run(app)
    assert result.exit_code == 1
    line = result.output.splitlines()[0]
    assert line.startswith("ERROR discovery-failed (example): The metadata of the")
    assert "the server could not be reached (Connection refused)" in line
    assert " Fix: Check the issuer URL" in line
    for noise in ("object at 0x", "HTTPSConnectionPool", "Caused by", "Max retries"):
        assert noise not in result.output


def test_no_discovery_option_skips_the_provider(responses):
    app = _app(_oauth2(issuer=ISSUER))
    result = _run(app, "--no-discovery")
    assert result.exit_code == 0
    assert len(responses.calls) == 0
    assert audit(app, discover=False) == []


def test_metadata_from_a_local_provider(monkeypatch):
    from flask_dance.testing import LocalProvider

    # The local provider speaks plain HTTP on 127.0.0.1: development mode.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with LocalProvider() as provider:
        kwargs = provider.blueprint_kwargs(issuer=provider.issuer)
        app = _app(OAuth2ConsumerBlueprint("local", __name__, **kwargs))
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


# -- the redirect URI and the Host header ---------------------------------------


def test_redirect_uri_from_the_host_header_is_reported_with_a_fix():
    app = _app(_oauth2("fixed", redirect_uri="https://app.example.com/cb"), _oauth2())
    app.config["TRUSTED_HOSTS"] = None
    [finding] = [f for f in audit(app) if f.code == "redirect-uri-from-host"]
    assert finding.level == WARNING
    assert finding.blueprint == "example"
    assert "Host header" in finding.message
    assert 'redirect_uri="https://app.example.com/login/example/authorized"' in (
        finding.fix
    )
    assert "TRUSTED_HOSTS" in finding.fix
    assert "SERVER_NAME" in finding.fix
    result = _run(app)
    assert "redirect-uri-from-host" in result.output
    assert "/login/example/authorized" in result.output


@pytest.mark.parametrize(
    "config",
    [
        {"SERVER_NAME": "app.example.com", "PREFERRED_URL_SCHEME": "https"},
        {"TRUSTED_HOSTS": ["app.example.com"]},
    ],
)
def test_fixed_host_or_redirect_uri_is_not_reported(config):
    app = _app(**config, FLASK_DANCE_BEHIND_PROXY=False)
    assert "redirect-uri-from-host" not in _codes(app)
    app = _app(_oauth2(redirect_uri="https://app.example.com/cb"))
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
    app = _app(github, oauth1, TRUSTED_HOSTS=None)
    flagged = sorted(
        f.blueprint for f in audit(app) if f.code == "redirect-uri-from-host"
    )
    assert flagged == ["github", "legacy"]
