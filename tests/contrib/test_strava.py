from __future__ import annotations

import responses as responses_lib

from contrib.preset_helpers import assert_refreshed_with_config
from contrib.preset_helpers import expired
from contrib.preset_helpers import form
from contrib.preset_helpers import logged_in
from contrib.preset_helpers import make_app
from flask_dance.consumer import OAuth2Session
from flask_dance.contrib.strava import make_strava_blueprint
from flask_dance.contrib.strava import strava

TOKEN_URL = "https://www.strava.com/api/v3/oauth/token"


def test_paths_stay_under_api_v3(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses.GET, "https://www.strava.com/api/v3/athlete", json={})
    responses.add(
        responses.GET, "https://www.strava.com/api/v3/athlete/activities", json=[]
    )
    bp = make_strava_blueprint(
        "id",
        "secret",
        user_agent="my-app/1.0",
        storage=logged_in(),
    )
    with make_app(bp).test_request_context("/"):
        strava.get("athlete")
        strava.get("/athlete/activities")
    assert [call.request.headers["User-Agent"] for call in responses.calls] == [
        "my-app/1.0",
        "my-app/1.0",
    ]


def test_refresh_with_config_credentials_and_custom_session(
    responses: responses_lib.RequestsMock,
) -> None:
    class Custom(OAuth2Session):
        pass

    responses.add(
        responses.POST,
        TOKEN_URL,
        json={"access_token": "fresh", "refresh_token": "r2", "expires_in": 21600},
    )
    responses.add(responses.GET, "https://www.strava.com/api/v3/athlete", json={})
    bp = make_strava_blueprint(
        session_class=Custom, storage=expired(token_type="Bearer", expires_in=21600)
    )
    app = make_app(bp)
    app.config["STRAVA_OAUTH_CLIENT_ID"] = "config-id"
    app.config["STRAVA_OAUTH_CLIENT_SECRET"] = "config-secret"
    with app.test_request_context("/"):
        strava.get("athlete", allow_redirects=True)
    refresh, api = responses.calls
    assert_refreshed_with_config(refresh.request)
    assert "allow_redirects" not in form(refresh.request.body)
    assert api.request.headers["Authorization"] == "Bearer fresh"


def test_strava_session_sends_client_id_in_body(
    responses: responses_lib.RequestsMock,
) -> None:
    from flask_dance.contrib.strava import StravaOAuth2Session

    responses.add(
        responses.POST, TOKEN_URL, json={"access_token": "t", "token_type": "Bearer"}
    )
    session = StravaOAuth2Session(client_id="id", redirect_uri="https://app.example/cb")
    session.fetch_token(
        TOKEN_URL,
        authorization_response="https://app.example/cb?code=c",
        client_secret="secret",
    )
    body = form(responses.calls[0].request.body)
    assert body["client_id"] == "id"
    assert body["client_secret"] == "secret"
    assert body["code"] == "c"
