"""One client-authentication method on every token-side call: the code
exchange, refresh, revocation, introspection and the client-credentials grant,
end to end against the local provider."""

from __future__ import annotations

import functools
import json
import time
import typing as t
from urllib.parse import urlsplit

import flask
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import ECAlgorithm
from jwt.algorithms import RSAAlgorithm

from dance_helpers import private_pem
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_error
from flask_dance.consumer import TokenRefreshError
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.testing import LocalProvider

from .conftest import corp_blueprint
from .conftest import CORP_REDIRECT as REDIRECT

#: Long enough for HS256 without a warning from the provider's JWT library.
SECRET = "corp-secret-that-is-long-enough-for-hs256"


def ec_private_jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    data = json.loads(ECAlgorithm.to_jwk(key))
    return json.dumps({**data, "kid": kid})


def public_jwks(key: t.Any, kid: str) -> dict[str, t.Any]:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        data = RSAAlgorithm.to_jwk(public, as_dict=True)
        alg = "RS256"
    else:
        data = ECAlgorithm.to_jwk(public, as_dict=True)
        alg = "ES256"
    return {"keys": [{**data, "kid": kid, "alg": alg, "use": "sig"}]}


class Setup(t.NamedTuple):
    bp: OAuth2ConsumerBlueprint
    app: flask.Flask
    storage: MemoryStorage


def make_setup(
    local: LocalProvider,
    method: str | None,
    *,
    client_id: str = "corp-client",
    secret: str | None = SECRET,
    signing_key: t.Any = None,
    jwks: dict[str, t.Any] | None = None,
    registered: tuple[str, ...] | None = None,
) -> Setup:
    local.add_client(
        client_id,
        secret,
        [REDIRECT],
        auth_methods=registered or (method or "client_secret_basic",),
        jwks=jwks,
    )
    storage = MemoryStorage()
    bp, app = corp_blueprint(
        local,
        storage,
        client_id=client_id,
        client_secret=secret,
        token_endpoint_auth_method=method,
        client_signing_key=signing_key,
    )

    @app.route("/api")
    def api() -> t.Any:
        return bp.session.get("user").json()

    return Setup(bp, app, storage)


def login(local: LocalProvider, setup: Setup) -> dict[str, t.Any]:
    with setup.app.test_client() as client:
        response = client.get("/login/corp")
        assert response.status_code == 302, response.data
        result = local.authorize(response.headers["Location"])
        path = urlsplit(result.url)
        response = client.get(path.path + "?" + path.query)
        assert response.status_code == 302
        assert response.headers["Location"] == "/"
    token = setup.storage.get(setup.bp)
    assert token is not None
    return dict(token)


def expire(setup: Setup) -> None:
    token = dict(setup.storage.get(setup.bp))
    token["expires_at"] = time.time() - 10
    setup.storage.set(setup.bp, token)


METHODS = [
    pytest.param("client_secret_basic", {}, id="basic"),
    pytest.param("client_secret_post", {}, id="post"),
    pytest.param("client_secret_jwt", {}, id="secret-jwt"),
    pytest.param("private_key_jwt", {"key": "rsa"}, id="private-key-jwt-pem"),
    pytest.param("private_key_jwt", {"key": "ec-jwk"}, id="private-key-jwt-jwk"),
    pytest.param("none", {"secret": None}, id="none"),
]


