from __future__ import annotations

import contextlib
import importlib.metadata
import secrets
import threading
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import flask
import requests
import responses as responses_lib
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from flask.testing import FlaskClient
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header
from oauthlib.oauth1.rfc5849.utils import unescape

from flask_dance.consumer import OAuth1ConsumerBlueprint
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.storage import MemoryStorage

BASE = "https://a.b.c"

#: The keyword arguments of each send of a signal, in order (the ``record``
#: and ``errors`` fixtures).
Sends = list[dict[str, t.Any]]

#: Whether the installed Werkzeug is older than 2.3, which percent-encodes
#: more characters of request URLs (``{`` in the query; ``/`` in the query of
#: the URLs it builds).
WERKZEUG_QUOTES_THE_URL = tuple(
    int(part) for part in importlib.metadata.version("werkzeug").split(".")[:2]
) < (2, 3)
AUTHORIZE_URL = "https://example.com/oauth/authorize"
TOKEN_URL = "https://example.com/oauth/access_token"


def make_blueprint(**kwargs: t.Any) -> OAuth2ConsumerBlueprint:
    options: dict[str, t.Any] = {
        "client_id": "client_id",
        "client_secret": "client_secret",
        "base_url": "https://example.com",
        "authorization_url": AUTHORIZE_URL,
        "token_url": TOKEN_URL,
        "redirect_to": "index",
    }
    options.update(kwargs)
    return OAuth2ConsumerBlueprint("test-service", __name__, **options)


def make_app(blueprint: flask.Blueprint | None = None, **kwargs: t.Any) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "a test secret key"
    app.config["SERVER_NAME"] = "a.b.c"
    app.config["PREFERRED_URL_SCHEME"] = "https"
    app.register_blueprint(blueprint or make_blueprint(**kwargs), url_prefix="/login")

    @app.route("/")
    def index() -> str:
        return "index"

    return app


@contextlib.contextmanager
def in_request(
    token: dict[str, t.Any] | None = None, **kwargs: t.Any
) -> t.Iterator[tuple[OAuth2ConsumerBlueprint, MemoryStorage]]:
    """A blueprint (``make_blueprint(**kwargs)``) whose storage holds
    ``token``, inside a request of its app."""
    storage = MemoryStorage(token)
    blueprint = make_blueprint(storage=storage, **kwargs)
    with make_app(blueprint).test_request_context("/"):
        yield blueprint, storage


def private_pem(key: t.Any) -> str:
    """The private key ``key`` in PEM (PKCS #8), unencrypted."""
    return t.cast(
        str,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    )


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def start_login(
    client: FlaskClient, path: str = "/login/test-service"
) -> dict[str, str]:
    """Run the login view and return the authorization URL's parameters."""
    response = client.get(path, base_url=BASE)
    assert response.status_code == 302, response.data
    return query(response.headers["Location"])


def callback(client: FlaskClient, **params: str) -> t.Any:
    from urllib.parse import urlencode

    return client.get(
        "/login/test-service/authorized?" + urlencode(params), base_url=BASE
    )


def token_response(**extra: t.Any) -> dict[str, t.Any]:
    token: dict[str, t.Any] = {"access_token": "access-1", "token_type": "Bearer"}
    token.update(extra)
    return token


def set_client_cookie(
    client: FlaskClient, name: str, value: str, domain: str = "localhost"
) -> None:
    """Set a cookie in the test client, on every supported Werkzeug (2.3
    changed the signature of ``set_cookie``)."""
    if hasattr(client, "get_cookie"):  # Werkzeug 2.3 and later
        client.set_cookie(name, value, domain=domain)
    else:
        client.set_cookie(domain, name, value)  # type: ignore[arg-type]


def client_cookie_value(client: FlaskClient, name: str) -> str | None:
    """The value of the test client's cookie ``name``, or ``None``, on every
    supported Werkzeug (2.3 added ``get_cookie``)."""
    get_cookie = getattr(client, "get_cookie", None)
    if get_cookie is not None:
        cookie = get_cookie(name)
        return None if cookie is None else t.cast(str, cookie.value)
    jar: t.Any = client.cookie_jar  # type: ignore[attr-defined]
    return next((c.value for c in jar if c.name == name), None)


