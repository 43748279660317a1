"""Generated callbacks thrown at the authorized views of an OAuth 2 and an
OAuth 1 blueprint: random query strings, garbage session cookies, and random
pending-login records inside a validly signed session.

What must hold for every one: no 5xx, except the documented
``MissingCodeError`` of an OAuth 2 callback that matches a valid pending
login and carries no ``code``; and no token stored unless the callback
matched a valid pending login of this browser.
"""

from __future__ import annotations

import time
import typing as t

import flask
import pytest
import responses as responses_lib
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
from oauthlib.oauth2 import MissingCodeError

from dance_helpers import set_client_cookie
from dance_helpers import WERKZEUG_QUOTES_THE_URL
from flask_dance.consumer import OAuth1ConsumerBlueprint
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_error
from flask_dance.consumer.storage import BaseStorage

TOKEN_URL = "https://provider.test/token"
ACCESS_TOKEN_URL = "https://provider.test/oauth1/access_token"
NAME = "fuzzy"
#: The state (or request token) that the valid pending logins use.
KEY = "the-one-pending-key"

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


class RecordingStorage(BaseStorage):
    """Remembers every token stored."""

    def __init__(self) -> None:
        self.stored: list[t.Any] = []

    def get(self, blueprint: t.Any) -> t.Any:
        return None

    def set(self, blueprint: t.Any, token: t.Any) -> None:
        self.stored.append(token)

    def delete(self, blueprint: t.Any) -> None:
        pass


def _app(blueprint: flask.Blueprint) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "fuzz"
    # The documented exception reaches the test instead of a 500 page.
    app.config["PROPAGATE_EXCEPTIONS"] = True
    app.register_blueprint(blueprint, url_prefix="/login")
    return app


# -- strategies -------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
texts = st.text(max_size=30)
#: Values for the record fields: right types mostly, anything sometimes.
field_values = st.one_of(texts, json_values)


@st.composite
def pending_record(draw: st.DrawFn) -> t.Any:
    """A pending-login record: well formed and fresh, expired, or odd."""
    kind = draw(st.sampled_from(["fresh", "expired", "odd", "junk"]))
    if kind == "junk":
        return draw(json_values)
    created = {
        "fresh": time.time() - draw(st.integers(0, 500)),
        "expired": time.time() - draw(st.integers(700, 10**6)),
        "odd": draw(json_values),
    }[kind]
    record: dict[str, t.Any] = {"t": created}
    for short in draw(st.sets(st.sampled_from(["v", "n", "next", "r", "s", "m"]))):
        record[short] = draw(field_values)
    return record


@st.composite
def session_state(draw: st.DrawFn) -> dict[str, t.Any]:
    """What the browser's (validly signed) session holds."""
    data: dict[str, t.Any] = {}
    if draw(st.booleans()):
        pending: t.Any
        if draw(st.integers(0, 9)) == 0:
            pending = draw(json_values)
        else:
            keys = st.one_of(st.just(KEY), texts)
            pending = draw(st.dictionaries(keys, pending_record(), max_size=3))
        data[f"{NAME}_oauth_pending"] = pending
    if draw(st.integers(0, 4)) == 0:
        data[f"{NAME}_oauth_state"] = draw(st.one_of(st.just(KEY), json_values))
    if draw(st.integers(0, 4)) == 0:
        data[f"{NAME}_oauth_code_verifier"] = draw(json_values)
    return data


