"""Pushed authorization requests (RFC 9126) at the local provider: the
``/par`` endpoint, and the lookup of a ``request_uri`` at ``/authorize``."""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
import typing as t
from urllib.parse import urlencode

from flask import Flask
from flask import request
from flask import Response
from oauthlib.common import Request

from ._models import Client

#: The prefix of the ``request_uri`` values the endpoint hands out.
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"

#: Seconds a pushed request stays usable.
PAR_LIFETIME = 60

#: Client authentication fields, which are not part of the pushed request.
_AUTH_FIELDS = frozenset({"client_secret", "client_assertion", "client_assertion_type"})

_NO_STORE = {"Cache-Control": "no-store"}


@dataclasses.dataclass
class Pushed:
    """One pushed authorization request."""

    client_id: str
    params: dict[str, str]
    expires_at: float


def _error(error: str, description: str, status: int = 400) -> Response:
    body = json.dumps({"error": error, "error_description": description})
    return Response(body, status, _NO_STORE, content_type="application/json")


def authenticate(provider: t.Any) -> str | None:
    """Authenticate the client of the current POST as the token endpoint
    does; return its client ID, or ``None``."""
    validator = provider._oauth2_validator
    oauth_request = Request(
        request.url, "POST", request.get_data(as_text=True), dict(request.headers)
    )
    if validator.client_authentication_required(oauth_request):
        if not validator.authenticate_client(oauth_request):
            return None
    else:
        client_id = request.form.get("client_id", "")
        if not validator.authenticate_client_id(client_id, oauth_request):
            return None
        oauth_request.client_id = client_id
    return str(oauth_request.client_id)


def claimed_client(provider: t.Any) -> Client:
    """The registered client the current token-side POST claims to be (not
    yet authenticated), or a stand-in with the defaults."""
    oauth_request = Request(
        request.url, "POST", request.get_data(as_text=True), dict(request.headers)
    )
    client_id, _ = provider._oauth2_validator._claimed_client_id(oauth_request)
    return provider.clients.get(client_id or "") or Client("")


def register(app: Flask, provider: t.Any) -> None:
    """Add the ``/par`` endpoint to the provider's app."""

    @app.post("/par", endpoint="par")
    def par() -> Response:
        client_id = authenticate(provider)
        if client_id is None:
            return _error("invalid_client", "Client authentication failed.", 401)
        params = {k: v for k, v in request.form.items() if k not in _AUTH_FIELDS}
        if "request_uri" in params:
            return _error("invalid_request", "'request_uri' cannot be pushed.")
        if params.setdefault("client_id", client_id) != client_id:
            return _error("invalid_request", "'client_id' is not the client's.")
        request_uri = REQUEST_URI_PREFIX + secrets.token_urlsafe(24)
        store = provider._oauth2_store
        with store.lock:
            store.pushed[request_uri] = Pushed(
                client_id, params, time.time() + PAR_LIFETIME
            )
        body = json.dumps({"request_uri": request_uri, "expires_in": PAR_LIFETIME})
        return Response(body, 201, _NO_STORE, content_type="application/json")


def authorization_url(provider: t.Any) -> str | Response:
    """The authorization request to validate: the pushed one a
    ``request_uri`` names (used once), else the request itself; an error
    page when a pushed request is required, unknown or not the client's."""
    request_uri = request.args.get("request_uri")
    if request_uri is None:
        if provider.require_pushed_authorization_requests:
            return _error(
                "invalid_request", "This server accepts only pushed requests."
            )
        return request.url
    store = provider._oauth2_store
    with store.lock:
        pushed = store.pushed.pop(request_uri, None)
    if pushed is None or time.time() >= pushed.expires_at:
        return _error("invalid_request_uri", "Unknown or expired 'request_uri'.")
    if request.args.get("client_id") != pushed.client_id:
        return _error("invalid_request", "'client_id' does not match the request.")
    return request.base_url + "?" + urlencode(pushed.params)
