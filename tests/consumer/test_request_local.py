"""Values an app sets on the blueprint or the storage for one request
(``bp.config["user"]``, ``bp.config["user_id"]``, ``storage.user``,
``storage.user_id``, ``bp.storage``) hold for that request only (C42)."""

from __future__ import annotations

import threading
import typing as t
from pathlib import Path
from urllib.parse import parse_qs

import flask
import pytest
import responses as responses_lib
import sqlalchemy as sa
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import relationship
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import sessionmaker

from dance_helpers import BASE
from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import query
from dance_helpers import run_threads
from dance_helpers import TOKEN_URL
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_authorized
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from flask_dance.consumer.storage.sqla import SQLAlchemyStorage
from sqla_compat import column
from sqla_compat import new_base

THREADS = 4
ROUNDS = 3
NAMES = ("alice", "bob")


Base = new_base()


class User(Base):
    __tablename__ = "request_local_user"
    id: Mapped[int] = column(sa.Integer, primary_key=True)
    name: Mapped[str] = column(String(20))


class OAuth(OAuthConsumerMixin, Base):
    __tablename__ = "request_local_oauth"
    user_id: Mapped[int] = column(sa.Integer, ForeignKey(User.id))
    user: Mapped[User] = relationship(User)


class Site(t.NamedTuple):
    app: flask.Flask
    blueprint: OAuth2ConsumerBlueprint
    db: scoped_session[t.Any]
    users: dict[str, User]


#: How to close the databases the current test opened, run after it, last
#: first (a connection left for the garbage collector warns in whichever test
#: runs then).
_CLOSE: list[t.Callable[[], None]] = []


@pytest.fixture(autouse=True)
def _close_databases() -> t.Iterator[None]:
    yield
    while _CLOSE:
        _CLOSE.pop()()


def _site(
    tmp_path: Path, pick: t.Callable[[OAuth2ConsumerBlueprint, User], None]
) -> Site:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tokens.db'}")
    _CLOSE.append(engine.dispose)
    Base.metadata.create_all(engine)
    db = scoped_session(sessionmaker(engine))
    # The test thread's session; the requests' sessions close with them.
    _CLOSE.append(db.remove)
    users = {name: User(name=name) for name in NAMES}
    db.add_all(users.values())
    db.flush()
    for name, user in users.items():
        db.add(OAuth(provider="test-service", user=user, token={"access_token": name}))
    db.commit()
    storage = SQLAlchemyStorage(OAuth, db, user_required=True)
    bp = make_blueprint(storage=storage)
    app = make_app(bp)

    @app.before_request
    def pick_user() -> None:
        user_id = flask.request.headers.get("X-User")
        if user_id:
            user = db.get(User, int(user_id))
            assert user is not None
            pick(bp, user)

    @app.teardown_request
    def close_db(exc: BaseException | None) -> None:
        db.remove()

    return Site(app, bp, db, users)


PICKERS: dict[str, t.Callable[[OAuth2ConsumerBlueprint, User], None]] = {
    "config-user": lambda bp, user: bp.config.__setitem__("user", user),
    "config-user_id": lambda bp, user: bp.config.__setitem__("user_id", user.id),
    "config-update": lambda bp, user: bp.config.update(user_id=user.id),
    "config-assigned": lambda bp, user: setattr(bp, "config", {"user": user}),
    "storage-user": lambda bp, user: setattr(bp.storage, "user", user),
    "storage-user_id": lambda bp, user: setattr(bp.storage, "user_id", user.id),
}


@pytest.mark.parametrize("how", list(PICKERS))
def test_c42_concurrent_users_read_their_own_token(tmp_path: Path, how: str) -> None:
    """Four threads, two users: every request picks its user, all of them
    wait until the others have picked theirs, then read the token."""
    site = _site(tmp_path, PICKERS[how])
    barrier = threading.Barrier(THREADS)
    ids = {name: user.id for name, user in site.users.items()}

    @site.app.route("/whoami")
    def whoami() -> str:
        barrier.wait(timeout=10)
        bp = site.blueprint
        return f"{bp.token['access_token']}|{bp.session.access_token}"

    seen: list[tuple[str, str]] = []

    def work(number: int) -> None:
        name = NAMES[number % 2]
        client = site.app.test_client()
        for _ in range(ROUNDS):
            response = client.get("/whoami", headers={"X-User": str(ids[name])})
            seen.append((name, response.get_data(as_text=True)))

    run_threads(work, THREADS)
    assert len(seen) == THREADS * ROUNDS
    assert all(answer == f"{name}|{name}" for name, answer in seen), seen


