"""Exceptions raised by the OpenID Connect building blocks.

Every failure is an :class:`OIDCError` (a :exc:`ValueError`) carrying a short
machine name in :attr:`~OIDCError.error` and a human sentence in
:attr:`~OIDCError.error_description`. Messages never contain tokens, codes,
nonces or secrets.

A leaf module: it imports nothing of the package and none of the ``oidc``
extra, so the OAuth 2 blueprint can catch these errors without loading PyJWT
and cryptography. Import them from :mod:`flask_dance.consumer.oidc`.
"""

from __future__ import annotations

import typing as t


class OIDCError(ValueError):
    """Base class of every OpenID Connect validation or transport failure.

    :param error: A short machine name such as ``"invalid_issuer"``.
    :param error_description: A human sentence saying what went wrong.
    """

    def __init__(self, error: str, error_description: str) -> None:
        super().__init__(error_description)
        #: Machine name of the failure, for example ``"invalid_nonce"``.
        self.error: str = error
        #: Human readable description; also the ``str()`` of the exception.
        self.error_description: str = error_description

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.error!r}, {self.error_description!r})"


class DiscoveryError(OIDCError):
    """Provider metadata could not be fetched or is not trustworthy.

    ``error`` is ``"discovery_failed"`` or ``"issuer_mismatch"``.

    :param url: The metadata URL (or URLs, comma separated) that failed.
    """

    def __init__(self, error: str, error_description: str, *, url: str) -> None:
        super().__init__(error, error_description)
        #: The URL that was fetched.
        self.url: str = url


class JWKSError(OIDCError):
    """The signing keys could not be obtained or no key fits the token.

    ``error`` is ``"jwks_unavailable"``, ``"unknown_kid"``, ``"invalid_jwk"``
    or ``"alg_not_allowed"`` (the key selected by ``kid`` does not fit ``alg``).

    :param url: The ``jwks_uri``, or ``None`` for a static key set.
    """

    def __init__(
        self, error: str, error_description: str, *, url: str | None = None
    ) -> None:
        super().__init__(error, error_description)
        #: The ``jwks_uri`` involved, if any.
        self.url: str | None = url


class IDTokenError(OIDCError):
    """An ID token (or a logout token) failed validation.

    :param claim: The claim or header that failed, if one did.
    """

    def __init__(
        self, error: str, error_description: str, *, claim: str | None = None
    ) -> None:
        super().__init__(error, error_description)
        #: Name of the offending claim or header parameter, if any.
        self.claim: str | None = claim


class UserinfoError(OIDCError):
    """The userinfo response does not belong to the authenticated user."""


class AuthorizationResponseError(OIDCError):
    """The ``iss`` parameter of the authorization response is wrong (RFC 9207).

    ``error`` is ``"iss_mismatch"`` or ``"missing_iss"``.
    """


class LogoutError(OIDCError):
    """RP-initiated logout could not be built or its callback is not ours.

    ``error`` is ``"logout_unsupported"`` or ``"invalid_logout_state"``.
    """


#: Every machine name this package raises, for documentation and tests.
ERROR_CODES: t.Final[frozenset[str]] = frozenset(
    {
        "discovery_failed",
        "issuer_mismatch",
        "jwks_unavailable",
        "unknown_kid",
        "invalid_jwk",
        "invalid_token",
        "invalid_signature",
        "alg_not_allowed",
        "missing_claim",
        "invalid_issuer",
        "invalid_audience",
        "invalid_azp",
        "invalid_subject",
        "token_expired",
        "iat_too_old",
        "not_yet_valid",
        "invalid_nonce",
        "invalid_at_hash",
        "invalid_c_hash",
        "auth_time_too_old",
        "missing_auth_time",
        "invalid_acr",
        "refresh_identity_changed",
        "userinfo_sub_mismatch",
        "iss_mismatch",
        "missing_iss",
        "invalid_logout_token",
        "logout_unsupported",
        "invalid_logout_state",
    }
)
