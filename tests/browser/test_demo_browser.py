"""The demo app end to end in a real headless Chromium, driven by Playwright.

Each step is saved as a screenshot under the test's ``tmp_path``.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import itertools
import os
import re
import shutil
import typing as t
from pathlib import Path
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest

from flask_dance.testing import LocalProvider

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Page

    from .conftest import Demo

pytestmark = pytest.mark.browser

_CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: A masked secret: four characters and an ellipsis.
_MASKED = re.compile(r"^[A-Za-z0-9_.~+/=-]{4}…$")
#: A whole JWT, which the pages must never show.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def _chromium() -> str | None:
    return os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE") or shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> cabc.Iterator[Browser]:
    executable = _chromium()
    if executable is None:
        message = (
            "No Chromium binary: install the 'chromium' package or set"
            " PLAYWRIGHT_CHROMIUM_EXECUTABLE."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("Playwright is not installed (the 'test' extra has it).")

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=_CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(
    browser: Browser, start_demo: t.Callable[..., Demo]
) -> cabc.Iterator[BrowserContext]:
    """A fresh browser profile (no cookies), closed before the demo stops."""
    fresh = browser.new_context(viewport={"width": 1000, "height": 900})
    fresh.set_default_timeout(15_000)
    try:
        yield fresh
    finally:
        fresh.close()


class _Shots:
    """Numbered screenshots in a directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._counter = itertools.count(1)

    def __call__(self, page: Page, name: str) -> Path:
        path = self.directory / f"{next(self._counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shot(tmp_path: Path) -> _Shots:
    return _Shots(tmp_path)


def _approve(page: Page, user: str | None = None) -> None:
    page.wait_for_selector("#approve")
    if user is not None:
        page.select_option("#user", user)
    page.click("#approve")


@dataclasses.dataclass
class _Visit:
    """A page of a fresh browser profile on a demo app with default settings."""

    demo: Demo
    context: BrowserContext
    page: Page
    shot: _Shots

    def stored_token(self) -> t.Any:
        """The token in the browser's session cookie, or ``None``."""
        for cookie in self.context.cookies():
            if cookie["name"] == "session":
                return self.demo.stored_token(cookie["value"])
        return None

    def log_in(self) -> t.Any:
        """Log in with the default user; return the stored token."""
        self.page.goto(self.demo.url + "/")
        self.page.click("#login")
        _approve(self.page)
        self.page.wait_for_url(self.demo.url + "/")
        self.page.wait_for_selector("#name")
        self.shot(self.page, "logged-in")
        return self.stored_token()


@pytest.fixture
def visit(
    start_demo: t.Callable[..., Demo], context: BrowserContext, shot: _Shots
) -> _Visit:
    return _Visit(start_demo(), context, context.new_page(), shot)


def test_login_with_consent(provider: LocalProvider, visit: _Visit) -> None:
    page, shot = visit.page, visit.shot
    page.goto(visit.demo.url + "/")
    assert page.inner_text("#status") == "You are not logged in."
    shot(page, "home")

    page.click("#login")
    page.wait_for_selector("#approve")
    assert page.url.startswith(provider.authorization_url + "?")
    assert page.inner_text("#client_name") == "Flask-Dance demo"
    assert page.inner_text("#scopes").split() == ["openid", "profile", "email"]
    page.select_option("#user", "monalisa")
    shot(page, "consent")

    page.click("#approve")
    page.wait_for_url(visit.demo.url + "/")
    shot(page, "logged-in")
    assert page.inner_text("#name") == "Mona Lisa Octocat"
    assert page.inner_text("#flash-1") == "Logged in as Mona Lisa Octocat."
    assert page.inner_text("#who-login") == "monalisa"
    assert page.inner_text("#claim-iss") == provider.issuer
    assert page.inner_text("#claim-aud") == "flask-dance-demo"
    assert page.inner_text("#claim-email") == "monalisa@example.com"
    assert page.inner_text("#claim-name") == "Mona Lisa Octocat"

    token = visit.stored_token()
    html = page.content()
    for name in ("access_token", "refresh_token", "id_token"):
        shown = page.inner_text(f"#token-{name}")
        assert _MASKED.match(shown), shown
        assert shown == token[name][:4] + "…"
        assert token[name] not in html
    assert not _JWT.search(html)
    assert provider.calls["user"] == 1
    assert provider.calls["exchange"] == 1


