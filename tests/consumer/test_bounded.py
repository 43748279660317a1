"""Calls to a provider's token-side endpoints follow no redirect, end within a
deadline, read a bounded body, and refuse answers that are not a token;
discovery and key sets follow only same-origin HTTPS redirects."""

from __future__ import annotations

import json
import socket
import threading
import time
import typing as t

import pytest
import requests
import responses as responses_lib

from dance_helpers import BASE
from dance_helpers import callback
from dance_helpers import in_request
from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import start_login
from dance_helpers import token_response
from dance_helpers import TOKEN_URL
from flask_dance.consumer import OAuth1ConsumerBlueprint
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_error
from flask_dance.consumer import TokenRefreshError
from flask_dance.consumer.oidc import DiscoveryError
from flask_dance.consumer.oidc import fetch_jwks
from flask_dance.consumer.oidc import fetch_provider_metadata
from flask_dance.consumer.oidc import JWKSError
from flask_dance.consumer.storage import MemoryStorage

API_URL = "https://example.com/user"
REVOKE_URL = "https://example.com/oauth/revoke"

#: Where a hostile token endpoint redirects the form with the code.
FOREIGN_TARGETS = [
    "https://evil.example/token",
    "http://example.com/oauth/access_token",
    "http://169.254.169.254/latest/meta-data/",
    "https://example.com/oauth/other",
]


def dance(
    blueprint: OAuth2ConsumerBlueprint, **params: str
) -> tuple[t.Any, list[dict[str, t.Any]]]:
    """Log in through ``blueprint`` and return the callback's response and
    the ``oauth_error`` signals sent."""
    errors: list[dict[str, t.Any]] = []

    def receiver(sender: t.Any, **kwargs: t.Any) -> None:
        errors.append(kwargs)

    app = make_app(blueprint)
    with oauth_error.connected_to(receiver, sender=blueprint):
        with app.test_client() as client:
            state = start_login(client)["state"]
            params.setdefault("code", "the-code")
            response = callback(client, state=state, **params)
    return response, errors


def assert_failed_login(
    response: t.Any, errors: list[dict[str, t.Any]], storage: MemoryStorage
) -> None:
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", BASE + "/")
    assert [e["error"] for e in errors] == ["token_request_failed"]
    assert storage.token is None


# -- C43: no redirect on token-side calls ------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("target", FOREIGN_TARGETS)
@pytest.mark.parametrize(
    "token_url_params",
    [{}, {"resource": 1}],
    ids=["direct-exchange", "fetch_token"],
)
def test_c43_token_request_follows_no_redirect(
    responses: responses_lib.RequestsMock,
    status: int,
    target: str,
    token_url_params: dict[str, t.Any],
) -> None:
    responses.add(
        responses_lib.POST, TOKEN_URL, status=status, headers={"Location": target}
    )
    responses.add(responses_lib.POST, target, json=token_response())
    storage = MemoryStorage()
    bp = make_blueprint(storage=storage, token_url_params=token_url_params)
    response, errors = dance(bp)
    assert_failed_login(response, errors, storage)
    assert [call.request.url for call in responses.calls] == [TOKEN_URL]


@pytest.mark.parametrize("status", [302, 307, 308])
def test_c43_refresh_follows_no_redirect(
    responses: responses_lib.RequestsMock, status: int
) -> None:
    responses.add(
        responses_lib.POST,
        TOKEN_URL,
        status=status,
        headers={"Location": "http://169.254.169.254/token"},
    )
    responses.add(responses_lib.POST, "http://169.254.169.254/token", json={})
    old = token_response(refresh_token="old-refresh", expires_at=time.time() - 10)
    storage = MemoryStorage(dict(old))
    bp = make_blueprint(storage=storage)
    errors: list[dict[str, t.Any]] = []

    def receiver(sender: t.Any, **kwargs: t.Any) -> None:
        errors.append(kwargs)

    with make_app(bp).test_request_context("/"):
        with oauth_error.connected_to(receiver, sender=bp):
            with pytest.raises(TokenRefreshError, match="redirect"):
                bp.session.get(API_URL)
    assert len(responses.calls) == 1
    assert storage.token == old
    assert [e["error"] for e in errors] == ["refresh_failed"]


def test_c43_revocation_follows_no_redirect(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(
        responses_lib.POST,
        REVOKE_URL,
        status=307,
        headers={"Location": "https://evil.example/revoke"},
    )
    responses.add(responses_lib.POST, "https://evil.example/revoke")
    bp = make_blueprint(
        storage=MemoryStorage(token_response(refresh_token="r")),
        revocation_url=REVOKE_URL,
    )
    with make_app(bp).test_request_context("/"):
        assert bp.revoke_token() is False
    assert len(responses.calls) == 1


def test_c43_oauth1_token_requests_follow_no_redirect(
    responses: responses_lib.RequestsMock,
) -> None:
    request_token_url = "https://example.com/oauth/request_token"
    responses.add(
        responses_lib.POST,
        request_token_url,
        status=307,
        headers={"Location": "https://evil.example/rt"},
    )
    responses.add(
        responses_lib.POST,
        "https://evil.example/rt",
        body="oauth_token=t&oauth_token_secret=s",
    )
    bp = OAuth1ConsumerBlueprint(
        "test-service",
        __name__,
        client_key="key",
        client_secret="secret",
        base_url="https://example.com",
        request_token_url=request_token_url,
        access_token_url="https://example.com/oauth/access_token",
        authorization_url="https://example.com/oauth/authorize",
        storage=MemoryStorage(),
    )
    app = make_app(bp)
    with app.test_client() as client:
        response = client.get("/login/test-service", base_url=BASE)
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]
    assert len(responses.calls) == 1


