"""The login view of consumer/_authorization.py: state, PKCE, authorization URL."""

from __future__ import annotations

import json
import re
import string
import typing as t
from urllib.parse import parse_qs

import flask
import pytest
import responses as responses_lib
from oauthlib.oauth2 import InsecureTransportError
from oauthlib.oauth2 import WebApplicationClient

from dance_helpers import AUTHORIZE_URL
from dance_helpers import BASE
from dance_helpers import callback
from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import start_login
from flask_dance.consumer import oauth_before_login
from flask_dance.consumer._authorization import _grant_uri
from flask_dance.consumer._authorization import _random_state
from flask_dance.consumer.oauth2 import make_code_challenge


def test_login_redirects_with_state_and_pkce_s256() -> None:
    app = make_app()
    with app.test_client() as client:
        params = start_login(client)
        assert params["client_id"] == "client_id"
        assert params["response_type"] == "code"
        assert params["redirect_uri"] == "https://a.b.c/login/test-service/authorized"
        assert params["code_challenge_method"] == "S256"
        assert len(params["state"]) == 30
        verifier = flask.session["test-service_oauth_code_verifier"]
        assert 43 <= len(verifier) <= 128
        assert params["code_challenge"] == make_code_challenge(verifier)
        assert verifier not in json.dumps(params)
        assert flask.session["test-service_oauth_state"] == params["state"]
        assert params["state"] in flask.session["test-service_oauth_pending"]


def test_each_login_gets_a_fresh_state_and_verifier() -> None:
    app = make_app()
    with app.test_client() as client:
        first = start_login(client)
        second = start_login(client)
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]


def test_login_sends_before_login_signal() -> None:
    app = make_app()
    urls: list[str] = []

    def receiver(sender: t.Any, url: str) -> None:
        urls.append(url)

    with oauth_before_login.connected_to(receiver):
        response = app.test_client().get("/login/test-service", base_url=BASE)
    assert urls == [response.headers["Location"]]
    assert urls[0].startswith(AUTHORIZE_URL + "?")


def test_login_without_pkce() -> None:
    app = make_app(use_pkce=False)
    with app.test_client() as client:
        params = start_login(client)
        assert "code_challenge" not in params
        assert "test-service_oauth_code_verifier" not in flask.session


def test_authorization_url_params_are_sent_and_not_mutated() -> None:
    bp = make_blueprint(authorization_url_params={"prompt": "consent"}, scope="a b")
    app = make_app(bp)
    with app.test_client() as client:
        params = start_login(client)
    assert params["prompt"] == "consent"
    assert params["scope"] == "a b"
    assert bp.authorization_url_params == {"prompt": "consent"}
    assert bp.token_url_params == {}


def test_relative_endpoints_resolve_against_base_url(
    token_endpoint: responses_lib.RequestsMock,
) -> None:
    bp = make_blueprint(
        base_url="https://example.com/oauth",
        authorization_url="authorize",
        token_url="/access_token",
    )
    app = make_app(bp)
    with app.test_client() as client:
        response = client.get("/login/test-service", base_url=BASE)
        assert response.headers["Location"].startswith(AUTHORIZE_URL + "?")
        state = parse_qs(response.headers["Location"].split("?")[1])["state"][0]
        callback(client, code="c", state=state)
    assert len(token_endpoint.calls) == 1


def test_fixed_redirect_uri_ignores_host_header() -> None:
    bp = make_blueprint(
        redirect_uri="https://app.example/login/test-service/authorized"
    )
    app = make_app(bp)
    # No SERVER_NAME, so that the forged Host reaches the view on every Flask
    # (before 3.1, Flask answers 404 to a Host other than SERVER_NAME).
    app.config["SERVER_NAME"] = None
    response = app.test_client().get(
        "/login/test-service",
        base_url="https://a.b.c",
        headers={"Host": "evil.example"},
    )
    location = response.headers["Location"]
    assert "redirect_uri=https%3A%2F%2Fapp.example%2F" in location
    assert "evil" not in location


def test_missing_authorization_url_is_explained() -> None:
    app = make_app(authorization_url=None)
    app.testing = True
    with pytest.raises(RuntimeError, match="authorization_url"):
        app.test_client().get("/login/test-service", base_url=BASE)


def test_state_factory_is_called_per_login() -> None:
    states = iter(["first-state", "second-state"])
    app = make_app(state=lambda: next(states))
    with app.test_client() as client:
        assert start_login(client)["state"] == "first-state"
        assert start_login(client)["state"] == "second-state"


def test_a_new_state_is_letters_and_digits() -> None:
    states = {_random_state() for _ in range(50)}
    assert len(states) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9]{30}", state) for state in states)
    assert len(_random_state(100)) == 100
    # every character of the alphabet turns up
    assert set("".join(_random_state(400) for _ in range(5))) == set(
        string.ascii_letters + string.digits
    )


@pytest.mark.parametrize("scope", [None, "a b", ["read", "write"]])
def test_the_grant_uri_is_what_oauthlib_builds(scope: t.Any) -> None:
    params = {
        "code_challenge": "challenge",
        "code_challenge_method": "S256",
        "prompt": "consent",
        "login_hint": "",
    }
    ours = _grant_uri(AUTHORIZE_URL, "cid", "https://app/cb", scope, "st", params)
    theirs = WebApplicationClient("cid").prepare_request_uri(
        AUTHORIZE_URL,
        redirect_uri="https://app/cb",
        scope=scope,
        state="st",
        **params,
    )
    assert ours == theirs
    assert "login_hint" not in ours


def test_a_plain_http_authorization_endpoint_is_refused() -> None:
    with pytest.raises(InsecureTransportError):
        _grant_uri("http://example.com/authorize", "cid", None, None, "st", {})
