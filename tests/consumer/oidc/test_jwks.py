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
from cryptography.hazmat.primitives.asymmetric import rsa
from freezegun.api import FrozenDateTimeFactory

from flask_dance.consumer.oidc import clear_caches
from flask_dance.consumer.oidc import fetch_jwks
from flask_dance.consumer.oidc import get_jwks_cache
from flask_dance.consumer.oidc import JWKSCache
from flask_dance.consumer.oidc import JWKSError
from flask_dance.consumer.oidc import OIDCError
from flask_dance.consumer.oidc import StaticJWKS
from flask_dance.consumer.oidc.jwks import select_key

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


def test_c37_unknown_kid_during_rate_limit_window(
    published: responses_lib.RequestsMock,
    session: requests.Session,
    sign: t.Any,
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


# --- key selection -------------------------------------------------------


def test_select_key_skips_private_and_non_verify_keys(
    rsa_key: rsa.RSAPrivateKey, public_jwk: t.Any
) -> None:
    private = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key, as_dict=True)
    keys = [
        {**private, "kid": "a"},
        public_jwk(rsa_key, "b", key_ops=["encrypt"]),
        public_jwk(rsa_key, "c", key_ops=["verify"]),
        "not a key",
    ]
    assert select_key(keys, "a", "RS256") is None
    assert select_key(keys, "b", "RS256") is None
    assert select_key(keys, "c", "RS256") is keys[2]


def test_select_key_matches_curve(
    ec_key: t.Any, ec384_key: t.Any, public_jwk: t.Any
) -> None:
    keys = [public_jwk(ec_key, "p256"), public_jwk(ec384_key, "p384")]
    assert select_key(keys, None, "ES384") is keys[1]
    with pytest.raises(JWKSError) as exc_info:
        select_key(keys, "p256", "ES384")
    assert exc_info.value.error == "alg_not_allowed"


def test_select_key_refuses_symmetric_alg(jwks: dict[str, t.Any]) -> None:
    with pytest.raises(JWKSError) as exc_info:
        select_key(jwks["keys"], "rsa-1", "HS256")
    assert exc_info.value.error == "alg_not_allowed"


def test_static_jwks_requires_keys() -> None:
    with pytest.raises(JWKSError):
        StaticJWKS({"nokeys": []})
