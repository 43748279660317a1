from __future__ import annotations

import pytest

from flask_dance.consumer.storage import BaseStorage
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.consumer.storage import NullStorage


def test_base_storage_is_abstract():
    with pytest.raises(TypeError, match="abstract"):
        BaseStorage()  # type: ignore[abstract]


@pytest.mark.parametrize("missing", ["get", "set", "delete"])
def test_base_storage_requires_all_three_methods(missing):
    methods = {
        "get": lambda self, blueprint: None,
        "set": lambda self, blueprint, token: None,
        "delete": lambda self, blueprint: None,
    }
    del methods[missing]
    partial = type("Partial", (BaseStorage,), methods)
    with pytest.raises(TypeError, match=missing):
        partial()
    methods[missing] = lambda self, *args: None
    complete = type("Complete", (BaseStorage,), methods)
    assert isinstance(complete(), BaseStorage)


def test_null_storage_keeps_nothing(blueprint):
    storage = NullStorage()
    assert storage.get(blueprint) is None
    storage.set(blueprint, {"access_token": "a"})
    assert storage.get(blueprint) is None
    storage.delete(blueprint)
    assert storage.get(blueprint) is None


def test_memory_storage_starts_empty(blueprint):
    assert MemoryStorage().get(blueprint) is None


def test_memory_storage_returns_the_stored_dict(blueprint):
    token = {"access_token": "a"}
    storage = MemoryStorage(token)
    assert storage.get(blueprint) is token
    assert storage.token is token


def test_memory_storage_ignores_extra_arguments(blueprint):
    storage = MemoryStorage({"access_token": "a"}, "extra", flag=True)
    assert storage.get(blueprint) == {"access_token": "a"}


def test_memory_storage_set_and_delete(blueprint, make_blueprint):
    storage = MemoryStorage({"access_token": "a"})
    storage.set(blueprint, {"access_token": "b"})
    # One token for everyone: another blueprint sees the same one.
    assert storage.get(make_blueprint("other")) == {"access_token": "b"}
    storage.delete(blueprint)
    assert storage.get(blueprint) is None
    storage.delete(blueprint)
    assert storage.get(blueprint) is None
