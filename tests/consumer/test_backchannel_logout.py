"""Receiving back-channel logouts (OpenID Connect Back-Channel Logout 1.0)
and checking stored tokens against them, end to end against the local
provider."""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

import flask
import pytest
from cachelib import SimpleCache
from sqlalchemy import Integer
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from dance_helpers import Sends
from flask_dance.consumer import CacheLogoutStore
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_backchannel_logout
from flask_dance.consumer.storage import BaseStorage
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from flask_dance.consumer.storage.sqla import SQLAlchemyStorage
from flask_dance.consumer.storage.sqla_logout import LogoutRecordMixin
from flask_dance.consumer.storage.sqla_logout import SQLAlchemyLogoutStore
from flask_dance.testing import LocalProvider

from .conftest import corp_blueprint
from .conftest import CORP_REDIRECT
from .conftest import memory_database

REDIRECT = CORP_REDIRECT
LOGOUT_PATH = "/login/corp/backchannel-logout"


class Base(DeclarativeBase):
    pass


class BackchannelToken(OAuthConsumerMixin, Base):
    __tablename__ = "fapi_backchannel_tokens"
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


@pytest.fixture(autouse=True)
def corp_client(local: LocalProvider) -> None:
    local.add_client("corp-client", "corp-secret", [REDIRECT])


@pytest.fixture
def events(record: t.Callable[..., Sends]) -> Sends:
    return record(oauth_backchannel_logout)


def deliver(app: flask.Flask, logout_token: str) -> t.Any:
    """Post a logout token to the app's back-channel logout route."""
    return app.test_client().post(LOGOUT_PATH, data={"logout_token": logout_token})


def make_app(
    local: LocalProvider, storage: BaseStorage | None = None, **kwargs: t.Any
) -> tuple[OAuth2ConsumerBlueprint, flask.Flask]:
    bp, app = corp_blueprint(local, storage, backchannel_logout=True, **kwargs)

    @app.route("/me")
    def me() -> str:
        return "in" if bp.session.authorized else "out"

    return bp, app


def login(local: LocalProvider, client: t.Any, user: str = "octocat") -> None:
    response = client.get("/login/corp")
    result = local.authorize(response.headers["Location"], user=user)
    path = urlsplit(result.url)
    response = client.get(path.path + "?" + path.query)
    assert response.headers["Location"] == "/"


def claims_of(bp: OAuth2ConsumerBlueprint, app: flask.Flask, client: t.Any) -> t.Any:
    with client.session_transaction() as session:
        return session["corp_oauth_token"]["id_token_claims"]


def test_cookie_token_is_dropped_on_the_next_request(
    local: LocalProvider, events: list[dict[str, t.Any]]
) -> None:
    bp, app = make_app(local)
    browser, provider_side = app.test_client(), app.test_client()
    login(local, browser)
    assert browser.get("/me").data == b"in"
    claims = claims_of(bp, app, browser)
    token = local.logout_token("corp-client", sid=claims["sid"])
    response = provider_side.post(LOGOUT_PATH, data={"logout_token": token})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert events[0]["user_request"] is False
    assert events[0]["claims"]["sid"] == claims["sid"]
    assert browser.get("/me").data == b"out"
    assert events[1]["user_request"] is True
    assert events[1]["claims"]["sub"] == claims["sub"]
    with browser.session_transaction() as session:
        assert "corp_oauth_token" not in session
    # a new login is not affected by the old logout
    login(local, browser)
    assert browser.get("/me").data == b"in"
    assert len(events) == 2


def test_logout_of_another_session_keeps_this_one(local: LocalProvider) -> None:
    bp, app = make_app(local)
    with app.test_client() as browser:
        login(local, browser)
        token = local.logout_token("corp-client", sid="another-session")
        assert deliver(app, token).status_code == 200
        assert browser.get("/me").data == b"in"


def test_sub_only_logout_ends_every_session_of_the_user(local: LocalProvider) -> None:
    bp, app = make_app(local)
    one, two = app.test_client(), app.test_client()
    login(local, one)
    login(local, two)
    sub = claims_of(bp, app, one)["sub"]
    token = local.logout_token("corp-client", sub=sub)
    assert deliver(app, token).status_code == 200
    assert one.get("/me").data == b"out"
    assert two.get("/me").data == b"out"


def test_replayed_jti_is_refused(local: LocalProvider) -> None:
    bp, app = make_app(local)
    token = local.logout_token("corp-client", sub="someone")
    client = app.test_client()
    assert client.post(LOGOUT_PATH, data={"logout_token": token}).status_code == 200
    again = client.post(LOGOUT_PATH, data={"logout_token": token})
    assert again.status_code == 400
    assert again.json is not None
    assert again.json["error"] == "invalid_request"
    assert "already used" in again.json["error_description"]
    assert again.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"nonce": "n"}, id="nonce"),
        pytest.param({"events": None}, id="no-events"),
        pytest.param({"events": {"other": {}}}, id="other-event"),
        pytest.param({"aud": "someone-else"}, id="audience"),
        pytest.param({"iss": "https://evil.example"}, id="issuer"),
        pytest.param({"jti": None}, id="no-jti"),
        pytest.param({"sub": None}, id="no-sub-or-sid"),
    ],
)
def test_invalid_logout_tokens_are_refused(
    local: LocalProvider,
    events: list[dict[str, t.Any]],
    overrides: dict[str, t.Any],
) -> None:
    bp, app = make_app(local)
    claims = {"sub": "someone", **overrides}
    token = local.logout_token("corp-client", **claims)
    response = deliver(app, token)
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"
    assert events == []


