from __future__ import annotations

import logging
import secrets
import typing as t
from datetime import datetime
from datetime import timezone

import jwt
import pytest
import requests
import responses as responses_lib
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from freezegun.api import FrozenDateTimeFactory

from flask_dance.consumer.oidc import clear_caches
from flask_dance.consumer.oidc import fetch_jwks
from flask_dance.consumer.oidc import get_jwks_cache
from flask_dance.consumer.oidc import JWKSCache
from flask_dance.consumer.oidc import JWKSError
from flask_dance.consumer.oidc import OIDCError
from flask_dance.consumer.oidc import StaticJWKS

from .conftest import CLIENT_ID
from .conftest import ISSUER
from .conftest import NOW
from .conftest import validate

JWKS_URI = ISSUER + "/jwks"


pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def published(
    responses: responses_lib.RequestsMock, jwks: dict[str, t.Any]
) -> responses_lib.RequestsMock:
    """The provider's key set, served at ``JWKS_URI``."""
    responses.get(JWKS_URI, json=jwks)
    return responses


def id_token(sign: t.Any, **kw: t.Any) -> str:
    payload = {
        "iss": ISSUER,
        "sub": "user-42",
        "aud": CLIENT_ID,
        "iat": int(datetime.now(timezone.utc).timestamp()),
        "exp": NOW + 100_000,
    }
    return t.cast(str, sign(payload, **kw))


def test_keys_fetched_lazily_and_cached(
    published: responses_lib.RequestsMock,
    session: requests.Session,
    sign: t.Any,
) -> None:
    cache = JWKSCache(JWKS_URI)
    resolver = cache.resolver(session, timeout=2.0)
    assert len(published.calls) == 0
    for _ in range(5):
        validate(id_token(sign), resolver)
    assert len(published.calls) == 1
    assert t.cast(t.Any, published.calls[0].request).req_kwargs["timeout"] == 2.0
    assert cache.get_key("rsa-1", "RS256", session=session) is cache.get_key(
        "rsa-1", "RS256", session=session
    )


def test_keys_refetched_after_ttl(
    published: responses_lib.RequestsMock,
    session: requests.Session,
    frozen: FrozenDateTimeFactory,
) -> None:
    cache = JWKSCache(JWKS_URI, ttl=3600)
    cache.get_key("rsa-1", "RS256", session=session)
    frozen.tick(3599)
    cache.get_key("rsa-1", "RS256", session=session)
    assert len(published.calls) == 1
    frozen.tick(2)
    cache.get_key("rsa-1", "RS256", session=session)
    assert len(published.calls) == 2


def test_c37_random_kids_rate_limited(
    published: responses_lib.RequestsMock,
    session: requests.Session,
    sign: t.Any,
    frozen: FrozenDateTimeFactory,
) -> None:
    resolver = get_jwks_cache(JWKS_URI).resolver(session)
    validate(id_token(sign), resolver)
    for _ in range(100):
        with pytest.raises(JWKSError) as exc_info:
            validate(id_token(sign, kid=secrets.token_hex(8)), resolver)
        assert exc_info.value.error == "unknown_kid"
        frozen.tick(0.1)
    # One fetch at first use, one for the first unknown kid; 10 s later no
    # other re-fetch is allowed yet.
    assert len(published.calls) == 2
    frozen.tick(60)
    for _ in range(100):
        with pytest.raises(JWKSError):
            validate(id_token(sign, kid=secrets.token_hex(8)), resolver)
    assert len(published.calls) == 3
    validate(id_token(sign), resolver)
    assert len(published.calls) == 3


def test_c37_rotated_key_picked_up(
    responses: responses_lib.RequestsMock,
    session: requests.Session,
    sign: t.Any,
    public_jwk: t.Any,
    rsa_key: rsa.RSAPrivateKey,
    other_rsa_key: rsa.RSAPrivateKey,
    frozen: FrozenDateTimeFactory,
) -> None:
    old = responses.get(JWKS_URI, json={"keys": [public_jwk(rsa_key, "old")]})
    resolver = JWKSCache(JWKS_URI).resolver(session)
    validate(id_token(sign, kid="old"), resolver)
    responses.remove(old)
    responses.get(
        JWKS_URI,
        json={"keys": [public_jwk(rsa_key, "old"), public_jwk(other_rsa_key, "new")]},
    )
    frozen.tick(61)
    assert validate(id_token(sign, key=other_rsa_key, kid="new"), resolver)
    assert len(responses.calls) == 2


@pytest.mark.usefixtures("sign")
def test_c37_unknown_kid_during_rate_limit_window(
    published: responses_lib.RequestsMock,
    session: requests.Session,
    frozen: FrozenDateTimeFactory,
) -> None:
    cache = JWKSCache(JWKS_URI, min_refresh_interval=60)
    cache.get_key("rsa-1", "RS256", session=session)
    with pytest.raises(JWKSError):
        cache.get_key("first", "RS256", session=session)
    assert len(published.calls) == 2
    frozen.tick(59)
    with pytest.raises(JWKSError, match="has the 'kid' 'nope'") as exc_info:
        cache.get_key("nope", "RS256", session=session)
    assert exc_info.value.url == JWKS_URI
    assert len(published.calls) == 2
    frozen.tick(1)
    with pytest.raises(JWKSError):
        cache.get_key("nope", "RS256", session=session)
    assert len(published.calls) == 3


