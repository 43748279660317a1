"""Stored tokens whose expiry is not a number: refreshed when they can be,
read as no token when they cannot, with one warning that shows no secret."""

from __future__ import annotations

import typing as t

import pytest
import responses as responses_lib
from freezegun import freeze_time

from dance_helpers import add_refresh_and_api
from dance_helpers import API_URL
from dance_helpers import calls_to
from dance_helpers import expired_token
from dance_helpers import FROZEN
from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import NOW
from dance_helpers import TOKEN_URL
from flask_dance.consumer.storage import MemoryStorage

EXPIRY_LOGGER = "flask_dance.consumer._expiry"


@pytest.mark.parametrize(
    "bad",
    [
        {"expires_at": "abc"},
        {"expires_at": float("nan")},
        {"expires_at": [1]},
        {"expires_in": "abc"},
        {"expires_in": {}},
    ],
    ids=["at-text", "at-nan", "at-list", "in-text", "in-object"],
)
@freeze_time(FROZEN)
def test_unusable_expiry_with_refresh_token_is_refreshed(
    responses: responses_lib.RequestsMock,
    caplog: pytest.LogCaptureFixture,
    bad: dict[str, t.Any],
) -> None:
    add_refresh_and_api(responses)
    storage = MemoryStorage(expired_token(**{"expires_at": NOW + 3600, **bad}))
    bp = make_blueprint(storage=storage)
    app = make_app(bp)

    @app.route("/me")
    def me() -> t.Any:
        assert bp.session.authorized
        return bp.session.get("/user").json()

    with caplog.at_level("WARNING", logger=EXPIRY_LOGGER):
        response = app.test_client().get("/me", base_url="https://a.b.c")
    assert response.status_code == 200
    assert response.json == {"login": "me"}
    assert len(calls_to(responses, TOKEN_URL)) == 1
    assert storage.token is not None
    assert storage.token["access_token"] == "new-access"
    assert storage.token["expires_at"] == NOW + 600
    warnings = [r for r in caplog.records if r.name == EXPIRY_LOGGER]
    assert len(warnings) == 1
    assert "old-" not in warnings[0].getMessage()


@freeze_time(FROZEN)
def test_unusable_expiry_without_refresh_token_reads_as_no_token(
    responses: responses_lib.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    responses.add(responses_lib.GET, API_URL, json={"login": "anonymous"})
    stored = expired_token(expires_at="abc", refresh_token=None)
    bp = make_blueprint(storage=MemoryStorage(stored))
    app = make_app(bp)

    @app.route("/me")
    def me() -> t.Any:
        answer = {"authorized": bp.session.authorized, "token": bp.token}
        bp.session.get("/user")
        return answer

    with caplog.at_level("WARNING", logger=EXPIRY_LOGGER):
        response = app.test_client().get("/me", base_url="https://a.b.c")
    assert response.status_code == 200
    assert response.json == {"authorized": False, "token": None}
    assert "Authorization" not in responses.calls[0].request.headers
    assert len([r for r in caplog.records if r.name == EXPIRY_LOGGER]) == 1
    with app.test_request_context("/"):
        assert bp.session.authorized is False  # the quick answer agrees
