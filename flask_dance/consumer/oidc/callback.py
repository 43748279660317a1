"""Checks on the authorization response, before any token request."""

from __future__ import annotations

from .errors import AuthorizationResponseError


def check_authorization_response_iss(
    iss_param: str | None, *, expected_issuer: str, required: bool
) -> None:
    """Check the ``iss`` parameter of the redirect to the callback (RFC 9207).

    This is the mix-up defence: a response naming another authorization
    server must never reach this server's token endpoint. When ``iss`` is
    present it is always compared, whatever the metadata says.

    :param iss_param: The ``iss`` query (or form) parameter, or ``None``.
    :param expected_issuer: The issuer this login was sent to.
    :param required: Reject a missing ``iss``; pass
        :meth:`.ProviderMetadata.requires_iss_parameter`.
    :raises AuthorizationResponseError: ``"missing_iss"`` or ``"iss_mismatch"``.
    """
    if iss_param is None:
        if required:
            raise AuthorizationResponseError(
                "missing_iss",
                "The authorization response has no 'iss' parameter, but the"
                " provider announces it (RFC 9207).",
            )
        return
    if iss_param != expected_issuer:
        raise AuthorizationResponseError(
            "iss_mismatch",
            f"The authorization response comes from the issuer {iss_param!r},"
            f" not from '{expected_issuer}'.",
        )
