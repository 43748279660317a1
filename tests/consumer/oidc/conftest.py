from __future__ import annotations

import json
import threading
import typing as t
from datetime import datetime
from datetime import timezone

import jwt
import pytest
import requests
import responses as responses_lib
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from jwt.algorithms import ECAlgorithm
from jwt.algorithms import OKPAlgorithm
from jwt.algorithms import RSAAlgorithm

from flask_dance.consumer.oidc import clear_caches
from flask_dance.consumer.oidc import fetch_provider_metadata
from flask_dance.consumer.oidc import ProviderMetadata
from flask_dance.consumer.oidc import validate_id_token


@pytest.fixture(autouse=True)
def _fresh_oidc_caches() -> t.Iterator[None]:
    clear_caches()
    yield
    clear_caches()


def _public_jwk(key: t.Any, kid: str, **extra: t.Any) -> dict[str, t.Any]:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        data = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        data = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        data = OKPAlgorithm.to_jwk(public, as_dict=True)
    return {**data, "kid": kid, "use": "sig", **extra}


@pytest.fixture
def public_jwk() -> t.Callable[..., dict[str, t.Any]]:
    """Return the public JWK (with ``kid`` and ``use``) of a private key."""
    return _public_jwk


@pytest.fixture
def jwks(
    rsa_key: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
    ec384_key: ec.EllipticCurvePrivateKey,
    ed_key: ed25519.Ed25519PrivateKey,
) -> dict[str, t.Any]:
    """The provider's published key set."""
    return {
        "keys": [
            _public_jwk(rsa_key, "rsa-1"),
            _public_jwk(ec_key, "ec-1"),
            _public_jwk(ec384_key, "ec384-1"),
            _public_jwk(ed_key, "ed-1"),
        ]
    }


Sign = t.Callable[..., str]


@pytest.fixture
def sign(rsa_key: rsa.RSAPrivateKey) -> Sign:
    """Sign a payload; by default RS256 with the key ``rsa-1``."""

    def signer(
        payload: dict[str, t.Any],
        *,
        key: t.Any = None,
        alg: str = "RS256",
        kid: str | None = "rsa-1",
        headers: dict[str, t.Any] | None = None,
    ) -> str:
        all_headers = {"kid": kid} if kid is not None else {}
        all_headers.update(headers or {})
        return jwt.encode(
            payload,
            rsa_key if key is None else key,
            algorithm=alg,
            headers=all_headers or None,
        )

    return signer


#: The issuer, client and clock of the tests' ID tokens.
ISSUER = "https://idp.example.com"
CLIENT_ID = "client-123"
NOW = 1_700_000_000


@pytest.fixture
def frozen() -> t.Iterator[FrozenDateTimeFactory]:
    """The clock, frozen at ``NOW``."""
    with freeze_time(datetime.fromtimestamp(NOW, tz=timezone.utc)) as frozen:
        yield t.cast(FrozenDateTimeFactory, frozen)


@pytest.fixture
def session() -> requests.Session:
    return requests.Session()


@pytest.fixture
def fetch_in_threads(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> t.Callable[..., list[t.Any]]:
    """Call ``call(session)`` in eight threads while the first request for
    ``url`` waits until they have all started, then answers ``body``; return
    what each call returned."""

    def run(
        url: str, body: t.Any, call: t.Callable[[requests.Session], t.Any]
    ) -> list[t.Any]:
        entered, release = threading.Event(), threading.Event()

        def slow(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            entered.set()
            release.wait(5)
            return 200, {}, json.dumps(body)

        responses.add_callback(responses_lib.GET, url, callback=slow)
        results: list[t.Any] = []
        threads = [
            threading.Thread(target=lambda: results.append(call(session)))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        assert entered.wait(5)
        release.set()
        for thread in threads:
            thread.join(5)
        assert len(results) == 8
        return results

    return run


def validate(token: str, jwks: t.Any, **kwargs: t.Any) -> dict[str, t.Any]:
    """Validate an ID token of ``ISSUER`` for ``CLIENT_ID``, with no nonce
    unless ``kwargs`` give one."""
    options: dict[str, t.Any] = {
        "issuer": ISSUER,
        "client_id": CLIENT_ID,
        "nonce": None,
        **kwargs,
    }
    return validate_id_token(token, jwks=jwks, **options)


@pytest.fixture
def signing_key(request: pytest.FixtureRequest) -> tuple[str, t.Any, str]:
    """``(alg, private key, kid)`` for an indirect parameter
    ``(alg, name of the key's fixture, kid)``."""
    alg, key_fixture, kid = request.param
    return alg, request.getfixturevalue(key_fixture), kid


OIDC_URL = ISSUER + "/.well-known/openid-configuration"
RFC8414_URL = ISSUER + "/.well-known/oauth-authorization-server"


def document(issuer: str = ISSUER, **extra: t.Any) -> dict[str, t.Any]:
    """A provider metadata document of ``issuer``, with ``extra`` fields."""
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
    """Fetch the metadata of ``issuer`` with ``session``."""
    return fetch_provider_metadata(issuer, session=session, **kw)
