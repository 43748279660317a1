"""Pending logins: what a login remembers until its callback arrives.

Each login started in a browser leaves one record in that browser's Flask
session, keyed by the state (OAuth 2) or the request token (OAuth 1). A
browser may have several at once, one per tab. A record is used at most once
and expires after a while.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import typing as t

import flask

from ._request_local import browser_session
from ._urls import safe_next_url

log: logging.Logger = logging.getLogger(__name__)

#: How long a pending login stays valid, in seconds.
DEFAULT_TTL = 600

#: How many pending logins one browser may keep per blueprint; the oldest go first.
MAX_PENDING = 10

#: The size, in bytes, the session cookie's value may reach through pending
#: logins: the oldest go first beyond it. Browsers keep about 4,096 bytes per
#: cookie, its name and attributes included.
COOKIE_BUDGET = 3800


@dataclasses.dataclass
class PendingLogin:
    """One login that was started and has not come back yet."""

    #: The key: the OAuth 2 state, or the OAuth 1 request token.
    key: str
    #: When the login started, as a Unix timestamp.
    created_at: float
    #: The PKCE code verifier, if PKCE is used.
    code_verifier: str | None = None
    #: The OpenID Connect nonce, if one was sent.
    nonce: str | None = None
    #: Where to send the user after a successful login.
    next_url: str | None = None
    #: The redirect URI sent to the provider.
    redirect_uri: str | None = None
    #: The OAuth 1 request-token secret.
    secret: str | None = None
    #: ``max_age`` sent with an OpenID Connect request.
    max_age: int | None = None

    _FIELDS: t.ClassVar[dict[str, str]] = {
        "t": "created_at",
        "v": "code_verifier",
        "n": "nonce",
        "next": "next_url",
        "r": "redirect_uri",
        "s": "secret",
        "m": "max_age",
    }

    def to_session(self) -> dict[str, t.Any]:
        """Serialise to the compact form kept in the cookie."""
        data: dict[str, t.Any] = {}
        for short, attr in self._FIELDS.items():
            value = getattr(self, attr)
            if value is not None:
                data[short] = value
        return data

    @classmethod
    def from_session(cls, key: str, data: t.Any) -> PendingLogin | None:
        """Read a record back; ``None`` if it is malformed.

        :param key: The record's key.
        :param data: What the session held for it.
        """
        if not isinstance(data, dict) or not isinstance(data.get("t"), (int, float)):
            return None
        values = {attr: data.get(short) for short, attr in cls._FIELDS.items()}
        # Only this module writes records, into a signed session; one with a
        # field of another type (or a ``next`` that is no local path) was
        # not written by it and counts as malformed.
        for attr in ("code_verifier", "nonce", "next_url", "redirect_uri", "secret"):
            if values[attr] is not None and not isinstance(values[attr], str):
                return None
        max_age = values["max_age"]
        if max_age is not None and (
            not isinstance(max_age, int) or isinstance(max_age, bool)
        ):
            return None
        if values["next_url"] is not None and safe_next_url(values["next_url"]) is None:
            return None
        return cls(key=key, **values)  # type: ignore[arg-type]


def _drop_oldest(records: dict[str, t.Any]) -> None:
    del records[min(records, key=lambda k: records[k]["t"])]


class PendingLogins:
    """The pending logins of one blueprint in the current browser session.

    :param name: The blueprint's name.
    :param ttl: How long a record stays valid, in seconds.
    """

    def __init__(self, name: str, ttl: float = DEFAULT_TTL) -> None:
        self.name: str = name
        self.session_key: str = f"{name}_oauth_pending"
        self.legacy_state_key: str = f"{name}_oauth_state"
        self.legacy_verifier_key: str = f"{name}_oauth_code_verifier"
        self.ttl: float = ttl

    def _records(self, session: t.Any) -> dict[str, t.Any]:
        records = session.get(self.session_key)
        return records if isinstance(records, dict) else {}

    def _write(self, session: t.Any, records: dict[str, t.Any]) -> None:
        if records:
            session[self.session_key] = records
        else:
            session.pop(self.session_key, None)

    def _prune(
        self, session: t.Any, records: dict[str, t.Any], now: float
    ) -> dict[str, t.Any]:
        """Drop expired and malformed records, and the legacy keys that
        pointed at them."""
        kept: dict[str, t.Any] = {}
        for key, data in records.items():
            record = PendingLogin.from_session(key, data)
            if record is not None and now - record.created_at <= self.ttl:
                kept[key] = data
            elif session.get(self.legacy_state_key) == key:
                self._drop_legacy(session)
        return kept

    def _drop_legacy(self, session: t.Any) -> None:
        session.pop(self.legacy_state_key, None)
        session.pop(self.legacy_verifier_key, None)

    def add(self, record: PendingLogin, *, legacy: bool = True) -> None:
        """Remember a new pending login.

        :param record: The login to remember.
        :param legacy: Also write the Flask-Dance 7.1 session keys
            ``{name}_oauth_state`` and ``{name}_oauth_code_verifier``.
        """
        session = browser_session()
        records = self._records(session)
        if records:
            records = self._prune(session, records, time.time())
            records.pop(record.key, None)
        records[record.key] = record.to_session()
        while len(records) > MAX_PENDING:
            _drop_oldest(records)
        session[self.session_key] = records
        if legacy:
            session[self.legacy_state_key] = record.key
            if record.code_verifier is not None:
                session[self.legacy_verifier_key] = record.code_verifier
            else:
                session.pop(self.legacy_verifier_key, None)
        self._fit(session, records)

    def _fit(self, session: t.Any, records: dict[str, t.Any]) -> None:
        """Forget the oldest records while the session cookie is larger than
        :data:`COOKIE_BUDGET`; the newest one stays."""
        if clearly_below(session, COOKIE_BUDGET):
            return
        while len(records) > 1:
            size = signed_size(session)
            if size is None or size <= COOKIE_BUDGET:
                return
            _drop_oldest(records)
            session[self.session_key] = records
            log.info(
                "Forgot the oldest pending %r login: the session cookie would"
                " be larger than %d bytes.",
                self.name,
                COOKIE_BUDGET,
            )

    def has_key(self, key: str | None) -> bool:
        """Whether a login with this key is pending and not expired (it is
        not consumed).

        :param key: A state or request token.
        """
        if not key:
            return False
        session = browser_session()
        record = PendingLogin.from_session(key, self._records(session).get(key))
        if record is not None:
            return time.time() - record.created_at <= self.ttl
        return bool(session.get(self.legacy_state_key) == key)

    def has_any(self) -> bool:
        """Whether any login is pending (expired ones included)."""
        session = browser_session()
        return bool(self._records(session)) or self.legacy_state_key in session

    def consume(self, key: str | None) -> PendingLogin | None:
        """Find the pending login for ``key`` and remove it, so that it can
        not be used again. Expired records are removed and not returned.

        A state that an application put into ``{name}_oauth_state`` by hand
        (as Flask-Dance 7.1's tests do) is honoured too, with the verifier in
        ``{name}_oauth_code_verifier`` if there is one.

        :param key: The state or request token the callback carried.
        """
        session = browser_session()
        now = time.time()
        records = dict(self._records(session))
        data = records.pop(key, None) if key else None
        record = PendingLogin.from_session(key, data) if key and data else None
        if record is not None and now - record.created_at > self.ttl:
            record = None
        self._write(session, self._prune(session, records, now))
        if not key:
            return None
        if session.get(self.legacy_state_key) == key:
            verifier = session.get(self.legacy_verifier_key)
            self._drop_legacy(session)
            if record is None and data is None:
                return PendingLogin(
                    key=key,
                    created_at=now,
                    code_verifier=verifier if isinstance(verifier, str) else None,
                )
        return record


# -- the size of the session cookie ----------------------------------------------

#: Compact JSON, as Flask's session serializer writes it; made once, since
#: :func:`json.dumps` with arguments builds a new encoder on every call.
_compact_json = json.JSONEncoder(separators=(",", ":"))


def json_size(value: t.Any) -> int | None:
    """The length of ``value`` as compact JSON, or ``None`` when it holds
    something only Flask's serializer writes.

    :param value: A session value, or the whole session as a dict.
    """
    try:
        return len(_compact_json.encode(value))
    except (TypeError, ValueError):
        return None


def clearly_below(session: t.Mapping[str, t.Any], limit: int) -> bool:
    """Whether the session's cookie is sure to stay below ``limit`` bytes,
    judged from its plain JSON, several times quicker than signing it: the
    signed cookie is its base64 (compressed or not) plus a timestamp and a
    signature, and Flask's type tags add a few bytes per value, which the
    margin covers.

    :param session: The session.
    :param limit: The size in bytes.
    """
    size = json_size(dict(session))
    if size is None:
        return False
    return size * 4 // 3 + 64 < limit * 3 // 4


def signed_size(
    session: t.Mapping[str, t.Any], logger: logging.Logger = log
) -> int | None:
    """The length of the session cookie's value as the current app would
    sign it, or ``None`` when there is no cookie to measure (a server-side
    session, or no secret key).

    :param session: The session.
    :param logger: Where to log, at DEBUG, why the cookie could not be
        measured.
    """
    app = flask.current_app
    make_serializer = getattr(app.session_interface, "get_signing_serializer", None)
    if make_serializer is None:
        return None
    serializer = make_serializer(app)
    if serializer is None:
        return None
    try:
        return len(serializer.dumps(dict(session)))
    except Exception as exc:  # the session's own save reports it better
        logger.debug("Could not measure the session cookie (%s).", type(exc).__name__)
        return None
