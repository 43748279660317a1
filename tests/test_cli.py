from __future__ import annotations

import secrets
import typing as t
from importlib.metadata import EntryPoint
from pathlib import Path

import flask
import pytest
from flask.cli import FlaskGroup
from flask.cli import ScriptInfo

from dance_helpers import checked_app
from dance_helpers import checked_blueprint
from flask_dance.audit import audit
from flask_dance.audit import WARNING
from flask_dance.cli import dance

ROOT = Path(__file__).resolve().parent.parent


pytestmark = pytest.mark.usefixtures("fresh_oidc_caches")


def _run(app: flask.Flask, *args: str) -> t.Any:
    return app.test_cli_runner().invoke(dance, ["check", *args])


# -- the baseline and the command ---------------------------------------------


def test_a_good_app_has_no_findings():
    app = checked_app()
    assert audit(app) == []
    result = _run(app)
    assert result.exit_code == 0
    assert "No problems found." in result.output


def test_errors_exit_non_zero_and_print_a_fix():
    app = checked_app(SECRET_KEY="short")
    result = _run(app)
    assert result.exit_code == 1
    assert "ERROR secret-key-weak: SECRET_KEY is only 5 bytes long" in result.output
    assert "bytes long (fewer than 24): it can be guessed, and the session cookie" in (
        result.output
    )
    assert "forged. Fix: Use a random value" in result.output
    assert "1 error(s), 0 warning(s)." in result.output


def test_warnings_alone_exit_zero_unless_strict():
    app = checked_app(FLASK_DANCE_TOKEN_KEYS=None)
    result = _run(app)
    assert result.exit_code == 0
    assert "WARNING session-tokens-unencrypted (example):" in result.output
    assert _run(app, "--strict").exit_code == 1


def test_the_command_is_registered_through_the_entry_point():
    pyproject = (ROOT / "pyproject.toml").read_text()
    target = "flask_dance.cli:dance"
    assert f'[project.entry-points."flask.commands"]\ndance = "{target}"' in pyproject
    assert EntryPoint("dance", target, "flask.commands").load() is dance
    # Flask's own CLI finds it among the installed entry points.
    cli = FlaskGroup(create_app=checked_app)
    ctx = cli.make_context("flask", ["dance"], obj=ScriptInfo(create_app=checked_app))
    assert cli.get_command(ctx, "dance") is dance


# -- what the command prints -------------------------------------------------------


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


# -- provider metadata -------------------------------------------------------------


ISSUER = "https://idp.example"
DISCOVERY = f"{ISSUER}/.well-known/openid-configuration"


def test_discovery_failure_is_a_finding(responses):
    responses.get(DISCOVERY, status=500)
    responses.get(f"{ISSUER}/.well-known/oauth-authorization-server", status=404)
    app = checked_app(checked_blueprint(issuer=ISSUER))
    result = _run(app)
    assert result.exit_code == 1
    assert "ERROR discovery-failed (example):" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unreachable_issuer_is_one_line_without_reprs():
    import socket

    with socket.socket() as sock:  # a port that refuses connections
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = checked_app(checked_blueprint(issuer=f"https://127.0.0.1:{port}"))
    result = _run(app)
    assert result.exit_code == 1
    line = result.output.splitlines()[0]
    assert line.startswith("ERROR discovery-failed (example): The metadata of the")
    assert "the server could not be reached (Connection refused)" in line
    assert " Fix: Check the issuer URL" in line
    for noise in ("object at 0x", "HTTPSConnectionPool", "Caused by", "Max retries"):
        assert noise not in result.output


def test_no_discovery_option_skips_the_provider(responses):
    app = checked_app(checked_blueprint(issuer=ISSUER))
    result = _run(app, "--no-discovery")
    assert result.exit_code == 0
    assert len(responses.calls) == 0
    assert audit(app, discover=False) == []


# -- the redirect URI and the Host header ---------------------------------------


def test_redirect_uri_from_the_host_header_is_reported_with_a_fix():
    app = checked_app(
        checked_blueprint("fixed", redirect_uri="https://app.example.com/cb"),
        checked_blueprint(),
    )
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
