"""Answering ``authorized`` from the stored token without building a
provider session, only where nothing could tell the difference."""

from __future__ import annotations

import time
import typing as t
from unittest import mock

import flask
import pytest

from dance_helpers import make_app
from dance_helpers import make_blueprint
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import OAuth2Session
from flask_dance.consumer._authorized_shortcut import answers_from_blueprint_token
from flask_dance.consumer._authorized_shortcut import authorized_from_token
from flask_dance.consumer._sessions import context_state
from flask_dance.consumer.storage import MemoryStorage


class CountingStorage(MemoryStorage):
    def __init__(self, token: t.Any) -> None:
        super().__init__(token)
        self.reads = 0

    def get(self, blueprint: t.Any) -> t.Any:
        self.reads += 1
        return super().get(blueprint)


def test_only_session_classes_that_answer_from_the_blueprint_token_qualify() -> None:
    class Plain(OAuth2Session):
        pass

    class OwnAnswer(OAuth2Session):
        @property
        def authorized(self) -> bool:
            return True

    assert answers_from_blueprint_token(OAuth2Session)
    assert answers_from_blueprint_token(Plain)
    assert not answers_from_blueprint_token(OwnAnswer)
    assert not answers_from_blueprint_token(mock.Mock)


def test_a_duck_typed_blueprint_takes_the_plain_path() -> None:
    assert authorized_from_token(mock.Mock(), {}) is None


PAST = 1_000_000_000


@pytest.mark.parametrize(
    "stored",
    [
        None,
        {},
        {"access_token": ""},
        {"access_token": "a"},
        {"access_token": "a", "expires_at": "abc"},
        {"access_token": "a", "expires_at": "abc", "refresh_token": "r"},
        {"access_token": "a", "expires_at": PAST, "expires_in": 60},
        {"access_token": "a", "expires_at": time.time() + 3600, "expires_in": 9},
    ],
    ids=repr,
)
def test_the_answer_is_the_one_the_session_gives(stored: t.Any) -> None:
    bp = make_blueprint(storage=MemoryStorage(stored), token_url=None)
    app = make_app(bp)
    with app.test_request_context("/"):
        shortcut = bp._authorized_without_session()
    with app.test_request_context("/"):
        by_session = bp.session.authorized
    assert shortcut is not None
    assert shortcut == by_session


def test_the_storage_is_read_once_and_the_session_gets_that_token() -> None:
    storage = CountingStorage({"access_token": "stored"})
    bp = make_blueprint(storage=storage)
    app = make_app(bp)
    with app.test_request_context("/"):
        state = context_state()
        assert authorized_from_token(bp, state) is True
        assert authorized_from_token(bp, state) is True
        assert storage.reads == 1
        assert bp.session.token["access_token"] == "stored"
        assert storage.reads == 1
        # with the session built, the session answers
        assert authorized_from_token(bp, state) is None


def test_a_session_prepared_before_the_request_answers_itself() -> None:
    bp = make_blueprint(storage=MemoryStorage({"access_token": "stored"}))
    app = make_app(bp)
    bp.session.token = {"access_token": "prepared"}
    with app.test_request_context("/"):
        assert bp._authorized_without_session() is None
        assert bp.session.token["access_token"] == "prepared"


def test_a_custom_session_class_builds_the_session() -> None:
    class AlwaysIn(OAuth2Session):
        @property
        def authorized(self) -> bool:
            return True

    bp = make_blueprint(storage=MemoryStorage(None), session_class=AlwaysIn)
    with make_app(bp).test_request_context("/"):
        assert bp._authorized_without_session() is None
        assert bp.session.authorized is True


def test_authorized_without_session_only_with_the_stock_token_property() -> None:
    class OwnToken(OAuth2ConsumerBlueprint):
        @property
        def token(self) -> t.Any:
            return {"access_token": "own"}

    stored = {"access_token": "stored"}
    stock = make_blueprint(storage=MemoryStorage(stored))
    own = OwnToken("own", __name__, client_id="id", storage=MemoryStorage(stored))
    app = flask.Flask(__name__)
    app.secret_key = "k"
    app.register_blueprint(stock)
    app.register_blueprint(own)
    with app.test_request_context("/"):
        assert stock._authorized_without_session() is True
        assert own._authorized_without_session() is None
