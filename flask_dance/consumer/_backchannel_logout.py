"""Back-channel logout at work: the answer of the ``backchannel_logout``
route to the provider's logout token, and the check of a stored token
against the logouts recorded since its login.

Imported by :class:`~._backchannel.BackchannelMixin` the first time a
blueprint with ``backchannel_logout=True`` needs it, so that an app that
does not use back-channel logout never loads it.
"""

from __future__ import annotations

import json
import logging
import time
import typing as t

import flask

from . import _openid
from ._oidc_errors import OIDCError
from .signals import oauth_backchannel_logout

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import AnyBlueprint

log: logging.Logger = logging.getLogger(__name__)

_PREFIX = "flask_dance_logout"


def _key(kind: str, issuer: str, value: str) -> str:
    return f"{_PREFIX}|{kind}|{issuer}|{value}"


def _answer(status: int, error: str | None = None, description: str = "") -> t.Any:
    body = (
        ""
        if error is None
        else json.dumps({"error": error, "error_description": description})
    )
    response = flask.current_app.response_class(
        body, status, content_type="application/json" if body else None
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _matches(logout: t.Mapping[str, t.Any], claims: t.Any) -> bool:
    """Whether id_token ``claims`` are of the session a logout token names:
    its ``sid`` when it has one, else every session of its ``sub``."""
    if not isinstance(claims, t.Mapping) or claims.get("iss") != logout.get("iss"):
        return False
    sid = logout.get("sid")
    if sid:
        if claims.get("sid") != sid:
            return False
        return not logout.get("sub") or claims.get("sub") == logout.get("sub")
    return bool(logout.get("sub")) and claims.get("sub") == logout.get("sub")


def _delete_stored(blueprint: AnyBlueprint, claims: dict[str, t.Any]) -> int:
    """Delete the matching tokens a server-side storage holds."""
    delete_where = getattr(blueprint.storage, "delete_where", None)
    if not callable(delete_where):
        return 0

    def match(token: t.Any) -> bool:
        return isinstance(token, t.Mapping) and _matches(
            claims, token.get(_openid.CLAIMS_KEY)
        )

    return int(delete_where(blueprint, match) or 0)


def receive(blueprint: AnyBlueprint) -> t.Any:
    """The ``backchannel_logout`` view: answer the provider's POST."""
    logout_token = flask.request.form.get("logout_token")
    if not logout_token:
        return _answer(400, "invalid_request", "The request has no 'logout_token'.")
    try:
        from .oidc import validate_logout_token

        claims = validate_logout_token(
            logout_token,
            issuer=_openid.expected_issuer(blueprint),
            client_id=str(blueprint.client_id),
            jwks=_openid.key_resolver(blueprint),
            allowed_algs=blueprint.id_token_algorithms,
            trusted_audiences=blueprint.trusted_audiences,
        )
    except OIDCError as exc:
        log.warning("Refused a back-channel logout token: %s", exc.error)
        return _answer(400, "invalid_request", str(exc))
    store = blueprint.backchannel_logout_store
    ttl = blueprint.backchannel_logout_ttl
    issuer = str(claims["iss"])
    try:
        if not store.add(_key("jti", issuer, str(claims["jti"])), time.time(), ttl):
            log.warning("Refused a replayed back-channel logout token.")
            return _answer(400, "invalid_request", "The logout token was already used.")
        at = float(claims["iat"])
        if claims.get("sid"):
            store.put(_key("sid", issuer, str(claims["sid"])), at, ttl)
        else:
            store.put(_key("sub", issuer, str(claims["sub"])), at, ttl)
        deleted = _delete_stored(blueprint, claims)
    except Exception as exc:
        # The provider may send it again; the logout is not lost silently.
        log.error(
            "A back-channel logout could not be recorded (%s).", type(exc).__name__
        )
        return _answer(
            400, "invalid_request", "The logout could not be recorded; try again."
        )
    log.info(
        "Back-channel logout from %r: %d stored token(s) deleted.",
        blueprint.name,
        deleted,
    )
    oauth_backchannel_logout.send(blueprint, claims=claims, user_request=False)
    return _answer(200)


def logged_out(blueprint: AnyBlueprint, token: t.Any) -> bool:
    """Whether a back-channel logout recorded since ``token``'s login names
    its session."""
    if not isinstance(token, t.Mapping):
        return False
    claims = token.get(_openid.CLAIMS_KEY)
    if not isinstance(claims, t.Mapping) or not isinstance(claims.get("iss"), str):
        return False
    issuer = claims["iss"]
    issued = claims.get("iat")
    since = float(issued) if isinstance(issued, (int, float)) else 0.0
    store = blueprint.backchannel_logout_store
    for kind in ("sid", "sub"):
        value = claims.get(kind)
        if not isinstance(value, str) or not value:
            continue
        try:
            at = store.get(_key(kind, issuer, value))
        except Exception as exc:
            log.warning(
                "The back-channel logout store failed (%s); the token is kept.",
                type(exc).__name__,
            )
            return False
        if at is not None and at >= since:
            return True
    return False


def check_token(blueprint: AnyBlueprint, token: t.Any) -> t.Any:
    """``token``, or ``None`` after dropping it when a back-channel logout
    recorded since its login names its session."""
    if not logged_out(blueprint, token):
        return token
    log.info("Dropping a %r token the provider logged out.", blueprint.name)
    claims = dict(token.get(_openid.CLAIMS_KEY) or {})
    del blueprint.token
    oauth_backchannel_logout.send(blueprint, claims=claims, user_request=True)
    return None
