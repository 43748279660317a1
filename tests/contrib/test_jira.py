from __future__ import annotations

import pathlib

import responses as responses_lib

from contrib.preset_helpers import APP_URL
from contrib.preset_helpers import make_app
from contrib.preset_helpers import query
from contrib.preset_helpers import rsa_private_key
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.contrib.jira import jira
from flask_dance.contrib.jira import JsonOAuth1Session
from flask_dance.contrib.jira import make_jira_blueprint

BASE = "https://jira.example.com/jira"
OAUTH = BASE + "/plugins/servlet/oauth/"


def test_rsa_key_from_file(tmp_path: pathlib.Path) -> None:
    key_file = tmp_path / "jira.pem"
    key_file.write_text(rsa_private_key())
    bp = make_jira_blueprint(BASE + "/", "key", str(key_file))
    assert bp.rsa_key == rsa_private_key()
    assert bp.base_url == BASE + "/"
    assert bp.signature_method == "RSA-SHA1"
    assert bp.session_class is JsonOAuth1Session


def test_dance_and_signed_api_call(responses: responses_lib.RequestsMock) -> None:
    responses.add(
        responses.POST,
        OAUTH + "request-token",
        body="oauth_token=request&oauth_token_secret=request-secret",
    )
    responses.add(
        responses.POST,
        OAUTH + "access-token",
        body="oauth_token=access&oauth_token_secret=access-secret",
    )
    responses.add(responses.GET, BASE + "/rest/api/2/myself", json={})
    bp = make_jira_blueprint(BASE, storage=MemoryStorage())
    app = make_app(bp)
    app.config["JIRA_OAUTH_CONSUMER_KEY"] = "config-key"
    app.config["JIRA_OAUTH_RSA_KEY"] = rsa_private_key()
    client = app.test_client()

    response = client.get("/login/jira", base_url=APP_URL)
    location = response.headers["Location"]
    assert location.split("?")[0] == OAUTH + "authorize"
    assert query(location)["oauth_token"] == "request"
    response = client.get(
        "/login/jira/authorized?oauth_token=request&oauth_verifier=v", base_url=APP_URL
    )
    assert response.status_code == 302
    assert bp.storage.get(bp)["oauth_token"] == "access"

    with app.test_request_context("/"):
        jira.get("rest/api/2/myself")
    request = responses.calls[-1].request
    authorization = request.headers["Authorization"]
    if isinstance(authorization, bytes):
        authorization = authorization.decode()
    assert 'oauth_signature_method="RSA-SHA1"' in authorization
    assert 'oauth_consumer_key="config-key"' in authorization
    assert 'oauth_token="access"' in authorization
    assert request.headers["Content-Type"] in ("application/json", b"application/json")
