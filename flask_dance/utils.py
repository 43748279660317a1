"""Small helpers kept for compatibility with Flask-Dance 7.1."""

from __future__ import annotations

import typing as t
from functools import reduce

_T = t.TypeVar("_T")

#: A unique marker for "no value given".
sentinel: t.Any = object()


class FakeCache:
    """A cache that remembers nothing, used when no real cache is configured."""

    def get(self, key: str) -> None:
        """Return nothing.

        :param key: Ignored.
        """
        return None

    def set(self, key: str, value: t.Any, *args: t.Any, **kwargs: t.Any) -> None:
        """Remember nothing.

        :param key: Ignored.
        :param value: Ignored.
        """
        return None

    def delete(self, key: str) -> None:
        """Forget nothing.

        :param key: Ignored.
        """
        return None


def first(
    iterable: t.Iterable[_T],
    default: _T | None = None,
    key: t.Callable[[_T], t.Any] | None = None,
) -> _T | None:
    """Return the first truthy element of ``iterable``, or the first one for
    which ``key`` returns a truthy value.

    :param iterable: The elements to look through.
    :param default: What to return when no element qualifies.
    :param key: An optional predicate.
    """
    for element in iterable:
        if key(element) if key is not None else element:
            return element
    return default


def getattrd(obj: t.Any, name: str, default: t.Any = sentinel) -> t.Any:
    """Like :func:`getattr`, but ``name`` may be a dotted path such as
    ``"session.client_id"``.

    :param obj: The object to start from.
    :param name: The attribute path.
    :param default: Returned when an attribute on the path is missing. Without
        it, :class:`AttributeError` is raised.
    """
    try:
        return reduce(getattr, name.split("."), obj)
    except AttributeError:
        if default is not sentinel:
            return default
        raise
