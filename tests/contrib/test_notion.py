from __future__ import annotations

import responses as responses_lib

from contrib.preset_helpers import logged_in
from contrib.preset_helpers import make_app
from flask_dance.contrib.notion import DEFAULT_NOTION_VERSION
from flask_dance.contrib.notion import make_notion_blueprint
from flask_dance.contrib.notion import notion


def test_notion_version_header(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses.GET, "https://api.notion.com/v1/users/me", json={})
    for version in (None, "2025-09-03"):
        options = {"notion_version": version} if version else {}
        bp = make_notion_blueprint("id", "secret", storage=logged_in(), **options)
        with make_app(bp).test_request_context("/"):
            notion.get("users/me")
    assert [call.request.headers["Notion-Version"] for call in responses.calls] == [
        DEFAULT_NOTION_VERSION,
        "2025-09-03",
    ]
