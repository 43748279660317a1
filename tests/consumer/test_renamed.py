"""The older argument spellings that consumer/_renamed.py still accepts."""

from __future__ import annotations

import pytest

from flask_dance.consumer import OAuth2ConsumerBlueprint


def test_old_argument_names_still_work() -> None:
    with pytest.warns(DeprecationWarning, match="use") as record:
        bp = OAuth2ConsumerBlueprint(
            "old",
            __name__,
            client_key="key",
            client_secret="secret",
            request_token_params={"scope": "user:email", "prompt": "x"},
            base_url="https://api.example.com",
            access_token_url="https://example.com/token",
            authorize_url="https://example.com/authorize",
        )
    messages = " ".join(str(w.message) for w in record)
    for name in ("client_id", "token_url", "authorization_url", "request_token_params"):
        assert name in messages
    assert bp.client_id == "key"
    assert bp.token_url == "https://example.com/token"
    assert bp.authorization_url == "https://example.com/authorize"
    assert bp.scope == "user:email"
    assert bp.authorization_url_params == {"prompt": "x"}
