from __future__ import annotations

import responses as responses_lib

from contrib.preset_helpers import assert_refreshed_with_config
from contrib.preset_helpers import expired
from contrib.preset_helpers import make_app
from flask_dance.consumer import OAuth2Session
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.contrib.twitch import ClientIdHeaderOAuth2Session
from flask_dance.contrib.twitch import make_twitch_blueprint
from flask_dance.contrib.twitch import twitch

CONFIG = {
    "TWITCH_OAUTH_CLIENT_ID": "config-id",
    "TWITCH_OAUTH_CLIENT_SECRET": "config-secret",
}
TOKEN_URL = "https://id.twitch.tv/oauth2/token"
USERS_URL = "https://api.twitch.tv/helix/users"


def test_client_id_header_from_config(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses.GET, USERS_URL, json={"data": []})
    bp = make_twitch_blueprint(storage=MemoryStorage({"access_token": "tok"}))
    app = make_app(bp)
    app.config.update(CONFIG)
    with app.test_request_context("/"):
        assert isinstance(twitch._get_current_object(), ClientIdHeaderOAuth2Session)
        twitch.get("users")
    request = responses.calls[0].request
    assert request.headers["Client-Id"] == "config-id"
    assert request.headers["Authorization"] == "Bearer tok"


def test_client_id_header_with_custom_session_class(
    responses: responses_lib.RequestsMock,
) -> None:
    class Custom(OAuth2Session):
        pass

    responses.add(responses.GET, USERS_URL, json={"data": []})
    bp = make_twitch_blueprint(
        "factory-id",
        "factory-secret",
        session_class=Custom,
        storage=MemoryStorage({"access_token": "tok"}),
    )
    with make_app(bp).test_request_context("/"):
        twitch.get("users", headers={"Accept": "application/json"})
    headers = responses.calls[0].request.headers
    assert headers["Client-Id"] == "factory-id"
    assert headers["Accept"] == "application/json"


def test_refresh_sends_config_credentials(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(
        responses.POST,
        TOKEN_URL,
        json={
            "access_token": "fresh",
            "refresh_token": "refresh-2",
            "expires_in": 3600,
            "token_type": "bearer",
        },
    )
    responses.add(responses.GET, USERS_URL, json={"data": []})
    storage = expired(token_type="bearer", expires_in=3600)
    bp = make_twitch_blueprint(storage=storage)
    app = make_app(bp)
    app.config.update(CONFIG)
    with app.test_request_context("/"):
        twitch.get("users")

    refresh, api = responses.calls
    assert_refreshed_with_config(refresh.request)
    assert "Authorization" not in refresh.request.headers
    assert api.request.headers["Authorization"] == "Bearer fresh"
    assert api.request.headers["Client-Id"] == "config-id"
    assert storage.get(bp)["access_token"] == "fresh"


def test_no_header_without_client_id(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses.GET, USERS_URL, json={"data": []})
    bp = make_twitch_blueprint(storage=MemoryStorage({"access_token": "tok"}))
    with make_app(bp).test_request_context("/"):
        twitch.get("users")
    assert "Client-Id" not in responses.calls[0].request.headers