def run_threads(target: t.Callable[[int], None], count: int) -> None:
    """Run ``target(0)`` to ``target(count - 1)`` in threads, and raise the
    first exception any of them raised."""
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            target(index)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]


GITHUB_TOKEN_URL = "https://github.com/login/oauth/access_token"
#: The addresses of the mocked GitHub user.
EMAILS = [{"email": "octocat@example.com"}, {"email": "mona@example.com"}]


def mock_github(responses: responses_lib.RequestsMock, access_token: str) -> None:
    """GitHub's token endpoint, issuing ``access_token``, and its user API."""
    responses.add(
        responses_lib.POST,
        GITHUB_TOKEN_URL,
        json={
            "access_token": access_token,
            "token_type": "bearer",
            "scope": "user:email",
        },
    )
    responses.add(responses_lib.GET, "https://api.github.com/user/emails", json=EMAILS)
    responses.add(
        responses_lib.GET,
        "https://api.github.com/user",
        json={"id": 583231, "login": "octocat"},
    )


class FailingStorage(MemoryStorage):
    """A storage whose ``set`` raises ``exc``; by default the ``ValueError``
    of a storage that needs a user and has none."""

    def __init__(self, exc: BaseException | None = None) -> None:
        super().__init__()
        self.exc = exc or ValueError(
            "Cannot set OAuth token without an associated user"
        )

    def set(self, blueprint: t.Any, token: t.Any) -> None:
        raise self.exc


#: Request URLs joined with a provider's base URL, by name: the base URL, the
#: URL requested, and the URL the request goes to.
URL_JOINS = {
    "base-with-slash": (
        "https://api.github.com/",
        "/user",
        "https://api.github.com/user",
    ),
    "base-without-slash": (
        "https://api.github.com",
        "user",
        "https://api.github.com/user",
    ),
    "path-base-absolute-path": (
        "https://gitlab.com/api/v4/",
        "/user",
        "https://gitlab.com/api/v4/user",
    ),
    "path-base-relative": (
        "https://gitlab.com/api/v4/",
        "user",
        "https://gitlab.com/api/v4/user",
    ),
    "path-base-without-slash": (
        "https://www.strava.com/api/v3",
        "athlete",
        "https://www.strava.com/api/v3/athlete",
    ),
    "path-already-in-base": (
        "https://www.strava.com/api/v3",
        "/api/v3/athlete",
        "https://www.strava.com/api/v3/athlete",
    ),
    "nested-path-base": (
        "https://x.example/v1/oauth",
        "token",
        "https://x.example/v1/oauth/token",
    ),
    "host-only": ("https://example.com", "/user", "https://example.com/user"),
    "absolute": (
        "https://api.github.com/",
        "https://other.example/x",
        "https://other.example/x",
    ),
    "scheme-relative": (
        "https://api.github.com/",
        "//other.example/x",
        "//other.example/x",
    ),
    "with-query": (
        "https://api.github.com/",
        "user?a=1",
        "https://api.github.com/user?a=1",
    ),
    "no-base-absolute": (None, "https://a.example/x", "https://a.example/x"),
    "no-base-relative": (None, "relative", "relative"),
}


# -- expired tokens ----------------------------------------------------------

#: The API of the blueprints of :func:`make_blueprint`.
API_URL = "https://example.com/user"
#: The frozen clock of the refresh tests, and its timestamp.
FROZEN = "2026-01-01 00:00:00"
NOW = 1767225600.0


def expired_token(**extra: t.Any) -> dict[str, t.Any]:
    """A token that expired 10 s before ``NOW``, with a refresh token."""
    token: dict[str, t.Any] = {
        "access_token": "old-access",
        "refresh_token": "old-refresh",
        "token_type": "Bearer",
        "expires_in": 3600,
        "expires_at": NOW - 10,
    }
    token.update(extra)
    return token


def calls_to(responses: responses_lib.RequestsMock, url: str) -> list[t.Any]:
    """The calls to ``url``, whatever their query."""
    return [call for call in responses.calls if call.request.url.split("?")[0] == url]


