"""Pending logins kept in the browser session."""

from __future__ import annotations

import time
import typing as t

import flask
import pytest
import responses as responses_lib
from flask.testing import FlaskClient
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from dance_helpers import callback
from dance_helpers import make_app
from dance_helpers import start_login
from flask_dance.consumer._pending import MAX_PENDING
from flask_dance.consumer._pending import PendingLogin
from flask_dance.consumer._pending import PendingLogins
from flask_dance.consumer.storage import MemoryStorage

KEY = "svc_oauth_pending"


@pytest.fixture
def ctx() -> t.Iterator[None]:
    app = flask.Flask(__name__)
    app.secret_key = "k"
    with app.test_request_context("/"):
        yield


def test_record_round_trip() -> None:
    record = PendingLogin(
        key="s",
        created_at=5.0,
        code_verifier="v",
        nonce="n",
        next_url="/x",
        redirect_uri="https://a/cb",
        secret="sec",
        max_age=60,
    )
    data = record.to_session()
    assert data == {
        "t": 5.0,
        "v": "v",
        "n": "n",
        "next": "/x",
        "r": "https://a/cb",
        "s": "sec",
        "m": 60,
    }
    assert PendingLogin.from_session("s", data) == record
    assert PendingLogin(key="k", created_at=1).to_session() == {"t": 1}


@pytest.mark.parametrize("data", [None, "x", [], {}, {"t": "yesterday"}])
def test_malformed_records_are_ignored(data: t.Any) -> None:
    assert PendingLogin.from_session("k", data) is None


@pytest.fixture
def frozen() -> t.Iterator[FrozenDateTimeFactory]:
    with freeze_time("2026-01-01 00:00:00") as frozen:
        yield t.cast(FrozenDateTimeFactory, frozen)


@pytest.mark.usefixtures("ctx")
def test_add_consume_once() -> None:
    pending = PendingLogins("svc")
    pending.add(PendingLogin(key="a", created_at=0, code_verifier="va"), legacy=False)
    assert "svc_oauth_state" not in flask.session
    with freeze_time("1970-01-01 00:01:00"):
        assert pending.has_key("a")
        assert not pending.has_key("b")
        assert not pending.has_key(None)
        assert pending.has_any()
        record = pending.consume("a")
        assert record is not None
        assert record.code_verifier == "va"
        assert pending.consume("a") is None
        assert not pending.has_any()
    assert KEY not in flask.session


@pytest.mark.usefixtures("ctx")
def test_expired_records_are_dropped(frozen: FrozenDateTimeFactory) -> None:
    pending = PendingLogins("svc", ttl=10)
    pending.add(PendingLogin(key="old", created_at=frozen().timestamp()))
    frozen.tick(11)
    assert not pending.has_key("old")
    pending.add(PendingLogin(key="new", created_at=frozen().timestamp()))
    assert set(flask.session[KEY]) == {"new"}
    frozen.tick(11)
    assert pending.consume("new") is None
    assert KEY not in flask.session


@pytest.mark.usefixtures("ctx")
def test_expired_legacy_state_goes_with_its_record(
    frozen: FrozenDateTimeFactory,
) -> None:
    pending = PendingLogins("svc", ttl=10)
    pending.add(PendingLogin(key="a", created_at=frozen().timestamp()))
    assert flask.session["svc_oauth_state"] == "a"
    frozen.tick(11)
    assert pending.consume("other") is None
    assert "svc_oauth_state" not in flask.session


@pytest.mark.usefixtures("ctx")
def test_malformed_session_content_is_ignored() -> None:
    flask.session[KEY] = "garbage"
    pending = PendingLogins("svc")
    assert not pending.has_any()
    assert pending.consume("x") is None
    flask.session[KEY] = {"x": {"t": "bad"}}
    assert pending.consume("x") is None
    assert KEY not in flask.session


@pytest.mark.usefixtures("ctx")
def test_only_the_newest_logins_are_kept() -> None:
    pending = PendingLogins("svc")
    with freeze_time("2026-01-01 00:00:00") as frozen:
        now = frozen().timestamp()
        for number in range(MAX_PENDING + 2):
            pending.add(PendingLogin(key=f"s{number}", created_at=now + number))
    kept = set(flask.session[KEY])
    assert len(kept) == MAX_PENDING
    assert "s0" not in kept
    assert "s1" not in kept
    assert f"s{MAX_PENDING + 1}" in kept


@pytest.mark.usefixtures("ctx")
def test_legacy_state_set_by_hand() -> None:
    flask.session["svc_oauth_state"] = "by-hand"
    pending = PendingLogins("svc")
    assert pending.has_key("by-hand")
    assert pending.has_any()
    record = pending.consume("by-hand")
    assert record is not None
    assert record.code_verifier is None
    assert "svc_oauth_state" not in flask.session


@pytest.mark.usefixtures("ctx")
def test_legacy_keys_follow_the_latest_login() -> None:
    pending = PendingLogins("svc")
    pending.add(PendingLogin(key="a", created_at=time.time(), code_verifier="va"))
    pending.add(PendingLogin(key="b", created_at=time.time()))
    assert flask.session["svc_oauth_state"] == "b"
    assert "svc_oauth_code_verifier" not in flask.session
    record = pending.consume("a")
    assert record is not None
    assert record.code_verifier == "va"
    assert flask.session["svc_oauth_state"] == "b"


def test_callback_without_state_is_rejected(
    token_endpoint: responses_lib.RequestsMock,
    client: FlaskClient,
) -> None:
    params = start_login(client)
    response = callback(client, code="c")
    assert params["state"] in flask.session["test-service_oauth_pending"]
    assert response.status_code == 302
    assert len(token_endpoint.calls) == 0


def test_oldest_of_too_many_tabs_is_forgotten(
    token_endpoint: responses_lib.RequestsMock,
) -> None:
    app = make_app(storage=MemoryStorage())
    with freeze_time("2026-01-01 00:00:00") as frozen, app.test_client() as client:
        states = []
        for _ in range(MAX_PENDING + 1):
            states.append(start_login(client)["state"])
            frozen.tick(1)
        callback(client, code="c", state=states[0])
        assert len(token_endpoint.calls) == 0
        callback(client, code="c", state=states[-1])
        assert len(token_endpoint.calls) == 1
