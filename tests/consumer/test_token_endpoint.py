"""The blueprint's token-side calls (consumer/_token_endpoint.py)."""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qs

import flask
import jwt
import pytest
import responses as responses_lib

from dance_helpers import make_blueprint
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.storage import MemoryStorage

TOKEN_URL = "https://as.example.com/token"


def plain_blueprint(**kwargs: t.Any) -> tuple[OAuth2ConsumerBlueprint, flask.Flask]:
    bp = make_blueprint(
        client_id="plain-client",
        client_secret="plain-secret-that-is-long-enough-for-hs256",
        token_url=TOKEN_URL,
        revocation_url="https://as.example.com/revoke",
        storage=MemoryStorage(),
        **kwargs,
    )
    app = flask.Flask(__name__)
    app.register_blueprint(bp)
    return bp, app


def test_client_credentials_grant_authenticates(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.post(
        TOKEN_URL,
        json={"access_token": "app-token", "token_type": "Bearer", "expires_in": 60},
    )
    bp, app = plain_blueprint(token_endpoint_auth_method="client_secret_jwt")
    with app.test_request_context("/"):
        token = bp.client_credentials_token(scope=["read", "write"])
    assert token["access_token"] == "app-token"
    form = parse_qs(responses.calls[0].request.body)
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == ["read write"]
    assert "Authorization" not in responses.calls[0].request.headers
    claims = jwt.decode(
        form["client_assertion"][0],
        "plain-secret-that-is-long-enough-for-hs256",
        algorithms=["HS256"],
        audience=TOKEN_URL,
    )
    assert claims["iss"] == "plain-client"


def test_client_credentials_refused_raises(
    responses: responses_lib.RequestsMock,
) -> None:
    from oauthlib.oauth2 import InvalidClientError

    responses.post(TOKEN_URL, json={"error": "invalid_client"}, status=401)
    bp, app = plain_blueprint()
    with app.test_request_context("/"), pytest.raises(InvalidClientError):
        bp.client_credentials_token()


def test_plain_oauth2_revocation_follows_the_setting(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.post("https://as.example.com/revoke", status=200)
    bp, app = plain_blueprint(token_endpoint_auth_method="client_secret_post")
    with app.test_request_context("/"):
        assert bp.revoke_token({"access_token": "a", "refresh_token": "r"})
    request = responses.calls[0].request
    assert "Authorization" not in request.headers
    form = parse_qs(request.body)
    assert form["client_secret"] == ["plain-secret-that-is-long-enough-for-hs256"]
    assert form["token"] == ["r"]


def test_token_endpoint_redirect_is_not_followed(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.post(
        "https://as.example.com/revoke",
        status=307,
        headers={"Location": "https://evil.example.com/steal"},
    )
    bp, app = plain_blueprint()
    with app.test_request_context("/"):
        assert bp.revoke_token({"access_token": "a"}) is False
    assert len(responses.calls) == 1


INTROSPECT_URL = "https://as.example.com/introspect"


def test_introspection_asks_about_the_users_token(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.post(INTROSPECT_URL, json={"active": True, "sub": "u1"})
    bp, app = plain_blueprint(introspection_url=INTROSPECT_URL)
    with app.test_request_context("/"):
        bp.token = {"access_token": "at", "refresh_token": "rt"}
        assert bp.introspect_token() == {"active": True, "sub": "u1"}
        assert bp.introspect_token(token_type_hint="refresh_token") is not None
    forms = [parse_qs(call.request.body) for call in responses.calls]
    assert forms[0]["token"] == ["at"]
    assert forms[0]["token_type_hint"] == ["access_token"]
    assert forms[1]["token"] == ["rt"]
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    "answer",
    [{"status": 401, "json": {"error": "invalid_client"}}, {"body": "not json"}],
)
def test_introspection_without_a_usable_answer_is_none(
    responses: responses_lib.RequestsMock, answer: dict[str, t.Any]
) -> None:
    responses.post(INTROSPECT_URL, **answer)
    bp, app = plain_blueprint(introspection_url=INTROSPECT_URL)
    with app.test_request_context("/"):
        assert bp.introspect_token("at") is None


def test_introspection_without_endpoint_or_token_sends_nothing(
    responses: responses_lib.RequestsMock,
) -> None:
    bp, app = plain_blueprint()
    with app.test_request_context("/"):
        assert bp.introspect_token("at") is None
    bp, app = plain_blueprint(introspection_url=INTROSPECT_URL)
    with app.test_request_context("/"):
        assert bp.introspect_token() is None
    assert len(responses.calls) == 0
