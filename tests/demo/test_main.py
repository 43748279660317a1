"""python -m flask_dance.demo (flask_dance/demo/__main__.py): options, both servers."""

from __future__ import annotations

import os
import re
import signal
import sys
import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest
import requests

from flask_dance.demo import DEMO_CLIENT_ID
from flask_dance.demo.__main__ import main
from processes import running


@pytest.fixture(autouse=True)
def _environment_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() turns plain HTTP on for its servers; undone after each test."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "0")


def test_main_needs_a_client_id_with_an_issuer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLASK_DANCE_DEMO_ISSUER", "https://issuer.example")
    monkeypatch.delenv("FLASK_DANCE_DEMO_CLIENT_ID", raising=False)
    assert main(["--port", "0"]) == 2
    assert "FLASK_DANCE_DEMO_CLIENT_ID" in capsys.readouterr().err


def test_main_rejects_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--port", "70000"])
    assert "not a port number" in capsys.readouterr().err


def test_python_m_flask_dance_demo_serves_both(tmp_path: t.Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_DANCE_DEMO")}
    env.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
    command = [sys.executable, "-m", "flask_dance.demo", "--port", "0"]
    command += ["--provider-port", "0", "--form-post"]
    with running(command, env=env, cwd=tmp_path) as child:
        provider_line = child.line()
        app_line = child.line()
        issuer = provider_line.split()[-1]
        match = re.search(r"open (http://127\.0\.0\.1:\d+)/ ", app_line)
        assert match is not None, app_line
        app_url = match.group(1)
        with requests.Session() as http:
            home = http.get(app_url + "/", timeout=10)
            assert 'id="login"' in home.text
            login = http.get(app_url + "/login/demo", allow_redirects=False, timeout=10)
            assert login.headers["Location"].startswith(issuer + "/authorize?")
            query = dict(parse_qsl(urlsplit(login.headers["Location"]).query))
            assert query["response_mode"] == "form_post"
            assert query["client_id"] == DEMO_CLIENT_ID
            consent = http.get(login.headers["Location"], timeout=10)
            assert "Flask-Dance demo" in consent.text
        assert child.signal(signal.SIGINT) == 0