def test_missing_logout_token_and_get_are_refused(local: LocalProvider) -> None:
    bp, app = make_app(local)
    client = app.test_client()
    response = client.post(LOGOUT_PATH, data={})
    assert response.status_code == 400
    assert client.get(LOGOUT_PATH).status_code == 405


def test_route_exists_only_when_enabled(local: LocalProvider) -> None:
    bp = OAuth2ConsumerBlueprint("plain", __name__, issuer=local.issuer)
    app = flask.Flask(__name__)
    app.register_blueprint(bp, url_prefix="/login")
    response = app.test_client().post("/login/plain/backchannel-logout")
    assert response.status_code == 404
    with pytest.raises(ValueError, match="issuer"):
        OAuth2ConsumerBlueprint("x", __name__, backchannel_logout=True)


def test_server_side_tokens_are_deleted(local: LocalProvider) -> None:
    with memory_database(Base) as db:
        storage = SQLAlchemyStorage(BackchannelToken, db)
        bp, app = make_app(local, storage)

        @app.before_request
        def pick_user() -> None:
            bp.config["user_id"] = int(flask.request.headers.get("X-User", "0"))

        octo = app.test_client()
        octo.environ_base["HTTP_X_USER"] = "1"
        mona = app.test_client()
        mona.environ_base["HTTP_X_USER"] = "2"
        login(local, octo, "octocat")
        login(local, mona, "monalisa")
        rows = db.query(BackchannelToken).order_by(BackchannelToken.user_id).all()
        assert [row.user_id for row in rows] == [1, 2]
        sub = rows[0].token["id_token_claims"]["sub"]
        token = local.logout_token("corp-client", sub=sub)
        response = deliver(app, token)
        assert response.status_code == 200
        db.expire_all()
        assert [row.user_id for row in db.query(BackchannelToken)] == [2]
        assert octo.get("/me").data == b"out"
        assert mona.get("/me").data == b"in"


def test_memory_storage_token_is_deleted(local: LocalProvider) -> None:
    storage = MemoryStorage()
    bp, app = make_app(local, storage)
    with app.test_client() as browser:
        login(local, browser)
    sub = storage.get(bp)["id_token_claims"]["sub"]
    token = local.logout_token("corp-client", sub=sub)
    assert deliver(app, token).status_code == 200
    assert storage.token is None


def test_cache_store_is_shared_between_app_instances(local: LocalProvider) -> None:
    """Two processes of one app, sharing the app's cache: the logout arrives
    at one, the user's next request at the other."""
    cache = SimpleCache()
    bp_a, app_a = make_app(local, backchannel_logout_store=CacheLogoutStore(cache))
    bp_b, app_b = make_app(local, backchannel_logout_store=CacheLogoutStore(cache))
    with app_b.test_client() as browser:
        login(local, browser)
        sid = claims_of(bp_b, app_b, browser)["sid"]
        token = local.logout_token("corp-client", sid=sid)
        response = deliver(app_a, token)
        assert response.status_code == 200
        assert browser.get("/me").data == b"out"
    replay = app_b.test_client().post(LOGOUT_PATH, data={"logout_token": token})
    assert replay.status_code == 400


def test_provider_sends_to_the_registered_uri(local: LocalProvider) -> None:
    with pytest.raises(ValueError, match="backchannel_logout_uri"):
        local.send_backchannel_logout("corp-client", sub="x")


class LogoutRecord(LogoutRecordMixin, Base):
    __tablename__ = "fapi_backchannel_logouts"


def test_sqlalchemy_logout_store(local: LocalProvider) -> None:
    with memory_database(Base) as db:
        store = SQLAlchemyLogoutStore(LogoutRecord, db)
        bp, app = make_app(local, backchannel_logout_store=store)
        browser = app.test_client()
        login(local, browser)
        sid = claims_of(bp, app, browser)["sid"]
        token = local.logout_token("corp-client", sid=sid)
        assert deliver(app, token).status_code == 200
        assert browser.get("/me").data == b"out"
        replay = deliver(app, token)
        assert replay.status_code == 400
        keys = sorted(row.key.split("|")[1] for row in db.query(LogoutRecord))
        assert keys == ["jti", "sid"]


class BrokenStore:
    """A logout store whose backend is down."""

    def add(self, key: str, value: float, ttl: float) -> bool:
        raise ConnectionError("down")

    def put(self, key: str, value: float, ttl: float) -> None:
        raise ConnectionError("down")

    def get(self, key: str) -> float | None:
        raise ConnectionError("down")


def test_a_failing_store_neither_loses_a_logout_silently_nor_breaks_pages(
    local: LocalProvider, caplog: pytest.LogCaptureFixture
) -> None:
    bp, app = make_app(local, backchannel_logout_store=BrokenStore())
    browser = app.test_client()
    login(local, browser)
    assert browser.get("/me").data == b"in"
    token = local.logout_token("corp-client", sub="alice")
    response = deliver(app, token)
    assert response.status_code == 400
    assert response.json is not None
    assert "could not be recorded" in response.json["error_description"]
    assert "ConnectionError" in caplog.text
