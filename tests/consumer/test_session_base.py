"""Session classes built directly work with any blueprint-like object, as in
Flask-Dance 7.1: tests build them with a :class:`unittest.mock.Mock`."""

from __future__ import annotations

import time
import typing as t
from unittest import mock

import requests
import responses as responses_lib

from flask_dance.consumer import OAuth1Session
from flask_dance.consumer import OAuth2Session

TOKEN = {"access_token": "a-token", "token_type": "Bearer"}
OAUTH1_TOKEN = {"oauth_token": "tok", "oauth_token_secret": "sec"}


def test_oauth2_session_with_a_mock_blueprint() -> None:
    sess = OAuth2Session(client_id="cid", blueprint=mock.Mock(token=TOKEN))
    assert sess.token == TOKEN
    assert sess.authorized
    assert sess.access_token == "a-token"
    assert sess.load_token()


def test_oauth2_session_with_a_mock_blueprint_without_token() -> None:
    sess = OAuth2Session(client_id="cid", blueprint=mock.Mock(token=None))
    assert not sess.authorized
    assert sess.access_token is None


def test_oauth2_session_with_a_mock_blueprint_sends_requests(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.GET, "https://api.example.com/v1/user", json={})
    # inside the refresh leeway, with a refresh token
    token = dict(TOKEN, refresh_token="r", expires_at=time.time() + 30)
    sess = OAuth2Session(
        client_id="cid",
        blueprint=mock.Mock(token=token),
        base_url="https://api.example.com/v1",
    )
    # a mock's made-up attributes are no refresh endpoint, pool or timeout
    with mock.patch.object(sess, "refresh_token") as refresh:
        sess.get("user")
    refresh.assert_not_called()
    request = responses.calls[0].request
    assert request.headers["Authorization"] == "Bearer a-token"
    assert all(
        isinstance(adapter, requests.adapters.HTTPAdapter)
        for adapter in sess.adapters.values()
    )
    sess.close()


def _authorization(request: requests.PreparedRequest) -> str:
    value: t.Any = request.headers["Authorization"]
    return value.decode() if isinstance(value, bytes) else str(value)


def test_oauth1_session_with_a_mock_blueprint(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.GET, "https://api.example.com/resource")
    sess = OAuth1Session(
        client_key="ckey", client_secret="csec", blueprint=mock.Mock(token=OAUTH1_TOKEN)
    )
    sess.get("https://api.example.com/resource", should_load_token=False)
    header = _authorization(responses.calls[0].request)
    assert "oauth_token=" not in header
    sess.get("https://api.example.com/resource")
    header = _authorization(responses.calls[1].request)
    assert 'oauth_token="tok"' in header
    assert sess.token == OAUTH1_TOKEN
    assert sess.authorized


def test_custom_session_class_with_a_mock_blueprint() -> None:
    class TracingSession(OAuth2Session):
        def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
            self.trace = ["built"]
            super().__init__(*args, **kwargs)
            self.headers["X-Trace"] = "1"

    blueprint = mock.MagicMock(token=TOKEN)
    sess = TracingSession(client_id="cid", blueprint=blueprint)
    assert sess.authorized
    assert sess.trace == ["built"]
    assert sess.headers["X-Trace"] == "1"
    assert sess.blueprint is blueprint
