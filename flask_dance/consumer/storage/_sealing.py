"""How the storages seal a token they write and unseal one they read.

Encryption (:mod:`._crypto`, with ``cryptography`` behind it) is imported
only when it is used: when the app configures ``FLASK_DANCE_TOKEN_KEYS``
and a token is written, or when a sealed token is read. An app that never
encrypts tokens never loads it.
"""

from __future__ import annotations

import typing as t

from .._request_local import app_context
from ._envelope import binding_of as binding_of
from ._envelope import CONFIG_KEY
from ._envelope import is_sealed as is_sealed

if t.TYPE_CHECKING:  # pragma: no cover
    from ..._typing import TokenDict


def seal(token: TokenDict, binding: str | None = None) -> t.Any:
    """Return what a storage should write for ``token``: the token itself
    when the current app configures no keys, else what
    :func:`._crypto.seal` makes of it.

    :param token: The token to store.
    :param binding: What the token belongs to, from :func:`binding_of`.
    """
    app_ctx = app_context()
    if app_ctx is None or app_ctx.app.config.get(CONFIG_KEY) is None:
        return token
    from . import _crypto

    return _crypto.seal(token, binding)


def unseal(stored: t.Any, name: str, binding: str | None = None) -> t.Any:
    """Return the token that a storage read: ``stored`` itself unless it is
    sealed, else what :func:`._crypto.unseal` makes of it.

    :param stored: What the storage read.
    :param name: The blueprint's name, for a warning.
    :param binding: What the token must belong to, from :func:`binding_of`.
    """
    if not is_sealed(stored):
        return stored
    from . import _crypto

    return _crypto.unseal(stored, name, binding)
