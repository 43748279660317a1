"""The shared HTML pages of the demo and the test provider (flask_dance/_html.py)."""

from __future__ import annotations

from flask_dance._html import error_body
from flask_dance._html import page
from flask_dance._html import STYLE


def test_a_page_escapes_its_title_and_keeps_its_body_and_banner() -> None:
    html = page("Tom & <Jerry>", "<p>hi</p>", banner="<b>demo</b>")
    assert html.startswith("<!doctype html>")
    assert "<title>Tom &amp; &lt;Jerry&gt;</title>" in html
    assert "<main>\n<p>hi</p>\n</main>" in html
    assert '<div class="banner" role="note"><b>demo</b></div>' in html
    assert f"<style>{STYLE}</style>" in html


def test_an_error_body_escapes_the_name_and_description() -> None:
    body = error_body(400, "Bad <Request>", 'The "state" & more.')
    assert body == (
        '<p class="status">Error 400</p>'
        '<h1 id="error">Bad &lt;Request&gt;</h1>'
        '<p id="error_description">The &#34;state&#34; &amp; more.</p>'
    )


def test_an_error_body_without_status_or_description() -> None:
    assert error_body(0, "access_denied", None) == (
        '<h1 id="error">access_denied</h1><p id="error_description"></p>'
    )
