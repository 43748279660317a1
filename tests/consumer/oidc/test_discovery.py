from __future__ import annotations

import json
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
from flask_dance.consumer.oidc import fetch_provider_metadata
from flask_dance.consumer.oidc import get_provider_metadata
from flask_dance.consumer.oidc import OIDCError
from flask_dance.consumer.oidc import ProviderMetadata

from .conftest import ISSUER

OIDC_URL = ISSUER + "/.well-known/openid-configuration"
RFC8414_URL = ISSUER + "/.well-known/oauth-authorization-server"


def document(issuer: str = ISSUER, **extra: t.Any) -> dict[str, t.Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + "/authorize",
        "token_endpoint": issuer + "/token",
        "userinfo_endpoint": issuer + "/userinfo",
        "jwks_uri": issuer + "/jwks",
        "revocation_endpoint": issuer + "/revoke",
        "end_session_endpoint": issuer + "/logout",
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "response_modes_supported": ["query", "form_post"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        **extra,
    }


def fetch(
    session: requests.Session, issuer: str = ISSUER, **kw: t.Any
) -> ProviderMetadata:
    return fetch_provider_metadata(issuer, session=session, **kw)


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


def test_metadata_accessors(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    responses.get(OIDC_URL, json=document())
    meta = fetch(session)
    assert meta.issuer == ISSUER
    assert meta.authorization_endpoint == ISSUER + "/authorize"
    assert meta.token_endpoint == ISSUER + "/token"
    assert meta.userinfo_endpoint == ISSUER + "/userinfo"
    assert meta.jwks_uri == ISSUER + "/jwks"
    assert meta.revocation_endpoint == ISSUER + "/revoke"
    assert meta.end_session_endpoint == ISSUER + "/logout"
    assert meta.code_challenge_methods_supported == ("S256",)
    assert meta.authorization_response_iss_parameter_supported is True
    assert meta.id_token_signing_alg_values_supported == ("RS256", "ES256")
    assert meta.response_modes_supported == ("query", "form_post")
    assert meta.token_endpoint_auth_methods_supported == ("client_secret_basic",)
    assert meta.get("jwks_uri") == ISSUER + "/jwks"
    assert meta.get("nope", 1) == 1
    assert meta.source == OIDC_URL
    assert repr(meta) == f"<ProviderMetadata {ISSUER!r}>"


def test_absent_fields_are_none(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    responses.get(OIDC_URL, json={"issuer": ISSUER})
    meta = fetch(session)
    assert meta.userinfo_endpoint is None
    assert meta.code_challenge_methods_supported is None
    assert meta.response_modes_supported is None
    assert meta.authorization_response_iss_parameter_supported is False


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


def _failure(
    responses: responses_lib.RequestsMock, session: requests.Session, **kw: t.Any
) -> DiscoveryError:
    for url in (OIDC_URL, RFC8414_URL):
        responses.get(url, **kw)
    with pytest.raises(DiscoveryError) as exc_info:
        fetch(session)
    assert exc_info.value.error == "discovery_failed"
    assert OIDC_URL in str(exc_info.value)
    assert RFC8414_URL in str(exc_info.value)
    return exc_info.value


def test_provider_down(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    err = _failure(responses, session, body=requests.ConnectionError("refused"))
    assert "the server could not be reached" in str(err)
    assert "ConnectionError(" not in str(err)
    assert isinstance(err, ValueError)


def test_provider_timeout(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    err = _failure(responses, session, body=requests.ReadTimeout("slow"))
    assert "the request timed out" in str(err)


def test_provider_500(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    assert "HTTP status 500" in str(_failure(responses, session, status=500))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<html>oops</html>", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ("\xff\xfe garbage", "not valid JSON"),
        ("{" * 100000, "not valid JSON"),
    ],
)
def test_provider_garbage(
    responses: responses_lib.RequestsMock,
    session: requests.Session,
    body: str,
    reason: str,
) -> None:
    assert reason in str(_failure(responses, session, body=body))


def test_oversized_document_refused(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    huge = json.dumps({"issuer": ISSUER, "pad": "x" * (600 * 1024)})
    assert "larger than" in str(_failure(responses, session, body=huge))


def test_document_without_issuer(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    responses.get(OIDC_URL, json={"jwks_uri": ISSUER + "/jwks"})
    with pytest.raises(DiscoveryError, match="no 'issuer'"):
        fetch(session)


@pytest.mark.parametrize(
    "extra",
    [
        {"jwks_uri": "http://idp.example.com/jwks"},
        {"token_endpoint": "/token"},
        {"token_endpoint": 12},
        {"code_challenge_methods_supported": "S256"},
        {"response_modes_supported": ["query", 1]},
        {"authorization_response_iss_parameter_supported": "true"},
    ],
)
def test_malformed_fields_refused(
    responses: responses_lib.RequestsMock,
    session: requests.Session,
    extra: dict[str, t.Any],
) -> None:
    responses.get(OIDC_URL, json=document(**extra))
    with pytest.raises(DiscoveryError) as exc_info:
        fetch(session)
    assert exc_info.value.error == "discovery_failed"
    assert next(iter(extra)) in str(exc_info.value)


def test_http_issuer_needs_opt_in(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    issuer = "http://localhost:5000"
    responses.get(issuer + "/.well-known/openid-configuration", json=document(issuer))
    with pytest.raises(DiscoveryError, match="does not use https"):
        fetch(session, issuer)
    assert len(responses.calls) == 0
    assert fetch(session, issuer, allow_insecure=True).issuer == issuer


def test_from_dict() -> None:
    meta = ProviderMetadata.from_dict(document())
    assert meta.token_endpoint == ISSUER + "/token"
    assert meta.source == "<static>"
    with pytest.raises(DiscoveryError):
        ProviderMetadata.from_dict({"token_endpoint": ISSUER + "/token"})


# --- C8 and C11 helpers ---------------------------------------------------


@pytest.mark.parametrize(
    ("methods", "expected"),
    [(None, False), (["plain"], False), (["plain", "S256"], True), (["S256"], True)],
)
def test_c8_supports_pkce_s256(methods: list[str] | None, expected: bool) -> None:
    data = document()
    if methods is None:
        del data["code_challenge_methods_supported"]
    else:
        data["code_challenge_methods_supported"] = methods
    assert ProviderMetadata.from_dict(data).supports_pkce_s256() is expected


@pytest.mark.parametrize(
    ("flag", "expected"), [(None, False), (False, False), (True, True)]
)
def test_c11_requires_iss_parameter(flag: bool | None, expected: bool) -> None:
    data = document()
    del data["authorization_response_iss_parameter_supported"]
    if flag is not None:
        data["authorization_response_iss_parameter_supported"] = flag
    assert ProviderMetadata.from_dict(data).requires_iss_parameter() is expected


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
