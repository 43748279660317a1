from __future__ import annotations

import pytest

from dance_helpers import URL_JOINS
from flask_dance.consumer._urls import join_url
from flask_dance.consumer._urls import safe_next_url


@pytest.mark.parametrize(
    ("base", "url", "expected"), list(URL_JOINS.values()), ids=list(URL_JOINS)
)
def test_join_url(base: str | None, url: str, expected: str) -> None:
    assert join_url(base, url) == expected


@pytest.mark.parametrize(
    "value",
    ["/", "/dashboard", "/a/b?x=1#top", "/search?q=//not-a-host"],
)
def test_safe_next_url_accepts_local_paths(value: str) -> None:
    assert safe_next_url(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "//evil.example",
        "https://evil.example",
        "http://evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "dashboard",
        "/\tevil",
        "/a\nb",
        "/\x7f",
        "///evil.example",
    ],
)
def test_safe_next_url_refuses_other_targets(value: str | None) -> None:
    assert safe_next_url(value) is None
