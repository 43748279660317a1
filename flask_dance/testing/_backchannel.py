"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0) from the
local provider: logout tokens, and sending them to a client."""

from __future__ import annotations

import secrets
import time
import typing as t

import requests

from ._crypto import encode_jws

#: The event a logout token carries.
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def logout_token(
    provider: t.Any,
    client_id: str,
    *,
    sub: str | None = None,
    sid: str | None = None,
    **overrides: t.Any,
) -> str:
    """A logout token for ``client_id``, signed with the provider's key.

    :param provider: The provider.
    :param client_id: The audience.
    :param sub: The user's subject.
    :param sid: The session id (the id_token's ``sid``).
    :param overrides: Claims to set (``None`` removes one), for bad tokens.
    """
    now = int(time.time())
    claims: dict[str, t.Any] = {
        "iss": provider.issuer,
        "aud": client_id,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(16),
        "events": {LOGOUT_EVENT: {}},
    }
    if sub is not None:
        claims["sub"] = sub
    if sid is not None:
        claims["sid"] = sid
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return encode_jws(claims, provider.signing_key)


def send(provider: t.Any, client_id: str, token: str) -> requests.Response:
    """POST ``token`` to the client's ``backchannel_logout_uri``.

    :raises ValueError: when the client registered none.
    """
    uri = provider.clients[client_id].backchannel_logout_uri
    if not uri:
        raise ValueError(f"The client {client_id!r} has no backchannel_logout_uri.")
    return requests.post(uri, data={"logout_token": token}, timeout=10)
