"""Pushed authorization requests (RFC 9126), end to end against the local
provider."""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import flask
import pytest

from dance_helpers import Sends
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.testing import LocalProvider

from .conftest import corp_blueprint
from .conftest import CORP_REDIRECT as REDIRECT

SECRET = "corp-secret-that-is-long-enough-for-hs256"


def make_app(
    local: LocalProvider, **kwargs: t.Any
) -> tuple[OAuth2ConsumerBlueprint, flask.Flask, MemoryStorage]:
    storage = MemoryStorage()
    bp, app = corp_blueprint(
        local,
        storage,
        client_secret=SECRET,
        token_endpoint_auth_method="client_secret_jwt",
        **kwargs,
    )
    return bp, app, storage


def finish(local: LocalProvider, client: t.Any, location: str) -> t.Any:
    result = local.authorize(location)
    path = urlsplit(result.url)
    return client.get(path.path + "?" + path.query)


def test_use_par_sends_only_client_id_and_request_uri(local: LocalProvider) -> None:
    bp, app, storage = make_app(local, use_par=True)
    with app.test_client() as client:
        response = client.get("/login/corp")
        location = response.headers["Location"]
        query = parse_qs(urlsplit(location).query)
        assert set(query) == {"client_id", "request_uri"}
        assert query["client_id"] == ["corp-client"]
        assert location.startswith(local.authorization_url + "?")
        response = finish(local, client, location)
    assert response.headers["Location"] == "/"
    assert storage.get(bp)["id_token_claims"]["iss"] == local.issuer
    pushed = local.requests_for("par")
    assert len(pushed) == 1
    assert pushed[0].client_auth == "client_secret_jwt"
    assert pushed[0].form["code_challenge_method"] == "S256"
    assert pushed[0].form["redirect_uri"] == REDIRECT
    assert pushed[0].form["nonce"]
    assert "client_secret" not in pushed[0].form


def test_par_is_automatic_when_the_provider_requires_it(local: LocalProvider) -> None:
    local.require_pushed_authorization_requests = True
    bp, app, storage = make_app(local)
    with app.test_client() as client:
        response = finish(local, client, client.get("/login/corp").headers["Location"])
    assert response.headers["Location"] == "/"
    assert storage.get(bp) is not None
    assert len(local.requests_for("par")) == 1


def test_use_par_false_wins_over_discovery(local: LocalProvider) -> None:
    local.require_pushed_authorization_requests = True
    bp, app, storage = make_app(local, use_par=False)
    with app.test_client() as client:
        location = client.get("/login/corp").headers["Location"]
    assert "request_uri" not in parse_qs(urlsplit(location).query)
    assert local.requests_for("par") == []


def test_refused_push_is_oauth_error_and_redirect(
    local: LocalProvider, errors: Sends
) -> None:
    local.clients["corp-client"].auth_methods = ("private_key_jwt",)
    bp, app, storage = make_app(local, use_par=True)
    with app.test_client() as client:
        response = client.get("/login/corp")
        with client.session_transaction() as session:
            assert "corp_oauth_pending" not in session
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert errors[0]["error"] == "invalid_client"


def test_missing_par_endpoint_is_oauth_error(
    local: LocalProvider, errors: Sends
) -> None:
    local.faults.metadata_overrides["pushed_authorization_request_endpoint"] = None
    bp, app, storage = make_app(local, use_par=True)
    with app.test_client() as client:
        response = client.get("/login/corp")
    assert response.status_code == 302
    assert errors[0]["error"] == "par_unavailable"
    assert "par_url" in errors[0]["error_description"]


def test_request_uri_is_single_use(local: LocalProvider) -> None:
    bp, app, storage = make_app(local, use_par=True)
    with app.test_client() as client:
        location = client.get("/login/corp").headers["Location"]
        finish(local, client, location)
    import requests

    again = requests.get(location, timeout=5, allow_redirects=False)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request_uri"


@pytest.fixture(autouse=True)
def corp_client(local: LocalProvider) -> None:
    local.add_client(
        "corp-client", SECRET, [REDIRECT], auth_methods=("client_secret_jwt",)
    )
