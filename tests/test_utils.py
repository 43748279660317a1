"""The compatibility helpers of ``flask_dance.utils``, as Flask-Dance 7.1
apps call them."""

from __future__ import annotations

import types

import pytest

from flask_dance.utils import FakeCache
from flask_dance.utils import first
from flask_dance.utils import getattrd


def test_fake_cache_remembers_nothing() -> None:
    cache = FakeCache()
    cache.set("key", "value", 60)
    assert cache.get("key") is None
    cache.delete("key")
    assert cache.get("key") is None


@pytest.mark.parametrize(
    ("items", "kwargs", "expected"),
    [
        ([0, "", 3, 4], {}, 3),
        ([0, None], {}, None),
        ([0, None], {"default": "nothing"}, "nothing"),
        ([1, 2, 3, 4], {"key": lambda n: n % 2 == 0}, 2),
        ([1, 3], {"key": lambda n: n > 5, "default": 0}, 0),
    ],
    ids=["truthy", "none-found", "default", "key", "key-and-default"],
)
def test_first(
    items: list[object], kwargs: dict[str, object], expected: object
) -> None:
    assert first(items, **kwargs) == expected  # type: ignore[arg-type]


def test_getattrd_follows_a_dotted_path() -> None:
    obj = types.SimpleNamespace(session=types.SimpleNamespace(client_id="cid"))
    assert getattrd(obj, "session.client_id") == "cid"
    assert getattrd(obj, "session.missing", None) is None
    assert getattrd(obj, "nothing.here", "fallback") == "fallback"
    with pytest.raises(AttributeError):
        getattrd(obj, "session.missing")
