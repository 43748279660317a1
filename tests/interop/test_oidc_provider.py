"""Interoperability with an independent, OpenID Certified provider: the npm
package ``oidc-provider``, run by ``tests/interop/server.mjs`` on 127.0.0.1.

Install it with ``npm ci --prefix tests/interop`` (``.ci/run`` does); the
tests skip, saying why, where Node.js or the package is missing.
"""

from __future__ import annotations

import collections.abc as cabc
import json
import shutil
import subprocess
import threading
import typing as t
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urljoin
from urllib.parse import urlsplit

import flask
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_backchannel_logout
from flask_dance.consumer import oauth_error
from flask_dance.consumer.oidc import clear_caches
from flask_dance.consumer.storage import MemoryStorage

HERE = Path(__file__).parent
SERVER = HERE / "server.mjs"
PACKAGE = HERE / "node_modules" / "oidc-provider" / "package.json"
REDIRECT = "http://localhost/login/op/authorized"
SECRET = "interop-secret-that-is-long-enough-for-hs256"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="Node.js ('node') is not installed"),
    pytest.mark.skipif(
        not PACKAGE.exists(),
        reason="oidc-provider is not installed: run 'npm ci --prefix tests/interop'",
    ),
]

CLIENT_KEY = ec.generate_private_key(ec.SECP256R1())


def _client_jwk() -> tuple[str, dict[str, t.Any]]:
    private = json.loads(ECAlgorithm.to_jwk(CLIENT_KEY))
    private.update(kid="client-ec-1", alg="ES256")
    public = {k: v for k, v in private.items() if k != "d"}
    return json.dumps(private), {"keys": [public]}


PRIVATE_JWK, PUBLIC_JWKS = _client_jwk()


def _client(client_id: str, method: str, **extra: t.Any) -> dict[str, t.Any]:
    client: dict[str, t.Any] = {
        "client_id": client_id,
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types": ["code"],
        "token_endpoint_auth_method": method,
    }
    if method.startswith("client_secret"):
        client["client_secret"] = SECRET
    if method == "private_key_jwt":
        client["jwks"] = PUBLIC_JWKS
        client["token_endpoint_auth_signing_alg"] = "ES256"
    if method == "none":
        client["grant_types"] = ["authorization_code", "refresh_token"]
    client.update(extra)
    return client


class _Quiet(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: t.Any) -> None:
        pass


class LiveApp:
    """A Flask app served on 127.0.0.1, for what the provider must reach."""

    def __init__(self) -> None:
        self.app = flask.Flask(__name__)
        self.app.secret_key = "interop"
        self._server = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop serving, if it started, and close the listening socket (bound
        from the start, whether a test served anything or not)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(10)
        self._server.server_close()


@pytest.fixture(scope="module")
def live_app() -> cabc.Iterator[LiveApp]:
    live = LiveApp()
    yield live
    live.close()


@pytest.fixture(scope="module")
def issuer(
    tmp_path_factory: pytest.TempPathFactory, live_app: LiveApp
) -> cabc.Iterator[str]:
    config = {
        "requireDpopNonce": True,
        "clients": [
            _client("basic", "client_secret_basic"),
            _client("post", "client_secret_post"),
            _client("secret-jwt", "client_secret_jwt"),
            _client(
                "key-jwt", "private_key_jwt", id_token_signed_response_alg="Ed25519"
            ),
            _client("public", "none"),
            _client(
                "par", "private_key_jwt", require_pushed_authorization_requests=True
            ),
            _client("dpop", "private_key_jwt", dpop_bound_access_tokens=True),
            _client(
                "fapi",
                "private_key_jwt",
                dpop_bound_access_tokens=True,
                require_pushed_authorization_requests=True,
            ),
            _client(
                "bcl",
                "client_secret_basic",
                redirect_uris=[live_app.url + "/login/op/authorized"],
                backchannel_logout_uri=live_app.url + "/login/op/backchannel-logout",
                backchannel_logout_session_required=True,
            ),
        ],
    }
    folder = tmp_path_factory.mktemp("interop")
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    # A loaded machine once kept the server from answering in time: it gets a
    # second start, and a failure says what the server wrote to stderr.
    failures: list[str] = []
    for attempt in (1, 2):
        process, ready = _start_server(path, folder / f"server-{attempt}.log")
        if ready is not None:
            break
        failures.append(_stopped(process, folder / f"server-{attempt}.log"))
    else:
        raise RuntimeError(
            "The oidc-provider server did not start:\n" + "\n".join(failures)
        )
    assert ready is not None
    try:
        yield json.loads(ready)["issuer"]
    finally:
        _stopped(process)


