from __future__ import annotations

import threading
import typing as t

import pytest
from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class _QuietHandler(WSGIRequestHandler):
    """No access log: request lines may carry codes and states."""

    def log(self, type: str, message: str, *args: t.Any) -> None:
        pass


class _QuietHTTP10Handler(_QuietHandler):
    """HTTP/1.0 closes every connection, so no socket outlives the test."""

    protocol_version = "HTTP/1.0"


@pytest.fixture
def serve() -> t.Iterator[t.Callable[..., str]]:
    """Start WSGI apps on 127.0.0.1 in threaded servers; return their base
    URLs. Servers stop when the test ends."""
    running: list[tuple[t.Any, threading.Thread]] = []

    def start(app: WSGIApplication, *, keep_alive: bool = False) -> str:
        handler = type(
            "_Handler", (_QuietHandler if keep_alive else _QuietHTTP10Handler,), {}
        )
        server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=handler
        )
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
