"""A minimal OAuth 2 provider for the benchmark: a token endpoint and a
``/user`` API endpoint, served over HTTP/1.1 with keep-alive, with or without
TLS, in a child process so that it does not compete with the measured app for
the GIL. It counts the TCP connections it accepts."""

from __future__ import annotations

import json
import multiprocessing
import secrets
import socket
import ssl
import typing as t
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

if t.TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.sharedctypes import Synchronized

    from flask_dance.testing._crypto import TLSFiles

#: The token endpoint's path.
TOKEN_PATH = "/login/oauth/access_token"
#: The authorization endpoint's path (never called: the browser would).
AUTHORIZE_PATH = "/login/oauth/authorize"
#: The API endpoint's path.
USER_PATH = "/user"

_USER = json.dumps({"login": "octocat", "id": 1, "name": "The Octocat"}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "bench-provider"
    sys_version = ""

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
        pass

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        auth = self.headers.get("Authorization", "")
        # (a DPoP-bound token comes with a proof, which is not checked here)
        if path == USER_PATH and auth.startswith(("Bearer tok-", "DPoP tok-")):
            self._send(200, _USER)
        elif path == USER_PATH:
            self._send(401, b'{"message": "Bad credentials"}')
        else:
            self._send(404, b'{"message": "Not Found"}')

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        if urlsplit(self.path).path != TOKEN_PATH:
            self._send(404, b'{"message": "Not Found"}')
            return
        has_client = "client_id" in form or self.headers.get(
            "Authorization", ""
        ).startswith("Basic ")
        grant = form.get("grant_type")
        valid = (grant == "authorization_code" and form.get("code")) or (
            grant == "refresh_token" and form.get("refresh_token")
        )
        if not has_client or not valid:
            self._send(400, b'{"error": "invalid_request"}')
            return
        token = {
            "access_token": "tok-" + secrets.token_hex(16),
            "token_type": "bearer",
            "scope": "read:user",
        }
        self._send(200, json.dumps(token).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(
        self, context: ssl.SSLContext | None, accepted: Synchronized[int]
    ) -> None:
        self.tls_context = context
        self.accepted = accepted
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> tuple[socket.socket, t.Any]:
        sock, address = self.socket.accept()
        with self.accepted.get_lock():
            self.accepted.value += 1
        return sock, address

    def finish_request(self, request: t.Any, client_address: t.Any) -> None:
        # The TLS handshake happens here, in the connection's own thread.
        if self.tls_context is None:
            super().finish_request(request, client_address)
            return
        try:
            wrapped = self.tls_context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(wrapped, client_address)
        finally:
            wrapped.close()


def _serve(tls: TLSFiles | None, accepted: Synchronized[int], conn: Connection) -> None:
    context = None
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.cert_file, tls.key_file)
    server = _Server(context, accepted)
    conn.send(server.server_address[1])
    conn.close()
    server.serve_forever(poll_interval=0.5)


class Provider:
    """The provider, running in a child process.

    :param tls: The certificate files, or ``None`` for plain HTTP.
    """

    def __init__(self, tls: TLSFiles | None) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._accepted: Synchronized[int] = ctx.Value("q", 0)
        parent, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_serve, args=(tls, self._accepted, child), daemon=True
        )
        self._process.start()
        if not parent.poll(30):
            self._process.terminate()
            raise RuntimeError("the benchmark provider did not start")
        port = parent.recv()
        scheme = "https" if tls is not None else "http"
        #: The provider's root URL, with a trailing slash.
        self.url = f"{scheme}://127.0.0.1:{port}/"

    @property
    def accepted(self) -> int:
        """How many TCP connections the provider has accepted so far."""
        return int(self._accepted.value)

    def stop(self) -> None:
        """Stop the child process."""
        self._process.terminate()
        self._process.join(5)
