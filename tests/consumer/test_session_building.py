"""How consumer/_session_building.py builds the OAuth 2 session of a request."""

from __future__ import annotations

import typing as t

from oauthlib.oauth2 import WebApplicationClient

from dance_helpers import make_app
from dance_helpers import make_blueprint
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import OAuth2Session


def test_client_id_setter_updates_current_session() -> None:
    bp = make_blueprint()
    app = make_app(bp)
    with app.test_request_context("/"):
        session = bp.session
        bp.client_id = "changed"
        assert session.client_id == "changed"
        assert session._client.client_id == "changed"
    assert bp.client_id == "changed"


def test_client_instance_is_copied_per_session() -> None:
    template = WebApplicationClient("client_id")
    bp = make_blueprint(client=template)
    app = make_app(bp)
    with app.test_request_context("/"):
        first = bp.session
    with app.test_request_context("/"):
        second = bp.session
    assert type(first._client) is WebApplicationClient
    assert first._client is not template
    assert first._client is not second._client
    first.token = {"access_token": "mine", "token_type": "Bearer"}
    assert first._client.access_token == "mine"
    assert second._client.access_token is None
    assert template.access_token is None


def test_session_created_hook_runs_for_every_session() -> None:
    made: list[t.Any] = []

    class HookedBlueprint(OAuth2ConsumerBlueprint):
        def session_created(self, session: OAuth2Session) -> OAuth2Session:
            session.headers["X-Hooked"] = "yes"
            made.append(session)
            return session

    bp = HookedBlueprint("hooked", __name__, client_id="c")
    app = make_app(bp)
    with app.test_request_context("/"):
        assert bp.session.headers["X-Hooked"] == "yes"
    with app.test_request_context("/"):
        assert bp.session is made[-1]
    assert len(made) == 2
