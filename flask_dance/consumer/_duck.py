"""Reading the hooks of objects that may be stand-ins.

A session may be built with any blueprint-like object (tests use
:class:`unittest.mock.Mock`, which makes up every attribute asked for), and a
blueprint may be given any storage: the private hooks of ours are used only
when the object's class really has them."""

from __future__ import annotations

import typing as t


def hook(owner: t.Any, name: str) -> t.Any:
    """``owner``'s attribute ``name`` if its class defines it, else ``None``.

    A session may be built with any blueprint-like object (tests use
    :class:`unittest.mock.Mock`, which makes up every attribute asked for):
    the private hooks of our blueprints and storages are used only when the
    object's class really has them.

    :param owner: A blueprint, storage or anything standing in for one.
    :param name: The attribute.
    """
    if owner is None or getattr(type(owner), name, None) is None:
        return None
    return getattr(owner, name)


def text_attr(owner: t.Any, name: str) -> str | None:
    """``owner``'s attribute ``name`` if it is a string, else ``None``."""
    value = getattr(owner, name, None)
    return value if isinstance(value, str) else None
