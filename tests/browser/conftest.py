"""Fixtures for the demo app: a local provider and demo servers on 127.0.0.1."""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import secrets
import threading
import typing as t

import flask
import pytest
from werkzeug.serving import BaseWSGIServer

from flask_dance.consumer.oidc import clear_caches
from flask_dance.demo import create_app
from flask_dance.demo import DEMO_CLIENT_ID
from flask_dance.demo import make_server
from flask_dance.demo import register_demo_client
from flask_dance.testing import LocalProvider


@dataclasses.dataclass
class Demo:
    """A demo app served on a real socket."""

    app: flask.Flask
    server: BaseWSGIServer
    thread: threading.Thread
    client_secret: str

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stored_token(self, session_cookie: str) -> t.Any:
        """The token inside a browser's session cookie."""
        serializer = self.app.session_interface.get_signing_serializer(  # type: ignore[attr-defined]
            self.app
        )
        return serializer.loads(session_cookie).get("demo_oauth_token")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        bp = self.app.extensions["flask_dance_demo"]
        for adapter in (bp._adapters or {}).values():
            adapter.close()


@pytest.fixture(scope="module")
def provider() -> cabc.Iterator[LocalProvider]:
    with LocalProvider() as running:
        yield running
    clear_caches()


@pytest.fixture(autouse=True)
def _insecure_transport(
    _insecure_transport_off: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo and the provider speak plain HTTP on the loopback interface."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def start_demo(provider: LocalProvider) -> cabc.Iterator[t.Callable[..., Demo]]:
    """Start demo apps (``create_app`` keyword arguments) on free ports."""
    provider.reset()
    started: list[Demo] = []

    def start(**kwargs: t.Any) -> Demo:
        client_secret = secrets.token_urlsafe(16)
        app = create_app(provider.issuer, DEMO_CLIENT_ID, client_secret, **kwargs)
        server = make_server(app, "127.0.0.1", 0)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        demo = Demo(app, server, thread, client_secret)
        register_demo_client(provider, demo.url, DEMO_CLIENT_ID, client_secret)
        thread.start()
        started.append(demo)
        return demo

    yield start
    for demo in started:
        demo.close()
