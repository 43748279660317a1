"""The OAuth 1 provider session: its token, signed API requests joined to the
base URL, and the view decorator."""

from __future__ import annotations

from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
import responses as responses_lib
from oauthlib.oauth1 import SIGNATURE_RSA

from dance_helpers import AUTHORIZE_URL
from dance_helpers import CLIENT_SECRET
from dance_helpers import make_oauth1_app as make_app
from dance_helpers import make_oauth1_blueprint as make_blueprint
from dance_helpers import oauth_params
from dance_helpers import signed_with
from flask_dance.consumer import OAuth1Session
from flask_dance.consumer.storage import MemoryStorage


def test_session_is_authorized_with_a_complete_token() -> None:
    storage = MemoryStorage({"oauth_token": "at", "oauth_token_secret": "ats"})
    bp = make_blueprint(storage=storage)
    with make_app(bp).test_request_context("/"):
        assert isinstance(bp.session, OAuth1Session)
        assert bp.session.authorized
        assert bp.session._client.client.resource_owner_key == "at"
    storage.token = {"oauth_token": "at"}
    with make_app(bp).test_request_context("/"):
        assert not bp.session.authorized


def test_load_token_clears_stale_credentials() -> None:
    storage = MemoryStorage({"oauth_token": "at", "oauth_token_secret": "ats"})
    bp = make_blueprint(storage=storage)
    with make_app(bp).test_request_context("/"):
        session = bp.session
        assert session.authorized
        del bp.token
        assert session.token is None
        assert not session.authorized
        client = session._client.client
        assert client.resource_owner_key is None
        assert client.resource_owner_secret is None


def test_rsa_session_is_authorized_with_a_token_key() -> None:
    storage = MemoryStorage({"oauth_token": "at", "oauth_token_secret": ""})
    bp = make_blueprint(
        storage=storage, signature_method=SIGNATURE_RSA, rsa_key="not-used-here"
    )
    with make_app(bp).test_request_context("/"):
        assert bp.session.authorized


def test_api_requests_are_signed_and_joined_to_base_url(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.GET, "https://example.com/api/statuses/home")
    responses.add(responses_lib.GET, "https://other.example/x")
    storage = MemoryStorage({"oauth_token": "at", "oauth_token_secret": "ats"})
    bp = make_blueprint(storage=storage)
    with make_app(bp).test_request_context("/"):
        bp.session.get("statuses/home", params={"count": "5"})
        bp.session.get("https://other.example/x")
    request = responses.calls[0].request
    assert request.url == "https://example.com/api/statuses/home?count=5"
    assert oauth_params(request)["oauth_token"] == "at"
    assert signed_with(request, CLIENT_SECRET, "ats")
    assert responses.calls[1].request.url == "https://other.example/x"


def test_base_url_without_trailing_slash(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses_lib.GET, "https://jira.example/context/rest/api/2/myself")
    bp = make_blueprint(
        base_url="https://jira.example/context",
        storage=MemoryStorage({"oauth_token": "at", "oauth_token_secret": "ats"}),
    )
    with make_app(bp).test_request_context("/"):
        bp.session.get("/rest/api/2/myself")
    assert len(responses.calls) == 1


def test_session_without_blueprint() -> None:
    session = OAuth1Session(client_key="k", client_secret="s")
    assert session.token is None
    assert not session.authorized
    session.token = {"oauth_token": "t", "oauth_token_secret": "ts"}
    assert session.authorized
    prepared = session.prepare_request(requests.Request("GET", "https://x.example/a"))
    assert prepared.url == "https://x.example/a"


@pytest.mark.parametrize("has_token", [True, False])
def test_authorization_required(has_token: bool) -> None:
    token = {"oauth_token": "at", "oauth_token_secret": "ats"} if has_token else None
    bp = make_blueprint(storage=MemoryStorage(token))
    app = make_app(bp)

    @app.route("/private")
    @bp.session.authorization_required
    def private() -> str:
        return "secret page"

    response = app.test_client().get("/private")
    if has_token:
        assert response.data == b"secret page"
    else:
        assert response.status_code == 302
        assert response.headers["Location"] == "/login/test-service"


def test_authorization_url_query() -> None:
    bp = make_blueprint()
    with make_app(bp).test_request_context("/"):
        url = bp.session.authorization_url(AUTHORIZE_URL, request_token="abc")
    assert parse_qs(urlsplit(url).query) == {"oauth_token": ["abc"]}


def test_session_token_can_be_cleared() -> None:
    bp = make_blueprint(
        storage=MemoryStorage({"oauth_token": "at", "oauth_token_secret": "ats"})
    )
    with make_app(bp).test_request_context("/"):
        session = bp.session
        assert session.authorized
        session.token = None
        assert not session.authorized