@pytest.fixture
def setup_for(
    local: LocalProvider, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> t.Callable[..., Setup]:
    """``setup_for(method, options, explicit=True)``: a setup whose client
    authenticates with ``method``, named to the blueprint if ``explicit``."""
    return functools.partial(_setup_for, local, rsa_key=rsa_key, ec_key=ec_key)


def _setup_for(
    local: LocalProvider,
    method: str,
    options: dict[str, t.Any],
    *,
    rsa_key: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
    explicit: bool = True,
) -> Setup:
    secret = options.get("secret", SECRET)
    signing_key = jwks = None
    if options.get("key") == "rsa":
        signing_key, jwks = private_pem(rsa_key), public_jwks(rsa_key, "rsa-1")
        secret = None
    elif options.get("key") == "ec-jwk":
        signing_key, jwks = ec_private_jwk(ec_key, "ec-1"), public_jwks(ec_key, "ec-1")
        secret = None
    return make_setup(
        local,
        method if explicit else None,
        secret=secret,
        signing_key=signing_key,
        jwks=jwks,
        registered=(method,),
    )


@pytest.mark.parametrize(("method", "options"), METHODS)
def test_every_token_side_call_authenticates_the_same_way(
    local: LocalProvider,
    setup_for: t.Callable[..., Setup],
    method: str,
    options: dict[str, t.Any],
) -> None:
    setup = setup_for(method, options)
    first = login(local, setup)
    expire(setup)
    with setup.app.test_request_context("/"):
        assert setup.bp.session.get("user").status_code == 200
    refreshed = setup.storage.get(setup.bp)
    assert refreshed["access_token"] != first["access_token"]
    with setup.app.test_request_context("/"):
        answer = setup.bp.introspect_token()
        assert answer is not None
        assert answer["active"] is True
        assert setup.bp.revoke_token() is True
        assert setup.bp.introspect_token(first["refresh_token"], "refresh_token") == {
            "active": False
        }
    for name in ("exchange", "refresh", "revoke", "introspect"):
        recorded = local.requests_for(name)
        assert recorded, name
        assert {r.client_auth for r in recorded} == {method}, name
    if method.endswith("_jwt"):
        assertions = [
            r.form["client_assertion"]
            for name in ("exchange", "refresh", "revoke", "introspect")
            for r in local.requests_for(name)
        ]
        claims = [
            jwt.decode(a, options={"verify_signature": False}) for a in assertions
        ]
        assert len({c["jti"] for c in claims}) == len(claims)
        for c in claims:
            assert c["iss"] == c["sub"] == "corp-client"
            assert c["aud"] == local.issuer
            assert 0 < c["exp"] - c["iat"] <= 60


@pytest.mark.parametrize(("method", "options"), METHODS)
def test_method_is_discovered_from_what_the_blueprint_can_do(
    local: LocalProvider, setup_for: t.Callable[..., Setup], method: str, options: t.Any
) -> None:
    if method in ("client_secret_post", "client_secret_jwt"):
        # With a secret, Basic would come first in the provider's usual order:
        # announce this method first, as a provider registered for it does.
        local.faults.metadata_overrides["token_endpoint_auth_methods_supported"] = [
            method,
            "client_secret_basic",
        ]
    setup = setup_for(method, options, explicit=False)
    login(local, setup)
    assert local.requests_for("exchange")[-1].client_auth == method


def test_discovery_order_is_the_providers(local: LocalProvider) -> None:
    local.faults.metadata_overrides["token_endpoint_auth_methods_supported"] = [
        "private_key_jwt",
        "client_secret_post",
        "client_secret_basic",
    ]
    setup = make_setup(local, None, registered=("client_secret_post",))
    login(local, setup)
    assert local.requests_for("exchange")[-1].client_auth == "client_secret_post"


def test_refresh_refused_for_client_auth_keeps_token_and_raises(
    local: LocalProvider,
) -> None:
    setup = make_setup(local, "client_secret_post")
    login(local, setup)
    expire(setup)
    before = dict(setup.storage.get(setup.bp))
    local.clients["corp-client"].auth_methods = ("client_secret_basic",)
    errors: list[dict[str, t.Any]] = []

    def on_error(sender: t.Any, **kwargs: t.Any) -> None:
        errors.append(kwargs)

    with (
        oauth_error.connected_to(on_error),
        setup.app.test_request_context("/"),
        pytest.raises(TokenRefreshError) as exc_info,
    ):
        setup.bp.session.get("user")
    assert exc_info.value.error == "invalid_client"
    assert errors == [
        {
            "error": "invalid_client",
            "error_description": exc_info.value.description,
            "error_uri": None,
            "message": exc_info.value.description,
            "response": None,
        }
    ]
    assert setup.storage.get(setup.bp) == before
    assert local.requests_for("user") == []


def test_refresh_refused_answers_with_a_receivers_response(
    local: LocalProvider,
) -> None:
    setup = make_setup(local, "client_secret_basic")
    login(local, setup)
    expire(setup)
    local.clients["corp-client"].client_secret = "rotated"

    def on_error(sender: t.Any, **kwargs: t.Any) -> t.Any:
        return flask.Response("provider refused", 502)

    with oauth_error.connected_to(on_error), setup.app.test_client() as client:
        response = client.get("/api")
    assert response.status_code == 502
    assert response.data == b"provider refused"
    assert setup.storage.get(setup.bp) is not None


def test_missing_key_is_a_clear_login_error(local: LocalProvider) -> None:
    setup = make_setup(local, "private_key_jwt", secret=None)
    errors: list[dict[str, t.Any]] = []

    def on_error(sender: t.Any, **kwargs: t.Any) -> None:
        errors.append(kwargs)

    with oauth_error.connected_to(on_error), setup.app.test_client() as client:
        response = client.get("/login/corp")
        result = local.authorize(response.headers["Location"])
        path = urlsplit(result.url)
        response = client.get(path.path + "?" + path.query)
    assert response.status_code == 302
    assert errors[0]["error"] == "invalid_client"
    assert "client_signing_key" in errors[0]["error_description"]
    assert local.requests_for("exchange") == []


def test_unknown_method_is_refused(local: LocalProvider) -> None:
    setup = make_setup(local, "client_secret_basic")
    setup.bp.token_endpoint_auth_method = "tls_client_auth"
    with setup.app.test_request_context("/"):
        assert setup.bp.revoke_token({"access_token": "x"}) is False


def test_oidc_preset_reads_method_and_key_from_config(
    local: LocalProvider, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    from flask_dance.contrib.oidc import make_oidc_blueprint

    local.add_client(
        "cfg-client",
        None,
        ["http://localhost/login/cfg/authorized"],
        auth_methods=("private_key_jwt",),
        jwks=public_jwks(ec_key, "ec-1"),
    )
    storage = MemoryStorage()
    bp = make_oidc_blueprint("cfg", local.issuer, storage=storage)
    app = flask.Flask(__name__)
    app.secret_key = "secret"
    app.config["CFG_OAUTH_CLIENT_ID"] = "cfg-client"
    app.config["CFG_OAUTH_TOKEN_ENDPOINT_AUTH_METHOD"] = "private_key_jwt"
    app.config["CFG_OAUTH_CLIENT_KEY_JWK"] = ec_private_jwk(ec_key, "ec-1")
    app.register_blueprint(bp, url_prefix="/login")
    with app.test_client() as client:
        response = client.get("/login/cfg")
        result = local.authorize(response.headers["Location"])
        path = urlsplit(result.url)
        response = client.get(path.path + "?" + path.query)
    assert response.headers["Location"] == "/"
    recorded = local.requests_for("exchange")[-1]
    assert recorded.client_auth == "private_key_jwt"
    header = jwt.get_unverified_header(recorded.form["client_assertion"])
    assert header == {"alg": "ES256", "kid": "ec-1", "typ": "JWT"}
    assert storage.get(bp)["access_token"]
