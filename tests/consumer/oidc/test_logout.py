from __future__ import annotations

import functools
import sys
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from flask_dance.consumer.oidc import build_end_session_url
from flask_dance.consumer.oidc import check_logout_state
from flask_dance.consumer.oidc import IDTokenError
from flask_dance.consumer.oidc import LogoutError
from flask_dance.consumer.oidc import new_logout_state
from flask_dance.consumer.oidc import TokenChecks
from flask_dance.consumer.oidc import validate_id_token
from flask_dance.consumer.oidc import validate_logout_token
from flask_dance.consumer.oidc.id_token import DEFAULT_LEEWAY
from flask_dance.consumer.oidc.id_token import DEFAULT_MAX_IAT_AGE
from flask_dance.consumer.oidc.logout import BACKCHANNEL_LOGOUT_EVENT

from .conftest import CLIENT_ID
from .conftest import ISSUER
from .conftest import NOW

END_SESSION = ISSUER + "/logout?ui=1"


# --- C40: RP-initiated logout --------------------------------------------


def test_c40_end_session_url() -> None:
    state = new_logout_state()
    url = build_end_session_url(
        END_SESSION,
        id_token_hint="header.payload.sig",
        post_logout_redirect_uri="https://app.example/logged-out",
        state=state,
        client_id=CLIENT_ID,
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == ISSUER + "/logout"
    assert parse_qs(parts.query) == {
        "ui": ["1"],
        "id_token_hint": ["header.payload.sig"],
        "client_id": [CLIENT_ID],
        "post_logout_redirect_uri": ["https://app.example/logged-out"],
        "state": [state],
    }


def test_c40_logout_state_is_fresh_and_long() -> None:
    states = {new_logout_state() for _ in range(50)}
    assert len(states) == 50
    assert all(len(s) >= 43 for s in states)


def test_c40_tampered_state_rejected() -> None:
    state = new_logout_state()
    check_logout_state(state, state)
    for returned in (state[:-1] + "x", "", None):
        with pytest.raises(LogoutError) as exc_info:
            check_logout_state(returned, state)
        assert exc_info.value.error == "invalid_logout_state"
    with pytest.raises(LogoutError):
        check_logout_state(state, None)


def test_c40_no_end_session_endpoint() -> None:
    with pytest.raises(LogoutError) as exc_info:
        build_end_session_url(None, id_token_hint="x")
    assert exc_info.value.error == "logout_unsupported"


def test_c40_redirect_needs_hint_or_client_id() -> None:
    with pytest.raises(LogoutError, match="id_token_hint"):
        build_end_session_url(
            END_SESSION, id_token_hint=None, post_logout_redirect_uri="https://a/"
        )


# --- C40: back-channel logout --------------------------------------------


def logout_claims(**overrides: t.Any) -> dict[str, t.Any]:
    base: dict[str, t.Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "iat": NOW,
        "exp": NOW + 120,
        "jti": "jti-1",
        "sub": "user-42",
        "sid": "session-1",
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def check(token: str, jwks: t.Any) -> dict[str, t.Any]:
    return validate_logout_token(
        token, issuer=ISSUER, client_id=CLIENT_ID, jwks=jwks, now=NOW
    )


def test_c40_backchannel_logout_token_accepted(
    sign: t.Any, jwks: dict[str, t.Any]
) -> None:
    token = sign(logout_claims(), headers={"typ": "logout+jwt"})
    assert check(token, jwks)["sid"] == "session-1"
    assert check(sign(logout_claims(sub=None)), jwks)["sid"] == "session-1"
    assert check(sign(logout_claims(exp=None)), jwks)["sub"] == "user-42"


@pytest.mark.parametrize(
    ("overrides", "headers", "error"),
    [
        ({"events": None}, {}, "invalid_logout_token"),
        ({"events": {"other": {}}}, {}, "invalid_logout_token"),
        ({"events": {BACKCHANNEL_LOGOUT_EVENT: "x"}}, {}, "invalid_logout_token"),
        ({"nonce": "n"}, {}, "invalid_logout_token"),
        ({"jti": None}, {}, "invalid_logout_token"),
        ({"sub": None, "sid": None}, {}, "invalid_logout_token"),
        ({}, {"typ": "at+jwt"}, "invalid_logout_token"),
        ({"iss": "https://evil.example"}, {}, "invalid_issuer"),
        ({"aud": "other"}, {}, "invalid_audience"),
        ({"iat": NOW - 3600, "exp": None}, {}, "iat_too_old"),
        ({"exp": NOW - 3600, "iat": NOW - 3700}, {}, "token_expired"),
    ],
)
def test_c40_bad_logout_token_rejected(
    sign: t.Any,
    jwks: dict[str, t.Any],
    overrides: dict[str, t.Any],
    headers: dict[str, t.Any],
    error: str,
) -> None:
    with pytest.raises(IDTokenError) as exc_info:
        check(sign(logout_claims(**overrides), headers=headers), jwks)
    assert exc_info.value.error == error


def test_c40_logout_token_signature_checked(
    sign: t.Any, other_rsa_key: t.Any, jwks: dict[str, t.Any]
) -> None:
    with pytest.raises(IDTokenError) as exc_info:
        check(sign(logout_claims(), key=other_rsa_key), jwks)
    assert exc_info.value.error == "invalid_signature"


@pytest.mark.parametrize("name", ["exp", "iat", "nbf"])
@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), 10**400, True],
    ids=["nan", "inf", "400-digits", "bool"],
)
def test_c46_logout_token_non_finite_times_rejected(
    sign: t.Any, jwks: dict[str, t.Any], name: str, value: t.Any
) -> None:
    """A logout token with ``iat`` of NaN would escape the age check."""
    with pytest.raises(IDTokenError) as exc_info:
        check(sign(logout_claims(**{name: value})), jwks)
    assert exc_info.value.error == "invalid_token"
    assert exc_info.value.claim == name


