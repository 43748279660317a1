"""How SQLAlchemyStorage reads and writes through a cache."""

from __future__ import annotations

import typing as t
import uuid

import pytest
from flask_caching import Cache

from flask_dance.consumer.storage.sqla import SQLAlchemyStorage

from ..conftest import _who
from ..conftest import OAuth
from ..conftest import SERVICE

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
