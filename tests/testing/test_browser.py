from __future__ import annotations

import collections.abc as cabc
import os
import shutil
import threading
import typing as t

import flask
import pytest
from markupsafe import escape
from werkzeug.serving import make_server

from flask_dance.testing import LocalProvider

pytestmark = pytest.mark.browser

_CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def client_app() -> cabc.Iterator[str]:
    """A tiny relying party on 127.0.0.1 that echoes what reaches its callback."""
    app = flask.Flask(__name__)

    @app.route("/cb", methods=["GET", "POST"])
    def callback() -> str:
        values = flask.request.values
        return (
            f"<p id='method'>{flask.request.method}</p>"
            f"<p id='code'>{escape(values.get('code', ''))}</p>"
            f"<p id='error'>{escape(values.get('error', ''))}</p>"
            f"<p id='iss'>{escape(values.get('iss', ''))}</p>"
        )

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/cb"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> cabc.Iterator[t.Any]:
    if _CHROMIUM is None and os.environ.get("CI") != "true":
        pytest.skip("Chromium is not installed (apt-get install chromium).")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_CHROMIUM)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: t.Any) -> cabc.Iterator[t.Any]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(5000)
        yield page
    finally:
        context.close()


@pytest.mark.parametrize(
    ("response_mode", "button", "method"),
    [
        ("query", "#approve", "GET"),
        ("form_post", "#approve", "POST"),
        ("form_post", "#deny", "POST"),
    ],
)
def test_consent_in_a_browser(
    provider: LocalProvider,
    client_app: str,
    page: t.Any,
    response_mode: str,
    button: str,
    method: str,
) -> None:
    provider.add_client("browser", "s", [client_app])
    page.goto(
        provider.authorization_url
        + f"?response_type=code&client_id=browser&redirect_uri={client_app}"
        + f"&state=st&scope=openid&response_mode={response_mode}"
    )
    page.select_option("#user", "monalisa")
    page.click(button)
    page.wait_for_url(client_app + "*")
    assert page.inner_text("#method") == method
    assert page.inner_text("#iss") == provider.issuer
    if button == "#approve":
        assert page.inner_text("#code")
        assert page.inner_text("#error") == ""
    else:
        assert page.inner_text("#code") == ""
        assert page.inner_text("#error") == "access_denied"
