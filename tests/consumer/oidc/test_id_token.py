from __future__ import annotations

import base64
import hashlib
import hmac
import json
import typing as t

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448
from cryptography.hazmat.primitives.asymmetric import rsa
from freezegun.api import FrozenDateTimeFactory

from flask_dance.consumer.oidc import IDTokenError
from flask_dance.consumer.oidc import JWKSError
from flask_dance.consumer.oidc import OIDCError
from flask_dance.consumer.oidc import StaticJWKS
from flask_dance.consumer.oidc import token_hash
from flask_dance.consumer.oidc import validate_id_token

from .conftest import CLIENT_ID
from .conftest import ISSUER
from .conftest import NOW

NONCE = "n-0S6_WzA2Mj"
SECRET = "a-client-secret-that-is-at-least-32-bytes-long"


pytestmark = pytest.mark.usefixtures("frozen")


def claims(**overrides: t.Any) -> dict[str, t.Any]:
    base: dict[str, t.Any] = {
        "iss": ISSUER,
        "sub": "user-42",
        "aud": CLIENT_ID,
        "exp": NOW + 300,
        "iat": NOW,
        "nonce": NONCE,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def validate(token: str, jwks: t.Any, **kwargs: t.Any) -> dict[str, t.Any]:
    kwargs.setdefault("issuer", ISSUER)
    kwargs.setdefault("client_id", CLIENT_ID)
    kwargs.setdefault("nonce", NONCE)
    return validate_id_token(token, jwks=jwks, **kwargs)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(payload: dict[str, t.Any], secret: bytes, **header: t.Any) -> str:
    """An HS256 JWS built by hand (PyJWT refuses PEM keys as HMAC secrets)."""
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", **header}).encode())
    body = b64(json.dumps(payload).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


def unsigned(payload: dict[str, t.Any], alg: str) -> str:
    head = b64(json.dumps({"alg": alg, "kid": "rsa-1"}).encode())
    return f"{head}.{b64(json.dumps(payload).encode())}."


def expect(error: str, token: str, jwks: t.Any, **kwargs: t.Any) -> OIDCError:
    with pytest.raises(OIDCError) as exc_info:
        validate(token, jwks, **kwargs)
    assert exc_info.value.error == error, exc_info.value
    return exc_info.value


# --- happy paths ---------------------------------------------------------


def test_valid_token_returns_claims(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    result = validate(sign(claims()), jwks)
    assert result["sub"] == "user-42"
    assert result["nonce"] == NONCE


@pytest.mark.parametrize(
    "signing_key",
    [
        ("RS256", "rsa_key", "rsa-1"),
        ("RS384", "rsa_key", "rsa-1"),
        ("RS512", "rsa_key", "rsa-1"),
        ("PS256", "rsa_key", "rsa-1"),
        ("PS512", "rsa_key", "rsa-1"),
        ("ES256", "ec_key", "ec-1"),
        ("ES384", "ec384_key", "ec384-1"),
        ("EdDSA", "ed_key", "ed-1"),
    ],
    ids=lambda param: param[0],
    indirect=True,
)
def test_every_default_alg_verifies(
    sign: t.Any, jwks: dict[str, t.Any], signing_key: tuple[str, t.Any, str]
) -> None:
    alg, key, kid = signing_key
    token = sign(claims(), key=key, alg=alg, kid=kid)
    assert validate(token, StaticJWKS(jwks))["iss"] == ISSUER


def test_explicit_now_overrides_clock(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    token = sign(claims(exp=NOW + 300))
    expect("token_expired", token, jwks, now=NOW + 3600)


def test_clock_moves_past_exp(
    sign: t.Any, jwks: dict[str, t.Any], frozen: FrozenDateTimeFactory
) -> None:
    token = sign(claims(exp=NOW + 300))
    validate(token, jwks)
    frozen.tick(300 + 61)
    expect("token_expired", token, jwks)


# --- C29: signature, alg allowlist, key choice ---------------------------


def test_c29_alg_none_rejected(jwks: dict[str, t.Any]) -> None:
    for alg in ("none", "None", "NONE"):
        token = unsigned(claims(), alg)
        err = expect("alg_not_allowed", token, jwks)
        assert isinstance(err, IDTokenError)
        assert err.claim == "alg"
        # Even a careless allowlist cannot enable it.
        expect("alg_not_allowed", token, jwks, allowed_algs=(alg, "RS256"))


def test_c29_hs256_with_public_key_rejected(
    rsa_key: rsa.RSAPrivateKey, jwks: dict[str, t.Any]
) -> None:
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = hs256(claims(), pem, kid="rsa-1")
    expect("alg_not_allowed", token, jwks)
    # Allowing HS256 with the client secret never makes the public key a secret.
    expect(
        "invalid_signature",
        token,
        jwks,
        allowed_algs=("RS256", "HS256"),
        client_secret=SECRET,
    )


def test_c29_hs256_with_jwk_modulus_as_secret_rejected(
    jwks: dict[str, t.Any],
) -> None:
    modulus = jwks["keys"][0]["n"].encode()
    token = hs256(claims(), modulus, kid="rsa-1")
    expect(
        "invalid_signature", token, jwks, allowed_algs=("HS256",), client_secret=SECRET
    )


def test_c29_hs256_needs_explicit_opt_in_and_secret(jwks: dict[str, t.Any]) -> None:
    token = hs256(claims(), SECRET.encode())
    expect("alg_not_allowed", token, jwks, client_secret=SECRET)
    expect("alg_not_allowed", token, jwks, allowed_algs=("HS256",))
    result = validate(token, None, allowed_algs=("HS256",), client_secret=SECRET)
    assert result["sub"] == "user-42"


def test_c29_hs256_short_secret_no_warning() -> None:
    token = hs256(claims(), b"short")
    assert validate(token, None, allowed_algs=("HS256",), client_secret="short")


def test_c29_alg_outside_local_allowlist_rejected(
    sign: t.Any, jwks: dict[str, t.Any]
) -> None:
    token = sign(claims(), alg="RS512")
    expect("alg_not_allowed", token, jwks, allowed_algs=("RS256",))


def test_c29_alg_must_fit_key_type(
    sign: t.Any, jwks: dict[str, t.Any], ec_key: t.Any
) -> None:
    token = sign(claims(), key=ec_key, alg="ES256", kid="rsa-1")
    err = expect("alg_not_allowed", token, jwks)
    assert isinstance(err, JWKSError)


def test_c29_key_pinned_alg_respected(
    sign: t.Any, rsa_key: rsa.RSAPrivateKey, public_jwk: t.Any
) -> None:
    keyset = {"keys": [public_jwk(rsa_key, "k", alg="RS256")]}
    expect("alg_not_allowed", sign(claims(), alg="RS512", kid="k"), keyset)
    assert validate(sign(claims(), alg="RS256", kid="k"), keyset)


def test_c29_unknown_kid_rejected(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    err = expect("unknown_kid", sign(claims(), kid="not-there"), jwks)
    assert isinstance(err, JWKSError)


def test_c29_wrong_key_signature_rejected(
    sign: t.Any, other_rsa_key: rsa.RSAPrivateKey, jwks: dict[str, t.Any]
) -> None:
    token = sign(claims(), key=other_rsa_key, kid="rsa-1")
    expect("invalid_signature", token, jwks)


def test_c29_tampered_payload_rejected(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    head, _, sig = sign(claims()).split(".")
    forged = b64(json.dumps(claims(sub="admin")).encode())
    expect("invalid_signature", f"{head}.{forged}.{sig}", jwks)


def test_c29_embedded_key_headers_ignored(
    sign: t.Any,
    other_rsa_key: rsa.RSAPrivateKey,
    public_jwk: t.Any,
    jwks: dict[str, t.Any],
) -> None:
    attacker = public_jwk(other_rsa_key, "attacker")
    token = sign(
        claims(),
        key=other_rsa_key,
        kid="attacker",
        headers={"jwk": attacker, "jku": "https://evil.example/jwks"},
    )
    expect("unknown_kid", token, jwks)


def test_c29_encryption_key_not_used_for_signatures(
    sign: t.Any, rsa_key: rsa.RSAPrivateKey, public_jwk: t.Any
) -> None:
    keyset = {"keys": [public_jwk(rsa_key, "rsa-1", use="enc")]}
    expect("unknown_kid", sign(claims()), keyset)


@pytest.mark.usefixtures("jwks")
def test_c29_no_kid_uses_the_single_fitting_key(
    sign: t.Any, rsa_key: rsa.RSAPrivateKey, public_jwk: t.Any
) -> None:
    keyset = {"keys": [public_jwk(rsa_key, "only")]}
    assert validate(sign(claims(), kid=None), keyset)
    two = {"keys": [public_jwk(rsa_key, "a"), public_jwk(rsa_key, "b")]}
    expect("unknown_kid", sign(claims(), kid=None), two)


def test_c29_weak_rsa_key_rejected(sign: t.Any, public_jwk: t.Any) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    keyset = {"keys": [public_jwk(weak, "weak")]}
    with pytest.warns(jwt.InsecureKeyLengthWarning):
        token = sign(claims(), key=weak, kid="weak")
    expect("invalid_signature", token, keyset)


def test_c29_no_key_set_given(sign: t.Any) -> None:
    expect("jwks_unavailable", sign(claims()), None)


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c", "e30.e30.e30.e30.e30", "!!!.???.###"],
)
def test_malformed_token_rejected(token: str, jwks: dict[str, t.Any]) -> None:
    expect("invalid_token", token, jwks)


def test_non_string_token_rejected(jwks: dict[str, t.Any]) -> None:
    expect("invalid_token", t.cast(str, b"bytes"), jwks)


def test_payload_not_an_object_rejected(
    rsa_key: rsa.RSAPrivateKey, jwks: dict[str, t.Any]
) -> None:
    token = jwt.PyJWS().encode(
        b"[1, 2]", rsa_key, algorithm="RS256", headers={"kid": "rsa-1"}
    )
    expect("invalid_token", token, jwks)


def test_logout_token_is_not_an_id_token(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    token = sign(claims(), headers={"typ": "logout+jwt"})
    expect("invalid_token", token, jwks)


# --- C30: issuer ---------------------------------------------------------


def test_c30_wrong_iss_rejected(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    err = expect("invalid_issuer", sign(claims(iss="https://evil.example")), jwks)
    assert isinstance(err, IDTokenError)
    assert err.claim == "iss"


@pytest.mark.parametrize(
    "iss", [ISSUER + "/", ISSUER.upper(), "http://idp.example.com", None]
)
def test_c30_iss_compared_exactly(
    sign: t.Any, jwks: dict[str, t.Any], iss: str | None
) -> None:
    expect("invalid_issuer", sign(claims(iss=iss)), jwks)


# --- C31: audience and azp -----------------------------------------------


def test_c31_aud_other_with_azp_client_rejected(
    sign: t.Any, jwks: dict[str, t.Any]
) -> None:
    expect("invalid_audience", sign(claims(aud="other", azp=CLIENT_ID)), jwks)


def test_c31_extra_untrusted_audience_rejected(
    sign: t.Any, jwks: dict[str, t.Any]
) -> None:
    token = sign(claims(aud=[CLIENT_ID, "other"], azp=CLIENT_ID))
    expect("invalid_audience", token, jwks)
    assert validate(token, jwks, trusted_audiences=("other",))


def test_c31_several_audiences_need_azp(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    token = sign(claims(aud=[CLIENT_ID, "other"]))
    expect("invalid_azp", token, jwks, trusted_audiences=("other",))


def test_c31_azp_other_rejected(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    expect("invalid_azp", sign(claims(azp="other")), jwks)


def test_c31_aud_list_with_only_client_accepted(
    sign: t.Any, jwks: dict[str, t.Any]
) -> None:
    assert validate(sign(claims(aud=[CLIENT_ID])), jwks)


@pytest.mark.parametrize("aud", [None, [], 42, [CLIENT_ID, 7]])
def test_c31_malformed_aud_rejected(
    sign: t.Any, jwks: dict[str, t.Any], aud: t.Any
) -> None:
    payload = claims()
    if aud is None:
        del payload["aud"]
    else:
        payload["aud"] = aud
    expect("invalid_audience", sign(payload), jwks)


# --- C32: exp, iat, nbf --------------------------------------------------


def test_c32_expired_rejected_beyond_leeway(
    sign: t.Any, jwks: dict[str, t.Any]
) -> None:
    expect("token_expired", sign(claims(exp=NOW - 61, iat=NOW - 120)), jwks)
    assert validate(sign(claims(exp=NOW - 30, iat=NOW - 120)), jwks)
    expect("token_expired", sign(claims(exp=NOW - 30, iat=NOW - 120)), jwks, leeway=0)


def test_c32_iat_an_hour_old_rejected(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    token = sign(claims(iat=NOW - 3600, exp=NOW + 3600))
    expect("iat_too_old", token, jwks)
    assert validate(token, jwks, max_iat_age=7200)


def test_c32_iat_in_future_rejected(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    expect("not_yet_valid", sign(claims(iat=NOW + 600, exp=NOW + 900)), jwks)
    assert validate(sign(claims(iat=NOW + 30)), jwks)


def test_c32_nbf_respected(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    expect("not_yet_valid", sign(claims(nbf=NOW + 600)), jwks)
    assert validate(sign(claims(nbf=NOW - 10)), jwks)


@pytest.mark.parametrize("name", ["exp", "iat"])
def test_c32_exp_and_iat_required(
    sign: t.Any, jwks: dict[str, t.Any], name: str
) -> None:
    payload = claims()
    del payload[name]
    err = expect("missing_claim", sign(payload), jwks)
    assert isinstance(err, IDTokenError)
    assert err.claim == name


@pytest.mark.parametrize("value", ["1700000300", True, None])
def test_c32_non_numeric_exp_rejected(
    sign: t.Any, jwks: dict[str, t.Any], value: t.Any
) -> None:
    payload = claims()
    payload["exp"] = value
    expect(
        "invalid_token" if value is not None else "missing_claim", sign(payload), jwks
    )


@pytest.mark.parametrize("name", ["exp", "iat", "nbf", "auth_time"])
@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), float("-inf"), 10**400, False],
    ids=["nan", "inf", "-inf", "400-digits", "bool"],
)
def test_c46_non_finite_time_claims_rejected(
    sign: t.Any, jwks: dict[str, t.Any], name: str, value: t.Any
) -> None:
    """NaN passes every comparison and Infinity never expires: a time claim
    must be a finite number."""
    err = expect("invalid_token", sign(claims(**{name: value})), jwks, max_age=600)
    assert isinstance(err, IDTokenError)
    assert err.claim == name


def test_sub_required(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    payload = claims()
    del payload["sub"]
    expect("invalid_subject", sign(payload), jwks)
    expect("invalid_subject", sign(claims(sub="")), jwks)


# --- C28: nonce ----------------------------------------------------------


def test_c28_wrong_nonce_rejected(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    err = expect("invalid_nonce", sign(claims(nonce="other")), jwks)
    assert NONCE not in str(err)


def test_c28_missing_nonce_rejected(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    payload = claims()
    del payload["nonce"]
    expect("invalid_nonce", sign(payload), jwks)
    expect("invalid_nonce", sign(claims(nonce=12)), jwks)


def test_c28_nonce_not_checked_when_none_was_sent(
    sign: t.Any, jwks: dict[str, t.Any]
) -> None:
    assert validate(sign(claims(nonce="whatever")), jwks, nonce=None)


# --- C33: at_hash and c_hash ---------------------------------------------


def left_half(value: str, hash_name: str) -> str:
    digest = hashlib.new(hash_name, value.encode()).digest()
    return b64(digest[: len(digest) // 2])


@pytest.mark.parametrize(
    ("signing_key", "hash_name"),
    [
        (("RS256", "rsa_key", "rsa-1"), "sha256"),
        (("RS512", "rsa_key", "rsa-1"), "sha512"),
        (("ES384", "ec384_key", "ec384-1"), "sha384"),
        (("EdDSA", "ed_key", "ed-1"), "sha512"),
    ],
    ids=["RS256", "RS512", "ES384", "EdDSA"],
    indirect=["signing_key"],
)
def test_c33_at_hash_and_c_hash_match(
    sign: t.Any,
    jwks: dict[str, t.Any],
    signing_key: tuple[str, t.Any, str],
    hash_name: str,
) -> None:
    alg, key, kid = signing_key
    payload = claims(
        at_hash=left_half("access-1", hash_name), c_hash=left_half("code-1", hash_name)
    )
    token = sign(payload, key=key, alg=alg, kid=kid)
    assert validate(token, jwks, access_token="access-1", code="code-1")
    expect("invalid_at_hash", token, jwks, access_token="access-2", code="code-1")
    expect("invalid_c_hash", token, jwks, access_token="access-1", code="code-2")


def test_c33_substituted_access_token_rejected(
    sign: t.Any, jwks: dict[str, t.Any]
) -> None:
    token = sign(claims(at_hash=left_half("real-token", "sha256")))
    err = expect("invalid_at_hash", token, jwks, access_token="substituted-token")
    assert "substituted-token" not in str(err)


def test_c33_hash_claim_of_wrong_type_rejected(
    sign: t.Any, jwks: dict[str, t.Any]
) -> None:
    expect("invalid_at_hash", sign(claims(at_hash=123)), jwks, access_token="x")


def test_c33_unknown_hash_alg_fails_closed(sign: t.Any, public_jwk: t.Any) -> None:
    key = ed448.Ed448PrivateKey.generate()
    keyset = {"keys": [public_jwk(key, "ed448")]}
    token = sign(claims(at_hash="anything"), key=key, alg="EdDSA", kid="ed448")
    assert validate(token, keyset)
    expect("invalid_at_hash", token, keyset, access_token="x")
    with pytest.raises(ValueError, match="No hash function"):
        token_hash("x", "XY999")


def test_c33_token_hash_reference_value() -> None:
    # OIDC Core A.3: at_hash of "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y".
    value = token_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "RS256")
    assert value == "77QmUPtjPfzWtF2AnpK9RQ"


# --- C34: max_age, auth_time, acr ----------------------------------------


def test_c34_max_age_with_old_auth_time_rejected(
    sign: t.Any, jwks: dict[str, t.Any]
) -> None:
    token = sign(claims(auth_time=NOW - 3600))
    expect("auth_time_too_old", token, jwks, max_age=60)
    assert validate(token, jwks)
    assert validate(sign(claims(auth_time=NOW - 30)), jwks, max_age=60)


def test_c34_max_age_requires_auth_time(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    expect("missing_auth_time", sign(claims()), jwks, max_age=60)


def test_c34_auth_time_in_future_rejected(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    expect("not_yet_valid", sign(claims(auth_time=NOW + 3600)), jwks)


def test_c34_acr_checked_when_requested(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    acr = ("urn:mace:incommon:iap:silver",)
    expect("invalid_acr", sign(claims()), jwks, acr_values=acr)
    expect("invalid_acr", sign(claims(acr="0")), jwks, acr_values=acr)
    assert validate(sign(claims(acr=acr[0])), jwks, acr_values=acr)


# --- key resolvers -------------------------------------------------------


def test_custom_resolver_receives_kid_and_alg(
    sign: t.Any, rsa_key: rsa.RSAPrivateKey, public_jwk: t.Any
) -> None:
    seen: list[tuple[str | None, str]] = []

    def resolver(kid: str | None, alg: str) -> jwt.PyJWK:
        seen.append((kid, alg))
        return jwt.PyJWK(public_jwk(rsa_key, "x"), algorithm=alg)

    assert validate(sign(claims(), alg="PS384", kid="x"), resolver)
    assert seen == [("x", "PS384")]