ISSUER = "https://idp.example.com"
DISCOVERY_URL = ISSUER + "/.well-known/openid-configuration"


def metadata_document(issuer: str = ISSUER) -> dict[str, t.Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + "/authorize",
        "token_endpoint": issuer + "/token",
        "jwks_uri": issuer + "/jwks",
    }


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/.well-known/openid-configuration",
        "http://idp.example.com/.well-known/openid-configuration",
        "http://169.254.169.254/latest/meta-data/",
        "https://idp.example.com:8443/.well-known/openid-configuration",
    ],
)
def test_c43_discovery_follows_no_foreign_redirect(
    responses: responses_lib.RequestsMock, target: str
) -> None:
    responses.add(
        responses_lib.GET, DISCOVERY_URL, status=307, headers={"Location": target}
    )
    responses.add(responses_lib.GET, target, json=metadata_document())
    with pytest.raises(DiscoveryError):
        fetch_provider_metadata(ISSUER, session=requests.Session())
    assert target not in [call.request.url for call in responses.calls]


def test_c43_discovery_follows_a_same_origin_https_redirect(
    responses: responses_lib.RequestsMock,
) -> None:
    moved = ISSUER + "/v2/.well-known/openid-configuration"
    responses.add(
        responses_lib.GET, DISCOVERY_URL, status=301, headers={"Location": "/v2/x"}
    )
    responses.add(
        responses_lib.GET, ISSUER + "/v2/x", status=308, headers={"Location": moved}
    )
    responses.add(responses_lib.GET, moved, json=metadata_document())
    metadata = fetch_provider_metadata(ISSUER, session=requests.Session())
    assert metadata.token_endpoint == ISSUER + "/token"


@pytest.mark.parametrize(
    "target", ["https://evil.example/jwks", "http://169.254.169.254/jwks"]
)
def test_c43_jwks_follows_no_foreign_redirect(
    responses: responses_lib.RequestsMock, target: str
) -> None:
    responses.add(
        responses_lib.GET,
        ISSUER + "/jwks",
        status=302,
        headers={"Location": target},
    )
    responses.add(responses_lib.GET, target, json={"keys": []})
    with pytest.raises(JWKSError):
        fetch_jwks(ISSUER + "/jwks", session=requests.Session())
    assert len(responses.calls) == 1


# -- malformed token answers -------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "null",
        "[]",
        '[{"access_token": "a"}]',
        "42",
        '"access_token"',
        "[" * 100_000 + "]" * 100_000,
        '{"access_token": "a", "token_type": "Bearer", "expires_in": 1e400}',
        '{"access_token": "a", "token_type": "Bearer", "expires_in": '
        + "9" * 400
        + "}",
        '{"access_token": "a", "token_type": "Bearer", "expires_in": "'
        + "9" * 400
        + '"}',
        '{"access_token": "a", "token_type": "Bearer", "expires_in": true}',
        '{"access_token": "a", "token_type": "Bearer", "expires_in": {}}',
        '{"access_token": "a", "token_type": "Bearer", "scope": 5}',
        '{"access_token": "a", "token_type": "Bearer", "scope": {"a": 1}}',
        '{"access_token": "a", "token_type": "Bearer", "scope": [1]}',
        "access_token=a&token_type=Bearer&expires_in=" + "9" * 400,
        '{"access_token": "a", "token_type": "Bearer", "extra": NaN}',
        '{"access_token": "a", "token_type": "Bearer", "extra": [-Infinity]}',
        '{"access_token": "a", "token_type": "Bearer", "extra": {"x": 1e999}}',
    ],
    ids=[
        "null",
        "empty-list",
        "list",
        "number",
        "string",
        "nested",
        "expires_in-1e400",
        "expires_in-400-digits",
        "expires_in-400-digit-string",
        "expires_in-bool",
        "expires_in-object",
        "scope-number",
        "scope-object",
        "scope-list-of-numbers",
        "form-expires_in-400-digits",
        "nan-elsewhere",
        "infinity-elsewhere",
        "overflow-elsewhere",
    ],
)
@pytest.mark.parametrize(
    "token_url_params", [{}, {"resource": 1}], ids=["direct-exchange", "fetch_token"]
)
def test_malformed_token_answer_fails_the_login(
    responses: responses_lib.RequestsMock,
    body: str,
    token_url_params: dict[str, t.Any],
) -> None:
    responses.add(
        responses_lib.POST, TOKEN_URL, body=body, content_type="application/json"
    )
    storage = MemoryStorage()
    bp = make_blueprint(storage=storage, token_url_params=token_url_params)
    response, errors = dance(bp)
    assert_failed_login(response, errors, storage)


