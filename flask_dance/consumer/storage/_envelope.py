"""What an encrypted token looks like in storage, known without loading the
encryption itself (:mod:`._crypto`): the config key that switches it on, the
envelope a sealed token is stored in, and what a token is bound to."""

from __future__ import annotations

import functools
import json
import typing as t
from collections.abc import Mapping

#: The config key listing the Fernet keys: a list, or a comma-separated string.
CONFIG_KEY = "FLASK_DANCE_TOKEN_KEYS"

#: The only key of a stored, encrypted token.
ENVELOPE_KEY = "_fd_enc"


def is_sealed(value: t.Any) -> bool:
    """Whether ``value`` is an encrypted token, as stored.

    :param value: What a storage read.
    """
    if type(value) is not dict and not isinstance(value, Mapping):
        return False  # (the exact type first: quicker than the ABC check)
    return len(value) == 1 and isinstance(value.get(ENVELOPE_KEY), str)


def binding_of(provider: str, owner: t.Any = None) -> str:
    """The binding of a token of ``provider`` owned by ``owner``.

    :param provider: The blueprint's name.
    :param owner: The user's id (compared as text), or ``None`` for no user.
    """
    return _binding(provider, None if owner is None else str(owner))


@functools.lru_cache(maxsize=1024)
def _binding(provider: str, owner: str | None) -> str:
    # Made once per provider and user: every token read asks for it, and
    # encoding it costs more than the rest of a session storage's read.
    return json.dumps([provider, owner])
