from __future__ import annotations

import typing as t

import pytest

from flask_dance.consumer.oidc import check_refreshed_id_token
from flask_dance.consumer.oidc import check_userinfo
from flask_dance.consumer.oidc import identity_key
from flask_dance.consumer.oidc import IDTokenError
from flask_dance.consumer.oidc import UserinfoError

ORIGINAL: dict[str, t.Any] = {
    "iss": "https://idp.example.com",
    "sub": "user-42",
    "aud": "client-123",
    "azp": "client-123",
    "auth_time": 1_700_000_000,
    "nonce": "n-1",
    "iat": 1_700_000_000,
    "exp": 1_700_000_300,
}


def refreshed(**changes: t.Any) -> dict[str, t.Any]:
    new = {**ORIGINAL, "iat": 1_700_003_600, "exp": 1_700_003_900}
    new.update(changes)
    return {k: v for k, v in new.items() if v is not None}


# --- C38 -----------------------------------------------------------------


def test_c38_same_identity_accepted() -> None:
    check_refreshed_id_token(ORIGINAL, refreshed())
    check_refreshed_id_token(ORIGINAL, refreshed(aud=["client-123"], nonce=None))
    check_refreshed_id_token(ORIGINAL, refreshed(azp=None, auth_time=None))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("sub", "someone-else"),
        ("sub", None),
        ("iss", "https://evil.example"),
        ("aud", ["client-123", "other"]),
        ("aud", "other"),
        ("azp", "other"),
        ("auth_time", 1_700_003_600),
        ("nonce", "n-2"),
    ],
)
def test_c38_refresh_with_other_identity_rejected(claim: str, value: t.Any) -> None:
    with pytest.raises(IDTokenError) as exc_info:
        check_refreshed_id_token(ORIGINAL, refreshed(**{claim: value}))
    assert exc_info.value.error == "refresh_identity_changed"
    assert exc_info.value.claim == claim


# --- C35 -----------------------------------------------------------------


def test_c35_userinfo_sub_mismatch_rejected() -> None:
    with pytest.raises(UserinfoError) as exc_info:
        check_userinfo({"sub": "user-43", "email": "a@example.com"}, ORIGINAL)
    assert exc_info.value.error == "userinfo_sub_mismatch"


@pytest.mark.parametrize("userinfo", [{}, {"sub": 42}, ["sub"], {"sub": ""}])
def test_c35_userinfo_without_sub_rejected(userinfo: t.Any) -> None:
    with pytest.raises(UserinfoError):
        check_userinfo(userinfo, ORIGINAL)


def test_c35_userinfo_sub_match_returns_copy() -> None:
    userinfo = {"sub": "user-42", "email": "a@example.com"}
    result = check_userinfo(userinfo, ORIGINAL)
    assert result == userinfo
    assert result is not userinfo


# --- C39 -----------------------------------------------------------------


def test_c39_identity_keyed_by_iss_and_sub_not_email() -> None:
    a = {"iss": "https://a.example", "sub": "1", "email": "same@example.com"}
    b = {"iss": "https://b.example", "sub": "1", "email": "same@example.com"}
    assert identity_key(a) == ("https://a.example", "1")
    assert identity_key(a) != identity_key(b)


@pytest.mark.parametrize("claims", [{"iss": "https://a.example"}, {"sub": "1"}])
def test_c39_identity_needs_iss_and_sub(claims: dict[str, str]) -> None:
    with pytest.raises(IDTokenError):
        identity_key(claims)
