from __future__ import annotations

import typing as t

import responses as responses_lib

from contrib.preset_helpers import APP_URL
from contrib.preset_helpers import form
from contrib.preset_helpers import make_app
from contrib.preset_helpers import query
from flask_dance.consumer import OAuth2Session
from flask_dance.consumer import oauth_error
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.contrib.slack import make_slack_blueprint
from flask_dance.contrib.slack import slack
from flask_dance.contrib.slack import SlackBlueprint

V2_TOKEN_URL = "https://slack.com/api/oauth.v2.access"


def _dance(bp: t.Any, token_response: dict[str, t.Any], responses: t.Any) -> t.Any:
    app = make_app(bp)
    client = app.test_client()
    response = client.get("/login/slack", base_url=APP_URL)
    params = query(response.headers["Location"])
    responses.add(responses.POST, V2_TOKEN_URL, json=token_response)
    client.get(
        f"/login/slack/authorized?code=c&state={params['state']}", base_url=APP_URL
    )
    return app, params


def test_legacy_token_in_body_or_query(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses.GET, "https://slack.com/api/users.info", json={"ok": True})
    responses.add(responses.POST, "https://slack.com/api/chat.postMessage", json={})
    bp = make_slack_blueprint(
        "id",
        "secret",
        session_class=OAuth2Session,
        storage=MemoryStorage({"access_token": "xoxp-1"}),
    )
    assert isinstance(bp, SlackBlueprint)
    with make_app(bp).test_request_context("/"):
        slack.get("users.info")
        slack.post("chat.postMessage", data={"channel": "C1", "text": "hi"})
        slack.post("chat.postMessage", data={"token": "explicit", "channel": "C1"})
    first, second, third = (form(call.request.body) for call in responses.calls)
    assert first == {"token": "xoxp-1"}
    assert second == {"channel": "C1", "text": "hi", "token": "xoxp-1"}
    assert third == {"token": "explicit", "channel": "C1"}


def test_v2_user_token_only(responses: responses_lib.RequestsMock) -> None:
    bp = make_slack_blueprint(
        "id", "secret", v2=True, user_scope=["identity.basic"], storage=MemoryStorage()
    )
    app, params = _dance(
        bp,
        {
            "ok": True,
            "app_id": "A1",
            "authed_user": {
                "id": "U1",
                "scope": "identity.basic",
                "access_token": "xoxp-user",
                "token_type": "user",
            },
            "team": {"id": "T1"},
        },
        responses,
    )
    assert params["user_scope"] == "identity.basic"
    assert "scope" not in params
    token = bp.storage.get(bp)
    assert token["access_token"] == "xoxp-user"
    assert token["token_type"] == "Bearer"
    assert token["authed_user"]["id"] == "U1"
    assert token["team"] == {"id": "T1"}

    responses.add(
        responses.GET, "https://slack.com/api/users.identity", json={"ok": True}
    )
    with app.test_request_context("/"):
        slack.get("users.identity")
    request = responses.calls[-1].request
    assert request.headers["Authorization"] == "Bearer xoxp-user"
    assert not request.body


def test_v2_bot_token_is_usable(responses: responses_lib.RequestsMock) -> None:
    bp = make_slack_blueprint(
        "id", "secret", v2=True, scope="chat:write", storage=MemoryStorage()
    )
    app, params = _dance(
        bp,
        {
            "ok": True,
            "access_token": "xoxb-1",
            "token_type": "bot",
            "scope": "chat:write",
        },
        responses,
    )
    assert params["scope"] == "chat:write"
    responses.add(responses.POST, "https://slack.com/api/chat.postMessage", json={})
    with app.test_request_context("/"):
        slack.post("chat.postMessage", json={"channel": "C1", "text": "hi"})
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer xoxb-1"


def test_v2_error_answer(responses: responses_lib.RequestsMock) -> None:
    errors: list[dict[str, t.Any]] = []

    def receiver(sender: t.Any, **kwargs: t.Any) -> None:
        errors.append(kwargs)

    bp = make_slack_blueprint(
        "id", "secret", v2=True, scope="chat:write", storage=MemoryStorage()
    )
    with oauth_error.connected_to(receiver, sender=bp):
        _dance(bp, {"ok": False, "error": "invalid_code"}, responses)
    assert [error["error"] for error in errors] == ["invalid_code"]
    assert bp.storage.get(bp) is None


def test_v2_token_hook_leaves_other_answers_alone() -> None:
    import requests

    from flask_dance.contrib.slack import _normalize_v2_token

    for content in (b"not json", b"[1, 2]"):
        response = requests.Response()
        response._content = content
        assert _normalize_v2_token(response)._content == content


def test_slack_blueprint_defaults_to_legacy_placement(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses.GET, "https://slack.com/api/auth.test", json={})
    bp = SlackBlueprint(
        "slack",
        __name__,
        base_url="https://slack.com/api/",
        storage=MemoryStorage({"access_token": "xoxp-2"}),
    )
    with make_app(bp).test_request_context("/"):
        slack.get("auth.test")
    assert form(responses.calls[0].request.body) == {"token": "xoxp-2"}