def _query(
    names: list[str], plausible: list[tuple[str, str]] | None = None
) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Random query strings; with ``plausible`` given, a third of them start
    with those parameters (a callback as the provider would send it)."""
    value = st.one_of(st.just(KEY), texts, st.just(""))
    name = st.one_of(st.sampled_from(names), st.text(max_size=8))
    anything = st.lists(st.tuples(name, value), max_size=6)
    if plausible is None:
        return anything
    extras = st.lists(st.tuples(name, value), max_size=3)
    return st.one_of(anything, anything, extras.map(lambda e: plausible + e))


@st.composite
def plausible_session(draw: st.DrawFn) -> dict[str, t.Any]:
    """A session with a fresh pending login under ``KEY`` whose other fields
    are anything, next to random others."""
    data = draw(session_state())
    records = data.get(f"{NAME}_oauth_pending")
    if not isinstance(records, dict):
        records = {}
    record: dict[str, t.Any] = {"t": time.time()}
    for short in draw(st.sets(st.sampled_from(["v", "n", "next", "r", "s", "m"]))):
        record[short] = draw(field_values)
    records[KEY] = record
    data[f"{NAME}_oauth_pending"] = records
    return data


sessions = st.one_of(st.none(), session_state(), plausible_session())


OAUTH2_NAMES = ["state", "code", "error", "error_description", "iss", "scope"]
OAUTH1_NAMES = ["oauth_token", "oauth_verifier", "denied", "oauth_callback_confirmed"]


def _valid_pending(session: dict[str, t.Any], key: str | None) -> bool:
    """Whether ``key`` names a fresh, well formed pending login."""
    if not key:
        return False
    if session.get(f"{NAME}_oauth_state") == key:
        return True
    records = session.get(f"{NAME}_oauth_pending")
    if not isinstance(records, dict):
        return False
    record = records.get(key)
    return (
        isinstance(record, dict)
        and isinstance(record.get("t"), (int, float))
        and not isinstance(record.get("t"), bool)
        and time.time() - record["t"] <= 600
    ) or (
        isinstance(record, dict)
        and isinstance(record.get("t"), bool)
        and time.time() - int(record["t"]) <= 600
    )


def _last(query: list[tuple[str, str]], name: str) -> str | None:
    """The value Flask reads for ``name``: the first one."""
    return next((value for key, value in query if key == name), None)


def _send(
    app: flask.Flask,
    path: str,
    query: list[tuple[str, str]],
    session: dict[str, t.Any] | None,
    cookie: str | None,
) -> t.Any:
    client = app.test_client()
    if session is not None:
        with client.session_transaction() as sess:
            sess.update(session)
    if cookie is not None:
        set_client_cookie(client, "session", cookie)
    return client.get(path, query_string=query, base_url="https://localhost")


Query = list[tuple[str, str]]
Session = dict[str, t.Any] | None
Site = tuple[flask.Flask, RecordingStorage]

OAUTH2_URLS = {
    "base_url": "https://provider.test/",
    "authorization_url": "https://provider.test/authorize",
    "token_url": TOKEN_URL,
}
OAUTH1_URLS = {
    "base_url": "https://provider.test/oauth1/",
    "request_token_url": "https://provider.test/oauth1/request_token",
    "authorization_url": "https://provider.test/oauth1/authorize",
    "access_token_url": ACCESS_TOKEN_URL,
}


def _site(blueprint_class: t.Any, **options: t.Any) -> Site:
    """An app with a blueprint ``fuzzy`` that stores tokens in a new
    :class:`RecordingStorage`."""
    storage = RecordingStorage()
    blueprint = blueprint_class(
        NAME, __name__, client_secret="secret", storage=storage, **options
    )
    return _app(blueprint), storage


def _callbacks(
    names: list[str], known: list[tuple[str, str]], max_examples: int
) -> t.Callable[[t.Callable[..., None]], t.Callable[[], None]]:
    """Run the decorated check on generated callbacks: a query of ``names``
    (some with the ``known`` values), a session and a raw session cookie."""
    return lambda check: settings(FUZZ, max_examples=max_examples)(
        given(
            query=_query(names, known),
            session=sessions,
            cookie=st.one_of(st.none(), st.none(), texts),
        )(check)
    )


@pytest.fixture
def oauth2() -> Site:
    return _site(OAuth2ConsumerBlueprint, client_id="client", **OAUTH2_URLS)


@pytest.fixture
def oauth1() -> Site:
    return _site(OAuth1ConsumerBlueprint, client_key="key", **OAUTH1_URLS)


# -- OAuth 2 ----------------------------------------------------------------------


def test_oauth2_callbacks(oauth2: Site) -> None:
    app, storage = oauth2

    @_callbacks(OAUTH2_NAMES, [("state", KEY), ("code", "the-code")], 500)
    def check(query: Query, session: Session, cookie: str | None) -> None:
        before = len(storage.stored)
        state = _last(query, "state")
        valid = cookie is None and _valid_pending(session or {}, state)
        try:
            response = _send(app, "/login/fuzzy/authorized", query, session, cookie)
        except MissingCodeError:
            assert valid, "MissingCodeError without a valid pending login"
            assert _last(query, "code") is None
            assert _last(query, "error") is None
            assert len(storage.stored) == before
            return
        assert response.status_code < 500, response.data
        if len(storage.stored) > before:
            assert valid, (query, session)
            assert _last(query, "code") is not None

    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(
            TOKEN_URL,
            json={"access_token": "fuzz-access", "token_type": "Bearer"},
        )
        check()
    # The generator reached the interesting cases.
    assert storage.stored, "no generated callback completed a login"


# -- OAuth 1 ----------------------------------------------------------------------


def test_oauth1_callbacks(oauth1: Site) -> None:
    app, storage = oauth1

    @_callbacks(OAUTH1_NAMES, [("oauth_token", KEY), ("oauth_verifier", "v")], 400)
    def check(query: Query, session: Session, cookie: str | None) -> None:
        before = len(storage.stored)
        # The Flask-Dance 7.1 key "{name}_oauth_state" counts too: only the
        # app can have written it into a signed session.
        valid = cookie is None and _valid_pending(
            session or {}, _last(query, "oauth_token")
        )
        response = _send(app, "/login/fuzzy/authorized", query, session, cookie)
        assert response.status_code < 500, response.data
        if len(storage.stored) > before:
            assert valid, (query, session)

    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(
            ACCESS_TOKEN_URL,
            body="oauth_token=fuzz-token&oauth_token_secret=fuzz-secret",
            content_type="application/x-www-form-urlencoded",
        )
        check()
    assert storage.stored, "no generated callback completed a login"


# -- garbage cookies ------------------------------------------------------------------


def test_garbage_session_cookies(oauth2: Site, oauth1: Site) -> None:
    """Cookies that are not a signed session, or are signed but hold
    anything at all, under any name the session might use."""
    apps = [oauth2, oauth1]

    @settings(FUZZ, max_examples=150)
    @given(
        which=st.sampled_from([0, 1]),
        cookie=st.one_of(
            st.text(max_size=80),
            st.binary(max_size=60).map(lambda b: b.hex()),
            st.from_regex(
                r"\.?[A-Za-z0-9_\-]{1,40}\.[A-Za-z0-9_\-]{1,10}\.[A-Za-z0-9_\-]{1,30}",
                fullmatch=True,
            ),
        ),
        signed=st.one_of(st.none(), json_values),
        query=_query(OAUTH2_NAMES + OAUTH1_NAMES),
    )
    def check(
        which: int,
        cookie: str,
        signed: t.Any,
        query: list[tuple[str, str]],
    ) -> None:
        app, storage = apps[which]
        before = len(storage.stored)
        if signed is not None:
            cookie = app.session_interface.get_signing_serializer(app).dumps(  # type: ignore[attr-defined]
                signed if isinstance(signed, dict) else {"x": signed}
            )
        try:
            response = _send(app, "/login/fuzzy/authorized", query, None, cookie)
        except MissingCodeError:
            pytest.fail("MissingCodeError without a pending login")
        assert response.status_code < 500, response.data
        assert len(storage.stored) == before

    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json={"access_token": "x", "token_type": "Bearer"})
        mock.post(
            ACCESS_TOKEN_URL,
            body="oauth_token=t&oauth_token_secret=s",
            content_type="application/x-www-form-urlencoded",
        )
        check()


# -- what the fuzzing found -----------------------------------------------------------


def test_oauth1_callback_with_a_raw_brace(
    oauth1: tuple[flask.Flask, RecordingStorage],
) -> None:
    """oauthlib refuses to parse such a query string: an error, not a 500."""
    app, storage = oauth1
    errors: list[dict[str, t.Any]] = []

    def receiver(sender: t.Any, **kwargs: t.Any) -> None:
        errors.append(kwargs)

    with oauth_error.connected_to(receiver):
        response = app.test_client().get(
            "/login/fuzzy/authorized?oauth_token={", base_url="https://localhost"
        )
    assert response.status_code == 302
    if WERKZEUG_QUOTES_THE_URL:
        # The brace reaches the app as %7B: a well-formed callback that
        # matches no pending login.
        message = "The login could not be completed: it expired, was already"
    else:
        message = "The provider's answer could not be read."
    assert [e["message"][: len(message)] for e in errors] == [message]
    assert [e["response"] for e in errors] == [None]
    assert storage.stored == []


def _callback_with(app: flask.Flask, session: dict[str, t.Any]) -> tuple[t.Any, int]:
    """Send the callback of the pending login ``KEY`` in a browser with
    ``session``; return the response and the number of token requests."""
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json={"access_token": "x", "token_type": "Bearer"})
        query = [("state", KEY), ("code", "c")]
        response = _send(app, "/login/fuzzy/authorized", query, session, None)
        return response, len(mock.calls)


@pytest.mark.parametrize(
    "field",
    [
        {"v": 1},
        {"n": ["x"]},
        {"next": {"a": 1}},
        {"next": "/\r"},
        {"next": "https://evil.example/"},
        {"r": 2.5},
        {"s": False},
        {"m": "60"},
        {"m": True},
    ],
)
def test_a_pending_login_with_a_field_of_another_type_is_ignored(
    oauth2: Site, field: dict[str, t.Any]
) -> None:
    app, storage = oauth2
    session = {f"{NAME}_oauth_pending": {KEY: {"t": time.time(), **field}}}
    response, token_requests = _callback_with(app, session)
    assert token_requests == 0
    assert response.status_code == 302
    assert storage.stored == []


def test_a_well_formed_pending_login_completes(
    oauth2: Site,
) -> None:
    """The counterpart of the test above."""
    app, storage = oauth2
    record = {"t": time.time(), "v": "v" * 43, "next": "/home", "m": 60}
    session = {f"{NAME}_oauth_pending": {KEY: record}}
    response, _ = _callback_with(app, session)
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
    assert storage.stored == [{"access_token": "x", "token_type": "Bearer"}]
