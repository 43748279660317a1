"""The built documentation in a real headless Chromium: its pages, the wide
tables included, fit a 1280 px window and a 390 px phone screen.

The docs are built once into a temporary directory (``sphinx-build``, from
the ``docs`` extra); the screenshots are saved beside them.
"""

from __future__ import annotations

import collections.abc as cabc
import os
import shutil
import sys
import typing as t
from pathlib import Path

import pytest

from processes import run

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent.parent
#: Pages with wide tables, code and the diagram, and the landing page.
PAGES = [
    "index",
    "quickstart",
    "concepts",
    "providers",
    "security",
    "deployment",
    "api",
    "performance",
    "provider-quickstarts",
    "example-apps",
    "logout",
    "templates",
    "contributing",
]


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("sphinx", reason="the docs extra is not installed")
    out = tmp_path_factory.mktemp("docs") / "html"
    result = run(
        [sys.executable, "-m", "sphinx", "-q", "-E", "-b", "dirhtml", "docs", str(out)],
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def docs_browser() -> cabc.Iterator[Browser]:
    executable = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE") or shutil.which(
        "chromium"
    )
    if executable is None or not os.path.exists(executable):
        if os.environ.get("CI") == "true":
            pytest.fail("No Chromium binary")
        pytest.skip("No Chromium binary: install 'chromium'")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--headless=new", "--no-sandbox", "--disable-gpu"],
        )
        try:
            yield browser
        finally:
            browser.close()


# The tests ask for the browser before the docs: without Chromium they skip
# before spending half a minute on a build.
@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_pages_fit_the_window(
    docs_browser: Browser, built_docs: Path, width: int
) -> None:
    shots = built_docs.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    context = docs_browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        for name in PAGES:
            path = built_docs / (
                "index.html" if name == "index" else f"{name}/index.html"
            )
            page.goto(path.as_uri())
            scroll, inner = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert scroll <= inner, (name, width, scroll)
            for table in page.query_selector_all("table.docutils"):
                box = table.bounding_box()
                assert box is not None
                assert box["x"] + box["width"] <= width + 1, (name, width)
            # Screenshots of the top of each page, for a person to look at.
            page.screenshot(path=str(shots / f"{width}-{name}.png"))
    finally:
        context.close()


def test_security_checklist_is_readable(
    docs_browser: Browser, built_docs: Path
) -> None:
    """The Tests column is wide enough to read a test id in a few lines, not
    one letter per line."""
    context = docs_browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto((built_docs / "security" / "index.html").as_uri())
        cell = page.query_selector("table.security-table tbody td:nth-child(4)")
        assert cell is not None
        box = cell.bounding_box()
        assert box is not None
        assert box["width"] >= 250
        assert page.evaluate("document.documentElement.scrollHeight") < 20_000
        diagram = built_docs / "concepts" / "index.html"
        page.goto(diagram.as_uri())
        assert page.query_selector("div.sequence-diagram svg") is not None
        assert "digraph" not in page.inner_text("body")
    finally:
        context.close()


def test_autodoc_documents_the_pytest_fixtures(built_docs: Path) -> None:
    """The docs extra brings pytest, so autodoc can import the fixtures."""
    api = (built_docs / "api" / "index.html").read_text("utf-8")
    for fixture in (
        "flask_dance.testing.pytest_fixtures.local_provider",
        "flask_dance.testing.pytest_fixtures.local_provider_session",
        "flask_dance.fixtures.pytest.betamax_record_flask_dance",
    ):
        assert f'id="{fixture}"' in api
