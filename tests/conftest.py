from __future__ import annotations

import os
import typing as t

import flask
import pytest
import responses as responses_lib

from flask_dance.consumer.storage import MemoryStorage


@pytest.fixture(autouse=True)
def _insecure_transport_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests opt in to plain-HTTP providers explicitly."""
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    monkeypatch.delenv("OAUTHLIB_RELAX_TOKEN_SCOPE", raising=False)


@pytest.fixture
def responses() -> t.Iterator[responses_lib.RequestsMock]:
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def make_app() -> t.Callable[..., flask.Flask]:
    def factory(
        *blueprints: flask.Blueprint, url_prefix: str = "/login"
    ) -> flask.Flask:
        app = flask.Flask(__name__)
        app.secret_key = "a test secret key"
        for blueprint in blueprints:
            app.register_blueprint(blueprint, url_prefix=url_prefix)

        @app.route("/")
        def index() -> str:
            return "index"

        return app

    return factory


@pytest.fixture
def memory_storage() -> MemoryStorage:
    return MemoryStorage()


def pytest_report_header() -> list[str]:
    return [f"CI={os.environ.get('CI', '')}"]
