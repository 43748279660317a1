"""Pushed authorization requests (RFC 9126).

The login view builds the authorization request as usual, then, when PAR
applies, POSTs its parameters to the provider's
``pushed_authorization_request_endpoint`` (authenticated like every
token-side call) and sends the browser to the authorization endpoint with
only ``client_id`` and the ``request_uri`` the provider answered. Nothing of
the request (scope, PKCE challenge, nonce, redirect URI) passes through the
browser, where it could be read or changed.
"""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

from oauthlib.common import add_params_to_uri

from . import _client_auth
from . import _openid
from . import _token_endpoint

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import AnyBlueprint


class PushRefused(Exception):
    """The provider refused the pushed request, or could not be asked.

    :param error: The OAuth error code.
    :param description: What went wrong.
    """

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        #: The OAuth error code.
        self.error = error
        #: What went wrong.
        self.description = description


def endpoint(blueprint: AnyBlueprint) -> str | None:
    """The PAR endpoint: the blueprint's ``par_url``, else the discovered one."""
    own: str | None = getattr(blueprint, "par_url", None)
    if own:
        return own
    meta = _openid.metadata(blueprint)
    return meta.pushed_authorization_request_endpoint if meta else None


def applies(blueprint: AnyBlueprint) -> bool:
    """Whether the login pushes its request: ``use_par=True``, or, left to
    ``None``, when the provider's metadata requires it."""
    if blueprint.use_par is not None:
        return bool(blueprint.use_par)
    meta = _openid.metadata(blueprint)
    return bool(meta is not None and meta.require_pushed_authorization_requests)


def push(blueprint: AnyBlueprint, authorization_url: str, url: str) -> str:
    """Push the request that ``url`` carries; return the URL to send the
    browser to.

    :param blueprint: The blueprint.
    :param authorization_url: The authorization endpoint.
    :param url: The authorization request, as built for the browser.
    :raises PushRefused: when there is no PAR endpoint, the provider refuses,
        or answers no ``request_uri``.
    """
    target = endpoint(blueprint)
    if not target:
        raise PushRefused(
            "par_unavailable",
            "The provider announces no 'pushed_authorization_request_endpoint';"
            " pass 'par_url' to the blueprint or use_par=False.",
        )
    target = blueprint._absolute(target)
    fields = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    client_auth = _client_auth.for_request(blueprint, target, keep_legacy=False)
    try:
        response = _token_endpoint.post(
            blueprint.session, target, fields, client_auth=client_auth
        )
    except OSError as exc:  # requests' errors are OSErrors
        raise PushRefused(
            "par_failed",
            f"The PAR endpoint could not be reached ({type(exc).__name__}).",
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    request_uri = body.get("request_uri")
    if response.status_code not in (200, 201) or not isinstance(request_uri, str):
        error = body.get("error")
        description = body.get("error_description")
        raise PushRefused(
            error if isinstance(error, str) else "par_failed",
            description
            if isinstance(description, str)
            else f"The PAR endpoint answered HTTP {response.status_code}.",
        )
    return add_params_to_uri(
        authorization_url,
        [("client_id", str(blueprint.client_id)), ("request_uri", request_uri)],
    )
