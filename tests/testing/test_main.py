"""python -m flask_dance.testing (flask_dance/testing/__main__.py)."""

from __future__ import annotations

import signal
import sys

import requests

from flask_dance.testing.__main__ import make_provider
from processes import running


def test_command_line() -> None:
    command = [sys.executable, "-m", "flask_dance.testing", "--auto-approve"]
    with running(command) as child:
        first = child.line()
        assert first.startswith("Local provider: http://127.0.0.1:")
        url = first.split(": ", 1)[1].strip()
        data = requests.get(url + "/.well-known/openid-configuration", timeout=5)
        assert data.json()["issuer"] == url
        # Interrupt only once it waits for Ctrl+C, not while it still prints.
        child.line_starting("Press Ctrl+C")
        assert child.signal(signal.SIGINT) == 0


def test_the_provider_follows_the_options() -> None:
    provider = make_provider(
        [
            "--port",
            "0",
            "--auto-approve",
            "--post-logout-redirect-uri",
            "http://localhost:5000/out",
            "--post-logout-redirect-uri",
            "http://localhost:5000/bye",
        ]
    )
    assert not provider.running
    assert provider.auto_approve
    client = provider.clients[provider.default_client_id]
    assert client.post_logout_redirect_uris[-2:] == [
        "http://localhost:5000/out",
        "http://localhost:5000/bye",
    ]


def test_the_defaults_ask_for_consent_on_a_free_loopback_port() -> None:
    provider = make_provider([])
    assert not provider.auto_approve
    assert (provider.host, provider.port) == ("127.0.0.1", 0)
    other = make_provider(["--host", "::1", "--port", "8123"])
    assert (other.host, other.port) == ("::1", 8123)
