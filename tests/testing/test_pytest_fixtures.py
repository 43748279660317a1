"""The pytest fixtures of flask_dance/testing/pytest_fixtures.py."""

from __future__ import annotations

from flask_dance.testing import LocalProvider


def test_pytest_fixtures(
    local_provider: LocalProvider,
    local_provider_session: LocalProvider,
    local_provider_shared: LocalProvider,
) -> None:
    assert local_provider.running
    assert local_provider_session.running
    assert local_provider_shared is local_provider_session
    assert local_provider is not local_provider_session
    assert local_provider_shared.calls == {}
    local_provider_shared.faults.deny_all = True


def test_shared_fixture_was_reset(local_provider_shared: LocalProvider) -> None:
    assert not local_provider_shared.faults.deny_all