def _start_server(config: Path, log: Path) -> tuple[subprocess.Popen[str], str | None]:
    """Start the server; return it and its first line, or ``None`` when it
    printed none within a minute."""
    assert NODE is not None
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [NODE, str(SERVER), str(config)],
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    return process, _first_line(process, timeout=60)


def _stopped(process: subprocess.Popen[str], log: Path | None = None) -> str:
    """Stop the server; describe how it ended, with its stderr if ``log``."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        process.kill()
        process.wait(10)
    assert process.stdout is not None
    process.stdout.close()
    text = log.read_text(errors="replace")[-2000:] if log is not None else ""
    return f"exit status {process.returncode}; stderr: {text or '(empty)'}"


def _first_line(process: subprocess.Popen[str], timeout: float) -> str | None:
    lines: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()))  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    return lines[0] if lines and lines[0] else None


@pytest.fixture(autouse=True)
def _insecure_local_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    clear_caches()


def make_app(
    issuer: str, client_id: str, method: str, **kwargs: t.Any
) -> tuple[OAuth2ConsumerBlueprint, flask.Flask, MemoryStorage]:
    storage = MemoryStorage()
    secret = SECRET if method.startswith("client_secret") else None
    key = PRIVATE_JWK if method == "private_key_jwt" else None
    bp = OAuth2ConsumerBlueprint(
        "op",
        __name__,
        client_id=client_id,
        client_secret=secret,
        client_signing_key=key,
        token_endpoint_auth_method=method,
        issuer=issuer,
        base_url=issuer + "/",
        scope="openid email profile",
        redirect_uri=REDIRECT,
        storage=storage,
        **kwargs,
    )
    app = flask.Flask(__name__)
    app.secret_key = "interop"
    app.register_blueprint(bp, url_prefix="/login")
    return bp, app, storage


def browse(browser: requests.Session, url: str, stop: str) -> str:
    """Follow redirects as a browser would until one goes to ``stop``."""
    for _ in range(20):
        response = browser.get(url, allow_redirects=False, timeout=10)
        location = response.headers.get("Location")
        assert location, (response.status_code, response.text[:500])
        url = urljoin(url, location)
        if url.startswith(stop):
            return url
    raise AssertionError("too many redirects")


def login(bp: OAuth2ConsumerBlueprint, app: flask.Flask) -> t.Any:
    errors: list[t.Any] = []

    def on_error(sender: t.Any, **kwargs: t.Any) -> None:
        errors.append(kwargs)

    client = app.test_client()
    with oauth_error.connected_to(on_error):
        response = client.get("/login/op")
        assert response.status_code == 302, errors
        callback = browse(requests.Session(), response.headers["Location"], REDIRECT)
        query = parse_qs(urlsplit(callback).query)
        assert "code" in query, query
        response = client.get("/login/op/authorized?" + urlsplit(callback).query)
    assert errors == []
    assert response.headers["Location"] == "/"
    return response


METHODS = [
    ("basic", "client_secret_basic"),
    ("post", "client_secret_post"),
    ("secret-jwt", "client_secret_jwt"),
    ("key-jwt", "private_key_jwt"),
    ("public", "none"),
]


@pytest.mark.parametrize(("client_id", "method"), METHODS, ids=[m for _, m in METHODS])
def test_login_refresh_revoke_with_every_auth_method(
    issuer: str, client_id: str, method: str
) -> None:
    bp, app, storage = make_app(issuer, client_id, method)
    login(bp, app)
    token = dict(storage.token)
    claims = token["id_token_claims"]
    assert claims["iss"] == issuer
    assert claims["sub"] == "alice"
    with app.test_request_context("/"):
        assert bp.userinfo()["email"] == "alice@example.com"
    storage.token = {**token, "expires_at": 1}
    with app.test_request_context("/"):
        assert bp.userinfo()["sub"] == "alice"
    refreshed = storage.token
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["id_token_claims"]["sub"] == "alice"
    with app.test_request_context("/"):
        if method != "none":
            assert bp.introspect_token()["active"] is True
        assert bp.revoke_token() is True
        if method != "none":
            assert bp.introspect_token(refreshed["access_token"]) in (
                {"active": False},
                None,
            )


def test_ed25519_id_token(issuer: str) -> None:
    bp, app, storage = make_app(issuer, "key-jwt", "private_key_jwt")
    login(bp, app)
    id_token = storage.token["id_token"]
    import jwt

    assert jwt.get_unverified_header(id_token)["alg"] == "Ed25519"


def test_client_credentials(issuer: str) -> None:
    bp, app, storage = make_app(issuer, "key-jwt", "private_key_jwt")
    with app.test_request_context("/"):
        token = bp.client_credentials_token()
    assert token["access_token"]


def test_pushed_authorization_request(issuer: str) -> None:
    bp, app, storage = make_app(issuer, "par", "private_key_jwt", use_par=True)
    response = app.test_client().get("/login/op")
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert set(query) == {"client_id", "request_uri"}
    login(bp, app)
    assert storage.token["id_token_claims"]["sub"] == "alice"


def test_par_required_without_par_is_refused(issuer: str) -> None:
    bp, app, storage = make_app(issuer, "par", "private_key_jwt", use_par=False)
    response = app.test_client().get("/login/op")
    callback = browse(requests.Session(), response.headers["Location"], REDIRECT)
    assert parse_qs(urlsplit(callback).query)["error"] == ["invalid_request"]


@pytest.mark.parametrize("dpop", [True, None], ids=["dpop-on", "dpop-auto"])
def test_dpop_with_nonces(issuer: str, dpop: bool | None) -> None:
    bp, app, storage = make_app(issuer, "dpop", "private_key_jwt", dpop=dpop)
    login(bp, app)
    token = dict(storage.token)
    assert token["token_type"] == "DPoP"
    with app.test_request_context("/"):
        assert bp.userinfo()["sub"] == "alice"
    storage.token = {**token, "expires_at": 1}
    with app.test_request_context("/"):
        assert bp.userinfo()["sub"] == "alice"
    assert storage.token["access_token"] != token["access_token"]
    assert storage.token["dpop_jwk"] == token["dpop_jwk"]
    # the token is useless without the key
    stolen = requests.get(
        issuer + "/me",
        headers={"Authorization": "Bearer " + storage.token["access_token"]},
        timeout=10,
    )
    assert stolen.status_code in (400, 401)


def test_backchannel_logout(issuer: str, live_app: LiveApp) -> None:
    redirect = live_app.url + "/login/op/authorized"
    bp = OAuth2ConsumerBlueprint(
        "op",
        __name__,
        client_id="bcl",
        client_secret=SECRET,
        issuer=issuer,
        base_url=issuer + "/",
        scope="openid email",
        redirect_uri=redirect,
        backchannel_logout=True,
    )
    app = live_app.app
    app.register_blueprint(bp, url_prefix="/login")
    events: list[dict[str, t.Any]] = []

    @app.route("/me")
    def me() -> str:
        return "in" if bp.session.authorized else "out"

    def on_logout(sender: t.Any, **kwargs: t.Any) -> None:
        events.append(kwargs)

    live_app.start()
    browser = requests.Session()
    with oauth_backchannel_logout.connected_to(on_logout):
        callback = browse(browser, live_app.url + "/login/op", redirect)
        response = browser.get(callback, allow_redirects=False, timeout=10)
        assert response.status_code == 302
        assert browser.get(live_app.url + "/me", timeout=10).text == "in"
        # the user signs out at the provider (its confirmation form)
        page = browser.get(issuer + "/session/end", timeout=10)
        xsrf = page.text.split('name="xsrf" value="')[1].split('"')[0]
        browser.post(
            issuer + "/session/end/confirm",
            data={"xsrf": xsrf, "logout": "yes"},
            allow_redirects=False,
            timeout=10,
        )
        assert [e["user_request"] for e in events] == [False]
        assert events[0]["claims"]["sub"] == "alice"
        assert browser.get(live_app.url + "/me", timeout=10).text == "out"
    assert [e["user_request"] for e in events] == [False, True]


def test_fapi_profile_par_dpop_private_key_jwt(issuer: str) -> None:
    """What the FAPI 2.0 page says to turn on, together."""
    bp, app, storage = make_app(
        issuer, "fapi", "private_key_jwt", use_par=True, dpop=True
    )
    login(bp, app)
    token = dict(storage.token)
    assert token["token_type"] == "DPoP"
    with app.test_request_context("/"):
        assert bp.userinfo()["sub"] == "alice"
        assert bp.introspect_token()["active"] is True
        assert bp.revoke_token() is True