def add_refresh_and_api(responses: responses_lib.RequestsMock) -> None:
    """A token endpoint that refreshes to ``new-access`` (600 s), and the API."""
    responses.add(
        responses_lib.POST,
        TOKEN_URL,
        json={"access_token": "new-access", "token_type": "Bearer", "expires_in": 600},
    )
    responses.add(responses_lib.GET, API_URL, json={"login": "me"})


# -- OAuth 1 -----------------------------------------------------------------

#: The OAuth 1 provider of :func:`make_oauth1_blueprint`.
REQUEST_TOKEN_URL = "https://example.com/oauth/request_token"
AUTHORIZE_URL = "https://example.com/oauth/authorize"
ACCESS_TOKEN_URL = "https://example.com/oauth/access_token"
CLIENT_KEY = "client-key"
CLIENT_SECRET = "client-secret"


def make_oauth1_blueprint(**kwargs: t.Any) -> OAuth1ConsumerBlueprint:
    options: dict[str, t.Any] = {
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "base_url": "https://example.com/api/",
        "request_token_url": REQUEST_TOKEN_URL,
        "authorization_url": AUTHORIZE_URL,
        "access_token_url": ACCESS_TOKEN_URL,
        "redirect_to": "index",
    }
    options.update(kwargs)
    return OAuth1ConsumerBlueprint("test-service", __name__, **options)


def make_oauth1_app(
    bp: OAuth1ConsumerBlueprint | None = None, **kwargs: t.Any
) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "oauth1 tests"
    app.register_blueprint(bp or make_oauth1_blueprint(**kwargs), url_prefix="/login")

    @app.route("/")
    def index() -> str:
        return "index"

    return app


def oauth_params(request: requests.PreparedRequest) -> dict[str, str]:
    header = request.headers["Authorization"]
    if isinstance(header, bytes):
        header = header.decode()
    return {k: unescape(v) for k, v in parse_authorization_header(header)}


def signed_with(
    request: requests.PreparedRequest, client_secret: str, token_secret: str | None
) -> bool:
    """Check the request's HMAC-SHA1 signature against a key, the way a
    provider does (RFC 5849 3.4.2)."""
    headers = {
        k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()
    }
    url = t.cast(str, request.url)
    body = request.body or ""
    params = signature.collect_parameters(
        uri_query=urlsplit(url).query,
        body=body,
        headers=headers,
        exclude_oauth_signature=False,
    )
    oauth_request = OAuthRequest(
        url, http_method=request.method, body=body, headers=headers
    )
    oauth_request.params = [(k, v) for k, v in params if k != "oauth_signature"]
    oauth_request.signature = dict(params)["oauth_signature"]
    return bool(signature.verify_hmac_sha1(oauth_request, client_secret, token_secret))


# -- apps for flask_dance.audit and ``flask dance check`` -----------------------


def checked_blueprint(
    name: str = "example", **kwargs: t.Any
) -> OAuth2ConsumerBlueprint:
    """An OAuth 2 blueprint with credentials and endpoints (none with an
    ``issuer``), changed by ``kwargs``."""
    kwargs.setdefault("client_id", "client-id")
    kwargs.setdefault("client_secret", "client-secret")
    if "issuer" not in kwargs:
        kwargs.setdefault("authorization_url", "https://as.example/authorize")
        kwargs.setdefault("token_url", "https://as.example/token")
    return OAuth2ConsumerBlueprint(name, __name__, **kwargs)


def checked_app(*blueprints: flask.Blueprint, **config: t.Any) -> flask.Flask:
    """An app that passes every check of :func:`flask_dance.audit.audit`,
    changed by ``config``, with ``blueprints`` (default: one
    :func:`checked_blueprint`) under ``/login``."""
    app = flask.Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_hex(32),
        SESSION_COOKIE_SECURE=True,
        FLASK_DANCE_TOKEN_KEYS=[Fernet.generate_key().decode()],
        TRUSTED_HOSTS=["app.example.com"],
    )
    app.config.update(config)
    for bp in blueprints or (checked_blueprint(),):
        app.register_blueprint(bp, url_prefix="/login")
    return app
