from __future__ import annotations

import pytest

from flask_dance.consumer._urls import join_url
from flask_dance.consumer._urls import safe_next_url


@pytest.mark.parametrize(
    ("base", "url", "expected"),
    [
        ("https://api.github.com/", "/user", "https://api.github.com/user"),
        ("https://api.github.com", "user", "https://api.github.com/user"),
        ("https://gitlab.com/api/v4/", "/user", "https://gitlab.com/api/v4/user"),
        ("https://gitlab.com/api/v4/", "user", "https://gitlab.com/api/v4/user"),
        (
            "https://www.strava.com/api/v3",
            "athlete",
            "https://www.strava.com/api/v3/athlete",
        ),
        (
            "https://www.strava.com/api/v3",
            "/api/v3/athlete",
            "https://www.strava.com/api/v3/athlete",
        ),
        ("https://x.example/v1/oauth", "token", "https://x.example/v1/oauth/token"),
        (
            "https://api.github.com/",
            "https://other.example/x",
            "https://other.example/x",
        ),
        ("https://api.github.com/", "//other.example/x", "//other.example/x"),
        ("https://api.github.com/", "user?a=1", "https://api.github.com/user?a=1"),
        (None, "https://a.example/x", "https://a.example/x"),
        (None, "relative", "relative"),
    ],
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
