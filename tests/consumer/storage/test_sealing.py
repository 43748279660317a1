"""How the storages seal a token they write and unseal one they read."""

from __future__ import annotations

import flask
import pytest
from cryptography.fernet import Fernet

from flask_dance.consumer.storage import _sealing

TOKEN = {"access_token": "secret-access", "token_type": "Bearer"}


@pytest.fixture
def keyed_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.config[_sealing.CONFIG_KEY] = [Fernet.generate_key().decode()]
    return app


def test_without_keys_the_token_is_written_as_it_is() -> None:
    app = flask.Flask(__name__)
    with app.app_context():
        assert _sealing.seal(TOKEN, _sealing.binding_of("gh")) is TOKEN
    # outside any app there are no keys either
    assert _sealing.seal(TOKEN) is TOKEN


def test_with_keys_the_token_is_sealed_and_reads_back(keyed_app: flask.Flask) -> None:
    binding = _sealing.binding_of("gh", 7)
    with keyed_app.app_context():
        sealed = _sealing.seal(TOKEN, binding)
        assert _sealing.is_sealed(sealed)
        assert "secret-access" not in repr(sealed)
        assert _sealing.unseal(sealed, "gh", binding) == TOKEN


def test_a_token_sealed_for_another_owner_reads_as_none(
    keyed_app: flask.Flask,
) -> None:
    with keyed_app.app_context():
        sealed = _sealing.seal(TOKEN, _sealing.binding_of("gh", 7))
        assert _sealing.unseal(sealed, "gh", _sealing.binding_of("gh", 8)) is None


def test_what_is_not_sealed_is_read_as_it_is() -> None:
    for stored in (None, TOKEN, {"_fd_enc": 1}, ["_fd_enc"]):
        assert _sealing.unseal(stored, "gh") is stored
