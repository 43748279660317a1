"""Helpers shared by the provider preset tests."""

from __future__ import annotations

import functools
import inspect
import time
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import flask

from flask_dance.consumer.storage import MemoryStorage

#: The external URL of the test app.
APP_URL = "https://app.example"


@functools.lru_cache(maxsize=1)
def rsa_private_key() -> str:
    """A PEM RSA private key for signing OAuth 1 requests (made once)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


def query(url: str) -> dict[str, str]:
    """The query parameters of ``url``, one value each."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def form(body: str | bytes | None) -> dict[str, str]:
    """A form-encoded request body as a dict."""
    if isinstance(body, bytes):
        body = body.decode()
    return {key: values[0] for key, values in parse_qs(body or "").items()}


def make_app(*blueprints: flask.Blueprint, **config: t.Any) -> flask.Flask:
    """An app with the given blueprints registered under ``/login``."""
    app = flask.Flask(__name__)
    app.secret_key = "a test secret key"
    app.config.update(config)
    for blueprint in blueprints:
        app.register_blueprint(blueprint, url_prefix="/login")

    @app.route("/")
    def index() -> str:
        return "index"

    return app


def logged_in(access_token: str = "t") -> MemoryStorage:
    """A storage that holds a token with no expiry."""
    return MemoryStorage({"access_token": access_token})


def expired(**token: t.Any) -> MemoryStorage:
    """A storage that holds ``token``, which expired a few seconds ago, with
    the refresh token ``r1``."""
    return MemoryStorage(
        {
            "access_token": "stale",
            "refresh_token": "r1",
            "expires_at": time.time() - 5,
            **token,
        }
    )


def assert_documented(module: t.Any, factory: t.Callable[..., t.Any]) -> None:
    """The preset module names its maintainer and has a docstring, and its
    blueprint factory documents every parameter."""
    assert module.__maintainer__
    assert module.__doc__
    doc = inspect.getdoc(factory) or ""
    for name in inspect.signature(factory).parameters:
        assert f":param {name}:" in doc


def assert_refreshed_with_config(request: t.Any) -> None:
    """``request`` refreshes the token ``r1`` of :func:`expired` with the
    client ``config-id`` and ``config-secret`` in the form."""
    body = form(request.body)
    assert body["grant_type"] == "refresh_token"
    assert body["refresh_token"] == "r1"
    assert body["client_id"] == "config-id"
    assert body["client_secret"] == "config-secret"
