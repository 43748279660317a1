"""DPoP (RFC 9449), end to end against the local provider."""

from __future__ import annotations

import hashlib
import time
import typing as t
from urllib.parse import urlsplit

import flask
import jwt
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.orm import DeclarativeBase

from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.storage import BaseStorage
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from flask_dance.consumer.storage.sqla import SQLAlchemyStorage
from flask_dance.testing import LocalProvider

from .conftest import corp_blueprint
from .conftest import CORP_REDIRECT
from .conftest import memory_database

REDIRECT = CORP_REDIRECT


class Base(DeclarativeBase):
    pass


class DpopToken(OAuthConsumerMixin, Base):
    __tablename__ = "fapi_dpop_tokens"


@pytest.fixture(autouse=True)
def corp_client(local: LocalProvider) -> None:
    local.dpop_nonces = False
    local.add_client("corp-client", "corp-secret", [REDIRECT])


def make_app(
    local: LocalProvider, storage: BaseStorage | None = None, **kwargs: t.Any
) -> tuple[OAuth2ConsumerBlueprint, flask.Flask]:
    bp, app = corp_blueprint(local, storage, **kwargs)
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [Fernet.generate_key().decode()]

    @app.route("/token")
    def token() -> t.Any:
        return flask.jsonify(bp.token)

    @app.route("/me")
    def me() -> t.Any:
        response = bp.session.get("user")
        return flask.jsonify(status=response.status_code, body=response.json())

    return bp, app


def login(local: LocalProvider, client: t.Any) -> None:
    response = client.get("/login/corp")
    result = local.authorize(response.headers["Location"])
    path = urlsplit(result.url)
    response = client.get(path.path + "?" + path.query)
    assert response.headers["Location"] == "/", response.data


def proof_claims(recorded: t.Any) -> dict[str, t.Any]:
    proof = recorded.headers["Dpop"]
    header = jwt.get_unverified_header(proof)
    assert header["typ"] == "dpop+jwt"
    assert header["alg"] == "ES256"
    assert "d" not in header["jwk"]
    key = jwt.PyJWK(header["jwk"])
    return jwt.decode(proof, key.key, algorithms=["ES256"])


def test_dpop_binds_the_token_in_a_sealed_cookie(local: LocalProvider) -> None:
    bp, app = make_app(local, dpop=True)
    client = app.test_client()
    login(local, client)
    with client.session_transaction() as session:
        stored = session["corp_oauth_token"]
    assert "dpop_jwk" not in str(stored)  # sealed with the token
    token = client.get("/token").json
    assert token["token_type"] == "DPoP"
    assert token["dpop_jwk"]["d"]
    answer = client.get("/me").json
    assert answer == {"status": 200, "body": answer["body"]}
    exchange = local.requests_for("exchange")[0]
    assert proof_claims(exchange)["htm"] == "POST"
    assert proof_claims(exchange)["htu"] == local.token_url
    api = local.requests_for("user")[-1]
    assert api.headers["Authorization"] == "DPoP " + token["access_token"]
    claims = proof_claims(api)
    assert claims["htm"] == "GET"
    assert claims["htu"] == local.url + "/user"
    digest = hashlib.sha256(token["access_token"].encode()).digest()
    assert claims["ath"] == jwt.utils.base64url_encode(digest).decode()
    assert abs(claims["iat"] - time.time()) < 60


def test_every_call_gets_a_fresh_proof(local: LocalProvider) -> None:
    bp, app = make_app(local, dpop=True)
    client = app.test_client()
    login(local, client)
    client.get("/me")
    client.get("/me")
    proofs = [proof_claims(r)["jti"] for r in local.requests_for("user")]
    assert len(proofs) == 2
    assert len(set(proofs)) == 2


def test_refresh_carries_a_proof_and_keeps_the_key(local: LocalProvider) -> None:
    storage = MemoryStorage()
    bp, app = make_app(local, storage, dpop=True)
    login(local, app.test_client())
    first = dict(storage.token)
    storage.token = {**first, "expires_at": time.time() - 10}
    answer = app.test_client().get("/me").json
    assert answer["status"] == 200
    refreshed = storage.token
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["dpop_jwk"] == first["dpop_jwk"]
    assert refreshed["token_type"] == "DPoP"
    proof = proof_claims(local.requests_for("refresh")[0])
    assert proof["htu"] == local.token_url


def test_nonces_from_the_server_and_the_resource(local: LocalProvider) -> None:
    local.dpop_nonces = True
    storage = MemoryStorage()
    bp, app = make_app(local, storage, dpop=True)
    login(local, app.test_client())
    assert [
        r.headers.get("Dpop") is not None for r in local.requests_for("exchange")
    ] == [
        True,
        True,
    ]
    assert "nonce" not in proof_claims(local.requests_for("exchange")[0])
    assert proof_claims(local.requests_for("exchange")[1])["nonce"] == local.dpop_nonce
    # the resource server rotates its nonce: one retry with the new one
    local.dpop_nonce = "rotated-nonce"
    assert app.test_client().get("/me").json["status"] == 200
    calls = local.requests_for("user")
    assert len(calls) == 2
    assert proof_claims(calls[1])["nonce"] == "rotated-nonce"
    # remembered for the next call
    assert app.test_client().get("/me").json["status"] == 200
    assert len(local.requests_for("user")) == 3


def test_dpop_is_automatic_when_the_provider_asks(local: LocalProvider) -> None:
    local.clients["corp-client"].require_dpop = True
    storage = MemoryStorage()
    bp, app = make_app(local, storage)
    login(local, app.test_client())
    assert storage.token["token_type"] == "DPoP"
    assert [r.headers.get("Dpop") is None for r in local.requests_for("exchange")] == [
        True,
        False,
    ]
    assert app.test_client().get("/me").json["status"] == 200


def test_no_dpop_unless_asked(local: LocalProvider) -> None:
    storage = MemoryStorage()
    bp, app = make_app(local, storage)
    login(local, app.test_client())
    assert storage.token["token_type"] == "Bearer"
    assert "dpop_jwk" not in storage.token
    assert "Dpop" not in local.requests_for("exchange")[0].headers


def test_dpop_false_never_retries(local: LocalProvider) -> None:
    local.clients["corp-client"].require_dpop = True
    storage = MemoryStorage()
    bp, app = make_app(local, storage, dpop=False)
    client = app.test_client()
    response = client.get("/login/corp")
    result = local.authorize(response.headers["Location"])
    path = urlsplit(result.url)
    client.get(path.path + "?" + path.query)
    assert storage.token is None
    assert len(local.requests_for("exchange")) == 1


def test_stolen_dpop_token_is_useless_as_bearer(local: LocalProvider) -> None:
    import requests

    storage = MemoryStorage()
    bp, app = make_app(local, storage, dpop=True)
    login(local, app.test_client())
    stolen = storage.token["access_token"]
    response = requests.get(
        local.url + "/user", headers={"Authorization": f"Bearer {stolen}"}, timeout=5
    )
    assert response.status_code == 401


def test_dpop_with_sqlalchemy_storage(local: LocalProvider) -> None:
    with memory_database(Base) as db:
        storage = SQLAlchemyStorage(DpopToken, db)
        bp, app = make_app(local, storage, dpop=True)
        login(local, app.test_client())
        row = db.query(DpopToken).one()
        assert set(row.token) == {"_fd_enc"}  # sealed, key included
        assert app.test_client().get("/me").json["status"] == 200
        with app.test_request_context("/"):
            assert bp.token["dpop_jwk"]["kty"] == "EC"
