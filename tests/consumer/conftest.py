from __future__ import annotations

import threading
import typing as t

import pytest
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class _QuietHandler(WSGIRequestHandler):
    """No access log (request lines may carry codes and states), and HTTP/1.0:
    Werkzeug closes every connection anyway."""

    protocol_version = "HTTP/1.0"

    def log(self, type: str, message: str, *args: t.Any) -> None:
        pass


@pytest.fixture
def serve() -> t.Iterator[t.Callable[[WSGIApplication], str]]:
    """Start WSGI apps on 127.0.0.1 in threaded Werkzeug servers and return
    their base URLs. The servers stop when the test ends."""
    running: list[tuple[t.Any, threading.Thread]] = []

    def start(app: WSGIApplication) -> str:
        server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
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
