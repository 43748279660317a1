"""The documentation's examples, run, and its claims, checked.

Every Python example in the pages this file covers is a file under
``docs/examples/`` that the page includes with ``literalinclude``; the tests
below import those files and drive them (the provider mocked with
``responses`` or served by :class:`~flask_dance.testing.LocalProvider`), so a
renamed parameter breaks the test suite, not the reader.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import types
import typing as t
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import flask
import pytest
import responses as responses_lib

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"

_loaded = 0


def load_example(name: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Import ``docs/examples/<name>.py`` as a fresh module, as a reader's
    ``python <name>.py`` would (its ``__main__`` block does not run)."""
    global _loaded
    _loaded += 1
    module_name = f"docs_example_{name}_{_loaded}"
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, module_name, module)
    spec.loader.exec_module(module)
    return module


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


@pytest.fixture
def insecure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def provider() -> t.Iterator[t.Any]:
    from flask_dance.testing import LocalProvider

    with LocalProvider() as local:
        yield local


def dance_with(provider: t.Any, client: t.Any, login: str) -> t.Any:
    """Run a whole login against the local provider; return the callback's
    response."""
    response = client.get(login)
    assert response.status_code == 302, response.data
    result = provider.authorize(response.headers["Location"])
    assert result.code, result.params
    if result.method == "POST":
        return client.post(local_path(result.url), data=result.params)
    return client.get(local_path(result.url))


# -- quickstart ------------------------------------------------------------------


def test_local_quickstart_reaches_a_working_login(
    insecure: None, provider: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load_example("local_quickstart", monkeypatch)
    app = example.create_app(provider)
    with app.test_client() as client:
        response = client.get("/")
        assert response.headers["Location"] == "/login/local"
        response = dance_with(provider, client, "/login/local")
        assert response.status_code == 302
        assert response.headers["Location"] == "/"
        page = client.get("/").get_data(as_text=True)
    assert page == "Signed in as octocat@example.com"


def test_local_quickstart_runs_as_a_script() -> None:
    """The ``__main__`` block starts the provider on 5001 and the app on
    5000: check it is there and names both ports the page tells about."""
    source = (EXAMPLES / "local_quickstart.py").read_text("utf-8")
    main = source.split('if __name__ == "__main__":', 1)[1]
    assert "LocalProvider(port=5001)" in main
    assert 'run(host="127.0.0.1", port=5000)' in main
    page = (DOCS / "quickstart.rst").read_text("utf-8")
    assert "http://127.0.0.1:5000/" in page


GITHUB_TOKEN_URL = "https://github.com/login/oauth/access_token"
EMAILS = [{"email": "octocat@example.com"}, {"email": "mona@example.com"}]


def github_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "docs")
    monkeypatch.setenv("GITHUB_OAUTH_CLIENT_ID", "the-id")
    monkeypatch.setenv("GITHUB_OAUTH_CLIENT_SECRET", "the-secret")


def mock_github(responses: responses_lib.RequestsMock) -> None:
    responses.add(
        responses_lib.POST,
        GITHUB_TOKEN_URL,
        json={"access_token": "gho_docs", "token_type": "bearer", "scope": "user:email"},
    )
    responses.add(responses_lib.GET, "https://api.github.com/user/emails", json=EMAILS)
    responses.add(
        responses_lib.GET,
        "https://api.github.com/user",
        json={"id": 583231, "login": "octocat"},
    )


def github_dance(client: t.Any, login: str = "/login/github") -> t.Any:
    response = client.get(login)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("https://github.com/login/oauth/authorize?")
    state = query_of(location)["state"]
    return client.get(f"{login}/authorized?code=the-code&state={state}")


def test_github_quickstart(
    insecure: None, responses: responses_lib.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    github_env(monkeypatch)
    mock_github(responses)
    example = load_example("github_quickstart", monkeypatch)
    with example.app.test_client() as client:
        assert client.get("/").headers["Location"] == "/login/github"
        response = github_dance(client)
        assert response.headers["Location"] == "/"
        assert flask.session["_flashes"] == [("message", "Signed in with GitHub.")]
        page = client.get("/")
    assert page.data == b"octocat@example.com mona@example.com"
    token_request = responses.calls[0].request
    assert "code=the-code" in token_request.body
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer gho_docs"


def test_readme_quickstart_is_the_github_quickstart() -> None:
    readme = (ROOT / "README.rst").read_text("utf-8")
    blocks = python_blocks(readme)
    assert blocks, "README.rst has no Python example"
    example = (EXAMPLES / "github_quickstart.py").read_text("utf-8")
    assert normalized(blocks[0]) == normalized(example)


def test_google_quickstart(
    insecure: None, responses: responses_lib.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "docs")
    monkeypatch.setenv("GOOGLE_OAUTH_CLIENT_ID", "the-id")
    monkeypatch.setenv("GOOGLE_OAUTH_CLIENT_SECRET", "the-secret")
    responses.add(
        responses_lib.POST,
        "https://accounts.google.com/o/oauth2/token",
        json={"access_token": "ya29.docs", "token_type": "Bearer", "expires_in": 3599},
    )
    responses.add(
        responses_lib.GET,
        "https://www.googleapis.com/oauth2/v2/userinfo",
        json={"email": "alice@example.com"},
    )
    example = load_example("google_quickstart", monkeypatch)
    with example.app.test_client() as client:
        assert client.get("/").headers["Location"] == "/login/google"
        location = client.get("/login/google").headers["Location"]
        query = query_of(location)
        assert query["scope"].split() == [
            "https://www.googleapis.com/auth/userinfo.email",
            "https://www.googleapis.com/auth/userinfo.profile",
        ]
        response = client.get(
            f"/login/google/authorized?code=c&state={query['state']}"
        )
        assert response.headers["Location"] == "/"
        page = client.get("/").get_data(as_text=True)
    assert page == "You are alice@example.com on Google"


def test_oidc_quickstart(
    insecure: None, provider: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "docs")
    monkeypatch.setenv("ACME_ISSUER", provider.issuer)
    monkeypatch.setenv("ACME_OAUTH_CLIENT_ID", "test-client")
    monkeypatch.setenv("ACME_OAUTH_CLIENT_SECRET", "test-secret")
    example = load_example("oidc_quickstart", monkeypatch)
    with example.app.test_client() as client:
        assert client.get("/").headers["Location"] == "/login/acme"
        response = dance_with(provider, client, "/login/acme")
        assert response.headers["Location"] == "/"
        page = client.get("/").get_data(as_text=True)
        assert page == (
            f"You are octocat@example.com (subject 1 at {provider.issuer})"
        )
        response = client.get("/logout")
        assert response.headers["Location"] == "/login/acme/logout"
        response = client.get("/login/acme/logout")
        assert response.headers["Location"].startswith(provider.end_session_url)
        assert client.get("/").headers["Location"] == "/login/acme"
    assert provider.calls["revoke"] == 1


# -- helpers for the checks on the pages ------------------------------------------


def python_blocks(text: str) -> list[str]:
    """The bodies of the ``code-block:: python`` directives of a reST text."""
    blocks = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if re.match(r"\s*\.\. code-block:: python\s*$", line):
            body = []
            for follow in lines[index + 1 :]:
                if follow.strip() and not follow.startswith(" "):
                    break
                body.append(follow)
            blocks.append("\n".join(body))
    return blocks


def normalized(code: str) -> str:
    import textwrap

    return "\n".join(
        line.rstrip() for line in textwrap.dedent(code).strip().splitlines()
    )
