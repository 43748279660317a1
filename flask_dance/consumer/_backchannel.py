"""OpenID Connect Back-Channel Logout 1.0: the receiving end.

The provider POSTs a signed logout token to the blueprint's
``backchannel_logout`` route when a user signs out elsewhere. The route
validates it (signature, ``iss``, ``aud``, ``iat``, the logout ``events``
claim, no ``nonce``, ``sid`` or ``sub``, and a ``jti`` never seen before),
deletes the matching tokens of storages that keep them on the server, and
records ``(iss, sid or sub, time)`` in a server-side :class:`LogoutStore`, so
that a token kept in a user's cookie is dropped on that user's next request.
:data:`oauth_backchannel_logout` tells the app both times, so that it can end
its own login (Flask-Login's ``logout_user()`` on the user's request).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import typing as t

import flask

from . import _openid
from ._oidc_errors import OIDCError
from .signals import oauth_backchannel_logout

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import AnyBlueprint

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import OAuth2Host
else:
    OAuth2Host = object

log: logging.Logger = logging.getLogger(__name__)

#: How long logout records and seen ``jti`` values are kept, in seconds
#: (14 days; longer than a typical refresh token lives).
DEFAULT_RECORD_TTL: t.Final[float] = 14 * 24 * 3600.0

_PREFIX = "flask_dance_logout"


class LogoutStore(t.Protocol):
    """Where back-channel logouts are remembered, shared by every process of
    the app. Values are Unix times."""

    def add(self, key: str, value: float, ttl: float) -> bool:
        """Store ``value`` under ``key`` unless the key exists; return whether
        it was stored."""

    def put(self, key: str, value: float, ttl: float) -> None:
        """Store ``value`` under ``key``."""

    def get(self, key: str) -> float | None:
        """Return the value under ``key``, or ``None``."""


class MemoryLogoutStore:
    """A :class:`LogoutStore` in this process's memory: for one process
    (development, tests). Use :class:`CacheLogoutStore` for several."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _prune(self, now: float) -> None:
        if len(self._values) > 10_000:
            for key in [k for k, (_, end) in self._values.items() if end <= now]:
                del self._values[key]

    def add(self, key: str, value: float, ttl: float) -> bool:
        now = time.time()
        with self._lock:
            self._prune(now)
            current = self._values.get(key)
            if current is not None and current[1] > now:
                return False
            self._values[key] = (value, now + ttl)
            return True

    def put(self, key: str, value: float, ttl: float) -> None:
        with self._lock:
            self._values[key] = (value, time.time() + ttl)

    def get(self, key: str) -> float | None:
        entry = self._values.get(key)
        if entry is None or entry[1] <= time.time():
            return None
        return entry[0]


class CacheLogoutStore:
    """A :class:`LogoutStore` in the app's cache: a Flask-Caching ``Cache``
    or a cachelib cache (Redis, Memcached...), anything with ``add``, ``set``
    and ``get`` taking a ``timeout`` in seconds.

    :param cache: The cache.
    """

    def __init__(self, cache: t.Any) -> None:
        #: The cache.
        self.cache = cache

    def add(self, key: str, value: float, ttl: float) -> bool:
        return bool(self.cache.add(key, value, timeout=int(ttl)))

    def put(self, key: str, value: float, ttl: float) -> None:
        self.cache.set(key, value, timeout=int(ttl))

    def get(self, key: str) -> float | None:
        value = self.cache.get(key)
        return float(value) if isinstance(value, (int, float)) else None


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


class BackchannelMixin(OAuth2Host):
    """The ``backchannel_logout`` route of
    :class:`~.oauth2.OAuth2ConsumerBlueprint`, and the check of each stored
    token against the logouts it received."""

    def _init_backchannel(
        self,
        enabled: bool,
        rule: str | None,
        store: LogoutStore | None,
        rule_options: dict[str, t.Any],
    ) -> None:
        #: Whether the back-channel logout route is on.
        self.backchannel_logout = enabled
        #: Where back-channel logouts are remembered.
        self.backchannel_logout_store: LogoutStore = store or MemoryLogoutStore()
        #: How long logout records and seen ``jti`` values are kept, seconds.
        self.backchannel_logout_ttl: float = DEFAULT_RECORD_TTL
        if not enabled:
            return
        if not self.issuer:
            raise ValueError(
                "backchannel_logout=True needs the provider's 'issuer' to"
                " validate logout tokens."
            )
        self.add_url_rule(
            (rule or "/{bp.name}/backchannel-logout").format(bp=self),
            endpoint="backchannel_logout",
            view_func=self.receive_backchannel_logout,
            methods=["POST"],
            **rule_options,
        )

    def _stored_token(self) -> t.Any:
        token = super()._stored_token()
        if token and self.backchannel_logout:
            return check_token(self, token)
        return token

    def receive_backchannel_logout(self) -> t.Any:
        """The ``backchannel_logout`` view: validate the provider's logout
        token, forget the user's tokens, tell the app with
        :data:`~flask_dance.consumer.oauth_backchannel_logout`, and answer
        200, or 400 with an error object."""
        self._refresh_config()
        return receive(self)