def test_stale_keys_kept_when_fetch_fails(
    responses: responses_lib.RequestsMock,
    session: requests.Session,
    jwks: dict[str, t.Any],
    frozen: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ok = responses.get(JWKS_URI, json=jwks)
    cache = JWKSCache(JWKS_URI, ttl=120)
    cache.get_key("rsa-1", "RS256", session=session)
    responses.remove(ok)
    responses.get(JWKS_URI, status=502)
    frozen.tick(121)
    with caplog.at_level(logging.WARNING):
        assert cache.get_key("rsa-1", "RS256", session=session)
    assert "Keeping the previous keys" in caplog.text
    frozen.tick(10)
    cache.get_key("rsa-1", "RS256", session=session)
    assert len(responses.calls) == 2


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"status": 500}, "HTTP status 500"),
        ({"body": requests.ConnectionError("down")}, "the server could not be reached"),
        ({"body": "not json"}, "not valid JSON"),
        ({"json": {"no": "keys"}}, "no 'keys' list"),
        ({"json": {"keys": "x"}}, "no 'keys' list"),
    ],
)
def test_jwks_unavailable(
    responses: responses_lib.RequestsMock,
    session: requests.Session,
    kw: dict[str, t.Any],
    reason: str,
) -> None:
    responses.get(JWKS_URI, **kw)
    with pytest.raises(OIDCError) as exc_info:
        JWKSCache(JWKS_URI).get_key("rsa-1", "RS256", session=session)
    assert exc_info.value.error == "jwks_unavailable"
    assert JWKS_URI in str(exc_info.value)
    assert reason in str(exc_info.value)


def test_http_jwks_uri_needs_opt_in(
    responses: responses_lib.RequestsMock,
    session: requests.Session,
    jwks: dict[str, t.Any],
) -> None:
    uri = "http://localhost:5000/jwks"
    responses.get(uri, json=jwks)
    with pytest.raises(JWKSError, match="does not use https"):
        fetch_jwks(uri, session=session)
    assert len(responses.calls) == 0
    assert len(fetch_jwks(uri, session=session, allow_insecure=True)) == 4


def test_invalid_jwk(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    responses.get(
        JWKS_URI, json={"keys": [{"kty": "RSA", "kid": "bad", "n": "!", "e": "AQAB"}]}
    )
    with pytest.raises(JWKSError) as exc_info:
        JWKSCache(JWKS_URI).get_key("bad", "RS256", session=session)
    assert exc_info.value.error == "invalid_jwk"


def test_registry_shares_one_cache_per_uri() -> None:
    first = get_jwks_cache(JWKS_URI)
    assert get_jwks_cache(JWKS_URI) is first
    assert get_jwks_cache(JWKS_URI + "2") is not first
    clear_caches()
    assert get_jwks_cache(JWKS_URI) is not first


def test_cache_clear(
    published: responses_lib.RequestsMock,
    session: requests.Session,
) -> None:
    cache = JWKSCache(JWKS_URI)
    cache.get_key("rsa-1", "RS256", session=session)
    cache.clear()
    cache.get_key("rsa-1", "RS256", session=session)
    assert len(published.calls) == 2


def test_single_fetch_under_concurrency(
    responses: responses_lib.RequestsMock,
    jwks: dict[str, t.Any],
    fetch_in_threads: t.Callable[..., t.Any],
) -> None:
    cache = JWKSCache(JWKS_URI)
    keys = fetch_in_threads(
        JWKS_URI, jwks, lambda session: cache.get_key("ec-1", "ES256", session=session)
    )
    assert all(isinstance(key, jwt.PyJWK) for key in keys)
    assert len(responses.calls) == 1


def test_static_jwks_requires_keys() -> None:
    with pytest.raises(JWKSError):
        StaticJWKS({"nokeys": []})


# -- the unknown-kid re-fetch limit ------------------------------------------------


def test_new_kid_right_after_a_scheduled_fetch_is_fetched_at_once(
    responses: responses_lib.RequestsMock,
    session: requests.Session,
    ed_key: ed25519.Ed25519PrivateKey,
    public_jwk: t.Any,
    frozen: FrozenDateTimeFactory,
) -> None:
    other = ed25519.Ed25519PrivateKey.generate()
    old = {"keys": [public_jwk(ed_key, "old")]}
    new = {"keys": [public_jwk(ed_key, "old"), public_jwk(other, "new")]}
    responses.get(JWKS_URI, json=old)
    cache = JWKSCache(JWKS_URI, ttl=3600, min_refresh_interval=60)
    cache.get_key("old", "EdDSA", session=session)
    frozen.tick(3601)
    cache.get_key("old", "EdDSA", session=session)  # the scheduled re-fetch
    assert len(responses.calls) == 2
    responses.replace(responses_lib.GET, JWKS_URI, json=new)
    frozen.tick(1)
    assert cache.get_key("new", "EdDSA", session=session)
    assert len(responses.calls) == 3


def test_flood_of_unknown_kids_fetches_once_a_minute(
    responses: responses_lib.RequestsMock,
    session: requests.Session,
    ed_key: ed25519.Ed25519PrivateKey,
    public_jwk: t.Any,
    frozen: FrozenDateTimeFactory,
) -> None:
    responses.get(JWKS_URI, json={"keys": [public_jwk(ed_key, "old")]})
    cache = JWKSCache(JWKS_URI, min_refresh_interval=60)
    cache.get_key("old", "EdDSA", session=session)
    for number in range(50):
        with pytest.raises(JWKSError):
            cache.get_key(f"random-{number}", "EdDSA", session=session)
    assert len(responses.calls) == 2
    frozen.tick(59)
    with pytest.raises(JWKSError):
        cache.get_key("random-x", "EdDSA", session=session)
    assert len(responses.calls) == 2
    frozen.tick(1)
    with pytest.raises(JWKSError):
        cache.get_key("random-y", "EdDSA", session=session)
    assert len(responses.calls) == 3
