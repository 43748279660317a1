"""pytest fixtures serving a :class:`~flask_dance.testing.LocalProvider`.

``local_provider``
    A fresh provider on 127.0.0.1 for one test, stopped afterwards.
``local_provider_session``
    One provider for the whole session. Its state carries over between tests.
``local_provider_shared``
    The session provider, :meth:`~LocalProvider.reset` before the test: cheap
    and clean, as long as the test does not change users, clients or keys.
"""

from __future__ import annotations

import collections.abc as cabc

import pytest

from .provider import LocalProvider


@pytest.fixture
def local_provider() -> cabc.Iterator[LocalProvider]:
    """A fresh local provider, started for this test."""
    with LocalProvider() as provider:
        yield provider


@pytest.fixture(scope="session")
def local_provider_session() -> cabc.Iterator[LocalProvider]:
    """One local provider for the whole test session."""
    with LocalProvider() as provider:
        yield provider


@pytest.fixture
def local_provider_shared(
    local_provider_session: LocalProvider,
) -> LocalProvider:
    """The session's local provider, reset (faults, counters, tokens) first."""
    local_provider_session.reset()
    return local_provider_session
