"""The registered claims that every token an OpenID Connect provider signs
for this client must pass (``iss``, ``aud``, ``azp``, ``exp``, ``iat`` and
``nbf``), and :func:`check_signed_token`, the steps that ID tokens and
logout tokens share: signature, header, registered claims."""

from __future__ import annotations

import collections.abc as cabc
import math
import time
import typing as t

import jwt

from .._jose import ASYMMETRIC_ALGS
from ._jws import Keys
from ._jws import verify_jws
from .errors import IDTokenError

#: Signature algorithms accepted by default. ``none`` and ``HS*`` are not.
DEFAULT_ALLOWED_ALGS: t.Final[tuple[str, ...]] = ASYMMETRIC_ALGS

#: Clock skew tolerated on ``exp``, ``iat``, ``nbf`` and ``auth_time``, in seconds.
DEFAULT_LEEWAY: t.Final[float] = 60.0

#: Oldest ``iat`` accepted, in seconds before now.
DEFAULT_MAX_IAT_AGE: t.Final[float] = 600.0


class _RequiredChecks(t.TypedDict):
    issuer: str
    client_id: str
    jwks: Keys


class TokenChecks(_RequiredChecks, total=False):
    """What a token that the provider signed for this client is checked
    against: the keyword arguments that :func:`.validate_id_token` and
    :func:`.validate_logout_token` share.

    Three are required: ``issuer``, the expected issuer, compared exactly;
    ``client_id``, this client's ID, which must be an audience; and ``jwks``,
    a key resolver such as :meth:`.JWKSCache.resolver` or a JWKS document
    (``{"keys": [...]}``), not used for ``HS*``. The others are optional:
    """

    #: Clock skew tolerated, in seconds. Default: :data:`DEFAULT_LEEWAY`.
    leeway: float
    #: Oldest ``iat`` accepted, in seconds before now. Default:
    #: :data:`DEFAULT_MAX_IAT_AGE`.
    max_iat_age: float
    #: The local allowlist of signature algorithms (default:
    #: :data:`DEFAULT_ALLOWED_ALGS`). ``none`` is always refused. Add
    #: ``HS256`` (or 384, 512) only for a provider that signs with the client
    #: secret, and pass ``client_secret``.
    allowed_algs: cabc.Collection[str]
    #: Audiences besides ``client_id`` that may appear. Default: none.
    trusted_audiences: cabc.Collection[str]
    #: The HMAC key for an allowed ``HS*`` algorithm.
    client_secret: str | None
    #: The current time as a Unix timestamp. Default: the clock, read once
    #: the signature checked out.
    now: float | None


_REQUIRED_CHECKS = TokenChecks.__required_keys__
_ALL_CHECKS = TokenChecks.__required_keys__ | TokenChecks.__optional_keys__


def number_claim(
    claims: cabc.Mapping[str, t.Any], name: str, *, required: bool
) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise IDTokenError(
                "missing_claim", f"The token has no '{name}' claim.", claim=name
            )
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IDTokenError(
            "invalid_token", f"The '{name}' claim is not a number.", claim=name
        )
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        number = math.inf
    if not math.isfinite(number):
        # NaN passes every comparison and Infinity never expires.
        raise IDTokenError(
            "invalid_token", f"The '{name}' claim is not a finite number.", claim=name
        )
    return number


def audiences(claims: cabc.Mapping[str, t.Any]) -> list[str]:
    """Return the ``aud`` claim as a list of strings.

    :raises IDTokenError: ``"invalid_audience"`` when it is missing or malformed.
    """
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud):
        return list(aud)
    raise IDTokenError(
        "invalid_audience",
        "The token's 'aud' claim is missing or malformed.",
        claim="aud",
    )


