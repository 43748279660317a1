"""OpenID Connect helpers and the local test provider, for mypy and pyright."""

from __future__ import annotations

import typing as t

import requests
from flask import Flask
from typing_extensions import assert_type

from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import OAuth2Session
from flask_dance.consumer.oidc import build_end_session_url
from flask_dance.consumer.oidc import DiscoveryCache
from flask_dance.consumer.oidc import get_jwks_cache
from flask_dance.consumer.oidc import get_provider_metadata
from flask_dance.consumer.oidc import identity_key
from flask_dance.consumer.oidc import IDTokenError
from flask_dance.consumer.oidc import OIDCError
from flask_dance.consumer.oidc import ProviderMetadata
from flask_dance.consumer.oidc import StaticJWKS
from flask_dance.consumer.oidc import validate_id_token
from flask_dance.contrib.oidc import make_oidc_blueprint
from flask_dance.contrib.oidc import oidc_session
from flask_dance.testing import AuthorizationResult
from flask_dance.testing import Client
from flask_dance.testing import LocalProvider
from flask_dance.testing import User

app = Flask(__name__)

# -- a generic OpenID Connect provider -----------------------------------------

corp_bp = make_oidc_blueprint(
    "corp",
    "https://login.example.com",
    client_id="id",
    client_secret="secret",
    scope=["openid", "email"],
    max_age=3600,
    response_mode="form_post",
)
assert_type(corp_bp, OAuth2ConsumerBlueprint)
app.register_blueprint(corp_bp, url_prefix="/login")

corp = oidc_session("corp")
assert_type(corp, OAuth2Session)


@app.route("/me")
@corp.authorization_required
def me() -> dict[str, t.Any]:
    claims = corp_bp.id_token_claims
    assert_type(claims, dict[str, t.Any] | None)
    if claims is None:
        return {}
    assert_type(identity_key(claims), tuple[str, str])
    info = corp_bp.userinfo()
    assert_type(info, dict[str, t.Any])
    return info


def logout() -> bool:
    try:
        revoked = corp_bp.revoke_token()
    except OIDCError as exc:
        error: str = exc.error
        description: str | None = exc.error_description
        app.logger.warning("%s: %s", error, description)
        return False
    assert_type(revoked, bool)
    return revoked


# -- the building blocks -------------------------------------------------------


def check_token(id_token: str, nonce: str) -> dict[str, t.Any]:
    http = requests.Session()
    metadata = get_provider_metadata(
        "https://login.example.com", session=http, cache=DiscoveryCache(ttl=600)
    )
    assert_type(metadata, ProviderMetadata)
    issuer: str = metadata.issuer
    jwks_uri: str | None = metadata.jwks_uri
    assert jwks_uri is not None
    jwks = get_jwks_cache(jwks_uri).resolver(http, timeout=5.0)
    try:
        claims = validate_id_token(
            id_token, issuer=issuer, client_id="id", jwks=jwks, nonce=nonce
        )
    except IDTokenError as exc:
        claim: str | None = exc.claim
        raise RuntimeError(claim) from exc
    assert_type(claims, dict[str, t.Any])
    static = StaticJWKS({"keys": []})
    validate_id_token(id_token, issuer=issuer, client_id="id", jwks=static, nonce=None)
    url = build_end_session_url(
        metadata.end_session_endpoint,
        id_token_hint=id_token,
        post_logout_redirect_uri="https://app.example.com/",
    )
    assert_type(url, str)
    return claims


# -- the local provider, in tests ----------------------------------------------

with LocalProvider(users=[User("alice")], auto_approve=True) as provider:
    assert_type(provider, LocalProvider)
    local_bp = OAuth2ConsumerBlueprint(
        "local", __name__, **provider.blueprint_kwargs(scope="openid profile")
    )
    client: Client = provider.clients[provider.default_client_id]
    url: str = provider.url
    port: int = provider.port
    provider.faults.token_error = "server_error"
    result = provider.authorize(provider.authorization_url, user="alice")
    assert_type(result, AuthorizationResult)
    code: str | None = result.code
    issued: dict[str, t.Any] = provider.issue_token(user="alice")
