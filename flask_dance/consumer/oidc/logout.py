"""Logout: RP-Initiated Logout 1.0 and Back-Channel Logout 1.0."""

from __future__ import annotations

import collections.abc as cabc
import hmac
import secrets
import sys
import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from ._claims import check_signed_token
from ._claims import TokenChecks
from .errors import IDTokenError
from .errors import LogoutError

# at run time too, so that typing.get_type_hints resolves ``Unpack[...]``
if sys.version_info >= (3, 11):
    from typing import Unpack
elif t.TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

#: The event a back-channel logout token must carry.
BACKCHANNEL_LOGOUT_EVENT: t.Final[str] = (
    "http://schemas.openid.net/event/backchannel-logout"
)

_LOGOUT_TYPES = frozenset({"jwt", "logout+jwt", "application/logout+jwt"})


def _invalid(msg: str, claim: str) -> IDTokenError:
    """The error for a logout token that breaks a logout-specific rule."""
    return IDTokenError("invalid_logout_token", msg, claim=claim)


def _require_logout_type(header: cabc.Mapping[str, t.Any]) -> None:
    """Refuse a token whose ``typ``, when it has one, is not a logout token's."""
    typ = header.get("typ")
    if typ is not None and (
        not isinstance(typ, str) or typ.lower() not in _LOGOUT_TYPES
    ):
        raise _invalid(f"A {typ!r} token is not a logout token.", "typ")


def new_logout_state() -> str:
    """Return a fresh, unguessable ``state`` for a logout round trip."""
    return secrets.token_urlsafe(32)


def build_end_session_url(
    end_session_endpoint: str | None,
    *,
    id_token_hint: str | None,
    post_logout_redirect_uri: str | None = None,
    state: str | None = None,
    client_id: str | None = None,
    logout_hint: str | None = None,
    ui_locales: str | None = None,
) -> str:
    """Return the URL that starts RP-initiated logout at the provider.

    Keep ``state`` in the user's session and compare it on return with
    :func:`check_logout_state`. ``post_logout_redirect_uri`` must be one the
    client registered; send ``id_token_hint`` (or ``client_id``) with it.

    :param end_session_endpoint: The provider's ``end_session_endpoint``.
    :param id_token_hint: The ID token from the login, if still held.
    :param post_logout_redirect_uri: Where the provider sends the user back.
    :param state: Returned unchanged to ``post_logout_redirect_uri``.
    :param client_id: This client's ID.
    :param logout_hint: Hint about the user to log out.
    :param ui_locales: Preferred languages, space separated.
    :raises LogoutError: ``"logout_unsupported"`` without an endpoint, or
        when a redirect URI is given with neither ``id_token_hint`` nor
        ``client_id``.
    """
    if not end_session_endpoint:
        raise LogoutError(
            "logout_unsupported",
            "The provider announces no 'end_session_endpoint'.",
        )
    if post_logout_redirect_uri and not (id_token_hint or client_id):
        raise LogoutError(
            "logout_unsupported",
            "'post_logout_redirect_uri' needs 'id_token_hint' or 'client_id'.",
        )
    params = {
        "id_token_hint": id_token_hint,
        "client_id": client_id,
        "post_logout_redirect_uri": post_logout_redirect_uri,
        "state": state,
        "logout_hint": logout_hint,
        "ui_locales": ui_locales,
    }
    parts = urlsplit(end_session_endpoint)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def check_logout_state(returned: str | None, expected: str | None) -> None:
    """Compare the ``state`` returned after logout with the one sent.

    :param returned: The ``state`` query parameter of the return request.
    :param expected: The value kept in the user's session (then discarded).
    :raises LogoutError: ``"invalid_logout_state"``.
    """
    if (
        not returned
        or not expected
        or not hmac.compare_digest(returned.encode(), expected.encode())
    ):
        raise LogoutError(
            "invalid_logout_state",
            "The logout response does not carry the state this browser sent.",
        )


def validate_logout_token(
    logout_token: str,
    **checks: Unpack[TokenChecks],
) -> dict[str, t.Any]:
    """Validate a back-channel logout token (Back-Channel Logout 1.0, 2.6).

    The signature, ``iss``, ``aud``, ``azp``, ``iat`` and ``exp`` (when
    present) are checked as for an ID token; then the ``events`` claim must
    hold the back-channel logout event, ``sub`` or ``sid`` must be present,
    ``jti`` must be present, and ``nonce`` must be absent. Detecting a replayed
    ``jti`` is the caller's job.

    :param logout_token: The compact JWS the provider posted.
    :param checks: ``issuer``, ``client_id`` and ``jwks`` (required), and the
        other checks of :class:`~flask_dance.consumer.oidc.TokenChecks`, as for
        :func:`.validate_id_token`.

    :return: The claims; log out the sessions matching ``(iss, sub)`` or
        ``(iss, sid)``.
    :raises IDTokenError: ``"invalid_logout_token"`` for a logout-specific
        rule, or the ID token error names for the shared rules.
    """
    claims = check_signed_token(
        logout_token,
        what="logout token",
        check_header=_require_logout_type,
        require_exp=False,
        checks=checks,
    ).claims
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(
        events.get(BACKCHANNEL_LOGOUT_EVENT), dict
    ):
        raise _invalid("The token carries no back-channel logout event.", "events")
    if "nonce" in claims:
        raise _invalid("A logout token must not carry a 'nonce'.", "nonce")
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise _invalid("The logout token has no 'jti'.", "jti")
    sub, sid = claims.get("sub"), claims.get("sid")
    if not (isinstance(sub, str) and sub) and not (isinstance(sid, str) and sid):
        raise _invalid("The logout token has neither 'sub' nor 'sid'.", "sub")
    return claims
