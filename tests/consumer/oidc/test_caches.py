"""``clear_caches`` forgets the process-wide provider metadata and key sets
together, and nothing else."""

from __future__ import annotations

import pytest
import requests
import responses as responses_lib

from flask_dance.consumer.oidc import clear_caches
from flask_dance.consumer.oidc import DiscoveryCache
from flask_dance.consumer.oidc import get_jwks_cache
from flask_dance.consumer.oidc import get_provider_metadata

from .conftest import ISSUER

JWKS_URI = ISSUER + "/jwks"


@pytest.fixture
def discovery(responses: responses_lib.RequestsMock) -> responses_lib.RequestsMock:
    """The provider's metadata, served at its well-known URL."""
    responses.get(
        ISSUER + "/.well-known/openid-configuration",
        json={
            "issuer": ISSUER,
            "authorization_endpoint": ISSUER + "/authorize",
            "token_endpoint": ISSUER + "/token",
            "jwks_uri": JWKS_URI,
        },
    )
    return responses


def test_clear_caches_forgets_metadata_and_key_sets_together(
    discovery: responses_lib.RequestsMock, session: requests.Session
) -> None:
    metadata = get_provider_metadata(ISSUER, session=session)
    keys = get_jwks_cache(JWKS_URI)
    clear_caches()
    assert get_jwks_cache(JWKS_URI) is not keys
    assert get_provider_metadata(ISSUER, session=session) is not metadata
    assert len(discovery.calls) == 2


def test_clear_caches_leaves_an_apps_own_cache_alone(
    discovery: responses_lib.RequestsMock, session: requests.Session
) -> None:
    own = DiscoveryCache()
    first = own.get(ISSUER, session=session)
    clear_caches()
    assert own.get(ISSUER, session=session) is first
    assert len(discovery.calls) == 1