def check_registered_claims(
    claims: cabc.Mapping[str, t.Any],
    *,
    issuer: str,
    client_id: str,
    trusted_audiences: cabc.Collection[str],
    leeway: float,
    max_iat_age: float,
    now: float,
    require_exp: bool = True,
) -> None:
    """Check ``iss``, ``aud``, ``azp``, ``exp``, ``iat`` and ``nbf``.

    :raises IDTokenError: on the first rule that fails.
    """
    iss = claims.get("iss")
    if iss != issuer:
        raise IDTokenError(
            "invalid_issuer",
            f"The token was issued by {iss!r}, not by the expected issuer '{issuer}'.",
            claim="iss",
        )
    auds = audiences(claims)
    if client_id not in auds:
        raise IDTokenError(
            "invalid_audience",
            f"The token is not meant for this client ('{client_id}' is not in"
            " its 'aud' claim).",
            claim="aud",
        )
    untrusted = [a for a in auds if a != client_id and a not in trusted_audiences]
    if untrusted:
        raise IDTokenError(
            "invalid_audience",
            f"The token is also meant for the untrusted audiences {untrusted!r};"
            " add them to 'trusted_audiences' if they are expected.",
            claim="aud",
        )
    azp = claims.get("azp")
    if azp is not None and azp != client_id:
        raise IDTokenError(
            "invalid_azp",
            f"The token was issued to the party {azp!r}, not to '{client_id}'.",
            claim="azp",
        )
    if azp is None and len(auds) > 1:
        raise IDTokenError(
            "invalid_azp",
            "The token has several audiences but no 'azp' claim.",
            claim="azp",
        )
    exp = number_claim(claims, "exp", required=require_exp)
    if exp is not None and now >= exp + leeway:
        raise IDTokenError("token_expired", "The token has expired.", claim="exp")
    iat = number_claim(claims, "iat", required=True)
    assert iat is not None
    if iat > now + leeway:
        raise IDTokenError(
            "not_yet_valid", "The token's 'iat' is in the future.", claim="iat"
        )
    if iat < now - max_iat_age - leeway:
        raise IDTokenError(
            "iat_too_old",
            f"The token was issued {int(now - iat)} seconds ago, more than the"
            f" {int(max_iat_age)} seconds allowed.",
            claim="iat",
        )
    nbf = number_claim(claims, "nbf", required=False)
    if nbf is not None and now + leeway < nbf:
        raise IDTokenError(
            "not_yet_valid", "The token is not valid yet ('nbf').", claim="nbf"
        )


class CheckedToken(t.NamedTuple):
    """A token whose signature, header and registered claims checked out."""

    header: dict[str, t.Any]
    claims: dict[str, t.Any]
    #: The verification key; ``None`` for an ``HS*`` token.
    key: jwt.PyJWK | None
    #: The time the claims were checked at, as a Unix timestamp.
    now: float


def check_signed_token(
    token: str,
    *,
    what: str,
    check_header: cabc.Callable[[cabc.Mapping[str, t.Any]], None],
    require_exp: bool,
    checks: TokenChecks,
) -> CheckedToken:
    """Verify the signature of ``token``, let ``check_header`` judge its
    header, then check its registered claims, in that order.

    :param what: ``"ID token"`` or ``"logout token"``, for messages.
    :param check_header: Raises :class:`IDTokenError` for a header (a
        ``typ``) that marks another kind of token.
    :param require_exp: Whether ``exp`` must be present.
    :param checks: What the token is checked against, as the caller got them.
    :raises TypeError: when ``checks`` lacks a required one or has an unknown
        one, as for a wrong keyword argument.
    :raises IDTokenError: on the first rule that fails.
    :raises JWKSError: when the signing key cannot be found or fetched.
    """
    missing = _REQUIRED_CHECKS - checks.keys()
    unknown = checks.keys() - _ALL_CHECKS
    if missing or unknown:
        raise TypeError(
            f"Validating the {what}: "
            + "; ".join(
                f"{label} keyword arguments: {', '.join(sorted(names))}"
                for label, names in (("missing", missing), ("unexpected", unknown))
                if names
            )
        )
    verified = verify_jws(
        token,
        what=what,
        jwks=checks["jwks"],
        allowed_algs=checks.get("allowed_algs", DEFAULT_ALLOWED_ALGS),
        client_secret=checks.get("client_secret"),
    )
    check_header(verified.header)
    now = checks.get("now")
    if now is None:
        now = time.time()
    check_registered_claims(
        verified.claims,
        issuer=checks["issuer"],
        client_id=checks["client_id"],
        trusted_audiences=checks.get("trusted_audiences", ()),
        leeway=checks.get("leeway", DEFAULT_LEEWAY),
        max_iat_age=checks.get("max_iat_age", DEFAULT_MAX_IAT_AGE),
        now=now,
        require_exp=require_exp,
    )
    return CheckedToken(verified.header, verified.claims, verified.key, now)