def test_deny_shows_the_error(provider: LocalProvider, visit: _Visit) -> None:
    page, shot = visit.page, visit.shot
    page.goto(visit.demo.url + "/")
    page.click("#login")
    page.wait_for_selector("#deny")
    shot(page, "consent")
    page.click("#deny")
    page.wait_for_url(visit.demo.url + "/")
    shot(page, "denied")
    assert page.inner_text("#flash-1") == (
        "Login failed: access_denied (The user denied the request.)"
    )
    assert page.is_visible("#login")
    assert provider.calls["exchange"] == 0
    assert visit.stored_token() is None


def test_two_tabs_log_in_at_once(provider: LocalProvider, visit: _Visit) -> None:
    demo, shot = visit.demo, visit.shot
    tab_a = visit.page
    tab_b = visit.context.new_page()
    for tab in (tab_a, tab_b):
        tab.goto(demo.url + "/")
        tab.click("#login")
        tab.wait_for_selector("#approve")
    state_a = dict(parse_qsl(urlsplit(tab_a.url).query))["state"]
    state_b = dict(parse_qsl(urlsplit(tab_b.url).query))["state"]
    assert state_a != state_b
    shot(tab_a, "tab-a-consent")
    shot(tab_b, "tab-b-consent")

    _approve(tab_b, "monalisa")
    tab_b.wait_for_url(demo.url + "/")
    shot(tab_b, "tab-b-logged-in")
    assert tab_b.inner_text("#name") == "Mona Lisa Octocat"

    _approve(tab_a, "octocat")
    tab_a.wait_for_url(demo.url + "/")
    shot(tab_a, "tab-a-logged-in")
    assert tab_a.inner_text("#name") == "The Octocat"
    for tab in (tab_a, tab_b):
        assert "Login failed" not in tab.content()
    # The last login wins: tab B shows octocat once reloaded.
    tab_b.reload()
    assert tab_b.inner_text("#name") == "The Octocat"
    assert provider.calls["exchange"] == 2


def test_logout_goes_through_the_provider(
    provider: LocalProvider, visit: _Visit
) -> None:
    token = visit.log_in()
    page = visit.page
    assert provider.is_active(token["access_token"])

    page.click("#logout")
    page.wait_for_url(visit.demo.url + "/")
    page.wait_for_selector("#login")
    visit.shot(page, "logged-out")
    assert page.inner_text("#flash-1") == "You have been logged out."
    assert page.inner_text("#status") == "You are not logged in."
    [end_session] = provider.requests_for("logout")
    assert end_session.args["post_logout_redirect_uri"] == (
        visit.demo.url + "/login/demo/logged-out"
    )
    assert end_session.args["id_token_hint"] == token["id_token"]
    assert provider.calls["revoke"] == 1
    assert not provider.is_active(token["refresh_token"])
    assert visit.stored_token() is None


def test_refresh_button_changes_the_token(
    provider: LocalProvider, visit: _Visit
) -> None:
    before = visit.log_in()
    page = visit.page
    shown_before = page.inner_text("#token-access_token")

    page.click("#refresh")
    page.wait_for_selector("#flash-1")
    visit.shot(page, "refreshed")
    after = visit.stored_token()
    shown_after = page.inner_text("#token-access_token")
    assert after["access_token"] != before["access_token"]
    assert shown_before == before["access_token"][:4] + "…"
    assert shown_after == after["access_token"][:4] + "…"
    assert shown_after != shown_before
    assert page.inner_text("#flash-1") == (
        f"Token refreshed: the access token now starts with {shown_after}"
    )
    assert page.inner_text("#name") == "The Octocat"
    assert provider.calls["refresh"] == 1
    assert provider.is_active(after["access_token"])


