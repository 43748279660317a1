from __future__ import annotations

import responses as responses_lib

from contrib.preset_helpers import logged_in
from contrib.preset_helpers import make_app
from flask_dance.consumer import OAuth2Session
from flask_dance.contrib.heroku import heroku
from flask_dance.contrib.heroku import HerokuOAuth2Session
from flask_dance.contrib.heroku import make_heroku_blueprint


class Custom(OAuth2Session):
    """Accepts no ``api_version`` argument."""


def test_accept_header_with_any_session_class(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses.GET, "https://api.heroku.com/account", json={})
    bp = make_heroku_blueprint(
        "id", "secret", api_version="3.sdk", session_class=Custom, storage=logged_in()
    )
    assert bp.kwargs == {}
    with make_app(bp).test_request_context("/"):
        heroku.get("account")
    headers = responses.calls[0].request.headers
    assert headers["Accept"] == "application/vnd.heroku+json; version=3.sdk"


def test_heroku_session_standalone() -> None:
    session = HerokuOAuth2Session(api_version="3")
    assert session.headers["Accept"] == "application/vnd.heroku+json; version=3"
