"""Choosing the verification key of a token: RFC 9864's ``Ed25519``
algorithm name, curves, allowlists and unusable keys."""

from __future__ import annotations

import hashlib
import typing as t

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed448
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import OKPAlgorithm

from flask_dance.consumer.oidc import IDTokenError
from flask_dance.consumer.oidc import JWKSError
from flask_dance.consumer.oidc import validate_logout_token
from flask_dance.consumer.oidc.jwks import select_key
from flask_dance.consumer.oidc.logout import BACKCHANNEL_LOGOUT_EVENT

from .conftest import CLIENT_ID
from .conftest import ISSUER
from .conftest import NOW
from .conftest import validate

pytestmark = pytest.mark.usefixtures("frozen")


def ed25519_jws(payload: dict[str, t.Any], key: t.Any, kid: str) -> str:
    """Sign with the alg name ``Ed25519`` (PyJWT knows only ``EdDSA``)."""
    signer = jwt.PyJWS()
    signer.register_algorithm("Ed25519", OKPAlgorithm())
    body = jwt.api_jwt.PyJWT()._encode_payload(payload)
    return signer.encode(body, key, algorithm="Ed25519", headers={"kid": kid})


def id_claims(**extra: t.Any) -> dict[str, t.Any]:
    return {
        "iss": ISSUER,
        "sub": "user-42",
        "aud": CLIENT_ID,
        "exp": NOW + 300,
        "iat": NOW,
        **extra,
    }


@pytest.mark.parametrize("jwk_alg", [None, "Ed25519", "EdDSA"])
def test_ed25519_alg_name_verifies(
    ed_key: ed25519.Ed25519PrivateKey, public_jwk: t.Any, jwk_alg: str | None
) -> None:
    extra = {"alg": jwk_alg} if jwk_alg else {}
    keyset = {"keys": [public_jwk(ed_key, "ed-1", **extra)]}
    digest = hashlib.sha512(b"access-1").digest()
    at_hash = jwt.utils.base64url_encode(digest[:32]).decode()
    token = ed25519_jws(id_claims(at_hash=at_hash), ed_key, "ed-1")
    assert validate(token, keyset, access_token="access-1")["sub"] == "user-42"
    with pytest.raises(IDTokenError) as exc_info:
        validate(token, keyset, access_token="x")
    assert exc_info.value.error == "invalid_at_hash"


def test_eddsa_token_still_verifies_with_an_ed25519_named_key(
    ed_key: ed25519.Ed25519PrivateKey, public_jwk: t.Any
) -> None:
    keyset = {"keys": [public_jwk(ed_key, "ed-1", alg="Ed25519")]}
    token = jwt.encode(id_claims(), ed_key, algorithm="EdDSA", headers={"kid": "ed-1"})
    assert validate(token, keyset)


def test_ed25519_refuses_an_ed448_key(public_jwk: t.Any) -> None:
    key = ed448.Ed448PrivateKey.generate()
    keyset = {"keys": [public_jwk(key, "ed448")]}
    token = jwt.encode(id_claims(), key, algorithm="EdDSA", headers={"kid": "ed448"})
    forged = token.replace(
        token.split(".")[0],
        jwt.utils.base64url_encode(b'{"alg":"Ed25519","kid":"ed448"}').decode(),
    )
    with pytest.raises(JWKSError) as exc_info:
        validate(forged, keyset)
    assert exc_info.value.error == "alg_not_allowed"


def test_ed25519_not_in_allowlist_is_refused(
    ed_key: ed25519.Ed25519PrivateKey, public_jwk: t.Any
) -> None:
    keyset = {"keys": [public_jwk(ed_key, "ed-1")]}
    token = ed25519_jws(id_claims(), ed_key, "ed-1")
    with pytest.raises(IDTokenError) as exc_info:
        validate(token, keyset, allowed_algs=("EdDSA",))
    assert exc_info.value.error == "alg_not_allowed"


def test_ed25519_logout_token(
    ed_key: ed25519.Ed25519PrivateKey, public_jwk: t.Any
) -> None:
    keyset = {"keys": [public_jwk(ed_key, "ed-1")]}
    claims = id_claims(jti="j-1", sid="s-1", events={BACKCHANNEL_LOGOUT_EVENT: {}})
    token = ed25519_jws(claims, ed_key, "ed-1")
    result = validate_logout_token(
        token, issuer=ISSUER, client_id=CLIENT_ID, jwks=keyset
    )
    assert result["sid"] == "s-1"


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
