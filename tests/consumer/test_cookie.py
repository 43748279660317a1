"""Nothing a link can carry pushes the session cookie past what browsers keep
(C45): a long ``?next=`` is ignored, and the oldest pending logins go first."""

from __future__ import annotations

import logging
import random
import string
import typing as t

import pytest
from flask.testing import FlaskClient

from dance_helpers import BASE
from dance_helpers import callback
from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import query
from flask_dance.consumer.base import MAX_NEXT_LENGTH

#: Browsers keep about 4 KB per cookie, its name and attributes included.
BROWSER_LIMIT = 4000


def noise(length: int, seed: int, alphabet: str = string.ascii_letters) -> str:
    """Characters that do not compress, as a crafted link would use."""
    return "".join(random.Random(seed).choices(alphabet, k=length))


def login(client: FlaskClient, next_url: str) -> tuple[str, int]:
    """Start a login; return its state and the size of the Set-Cookie
    header that carries the session."""
    response = client.get(
        "/login/test-service", query_string={"next": next_url}, base_url=BASE
    )
    assert response.status_code == 302
    [cookie] = [
        header
        for header in response.headers.getlist("Set-Cookie")
        if header.startswith("session=")
    ]
    return query(response.headers["Location"])["state"], len(cookie)


@pytest.mark.parametrize(
    ("logins", "length"),
    [(1, 4000), (12, 400), (12, MAX_NEXT_LENGTH), (10, 1000), (3, 8000)],
)
@pytest.mark.usefixtures("token_endpoint")
def test_c45_cookie_stays_below_the_browser_limit(logins: int, length: int) -> None:
    app = make_app(make_blueprint())
    with app.test_client() as client:
        sizes = []
        for number in range(logins):
            next_url = "/" + noise(length - 1, number)
            state, size = login(client, next_url)
            sizes.append(size)
        assert max(sizes) < BROWSER_LIMIT, sizes
        # the newest login still completes, to its own next URL if it was kept
        response = callback(client, code="c", state=state)
    assert response.status_code == 302
    expected = next_url if len(next_url) <= MAX_NEXT_LENGTH else "/"
    assert response.headers["Location"] in (expected, BASE + expected)


@pytest.mark.usefixtures("token_endpoint")
def test_c45_next_longer_than_the_limit_is_ignored_with_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(make_blueprint())
    kept = "/" + noise(MAX_NEXT_LENGTH - 1, 1)
    too_long = "/" + noise(MAX_NEXT_LENGTH, 2)
    with app.test_client() as client, caplog.at_level(logging.INFO):
        state, _ = login(client, kept)
        assert callback(client, code="c", state=state).headers["Location"] == kept
        assert not caplog.records
        state, _ = login(client, too_long)
        assert callback(client, code="c", state=state).headers["Location"] in (
            "/",
            BASE + "/",
        )
    [record] = [r for r in caplog.records if "'next'" in r.getMessage()]
    assert too_long[:20] not in record.getMessage()


def test_c45_non_ascii_next_counts_as_the_cookie_stores_it() -> None:
    """A character outside ASCII takes six bytes in the cookie (``\\uXXXX``):
    2,000 of them are too many."""
    alphabet = "".join(chr(0x4E00 + n) for n in range(4096))
    app = make_app(make_blueprint())
    with app.test_client() as client:
        _, size = login(client, "/" + noise(MAX_NEXT_LENGTH - 1, 0, alphabet))
    assert size < BROWSER_LIMIT


@pytest.mark.usefixtures("token_endpoint")
def test_c45_ten_ordinary_pending_logins_are_all_kept() -> None:
    app = make_app(make_blueprint())
    with app.test_client() as client:
        states = [login(client, f"/page/{n}")[0] for n in range(10)]
        answers: list[t.Any] = [
            callback(client, code="c", state=state).headers["Location"]
            for state in states
        ]
    assert answers == [f"/page/{n}" for n in range(10)]