@pytest.mark.parametrize("how", ["config-user", "config-user_id", "storage-user_id"])
def test_c42_concurrent_callbacks_store_under_their_own_user(
    tmp_path: Path, how: str, responses: responses_lib.RequestsMock
) -> None:
    """Four callbacks at once, two users: each token is stored under the user
    whose request received it."""
    site = _site(tmp_path, PICKERS[how])
    ids = {name: user.id for name, user in site.users.items()}
    barrier = threading.Barrier(THREADS)

    def token_answer(request: t.Any) -> tuple[int, dict[str, str], str]:
        code = parse_qs(request.body)["code"][0]
        return 200, {}, f'{{"access_token": "new-{code}", "token_type": "Bearer"}}'

    responses.add_callback(
        responses_lib.POST, TOKEN_URL, callback=token_answer, content_type=None
    )

    def wait_for_everyone(sender: t.Any, token: t.Any) -> None:
        barrier.wait(timeout=10)

    def work(number: int) -> None:
        name = NAMES[number % 2]
        headers = {"X-User": str(ids[name])}
        client = site.app.test_client()
        login = client.get("/login/test-service", base_url=BASE, headers=headers)
        state = query(login.headers["Location"])["state"]
        response = client.get(
            f"/login/test-service/authorized?code={name}&state={state}",
            base_url=BASE,
            headers=headers,
        )
        assert response.status_code == 302

    with oauth_authorized.connected_to(wait_for_everyone, sender=site.blueprint):
        run_threads(work, THREADS)
    rows = site.db.execute(sa.select(OAuth.user_id, OAuth.token)).all()
    stored = {user_id: token["access_token"] for user_id, token in rows}
    assert stored == {ids["alice"]: "new-alice", ids["bob"]: "new-bob"}


# -- the mapping --------------------------------------------------------------------


def test_config_set_outside_any_context_is_the_default() -> None:
    bp = make_blueprint()
    bp.config["user_id"] = 7
    app = make_app(bp)
    with app.test_request_context("/"):
        assert bp.config["user_id"] == 7
        assert "user_id" in bp.config
        assert dict(bp.config) == {"user_id": 7}


def test_config_changed_in_a_context_stays_there() -> None:
    bp = make_blueprint()
    bp.config["user_id"] = 7
    app = make_app(bp)
    with app.test_request_context("/"):
        bp.config["user_id"] = 8
        bp.config["user"] = "someone"
        del bp.config["user"]
        bp.config.setdefault("extra", 1)
        assert bp.config.pop("extra") == 1
        assert dict(bp.config) == {"user_id": 8}
        assert len(bp.config) == 1
        assert list(bp.config) == ["user_id"]
        with app.app_context():  # another context starts from the defaults
            assert bp.config.get("user_id") == 7
        bp.config.clear()
        assert bp.config.get("user_id") is None
        assert bp.config == {}
    with app.test_request_context("/"):
        assert bp.config == {"user_id": 7}
    assert bp.config.copy() == {"user_id": 7}


def test_config_assignment_replaces_the_values_of_its_context() -> None:
    bp = make_blueprint()
    bp.config = {"user_id": 1}
    app = make_app(bp)
    with app.app_context():
        bp.config = {"user": "u"}
        assert bp.config == {"user": "u"}
        assert "user_id" not in bp.config
    assert bp.config == {"user_id": 1}
    assert repr(bp.config) == "RequestConfig({'user_id': 1})"


def test_storage_user_set_in_a_context_stays_there(tmp_path: Path) -> None:
    storage = SQLAlchemyStorage(OAuth, scoped_session(sessionmaker()), user_id=1)
    app = flask.Flask(__name__)
    with app.app_context():
        storage.user_id = 2
        storage.user = "u"
        assert (storage.user_id, storage.user) == (2, "u")
        del storage.user
        assert storage.user is None
    assert (storage.user_id, storage.user) == (1, None)
    storage.user_id = 3
    with app.app_context():
        assert storage.user_id == 3
    with app.app_context():
        # a storage made inside a context keeps its constructor's user
        made_inside = SQLAlchemyStorage(OAuth, scoped_session(sessionmaker()), user=4)
    assert made_inside.user == 4


def test_storage_assigned_during_a_request_serves_that_request_only() -> None:
    default = MemoryStorage({"access_token": "default"})
    bp = make_blueprint(storage=default)
    app = make_app(bp)
    with app.test_request_context("/"):
        bp.storage = MemoryStorage({"access_token": "this-request"})
        assert bp.token["access_token"] == "this-request"
    with app.test_request_context("/"):
        assert bp.storage is default
    set_up = MemoryStorage({"access_token": "set-up"})
    with app.app_context():  # set-up code, outside any request
        bp.storage = set_up
    assert bp.storage is set_up
    with app.test_request_context("/"):
        assert bp.token["access_token"] == "set-up"