@pytest.mark.parametrize(
    "body", ["null", "[1]", '{"access_token": "a", "expires_in": 1e400}']
)
def test_malformed_refresh_answer_keeps_the_token(
    responses: responses_lib.RequestsMock, body: str
) -> None:
    responses.add(
        responses_lib.POST, TOKEN_URL, body=body, content_type="application/json"
    )
    old = token_response(refresh_token="old-refresh", expires_at=time.time() - 10)
    with in_request(dict(old)) as (bp, storage):
        with pytest.raises(TokenRefreshError):
            bp.session.get(API_URL)
    assert storage.token == old


@pytest.mark.parametrize("expires_in", [3600, 3600.0, "3600", None])
def test_usual_expires_in_is_accepted(
    responses: responses_lib.RequestsMock, expires_in: t.Any
) -> None:
    responses.add(
        responses_lib.POST, TOKEN_URL, json=token_response(expires_in=expires_in)
    )
    storage = MemoryStorage()
    response, errors = dance(make_blueprint(storage=storage))
    assert errors == []
    assert storage.token is not None
    assert storage.token["access_token"] == "access-1"


def test_empty_code_on_a_plain_http_app_fails_the_login(
    responses: responses_lib.RequestsMock,
) -> None:
    storage = MemoryStorage()
    bp = make_blueprint(storage=storage)
    errors: list[dict[str, t.Any]] = []

    def receiver(sender: t.Any, **kwargs: t.Any) -> None:
        errors.append(kwargs)

    app = make_app(bp)
    app.config["PREFERRED_URL_SCHEME"] = "http"
    with oauth_error.connected_to(receiver, sender=bp), app.test_client() as client:
        response = client.get("/login/test-service", base_url="http://a.b.c")
        state = response.headers["Location"].split("state=")[1].split("&")[0]
        response = client.get(
            f"/login/test-service/authorized?code=&state={state}",
            base_url="http://a.b.c",
        )
    assert response.status_code == 302
    assert [e["error"] for e in errors] == ["invalid_request"]
    assert storage.token is None
    assert len(responses.calls) == 0


# -- C44: a deadline and a size cap ------------------------------------------------


def test_c44_large_token_answer_is_not_read_whole(
    responses: responses_lib.RequestsMock,
) -> None:
    padding = "x" * (600 * 1024)
    responses.add(
        responses_lib.POST,
        TOKEN_URL,
        body=json.dumps(token_response(padding=padding)),
        content_type="application/json",
    )
    storage = MemoryStorage()
    response, errors = dance(make_blueprint(storage=storage))
    assert_failed_login(response, errors, storage)


class DripServer:
    """A provider on 127.0.0.1 that answers every request with an HTTP
    header block, one byte every ``interval`` seconds, at most ``limit``
    bytes; it notes how many bytes it sent before the client hung up."""

    def __init__(self, interval: float, limit: int) -> None:
        self.interval = interval
        self.limit = limit
        self.sent = 0
        self.hung_up = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(5)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self._sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            conn.recv(65536)
            answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            answer += b"X-Drip: " + b"x" * self.limit
            for byte in answer[: self.limit]:
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    self.hung_up.set()
                    return
                self.sent += 1
                if self._closed_by_peer(conn):
                    self.hung_up.set()
                    return
                time.sleep(self.interval)

    @staticmethod
    def _closed_by_peer(conn: socket.socket) -> bool:
        """Whether the client hung up: its socket reads as empty."""
        try:
            return conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def close(self) -> None:
        self._thread.join(timeout=10)
        self._sock.close()


@pytest.fixture
def drip(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[DripServer]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    server = DripServer(interval=0.05, limit=100)
    yield server
    server.close()


def test_c44_dripping_token_endpoint_is_cut_at_the_deadline(
    drip: DripServer,
) -> None:
    """With ``timeout=(0.5, 0.5)`` the whole call may last 1 s; a provider
    that sends a byte every 0.05 s (each read well within its timeout) is cut
    off long before its 100 bytes (5 s)."""
    storage = MemoryStorage()
    bp = make_blueprint(
        storage=storage, token_url=drip.url + "/token", timeout=(0.5, 0.5)
    )
    response, errors = dance(bp)
    assert_failed_login(response, errors, storage)
    assert drip.hung_up.wait(5)
    assert drip.sent < drip.limit


def test_c44_dripping_refresh_is_cut_at_the_deadline(drip: DripServer) -> None:
    old = token_response(refresh_token="old-refresh", expires_at=time.time() - 10)
    storage = MemoryStorage(dict(old))
    bp = make_blueprint(
        storage=storage, token_url=drip.url + "/token", timeout=(0.5, 0.5)
    )
    with make_app(bp).test_request_context("/"):
        with pytest.raises(requests.Timeout):
            bp.session.get(drip.url + "/api")
    assert drip.hung_up.wait(5)
    assert drip.sent < drip.limit
    assert storage.token == old
