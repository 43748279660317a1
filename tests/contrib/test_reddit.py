from __future__ import annotations

import typing as t

import responses as responses_lib

from contrib.preset_helpers import logged_in
from contrib.preset_helpers import make_app
from flask_dance import __version__
from flask_dance.consumer import OAuth2Session
from flask_dance.contrib.reddit import make_reddit_blueprint
from flask_dance.contrib.reddit import reddit
from flask_dance.contrib.reddit import RedditOAuth2Session

ME = "https://oauth.reddit.com/api/v1/me"


class Custom(OAuth2Session):
    pass


def _blueprint(user_agent: str, session_class: type[OAuth2Session]) -> t.Any:
    return make_reddit_blueprint(
        "id",
        "secret",
        user_agent=user_agent,
        session_class=session_class,
        storage=logged_in(),
    )


def _user_agent_of_call(bp: object, responses: responses_lib.RequestsMock) -> str:
    responses.add(responses.GET, ME, json={})
    with make_app(bp).test_request_context("/"):  # type: ignore[arg-type]
        reddit.get("api/v1/me")
    return responses.calls[-1].request.headers["User-Agent"]  # type: ignore[no-any-return]


def test_default_user_agent(responses: responses_lib.RequestsMock) -> None:
    bp = make_reddit_blueprint("id", "secret", storage=logged_in())
    assert _user_agent_of_call(bp, responses) == f"Flask-Dance/{__version__}"


def test_user_agent_with_custom_session_class(
    responses: responses_lib.RequestsMock,
) -> None:
    bp = _blueprint("web:com.example:v1 (by /u/me)", Custom)
    assert _user_agent_of_call(bp, responses) == "web:com.example:v1 (by /u/me)"
    bp.user_agent = "web:com.example:v2 (by /u/me)"
    assert _user_agent_of_call(bp, responses) == "web:com.example:v2 (by /u/me)"


def test_reddit_session_class_standalone(responses: responses_lib.RequestsMock) -> None:
    bp = _blueprint("web:x:v1", RedditOAuth2Session)
    assert _user_agent_of_call(bp, responses) == "web:x:v1"
    assert RedditOAuth2Session().headers["User-Agent"] == f"Flask-Dance/{__version__}"