@pytest.mark.parametrize(
    ("validate", "foreign_typ", "typ_error"),
    [
        (
            functools.partial(validate_id_token, nonce=None),
            "logout+jwt",
            "invalid_token",
        ),
        (validate_logout_token, "at+jwt", "invalid_logout_token"),
    ],
    ids=["id_token", "logout_token"],
)
def test_shared_steps_run_signature_then_header_then_claims(
    sign: t.Any,
    other_rsa_key: t.Any,
    jwks: dict[str, t.Any],
    validate: t.Callable[..., dict[str, t.Any]],
    foreign_typ: str,
    typ_error: str,
) -> None:
    """Both validators check, in this order, the signature, the ``typ``
    header and the registered claims: a token that fails several reports the
    first, with each validator's own error for the header."""
    expired = logout_claims(iat=NOW - 3700, exp=NOW - 3600)
    bad = {"headers": {"typ": foreign_typ}}

    def error_of(token: str) -> tuple[str, str | None]:
        with pytest.raises(IDTokenError) as exc_info:
            validate(token, issuer=ISSUER, client_id=CLIENT_ID, jwks=jwks, now=NOW)
        return exc_info.value.error, exc_info.value.claim

    assert error_of(sign(expired, key=other_rsa_key, **bad))[0] == "invalid_signature"
    assert error_of(sign(expired, **bad)) == (typ_error, "typ")
    assert error_of(sign(expired)) == ("token_expired", "exp")


@pytest.mark.parametrize(
    "validate",
    [functools.partial(validate_id_token, nonce=None), validate_logout_token],
    ids=["id_token", "logout_token"],
)
def test_wrong_checks_are_type_errors_before_any_check(
    sign: t.Any, jwks: dict[str, t.Any], validate: t.Callable[..., t.Any]
) -> None:
    """Both validators take their checks as keyword arguments
    (:class:`TokenChecks`): a missing required one or an unknown one is a
    :exc:`TypeError`, as for a wrong argument, not a token error."""
    token = sign(logout_claims())
    with pytest.raises(TypeError, match="missing keyword arguments: issuer, jwks"):
        validate(token, client_id=CLIENT_ID)
    with pytest.raises(TypeError, match="unexpected keyword arguments: leway"):
        validate(token, issuer=ISSUER, client_id=CLIENT_ID, jwks=jwks, leway=5)


def test_token_checks_apply_their_defaults(sign: t.Any, jwks: dict[str, t.Any]) -> None:
    """Left out, ``leeway`` is :data:`DEFAULT_LEEWAY` and ``max_iat_age``
    :data:`DEFAULT_MAX_IAT_AGE`; given, they replace them."""
    checks = TokenChecks(issuer=ISSUER, client_id=CLIENT_ID, jwks=jwks, now=NOW)
    within = sign(logout_claims(iat=NOW - DEFAULT_MAX_IAT_AGE - DEFAULT_LEEWAY + 1))
    beyond = sign(logout_claims(iat=NOW - DEFAULT_MAX_IAT_AGE - DEFAULT_LEEWAY - 1))
    assert validate_logout_token(within, **checks)["iss"] == ISSUER
    with pytest.raises(IDTokenError, match="seconds allowed"):
        validate_logout_token(beyond, **checks)
    assert validate_logout_token(beyond, **checks, leeway=DEFAULT_LEEWAY + 2)
    with pytest.raises(IDTokenError, match="seconds allowed"):
        validate_logout_token(within, **checks, max_iat_age=DEFAULT_MAX_IAT_AGE - 2)


def test_token_checks_know_their_required_keys_at_run_time() -> None:
    assert TokenChecks.__required_keys__ == {"issuer", "client_id", "jwks"}
    assert TokenChecks.__optional_keys__ == {
        "leeway",
        "max_iat_age",
        "allowed_algs",
        "trusted_audiences",
        "client_secret",
        "now",
    }


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="typing.Unpack is new in Python 3.11"
)
@pytest.mark.parametrize("validate", [validate_id_token, validate_logout_token])
def test_the_validators_annotations_resolve_at_run_time(
    validate: t.Callable[..., t.Any],
) -> None:
    """Tools that read annotations at run time (typing.get_type_hints) see
    ``**checks`` as :class:`TokenChecks`."""
    hints = t.get_type_hints(validate)
    assert t.get_args(hints["checks"]) == (TokenChecks,)
