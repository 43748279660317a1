"""Whose row a call of SQLAlchemyStorage reads and writes: ``user``,
``user_id``, the blueprint's config and Flask-Login's current user; and
the reads through the cache."""

from __future__ import annotations

import typing as t
import uuid

import pytest
from flask_caching import Cache
from flask_login import current_user
from flask_login import login_user
from flask_login import LoginManager

from flask_dance.consumer.storage.sqla import SQLAlchemyStorage
from flask_dance.utils import FakeCache

from ..conftest import _add
from ..conftest import _rows
from ..conftest import _who
from ..conftest import ById
from ..conftest import OAuth
from ..conftest import SERVICE
from ..conftest import User

# -- whose token: user, user_id, blueprint.config -------------------------------


@pytest.fixture
def three_tokens(lite, users):
    for person in users:
        _add(lite, user=person, token={"access_token": person.name})
    return users


def test_user_id_resolution_order(lite, three_tokens, blueprint):
    alice, bob, carol = three_tokens
    storage = SQLAlchemyStorage(OAuth, lite, user_id=bob.id)
    blueprint.config["user_id"] = carol.id
    assert _who(storage.get(blueprint, user_id=alice.id)) == "alice"
    assert _who(storage.get(blueprint)) == "bob"
    assert _who(SQLAlchemyStorage(OAuth, lite).get(blueprint)) == "carol"


def test_user_resolution_order(lite, three_tokens, blueprint):
    alice, bob, carol = three_tokens
    storage = SQLAlchemyStorage(OAuth, lite, user=bob)
    blueprint.config["user"] = carol
    assert _who(storage.get(blueprint, user=alice)) == "alice"
    assert _who(storage.get(blueprint)) == "bob"
    assert _who(SQLAlchemyStorage(OAuth, lite).get(blueprint)) == "carol"


def test_user_id_wins_over_user(lite, three_tokens, blueprint):
    alice, bob, carol = three_tokens
    storage = SQLAlchemyStorage(OAuth, lite, user=alice)
    assert _who(storage.get(blueprint, user_id=bob.id)) == "bob"
    blueprint.config["user_id"] = carol.id
    assert _who(storage.get(blueprint)) == "carol"
    assert _who(storage.get(blueprint, user=bob)) == "carol"


def test_set_with_user_and_user_id_stores_under_user_id(lite, users, blueprint):
    alice, bob, _ = users
    storage = SQLAlchemyStorage(OAuth, lite)
    storage.set(blueprint, {"access_token": "t"}, user=alice, user_id=bob.id)
    assert [row.user_id for row in _rows(lite)] == [bob.id]
    storage.set(blueprint, {"access_token": "u"}, user=alice, user_id=bob.id)
    assert [_who(row.token) for row in _rows(lite)] == ["u"]
    assert storage.get(blueprint, user=alice) is None


@pytest.mark.usefixtures("users")
def test_pending_user_without_id(lite, blueprint):
    dora = User(name="dora")
    lite.add(dora)
    storage = SQLAlchemyStorage(OAuth, lite, user=dora)
    key = storage.make_cache_key(blueprint)
    assert key != f"flask_dance_token|{SERVICE}|None"
    storage.set(blueprint, {"access_token": "dora"})
    assert dora.id is not None
    assert [(row.user_id, _who(row.token)) for row in _rows(lite)] == [
        (dora.id, "dora")
    ]
    assert storage.make_cache_key(blueprint) == f"flask_dance_token|{SERVICE}|{dora.id}"


def test_config_picks_the_user_for_set_and_delete(lite, users, blueprint):
    alice, bob, _ = users
    storage = SQLAlchemyStorage(OAuth, lite)
    blueprint.config["user"] = alice
    storage.set(blueprint, {"access_token": "alice"})
    blueprint.config["user"] = bob
    storage.set(blueprint, {"access_token": "bob"})
    assert [(row.user_id, _who(row.token)) for row in _rows(lite)] == [
        (alice.id, "alice"),
        (bob.id, "bob"),
    ]
    storage.delete(blueprint)
    assert [row.user_id for row in _rows(lite)] == [alice.id]


def test_user_may_be_a_callable(lite, three_tokens, blueprint):
    bob = three_tokens[1]
    storage = SQLAlchemyStorage(OAuth, lite, user=lambda: bob)
    assert storage.user_required
    assert _who(storage.get(blueprint)) == "bob"


def test_user_required_defaults(lite):
    assert not SQLAlchemyStorage(OAuth, lite).user_required
    assert SQLAlchemyStorage(OAuth, lite, user=current_user).user_required
    assert SQLAlchemyStorage(OAuth, lite, user_id=0).user_required
    assert not SQLAlchemyStorage(
        OAuth, lite, user_id=1, user_required=False
    ).user_required
    assert SQLAlchemyStorage(OAuth, lite, user_required=True).user_required


