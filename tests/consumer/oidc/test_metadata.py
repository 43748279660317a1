"""Provider metadata (consumer/oidc/_metadata.py): its fields, checks and helpers."""

from __future__ import annotations

import typing as t

import pytest
import requests
import responses as responses_lib

from flask_dance.consumer.oidc import DiscoveryError
from flask_dance.consumer.oidc import ProviderMetadata

from .conftest import document
from .conftest import fetch
from .conftest import ISSUER
from .conftest import OIDC_URL


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


def test_from_dict() -> None:
    meta = ProviderMetadata.from_dict(document())
    assert meta.token_endpoint == ISSUER + "/token"
    assert meta.source == "<static>"
    with pytest.raises(DiscoveryError):
        ProviderMetadata.from_dict({"token_endpoint": ISSUER + "/token"})


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