@pytest.mark.parametrize(
    ("samesite", "expected_posts"),
    [
        # Flask's default: no SameSite attribute. Chromium sends such a
        # cookie on a cross-site POST for two minutes after it was set.
        (None, (1, 2)),
        # Explicit Lax: the cookie is held back, so the demo's callback posts
        # the fields again from its own page, which brings the cookie.
        ("Lax", (2,)),
    ],
    ids=["default", "lax"],
)
def test_form_post_login_with_cookie_settings(
    provider: LocalProvider,
    start_demo: t.Callable[..., Demo],
    context: BrowserContext,
    shot: _Shots,
    samesite: str | None,
    expected_posts: tuple[int, ...],
) -> None:
    demo = start_demo(response_mode="form_post")
    assert demo.app.config["SESSION_COOKIE_SAMESITE"] is None
    demo.app.config["SESSION_COOKIE_SAMESITE"] = samesite
    # "localhost" and "127.0.0.1" are different sites: the provider's POST
    # back to the demo is a cross-site request.
    demo_url = f"http://localhost:{demo.port}"
    callbacks: list[str] = []
    page = context.new_page()
    page.on(
        "request",
        lambda request: (
            callbacks.append(request.method)
            if "/login/demo/authorized" in request.url
            else None
        ),
    )
    page.goto(demo_url + "/")
    page.click("#login")
    page.wait_for_selector("#approve")
    assert dict(parse_qsl(urlsplit(page.url).query))["response_mode"] == "form_post"
    shot(page, "consent")
    page.click("#approve")
    page.wait_for_url(demo_url + "/")
    shot(page, "logged-in")
    assert page.inner_text("#name") == "The Octocat"
    assert page.inner_text("#claim-iss") == provider.issuer
    assert "Login failed" not in page.content()
    assert set(callbacks) == {"POST"}
    assert len(callbacks) in expected_posts
    assert provider.calls["exchange"] == 1


def _fits(page: Page) -> None:
    """No horizontal scrolling: the page is no wider than the window."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (page.url, widths)


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_pages_fit_the_window_and_share_the_style(
    provider: LocalProvider,
    start_demo: t.Callable[..., Demo],
    browser: Browser,
    shot: _Shots,
    width: int,
) -> None:
    """Each page of the demo and of the local provider, at a desktop width and
    a phone's: no horizontal overflow, the same banner and buttons. The
    screenshots are in the test's temporary directory."""
    demo = start_demo()
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto(demo.url + "/")
        assert page.eval_on_selector("#login", "e => e.tagName") == "BUTTON"
        _fits(page)
        shot(page, f"{width}-home")

        page.click("#login")
        page.wait_for_selector("#approve")
        assert "local test provider" in page.inner_text(".banner")
        assert page.eval_on_selector("#approve", "e => e.className") == "primary"
        _fits(page)
        shot(page, f"{width}-consent")

        page.click("#approve")
        page.wait_for_url(demo.url + "/")
        page.wait_for_selector("#claims")
        _fits(page)
        # Long values wrap inside the window, and short words stay whole.
        for cell in page.query_selector_all("#claims td, #token td"):
            box = cell.bounding_box()
            assert box is not None
            assert box["x"] + box["width"] <= width
        assert page.inner_text("#claim-email") == "octocat@example.com"
        # Names and short values are never broken across lines.
        for selector in ("#claims th", "#token th", "#claim-email", "#claim-aud"):
            for element in page.query_selector_all(selector):
                lines = element.evaluate(
                    "e => { const r = document.createRange();"
                    " r.selectNodeContents(e); return r.getClientRects().length; }"
                )
                assert lines == 1, (selector, element.inner_text(), width)
        shot(page, f"{width}-logged-in")

        page.goto(demo.url + "/no/such/page")
        assert page.inner_text("#error") == "Not Found"
        _fits(page)
        shot(page, f"{width}-demo-404")

        page.goto(provider.url + "/authorize?client_id=nobody")
        assert "local test provider" in page.inner_text(".banner")
        assert page.is_visible("#error_description")
        _fits(page)
        shot(page, f"{width}-provider-error")

        page.goto(provider.url + "/logout")
        assert "signed out of the local test provider" in page.inner_text("main")
        _fits(page)
        shot(page, f"{width}-provider-logout")
    finally:
        context.close()