@pytest.mark.parametrize("verb", ["get", "set", "delete"])
@pytest.mark.usefixtures("users")
def test_missing_required_user_raises(lite, blueprint, verb):
    _add(lite, token={"access_token": "anon"})
    storage = SQLAlchemyStorage(OAuth, lite, user=lambda: None)
    args = (blueprint, {"access_token": "a"}) if verb == "set" else (blueprint,)
    with pytest.raises(ValueError, match="without an associated user") as exc_info:
        getattr(storage, verb)(*args)
    assert (
        str(exc_info.value) == f"Cannot {verb} OAuth token without an associated user"
    )
    assert [_who(row.token) for row in _rows(lite)] == ["anon"]


def test_user_id_zero_is_a_user(lite, blueprint):
    storage = SQLAlchemyStorage(ById, lite, user_id=0)
    storage.set(blueprint, {"access_token": "zero"})
    assert [row.user_id for row in _rows(lite, ById)] == [0]


def test_defaults(lite):
    storage = SQLAlchemyStorage(OAuth, lite)
    assert isinstance(storage.cache, FakeCache)
    from flask_login import AnonymousUserMixin

    assert storage.anon_user is AnonymousUserMixin


# -- Flask-Login ---------------------------------------------------------------


@pytest.fixture
def login_app(app, lite):
    manager = LoginManager(app)

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        return lite.get(User, int(user_id))

    return app


def test_flask_login_current_user(login_app, lite, users, blueprint):
    alice, bob, _ = users
    storage = SQLAlchemyStorage(OAuth, lite, user=current_user)
    with login_app.test_request_context("/"):
        login_user(alice)
        storage.set(blueprint, {"access_token": "alice"})
    with login_app.test_request_context("/"):
        login_user(bob)
        assert storage.get(blueprint) is None
        storage.set(blueprint, {"access_token": "bob"})
        assert _who(storage.get(blueprint)) == "bob"
    assert [(row.user_id, _who(row.token)) for row in _rows(lite)] == [
        (alice.id, "alice"),
        (bob.id, "bob"),
    ]


def test_flask_login_through_requests(login_app, lite, users, blueprint):
    alice, bob, _ = users
    storage = SQLAlchemyStorage(OAuth, lite, user=current_user)

    @login_app.route("/login/<int:user_id>")
    def log_in(user_id: int) -> str:
        login_user(lite.get(User, user_id))
        return "ok"

    @login_app.route("/store/<value>")
    def store(value: str) -> str:
        storage.set(blueprint, {"access_token": value})
        return "ok"

    @login_app.route("/read")
    def read() -> dict[str, t.Any]:
        return {"token": storage.get(blueprint)}

    as_alice, as_bob = login_app.test_client(), login_app.test_client()
    as_alice.get(f"/login/{alice.id}")
    as_bob.get(f"/login/{bob.id}")
    as_alice.get("/store/alice-token")
    as_bob.get("/store/bob-token")
    assert as_alice.get("/read").json == {"token": {"access_token": "alice-token"}}
    assert as_bob.get("/read").json == {"token": {"access_token": "bob-token"}}

    anonymous = login_app.test_client()
    with pytest.raises(ValueError, match="without an associated user"):
        anonymous.get("/read")


def test_flask_login_anonymous_user_is_no_user(login_app, lite, users, blueprint):
    _add(lite, user=users[0], token={"access_token": "alice"})
    storage = SQLAlchemyStorage(OAuth, lite, user=current_user, user_required=False)
    with login_app.test_request_context("/"):
        assert current_user.is_anonymous
        assert storage.get(blueprint) is None
        storage.set(blueprint, {"access_token": "anon"})
        assert _who(storage.get(blueprint)) == "anon"
    assert [(row.user_id, _who(row.token)) for row in _rows(lite)] == [
        (users[0].id, "alice"),
        (None, "anon"),
    ]


def test_custom_anonymous_user_classes(login_app, lite, blueprint):
    class Guest:
        is_anonymous = True
        is_authenticated = False
        is_active = False

        def get_id(self) -> None:
            return None

    class Visitor:
        """Anonymous only through ``anon_user``."""

    login_app.login_manager.anonymous_user = Guest
    storage = SQLAlchemyStorage(OAuth, lite, user=current_user)
    with login_app.test_request_context("/"):
        assert isinstance(current_user._get_current_object(), Guest)
        with pytest.raises(ValueError, match="Cannot get OAuth token without"):
            storage.get(blueprint)
    storage = SQLAlchemyStorage(OAuth, lite, user=Visitor(), anon_user=Visitor)
    with pytest.raises(ValueError, match="Cannot set OAuth token without"):
        storage.set(blueprint, {"access_token": "a"})


