from __future__ import annotations

import logging
import typing as t

import pytest
import requests
import responses as responses_lib
from freezegun import freeze_time

from flask_dance.consumer.oidc import clear_caches
from flask_dance.consumer.oidc import discovery_urls
from flask_dance.consumer.oidc import DiscoveryCache
from flask_dance.consumer.oidc import DiscoveryError
from flask_dance.consumer.oidc import get_provider_metadata
from flask_dance.consumer.oidc import OIDCError

from .conftest import document
from .conftest import fetch
from .conftest import ISSUER
from .conftest import OIDC_URL
from .conftest import RFC8414_URL

# --- URL construction ----------------------------------------------------


@pytest.mark.parametrize(
    ("issuer", "oidc", "rfc8414"),
    [
        (
            "https://as.example",
            "https://as.example/.well-known/openid-configuration",
            "https://as.example/.well-known/oauth-authorization-server",
        ),
        (
            "https://as.example/",
            "https://as.example/.well-known/openid-configuration",
            "https://as.example/.well-known/oauth-authorization-server",
        ),
        (
            "https://as.example/tenant/v2",
            "https://as.example/tenant/v2/.well-known/openid-configuration",
            "https://as.example/.well-known/oauth-authorization-server/tenant/v2",
        ),
        (
            "https://as.example:8443/realms/x/",
            "https://as.example:8443/realms/x/.well-known/openid-configuration",
            "https://as.example:8443/.well-known/oauth-authorization-server/realms/x",
        ),
    ],
)
def test_discovery_urls(issuer: str, oidc: str, rfc8414: str) -> None:
    assert discovery_urls(issuer) == (oidc, rfc8414)


# --- fetching ------------------------------------------------------------


def test_uses_given_session_and_timeout(responses: responses_lib.RequestsMock) -> None:
    responses.get(OIDC_URL, json=document())
    session = requests.Session()
    session.headers["X-Pool"] = "caller"
    fetch(session, timeout=3.5)
    request = responses.calls[0].request
    assert request.headers["X-Pool"] == "caller"
    assert t.cast(t.Any, request).req_kwargs["timeout"] == 3.5


def test_falls_back_to_rfc8414(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    responses.get(OIDC_URL, status=404)
    responses.get(RFC8414_URL, json=document())
    meta = fetch(session)
    assert meta.source == RFC8414_URL
    assert [c.request.url for c in responses.calls] == [OIDC_URL, RFC8414_URL]


def test_rfc8414_path_issuer(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    issuer = "https://as.example/tenant"
    responses.get(issuer + "/.well-known/openid-configuration", status=404)
    responses.get(
        "https://as.example/.well-known/oauth-authorization-server/tenant",
        json=document(issuer),
    )
    assert fetch(session, issuer).issuer == issuer


def test_c36_foreign_issuer_refused(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    responses.get(OIDC_URL, json=document("https://evil.example"))
    responses.get(RFC8414_URL, json=document())
    with pytest.raises(DiscoveryError) as exc_info:
        fetch(session)
    assert exc_info.value.error == "issuer_mismatch"
    assert exc_info.value.url == OIDC_URL
    assert "https://evil.example" in str(exc_info.value)
    # A forged document is not skipped in favour of the next location.
    assert len(responses.calls) == 1


@pytest.mark.parametrize("issuer", [ISSUER + "/", "HTTPS://IDP.EXAMPLE.COM"])
def test_c36_issuer_compared_exactly(
    responses: responses_lib.RequestsMock, session: requests.Session, issuer: str
) -> None:
    responses.get(OIDC_URL, json=document(issuer))
    with pytest.raises(DiscoveryError, match="must be equal exactly") as exc_info:
        fetch(session)
    assert exc_info.value.error == "issuer_mismatch"


# --- caching -------------------------------------------------------------


def test_cache_reuses_metadata_until_ttl(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    responses.get(OIDC_URL, json=document())
    cache = DiscoveryCache(ttl=3600)
    with freeze_time("2024-01-01 00:00:00") as frozen:
        first = cache.get(ISSUER, session=session)
        frozen.tick(3599)
        assert cache.get(ISSUER, session=session) is first
        assert len(responses.calls) == 1
        frozen.tick(2)
        assert cache.get(ISSUER, session=session) is not first
        assert len(responses.calls) == 2


def test_cache_keeps_stale_metadata_when_refresh_fails(
    responses: responses_lib.RequestsMock,
    session: requests.Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ok = responses.get(OIDC_URL, json=document())
    cache = DiscoveryCache(ttl=60)
    with freeze_time("2024-01-01 00:00:00") as frozen:
        first = cache.get(ISSUER, session=session)
        responses.remove(ok)
        responses.get(OIDC_URL, status=503)
        responses.get(RFC8414_URL, status=503)
        frozen.tick(61)
        with caplog.at_level(logging.WARNING):
            assert cache.get(ISSUER, session=session) is first
        assert "keeping the old one" in caplog.text
        calls = len(responses.calls)
        frozen.tick(30)
        assert cache.get(ISSUER, session=session) is first
        assert len(responses.calls) == calls  # no retry storm
        frozen.tick(31)
        cache.get(ISSUER, session=session)
        assert len(responses.calls) == calls + 2


def test_cache_raises_without_anything_cached(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    responses.get(OIDC_URL, status=500)
    responses.get(RFC8414_URL, status=500)
    with pytest.raises(OIDCError) as exc_info:
        DiscoveryCache().get(ISSUER, session=session)
    assert exc_info.value.error == "discovery_failed"


def test_cache_drops_metadata_that_changes_issuer(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    ok = responses.get(OIDC_URL, json=document())
    cache = DiscoveryCache(ttl=60)
    with freeze_time("2024-01-01 00:00:00") as frozen:
        cache.get(ISSUER, session=session)
        responses.remove(ok)
        evil = responses.get(OIDC_URL, json=document("https://evil.example"))
        frozen.tick(61)
        with pytest.raises(DiscoveryError, match="evil"):
            cache.get(ISSUER, session=session)
        responses.remove(evil)
        responses.get(OIDC_URL, status=500)
        responses.get(RFC8414_URL, status=500)
        with pytest.raises(DiscoveryError, match="Could not fetch"):
            cache.get(ISSUER, session=session)


def test_cache_single_fetch_under_concurrency(
    responses: responses_lib.RequestsMock, fetch_in_threads: t.Callable[..., t.Any]
) -> None:
    cache = DiscoveryCache()
    results = fetch_in_threads(
        OIDC_URL, document(), lambda session: cache.get(ISSUER, session=session)
    )
    assert len({id(r) for r in results}) == 1
    assert len(responses.calls) == 1


def test_process_wide_cache(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    responses.get(OIDC_URL, json=document())
    first = get_provider_metadata(ISSUER, session=session)
    assert get_provider_metadata(ISSUER, session=session) is first
    assert len(responses.calls) == 1
    clear_caches()
    assert get_provider_metadata(ISSUER, session=session) is not first
    assert len(responses.calls) == 2
    own = DiscoveryCache()
    assert get_provider_metadata(ISSUER, session=session, cache=own) is not first