def test_current_user_outside_a_request_is_no_user(lite, blueprint):
    storage = SQLAlchemyStorage(OAuth, lite, user=current_user)
    with pytest.raises(ValueError, match="Cannot get OAuth token without"):
        storage.get(blueprint)


# -- the cache -----------------------------------------------------------------


@pytest.fixture(params=["SimpleCache", "RedisCache"])
def cache(request, app):
    config: dict[str, t.Any] = {"CACHE_TYPE": request.param}
    if request.param == "RedisCache":
        config["CACHE_REDIS_URL"] = request.getfixturevalue("redis_url")
        config["CACHE_KEY_PREFIX"] = f"fd-test-{uuid.uuid4().hex}-"
    cache = Cache(app, config=config)
    assert type(cache.cache).__name__ == request.param
    yield cache
    with app.app_context():
        cache.clear()


def test_cache_hit_miss_and_invalidation(session, users, blueprint, cache, sql):
    alice_id = users[0].id
    storage = SQLAlchemyStorage(OAuth, session, user_id=alice_id, cache=cache)
    key = f"flask_dance_token|{SERVICE}|{alice_id}"
    assert storage.make_cache_key(blueprint) == key

    sql.clear()
    assert storage.get(blueprint) is None
    assert sql.verbs == ["SELECT"]
    assert storage.get(blueprint) is None  # a cached "no token"
    assert sql.verbs == ["SELECT"]

    storage.set(blueprint, {"access_token": "a"})
    assert cache.get(key) is None
    sql.clear()
    assert storage.get(blueprint) == {"access_token": "a"}
    assert sql.verbs == ["SELECT"]
    assert cache.get(key) == {"access_token": "a"}
    assert storage.get(blueprint) == {"access_token": "a"}
    assert sql.verbs == ["SELECT"]

    storage.set(blueprint, {"access_token": "b"})
    assert storage.get(blueprint) == {"access_token": "b"}

    storage.delete(blueprint)
    assert cache.get(key) is None
    sql.clear()
    assert storage.get(blueprint) is None
    assert sql.verbs == ["SELECT"]


def test_cache_keys_per_user_and_provider(lite, users, make_blueprint, cache):
    alice, bob, _ = users
    github, gitlab = make_blueprint("github"), make_blueprint("gitlab")
    storage = SQLAlchemyStorage(OAuth, lite, cache=cache)
    storage.set(github, {"access_token": "alice-gh"}, user=alice)
    storage.set(github, {"access_token": "bob-gh"}, user_id=bob.id)
    storage.set(gitlab, {"access_token": "alice-gl"}, user=alice)
    storage.set(github, {"access_token": "anon-gh"})
    assert _who(storage.get(github, user=alice)) == "alice-gh"
    assert _who(storage.get(github, user=bob)) == "bob-gh"
    assert _who(storage.get(gitlab, user_id=alice.id)) == "alice-gl"
    assert _who(storage.get(github)) == "anon-gh"
    assert cache.get(f"flask_dance_token|github|{alice.id}") == {
        "access_token": "alice-gh"
    }
    assert cache.get(f"flask_dance_token|github|{bob.id}") == {"access_token": "bob-gh"}
    assert cache.get("flask_dance_token|github|None") == {"access_token": "anon-gh"}
    storage.delete(github, user=alice)
    assert storage.get(github, user=alice) is None
    assert _who(storage.get(github, user=bob)) == "bob-gh"


def test_redis_cache_stores_in_redis(lite, users, blueprint, redis_url, app):
    import redis

    prefix = f"fd-test-{uuid.uuid4().hex}-"
    cache = Cache(
        app,
        config={
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": prefix,
        },
    )
    client = redis.Redis.from_url(redis_url)
    key = f"{prefix}flask_dance_token|{SERVICE}|{users[0].id}"
    try:
        storage = SQLAlchemyStorage(OAuth, lite, user=users[0], cache=cache)
        storage.set(blueprint, {"access_token": "a"})
        assert not client.exists(key)
        storage.get(blueprint)
        assert client.exists(key)
        # No timeout is passed: the cache's default applies.
        assert 0 < client.ttl(key) <= 300
        storage.delete(blueprint)
        assert not client.exists(key)
    finally:
        client.delete(key)
        client.close()


def test_cache_shared_by_two_storages_sees_writes(lite, users, blueprint, cache):
    alice = users[0]
    reader = SQLAlchemyStorage(OAuth, lite, user=alice, cache=cache)
    writer = SQLAlchemyStorage(OAuth, lite, user_id=alice.id, cache=cache)
    assert reader.get(blueprint) is None
    writer.set(blueprint, {"access_token": "a"})
    assert reader.get(blueprint) == {"access_token": "a"}
