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
from urllib.parse import unquote
from urllib.parse import urlsplit

import flask
import pytest
import responses as responses_lib

from dance_helpers import EMAILS
from dance_helpers import mock_github
from processes import run
from processes import stop

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
    assert spec is not None
    assert spec.loader is not None
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


def set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    """Set the example's environment, with ``FLASK_SECRET_KEY`` too."""
    monkeypatch.setenv("FLASK_SECRET_KEY", "docs")
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def oauth2_quickstart_dance(
    example: types.ModuleType, name: str, authorize_url: str, base_url: str
) -> tuple[dict[str, str], str]:
    """Visit ``/`` (sent to the login), log in, come back with a code; return
    the authorization request's query and the page ``/`` shows then."""
    with example.app.test_client() as client:
        first = client.get("/", base_url=base_url)
        assert first.headers["Location"] == f"/login/{name}"
        location = client.get(f"/login/{name}", base_url=base_url).headers["Location"]
        assert location.startswith(authorize_url + "?")
        query = query_of(location)
        response = client.get(
            f"/login/{name}/authorized?code=c&state={query['state']}",
            base_url=base_url,
        )
        assert response.headers["Location"] == "/"
        page = client.get("/", base_url=base_url).get_data(as_text=True)
    return query, page


# -- quickstart ------------------------------------------------------------------------


@pytest.mark.usefixtures("insecure")
def test_local_quickstart_reaches_a_working_login(
    provider: t.Any, monkeypatch: pytest.MonkeyPatch
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


def _port_is_free(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        pass
    except OSError:
        return False  # something holds it without answering
    else:
        return False  # something serves there
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_local_quickstart_runs_as_a_script(tmp_path: Path) -> None:
    """What the page tells a newcomer to do: save the file, run it, open
    http://127.0.0.1:5000/, approve, and see who they are."""
    import time

    import requests

    from flask_dance.testing import LocalProvider

    page = (DOCS / "quickstart.rst").read_text("utf-8")
    assert "http://127.0.0.1:5000/" in page
    assert "python local_app.py" in page
    if not (_port_is_free(5000) and _port_is_free(5001)):
        pytest.skip("ports 5000 and 5001 of 127.0.0.1 are taken")
    script = tmp_path / "local_app.py"
    script.write_text((EXAMPLES / "local_quickstart.py").read_text("utf-8"))
    # A newcomer's shell: no OAUTHLIB_* switches, and not FLASK_RUN_FROM_CLI,
    # which Flask's CLI tests leave in os.environ and which makes app.run()
    # return at once.
    env = {
        k: v
        for k, v in __import__("os").environ.items()
        if "OAUTHLIB" not in k and k != "FLASK_RUN_FROM_CLI"
    }
    process = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        browser = requests.Session()
        deadline = time.monotonic() + 60
        while True:
            try:
                response = browser.get("http://127.0.0.1:5000/", timeout=5)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    _, err = process.communicate(timeout=5)
                    if b"Address already in use" in err:
                        pytest.skip("port 5000 or 5001 was taken meanwhile")
                    pytest.fail(f"the script did not serve: {err.decode()[-2000:]}")
                time.sleep(0.1)
        # requests followed the redirects to the provider's consent page
        assert response.url.startswith("http://127.0.0.1:5001/authorize?")
        # approve as a browser would (authorize() only does HTTP)
        result = LocalProvider().authorize(response.url)
        assert result.url.startswith("http://127.0.0.1:5000/login/local/authorized?")
        page_text = browser.get(result.url, timeout=5).text
        assert page_text == "Signed in as octocat@example.com"
    finally:
        stop(process)


def github_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "docs")
    monkeypatch.setenv("GITHUB_OAUTH_CLIENT_ID", "the-id")
    monkeypatch.setenv("GITHUB_OAUTH_CLIENT_SECRET", "the-secret")


@pytest.fixture
def github(
    insecure: None,
    responses: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> responses_lib.RequestsMock:
    """The GitHub settings in the environment and GitHub's endpoints mocked."""
    github_env(monkeypatch)
    mock_github(responses, "gho_docs")
    return responses


def github_dance(client: t.Any, login: str = "/login/github") -> t.Any:
    response = client.get(login)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("https://github.com/login/oauth/authorize?")
    state = query_of(location)["state"]
    return client.get(f"{login}/authorized?code=the-code&state={state}")


def test_github_quickstart(
    github: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example = load_example("github_quickstart", monkeypatch)
    with example.app.test_client() as client:
        assert client.get("/").headers["Location"] == "/login/github"
        response = github_dance(client)
        assert response.headers["Location"] == "/"
        assert flask.session["_flashes"] == [("message", "Signed in with GitHub.")]
        page = client.get("/")
    assert page.data == b"octocat@example.com mona@example.com"
    token_request = github.calls[0].request
    assert "code=the-code" in token_request.body
    assert github.calls[-1].request.headers["Authorization"] == "Bearer gho_docs"


def test_readme_quickstart_is_the_github_quickstart() -> None:
    readme = (ROOT / "README.rst").read_text("utf-8")
    blocks = python_blocks(readme)
    assert blocks, "README.rst has no Python example"
    example = (EXAMPLES / "github_quickstart.py").read_text("utf-8")
    assert normalized(blocks[0]) == normalized(example)


@pytest.mark.usefixtures("insecure")
def test_google_quickstart(
    responses: responses_lib.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(
        monkeypatch, GOOGLE_OAUTH_CLIENT_ID="the-id", GOOGLE_OAUTH_CLIENT_SECRET="s"
    )
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
    query, page = oauth2_quickstart_dance(
        example,
        "google",
        "https://accounts.google.com/o/oauth2/auth",
        "http://localhost",
    )
    assert query["scope"].split() == [
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
    ]
    assert page == "You are alice@example.com on Google"


@pytest.mark.usefixtures("insecure")
def test_oidc_quickstart(provider: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
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
        assert page == (f"You are octocat@example.com (subject 1 at {provider.issuer})")
        # without the token, as from another site, nothing happens
        assert client.get("/login/acme/logout").status_code == 403
        response = submit_logout_form(client)
        assert response.headers["Location"].startswith(provider.end_session_url)
        assert client.get("/").headers["Location"] == "/login/acme"
    assert provider.calls["revoke"] == 1


# -- helpers for the checks on the pages -----------------------------------------------


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


# -- multiple users and accounts, storages, deployment ---------------------------------

GOOGLE_TOKEN_URL = "https://accounts.google.com/o/oauth2/token"


def mock_google(responses: responses_lib.RequestsMock) -> None:
    responses.add(
        responses_lib.POST,
        GOOGLE_TOKEN_URL,
        json={"access_token": "ya29.docs", "token_type": "Bearer", "expires_in": 3599},
    )
    responses.add(
        responses_lib.GET,
        "https://www.googleapis.com/oauth2/v2/userinfo",
        json={"id": "1077", "name": "Alice Liddell"},
    )


def oauth_dance(client: t.Any, login: str) -> t.Any:
    location = client.get(login).headers["Location"]
    state = query_of(location)["state"]
    return client.get(f"{login}/authorized?code=the-code&state={state}")


def multi_user_app(
    monkeypatch: pytest.MonkeyPatch, config: dict[str, t.Any] | None = None
) -> tuple[types.ModuleType, flask.Flask]:
    monkeypatch.setenv("FLASK_SECRET_KEY", "docs")
    monkeypatch.setenv("FLASK_GITHUB_OAUTH_CLIENT_ID", "gh-id")
    monkeypatch.setenv("FLASK_GITHUB_OAUTH_CLIENT_SECRET", "gh-secret")
    monkeypatch.setenv("FLASK_GOOGLE_OAUTH_CLIENT_ID", "g-id")
    monkeypatch.setenv("FLASK_GOOGLE_OAUTH_CLIENT_SECRET", "g-secret")
    example = load_example("multi_user", monkeypatch)
    settings: dict[str, t.Any] = {"SESSION_COOKIE_SECURE": False}
    if "DATABASE_URL" not in __import__("os").environ:
        settings["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    settings.update(config or {})
    return example, example.create_app(settings)


def check_multi_user_app(example: types.ModuleType, app: flask.Flask) -> None:
    with app.test_client() as alice:
        assert alice.get("/").data == b"Sign in with GitHub or Google."
        # first login with GitHub makes a user
        assert oauth_dance(alice, "/login/github").headers["Location"] == "/"
        assert alice.get("/").data == b"octocat: github"
        # signed in, a Google login links the Google account to the same user
        oauth_dance(alice, "/login/google")
        assert alice.get("/").data == b"octocat: github, google"
        alice.get("/logout")
        assert alice.get("/").data == b"Sign in with GitHub or Google."
        # later, Google alone signs the same user in again
        oauth_dance(alice, "/login/google")
        assert alice.get("/").data == b"octocat: github, google"
        with alice.session_transaction() as sess:
            assert "github_oauth_token" not in sess
            assert "google_oauth_token" not in sess
    with app.app_context():
        db = example.db
        rows = db.session.execute(db.select(example.OAuth)).scalars().all()
        assert sorted((r.provider, r.provider_user_id, r.user_id) for r in rows) == [
            ("github", "583231", 1),
            ("google", "1077", 1),
        ]
        assert rows[0].token["access_token"] in {"gho_docs", "ya29.docs"}
        # the storage reads the token of the signed-in user
        user = db.session.get(example.User, 1)
        with app.test_request_context("/"):
            example.login_user(user)
            assert example.github_blueprint.token["access_token"] == "gho_docs"
            assert example.google_blueprint.token["access_token"] == "ya29.docs"


@pytest.fixture
def multi_user(
    insecure: None,
    responses: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[types.ModuleType, flask.Flask]:
    """The multi-user example, with GitHub and Google mocked."""
    mock_github(responses, "gho_docs")
    mock_google(responses)
    return multi_user_app(monkeypatch)


def test_multi_user_example(multi_user: tuple[types.ModuleType, flask.Flask]) -> None:
    check_multi_user_app(*multi_user)


def test_multi_user_example_refuses_an_account_of_another_user(
    multi_user: tuple[types.ModuleType, flask.Flask],
) -> None:
    example, app = multi_user
    with app.test_client() as alice:
        oauth_dance(alice, "/login/github")
    with app.test_client() as bob:
        oauth_dance(bob, "/login/google")
        assert bob.get("/").data == b"Alice Liddell: google"
        # the GitHub account is already alice's (the same mocked id)
        oauth_dance(bob, "/login/github")
        assert bob.get("/").data == b"Alice Liddell: google"
        with bob.session_transaction() as sess:
            flashes = [message for _, message in sess["_flashes"]]
        assert "That github account belongs to another user." in flashes


@pytest.fixture
def postgresql_url(postgres_schema: t.Callable[[str], str]) -> str:
    """A fresh schema on the PostgreSQL server, as the ``search_path`` of
    the URL, dropped afterwards."""
    pytest.importorskip("psycopg")
    schema = postgres_schema("fd_docs")
    return (
        "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        f"?options=-csearch_path%3D{schema}"
    )


@pytest.mark.usefixtures("insecure")
def test_multi_user_example_on_postgresql_and_redis(
    responses: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
    postgresql_url: str,
    redis_url: str,
) -> None:
    """The deployment page's settings: DATABASE_URL and REDIS_URL."""
    responses.add_passthru("http://127.0.0.1")
    mock_github(responses, "gho_docs")
    mock_google(responses)
    monkeypatch.setenv("DATABASE_URL", postgresql_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    prefix = "fd_docs_" + postgresql_url.rsplit("%3D", 1)[1] + "_"
    example, app = multi_user_app(monkeypatch, {"CACHE_KEY_PREFIX": prefix})
    assert app.config["CACHE_TYPE"] == "RedisCache"
    with app.app_context():
        assert example.db.engine.dialect.name == "postgresql"
    try:
        check_multi_user_app(example, app)
    finally:
        with app.app_context():
            example.cache.clear()


# -- testing ---------------------------------------------------------------------------


def _record_github_cassette(folder: Path) -> None:
    """Stand in for the first run, which records the real API: record the
    mocked one into the cassette the example test replays."""
    import requests
    from betamax import Betamax

    folder.mkdir()
    with requests.Session() as session, responses_lib.RequestsMock() as rsps:
        rsps.get("https://api.github.com/user/emails", json=EMAILS)
        recorder = Betamax(session, cassette_library_dir=str(folder))
        with recorder.use_cassette(
            "test_index_with_the_recorded_github_api",
            record="once",
            placeholders=[{"placeholder": "<GITHUB-TOKEN>", "replace": "fake-token"}],
        ):
            session.get(
                "https://api.github.com/user/emails",
                headers={"Authorization": "Bearer fake-token"},
            )
    cassette = (folder / "test_index_with_the_recorded_github_api.json").read_text()
    assert "fake-token" not in cassette
    assert "<GITHUB-TOKEN>" in cassette


def test_testing_examples_pass_under_pytest(tmp_path: Path) -> None:
    """The testing page's files, with the quickstart apps they test, in a
    project of their own: the fixtures come from Flask-Dance's plugin."""
    import os

    for name in ("conftest", "test_views", "test_login", "test_recorded"):
        source = EXAMPLES / "testing" / f"{name}.py"
        (tmp_path / f"{name}.py").write_text(source.read_text("utf-8"))
    (tmp_path / "app.py").write_text(
        (EXAMPLES / "github_quickstart.py").read_text("utf-8")
    )
    (tmp_path / "local_app.py").write_text(
        (EXAMPLES / "local_quickstart.py").read_text("utf-8")
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings =\n    error\n")
    _record_github_cassette(tmp_path / "cassettes")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OAUTHLIB_", "GITHUB_", "FLASK_", "PYTEST_"))
    }
    result = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:cov",
        ],
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "5 passed" in result.stdout, result.stdout[-2000:]


# -- refresh, revocation and logout ----------------------------------------------------


@pytest.mark.usefixtures("insecure")
def test_lifecycle_example(provider: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("FLASK_SECRET_KEY", "docs")
    monkeypatch.setenv("FLASK_ACME_OAUTH_CLIENT_ID", "test-client")
    monkeypatch.setenv("FLASK_ACME_OAUTH_CLIENT_SECRET", "test-secret")
    monkeypatch.setenv("ACME_ISSUER", provider.issuer)
    example = load_example("lifecycle", monkeypatch)
    with example.app.test_client() as client:
        dance_with(provider, client, "/login/acme")
        assert client.get("/").data == b"Signed in as octocat@example.com"
        tokens = provider.calls["token"]

        # expiring within the leeway: refreshed before the call, and stored
        with client.session_transaction() as sess:
            old = dict(sess["acme_oauth_token"])
            sess["acme_oauth_token"] = dict(old, expires_at=time.time() + 30)
        assert client.get("/").data == b"Signed in as octocat@example.com"
        assert provider.calls["token"] == tokens + 1
        with client.session_transaction() as sess:
            new = sess["acme_oauth_token"]
        assert new["access_token"] != old["access_token"]
        assert new["expires_at"] > time.time() + 3000

        # a refresh token the provider no longer knows: the receiver answers
        with client.session_transaction() as sess:
            sess["acme_oauth_token"] = dict(
                new, refresh_token="revoked", expires_at=time.time() - 10
            )
        response = client.get("/")
        assert response.status_code == 302
        # (Werkzeug before 2.3 quotes the slashes)
        assert unquote(response.headers["Location"]) == "/login/acme?next=/"
        with client.session_transaction() as sess:
            assert "acme_oauth_token" not in sess
            assert sess["_flashes"][-1][1].startswith("Your Acme session has ended")

        # disconnect: revoked at the provider and forgotten here
        dance_with(provider, client, "/login/acme")
        with client.session_transaction() as sess:
            refresh_token = sess["acme_oauth_token"]["refresh_token"]
        assert provider.is_active(refresh_token)
        assert client.post("/disconnect").headers["Location"] == "/"
        assert not provider.is_active(refresh_token)
        assert client.get("/").headers["Location"] == "/login/acme"


# -- understanding the magic, signals, storages, migrating -----------------------------


@pytest.mark.usefixtures("insecure")
def test_magic_example(
    responses: responses_lib.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    github_env(monkeypatch)
    monkeypatch.setenv("FLASK_SECRET_KEY", "docs")
    monkeypatch.setenv("FLASK_GITHUB_OAUTH_CLIENT_ID", "from-config")
    monkeypatch.setenv("FLASK_GITHUB_OAUTH_CLIENT_SECRET", "secret-from-config")
    mock_github(responses, "gho_docs")
    example = load_example("magic", monkeypatch)
    bp = example.github_blueprint
    app = example.app
    # what the page says about the blueprint
    assert bp.name == "github"
    assert bp.from_config == {
        "client_id": "GITHUB_OAUTH_CLIENT_ID",
        "client_secret": "GITHUB_OAUTH_CLIENT_SECRET",
    }
    rules = {r.endpoint: r.rule for r in app.url_map.iter_rules()}
    assert rules["github.login"] == "/login/github"
    assert rules["github.authorized"] == "/login/github/authorized"
    assert "github.logout" not in rules  # opt-in
    assert type(bp.storage).__name__ == "SessionStorage"

    with app.test_client() as client:
        response = client.get("/settings")
        # (Werkzeug before 2.3 quotes the slashes)
        assert unquote(response.headers["Location"]) == "/login/github?next=/settings"
        location = client.get(response.headers["Location"]).headers["Location"]
        query = query_of(location)
        assert query["client_id"] == "from-config"
        assert query["code_challenge_method"] == "S256"
        assert "code_verifier" not in location
        assert len(query["state"]) == 30
        with client.session_transaction() as sess:
            assert query["state"] in sess["github_oauth_pending"]
        response = client.get(f"/login/github/authorized?code=c&state={query['state']}")
        # the first login: the receiver's redirect wins, and it stored the token
        assert response.headers["Location"] == "/welcome"
        with client.session_transaction() as sess:
            assert sess["github_oauth_token"]["access_token"] == "gho_docs"
            assert "expires_at" not in sess["github_oauth_token"]
        # a second login follows ?next=
        response = client.get("/settings")
        assert response.data == b"Settings of @octocat"
        with client.session_transaction() as sess:
            del sess["github_oauth_token"]
        location = client.get("/login/github?next=/settings").headers["Location"]
        state = query_of(location)["state"]
        response = client.get(f"/login/github/authorized?code=c&state={state}")
        assert response.headers["Location"] == "/settings"
        # a foreign next is ignored
        location = client.get("/login/github?next=//evil.example").headers["Location"]
        state = query_of(location)["state"]
        response = client.get(f"/login/github/authorized?code=c&state={state}")
        assert response.headers["Location"] == "/"

    with app.test_request_context("/"):
        assert example.github.authorized is False
        session = bp.session
        assert session is example.github._get_current_object()
        assert session.base_url == "https://api.github.com/"


@pytest.mark.usefixtures("insecure")
def test_signals_example(
    responses: responses_lib.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "docs")
    monkeypatch.setenv("FLASK_GITHUB_OAUTH_CLIENT_ID", "id")
    monkeypatch.setenv("FLASK_GITHUB_OAUTH_CLIENT_SECRET", "secret")
    mock_github(responses, "gho_docs")
    example = load_example("signals", monkeypatch)
    app = example.app
    logged: list[str] = []
    monkeypatch.setattr(
        app.logger, "info", lambda msg, *args: logged.append(msg % args)
    )

    def flashes(client: t.Any) -> list[str]:
        with client.session_transaction() as sess:
            return [message for _, message in sess.pop("_flashes", [])]

    with app.test_client() as client:
        assert oauth_dance(client, "/login/github").headers["Location"] == "/"
        assert logged == ["Sending a user to github to sign in."]
        assert flashes(client) == ["Signed in as octocat."]
        with client.session_transaction() as sess:
            assert sess["github_oauth_token"]["access_token"] == "gho_docs"
            del sess["github_oauth_token"]

        example.BLOCKED.add("octocat")
        oauth_dance(client, "/login/github")
        assert flashes(client) == ["This account may not sign in here."]
        with client.session_transaction() as sess:
            assert "github_oauth_token" not in sess

        state = query_of(client.get("/login/github").headers["Location"])["state"]
        response = client.get(
            f"/login/github/authorized?error=access_denied&state={state}"
        )
        assert response.headers["Location"] == "/"
        assert flashes(client) == ["You cancelled the sign-in."]
        response = client.get("/login/github/authorized?code=c&state=forged")
        assert flashes(client) == [
            "Signing in with GitHub did not work. Please try again."
        ]


class _FakeRedis:
    """The three calls the storage makes, on a dict."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[str, int | None]] = {}

    def get(self, key: str) -> str | None:
        item = self.data.get(key)
        return None if item is None else item[0]

    def set(self, key: str, value: str, ex: int | None = None) -> None:
        self.data[key] = (value, ex)

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


def test_custom_storage_example(
    github: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storages = load_example("custom_storage", monkeypatch)
    example = load_example("github_quickstart", monkeypatch)
    redis = _FakeRedis()
    monkeypatch.setattr(
        example.github_blueprint, "storage", storages.RedisStorage(redis)
    )
    with example.app.test_client() as alice, example.app.test_client() as bob:
        github_dance(alice)
        assert alice.get("/").data == b"octocat@example.com mona@example.com"
        # bob's browser has its own key, hence no token
        assert bob.get("/").headers["Location"] == "/login/github"
        [(key, (value, ex))] = redis.data.items()
        assert key.startswith("token:github:")
        assert ex == 30 * 24 * 3600
        with alice.session_transaction() as sess:
            assert key == f"token:github:{sess['token_key']}"
            assert "github_oauth_token" not in sess
        with example.app.test_request_context("/"):
            flask.session["token_key"] = key.rsplit(":", 1)[1]
            del example.github_blueprint.token
        assert redis.data == {}


@pytest.mark.usefixtures("insecure")
def test_migrating_example(
    responses: responses_lib.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    mock_github(responses, "gho_docs")
    example = load_example("migrating", monkeypatch)

    class User:
        github_token: t.Any = None

    class DB:
        commits = 0

        def __init__(self) -> None:
            self.session = self

        def commit(self) -> None:
            DB.commits += 1

    with pytest.warns(DeprecationWarning, match="use") as record:
        old = example.make_old_style_blueprint(DB())
    warned = " ".join(str(w.message) for w in record)
    for old_name in ("client_key", "request_token_params", "access_token_url"):
        assert old_name in warned
    new = example.make_new_style_blueprint(DB())
    for name in ("client_id", "client_secret", "scope", "base_url", "token_url"):
        assert getattr(old, name) == getattr(new, name), name
    assert old.authorization_url == new.authorization_url

    for blueprint in (old, new):
        user = User()
        app = flask.Flask(__name__)
        app.secret_key = "docs"
        app.register_blueprint(blueprint, url_prefix="/login")
        app.add_url_rule("/", "index", lambda: "home")
        app.before_request(lambda user=user: setattr(flask.g, "user", user))
        DB.commits = 0
        with app.test_client() as client:
            assert github_dance(client).headers["Location"] == "/"
            with client.session_transaction() as sess:
                assert sess["_flashes"] == [("message", "Signed in successfully!")]
                assert "github_oauth_token" not in sess
        assert user.github_token["access_token"] == "gho_docs"
        assert DB.commits == 1
        with app.test_request_context("/"):
            app.preprocess_request()
            del blueprint.token
        assert user.github_token is None
        assert DB.commits == 2


# -- the security page -----------------------------------------------------------------


def _test_functions(path: Path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text("utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.name.startswith("test")
    }


def test_security_rows_name_existing_tests() -> None:
    page = (DOCS / "security.rst").read_text("utf-8")
    rows = re.findall(r"^    \*   - (C\d+)$", page, re.M)
    assert rows == [f"C{n}" for n in range(1, len(rows) + 1)]
    assert len(rows) >= 47
    # the checklist itself sits beside the repository (CI: beside the clone);
    # it may list rows ahead of the page, never fewer
    for checklist in (ROOT.parent / "shared" / "SECURITY.md",):
        if not checklist.exists():
            continue
        listed = re.findall(r"^\| (C\d+) \|", checklist.read_text(), re.M)
        assert set(rows) <= set(listed)
    named = re.findall(r"``(tests/[\w/]+\.py)::(\w+)``", page)
    assert len(named) > len(rows)
    functions: dict[str, set[str]] = {}
    missing = []
    for path, name in named:
        if path not in functions:
            assert (ROOT / path).is_file(), f"{path} does not exist"
            functions[path] = _test_functions(ROOT / path)
        if name not in functions[path]:
            missing.append(f"{path}::{name}")
    assert missing == []
    # a row without a test says so
    for block in re.split(r"^    \*   - ", page, flags=re.M)[2:]:
        assert "``tests/" in block or "**No test**" in block, block[:40]


# -- every example is included, and runs -----------------------------------------------

#: Pages (or sections of pages) written by other hands, with examples of their
#: own: the provider references and the performance page, and the encryption,
#: cookie size, audit and load test sections.
OTHER_PAGES = {"providers.rst", "providers-oidc.rst", "performance.rst"}
OTHER_SECTIONS = ("encrypt", "cookie", "audit", "load test")


def _own_text(page: Path) -> str:
    """The page, without the sections other helpers own."""
    text = page.read_text("utf-8")
    parts = re.split(r"^(?=\S.*\n-{3,}\n)", text, flags=re.M)
    kept = [
        part
        for part in parts
        if not any(word in part.split("\n", 1)[0].lower() for word in OTHER_SECTIONS)
    ]
    return "".join(kept)


def test_python_examples_are_included_files() -> None:
    """No Python in a page: each example is a file under docs/examples/,
    so that the tests below can run it."""
    offenders = []
    for page in sorted(DOCS.glob("*.rst")):
        if page.name in OTHER_PAGES:
            continue
        text = _own_text(page)
        for match in re.finditer(
            r"^\s*\.\. (code-block|code|sourcecode):: (python|py|pycon)\s*$|"
            r"^\s*>>> ",
            text,
            re.M,
        ):
            offenders.append(f"{page.name}: {match.group(0).strip()}")
    assert offenders == []


def test_every_example_file_is_included_and_tested() -> None:
    included = set()
    for page in DOCS.glob("*.rst"):
        for target in re.findall(r"literalinclude:: examples/(\S+)", page.read_text()):
            included.add(target)
    examples = {
        str(path.relative_to(EXAMPLES))
        for path in EXAMPLES.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert examples - included == set(), "example files no page shows"
    assert included - examples == set(), "pages include files that do not exist"
    this_file = Path(__file__).read_text("utf-8")
    for example in examples:
        stem = Path(example).stem
        assert f'"{stem}"' in this_file or f'"{example}"' in this_file, (
            f"{example} is not exercised by tests/test_docs.py"
        )


def test_gunicorn_example_config() -> None:
    namespace: dict[str, t.Any] = {}
    code = (EXAMPLES / "gunicorn.conf.py").read_text("utf-8")
    exec(compile(code, "gunicorn.conf.py", "exec"), namespace)
    assert namespace["bind"] == "127.0.0.1:8000"
    assert namespace["workers"] >= 3
    assert namespace["threads"] == 4
    assert namespace["preload_app"] is False
    page = (DOCS / "deployment.rst").read_text("utf-8")
    assert "gunicorn 'multi_user:create_app()'" in page


def test_deployment_fixed_redirect_uri_advice_works() -> None:
    """The Deployment page's first answer to proxies: a fixed redirect_uri."""
    from flask_dance.contrib import github

    page = (DOCS / "deployment.rst").read_text("utf-8")
    match = re.search(r"``make_github_blueprint\(redirect_uri=\"([^\"]+)\"\)``", page)
    assert match is not None
    bp = github.make_github_blueprint(redirect_uri=match.group(1))
    app = flask.Flask(__name__)
    app.secret_key = "docs"
    app.config["GITHUB_OAUTH_CLIENT_ID"] = "the-id"
    app.config["GITHUB_OAUTH_CLIENT_SECRET"] = "the-secret"
    app.register_blueprint(bp, url_prefix="/login")
    response = app.test_client().get(
        "/login/github", base_url="http://internal:8000", headers={"Host": "evil.test"}
    )
    assert query_of(response.headers["Location"])["redirect_uri"] == match.group(1)


# -- the provider quickstarts ----------------------------------------------------------


@pytest.mark.usefixtures("insecure")
def test_twitter_quickstart_oauth1(
    responses: responses_lib.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, TWITTER_API_KEY="the-key", TWITTER_API_SECRET="the-secret")
    responses.add(
        responses_lib.POST,
        "https://api.twitter.com/oauth/request_token",
        body="oauth_token=req&oauth_token_secret=req-secret"
        "&oauth_callback_confirmed=true",
    )
    responses.add(
        responses_lib.POST,
        "https://api.twitter.com/oauth/access_token",
        body="oauth_token=acc&oauth_token_secret=acc-secret&screen_name=jack",
    )
    responses.add(
        responses_lib.GET,
        "https://api.twitter.com/1.1/account/verify_credentials.json",
        json={"screen_name": "jack"},
    )
    example = load_example("twitter_quickstart", monkeypatch)
    with example.app.test_client() as client:
        assert client.get("/").headers["Location"] == "/login/twitter"
        location = client.get("/login/twitter").headers["Location"]
        assert location == "https://api.twitter.com/oauth/authorize?oauth_token=req"
        response = client.get(
            "/login/twitter/authorized?oauth_token=req&oauth_verifier=v"
        )
        assert response.headers["Location"] == "/"
        page = client.get("/").get_data(as_text=True)
    assert page == "You are @jack on X"
    signed = responses.calls[0].request.headers["Authorization"]
    assert 'oauth_consumer_key="the-key"' in str(signed)
    assert 'oauth_token="acc"' in str(
        responses.calls[-1].request.headers["Authorization"]
    )


def test_slack_quickstart(
    responses: responses_lib.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack wants https callbacks: the page runs the app with --cert adhoc."""
    set_env(monkeypatch, SLACK_OAUTH_CLIENT_ID="the-id", SLACK_OAUTH_CLIENT_SECRET="s")
    user = {"access_token": "xoxp-docs", "token_type": "user", "scope": "users:read"}
    responses.add(
        responses_lib.POST,
        "https://slack.com/api/oauth.v2.access",
        json={"ok": True, "authed_user": user, "team": {"name": "Acme"}},
    )
    responses.add(
        responses_lib.GET,
        "https://slack.com/api/auth.test",
        json={"ok": True, "user": "alice", "team": "Acme"},
    )
    example = load_example("slack_quickstart", monkeypatch)
    https = "https://localhost:5000"
    query, page = oauth2_quickstart_dance(
        example, "slack", "https://slack.com/oauth/v2/authorize", https
    )
    assert query["user_scope"] == "users:read"
    assert query["redirect_uri"] == f"{https}/login/slack/authorized"
    assert page == "You are alice in the Acme workspace"
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer xoxp-docs"


@pytest.mark.usefixtures("insecure")
def test_dropbox_quickstart(
    responses: responses_lib.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, DROPBOX_APP_KEY="the-key", DROPBOX_APP_SECRET="the-secret")
    responses.add(
        responses_lib.POST,
        "https://api.dropbox.com/oauth2/token",
        json={"access_token": "sl.docs", "token_type": "bearer", "expires_in": 14400},
    )
    responses.add(
        responses_lib.POST,
        "https://api.dropbox.com/2/users/get_current_account",
        json={"name": {"display_name": "Franz Ferdinand"}},
    )
    example = load_example("dropbox_quickstart", monkeypatch)
    query, page = oauth2_quickstart_dance(
        example,
        "dropbox",
        "https://www.dropbox.com/oauth2/authorize",
        "http://localhost",
    )
    assert query["scope"] == "account_info.read"
    assert page == "You are Franz Ferdinand on Dropbox"


@pytest.mark.usefixtures("insecure")
def test_oidc_quickstart_local_try_logs_out_at_the_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The quickstart's "try it locally" commands: the provider as the page
    starts it, the app as the page configures it; logging out at the
    provider comes back to the app."""
    import shlex

    import requests

    from flask_dance.testing.__main__ import make_provider

    page = (DOCS / "quickstart.rst").read_text("utf-8")
    start = page.index(".venv/bin/python -m flask_dance.testing")
    command = page[start : page.index("\n\n", start)].replace("\\\n", " ")
    argv = shlex.split(command)[3:]
    assert "--post-logout-redirect-uri" in argv
    argv[argv.index("--port") + 1] = "0"  # any free port in the test
    for name in ("ACME_OAUTH_CLIENT_ID=test-client", "ACME_OAUTH_CLIENT_SECRET="):
        assert name in page
    monkeypatch.setenv("FLASK_SECRET_KEY", "docs")
    monkeypatch.setenv("ACME_OAUTH_CLIENT_ID", "test-client")
    monkeypatch.setenv("ACME_OAUTH_CLIENT_SECRET", "test-secret")
    with make_provider(argv) as provider:
        monkeypatch.setenv("ACME_ISSUER", provider.issuer)
        example = load_example("oidc_quickstart", monkeypatch)
        base = "http://localhost:5000"
        with example.app.test_client() as client:
            response = client.get("/login/acme", base_url=base)
            result = provider.authorize(response.headers["Location"])
            client.get(local_path(result.url), base_url=base)
            response = submit_logout_form(client, "/logout", base_url=base)
            end_session = response.headers["Location"]
            assert end_session.startswith(provider.end_session_url)
            at_provider = requests.get(end_session, allow_redirects=False, timeout=10)
            assert at_provider.status_code == 302, at_provider.text
            back = at_provider.headers["Location"]
            assert back.startswith(f"{base}/login/acme/logged-out?")
            response = client.get(local_path(back), base_url=base)
            assert response.headers["Location"] == "/"


# -- logout, templates -----------------------------------------------------------------


def submit_logout_form(client: t.Any, page: str = "/logout", **kwargs: t.Any) -> t.Any:
    """Post the form of ``page`` that carries the logout token."""
    html = client.get(page, **kwargs).get_data(as_text=True)
    forms = re.findall(r'<form method="post" action="([^"]+)">(.*?)</form>', html, re.S)
    action, body = next(found for found in forms if "logout_token" in found[1])
    token = re.search(r'name="logout_token"\s+value="([^"]+)"', body)
    assert token is not None, body
    return client.post(
        action.replace("&amp;", "&"), data={"logout_token": token.group(1)}, **kwargs
    )


@pytest.mark.usefixtures("insecure")
def test_logout_example_local_and_provider_logout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import requests

    from flask_dance.testing import LocalProvider

    base = "http://localhost:5000"
    with LocalProvider() as provider:
        client_record = provider.clients[provider.default_client_id]
        client_record.post_logout_redirect_uris.append(f"{base}/login/acme/logged-out")
        monkeypatch.setenv("FLASK_SECRET_KEY", "docs")
        monkeypatch.setenv("ACME_ISSUER", provider.issuer)
        monkeypatch.setenv("ACME_OAUTH_CLIENT_ID", "test-client")
        monkeypatch.setenv("ACME_OAUTH_CLIENT_SECRET", "test-secret")
        example = load_example("logout", monkeypatch)

        def log_in(client: t.Any) -> None:
            response = client.get("/login/acme", base_url=base)
            result = provider.authorize(response.headers["Location"])
            client.get(local_path(result.url), base_url=base)
            page = client.get("/", base_url=base).get_data(as_text=True)
            assert "Signed in as octocat@example.com." in page

        with example.app.test_client() as client:
            log_in(client)
            # Local logout: gone here, nothing asked of the provider.
            response = client.post("/logout", base_url=base)
            assert response.headers["Location"] == "/"
            assert client.get("/", base_url=base).headers["Location"] == "/login/acme"
            assert provider.calls.get("logout", 0) == 0

            log_in(client)
            response = submit_logout_form(client, "/", base_url=base)
            end_session = response.headers["Location"]
            assert end_session.startswith(provider.end_session_url)
            at_provider = requests.get(end_session, allow_redirects=False, timeout=10)
            assert at_provider.status_code == 302, at_provider.text
            response = client.get(
                local_path(at_provider.headers["Location"]), base_url=base
            )
            assert response.headers["Location"] == "/"
            assert client.get("/", base_url=base).headers["Location"] == "/login/acme"
        assert provider.calls["logout"] == 1
        assert provider.calls["revoke"] == 1


def test_templates_example(
    github: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example = load_example("templates_app", monkeypatch)
    with example.app.test_client() as client:
        page = client.get("/").get_data(as_text=True)
        # (Werkzeug before 2.3 quotes the slash)
        assert 'href="/login/github?next=/"' in unquote(page)
        assert "Sign in with GitHub" in page
        response = github_dance(client)
        assert response.headers["Location"] == "/"
        page = client.get("/").get_data(as_text=True)
        assert '<p class="flash info">Signed in with GitHub.</p>' in page
        assert "Signed in as <strong>octocat</strong>." in page
        assert '<form method="post" action="/logout">' in page
        assert client.post("/logout").headers["Location"] == "/"
        assert "Sign in with GitHub" in client.get("/").get_data(as_text=True)
        # A denied login comes back with a message for the page.
        location = client.get("/login/github").headers["Location"]
        state = query_of(location)["state"]
        client.get(
            f"/login/github/authorized?error=access_denied&state={state}"
            "&error_description=The+user+has+denied+your+application+access."
        )
        page = client.get("/").get_data(as_text=True)
    assert "GitHub sign-in failed: The user has denied your application access." in page


# -- the pages that point newcomers around ---------------------------------------------


def test_example_apps_page_lists_every_example() -> None:
    page = (DOCS / "example-apps.rst").read_text("utf-8")
    listed = set(re.findall(r"^    \*   - ``([\w./]+)``$", page, re.M))
    files = {path.name for path in EXAMPLES.glob("*.py")} | {"testing/"}
    assert listed == files
    # and every example is included by some page, so it is explained there
    pages = "".join(path.read_text("utf-8") for path in DOCS.glob("*.rst"))
    for name in files - {"testing/"}:
        assert f"literalinclude:: examples/{name}" in pages, name


def test_provider_quickstarts_cover_the_providers() -> None:
    page = (DOCS / "provider-quickstarts.rst").read_text("utf-8")
    for heading in ("GitHub", "Google", "X (Twitter), with OAuth 1.0a", "Slack"):
        assert f"\n{heading}\n" in page
    for heading in ("Dropbox", "Any OpenID Connect provider"):
        assert f"\n{heading}\n" in page
    for name in ("github", "google", "twitter", "slack", "dropbox", "oidc"):
        assert f"literalinclude:: examples/{name}_quickstart.py" in page
        if name != "oidc":
            assert f"/login/{name}/authorized" in page


def test_contributing_page_has_the_readme_commands() -> None:
    readme = (ROOT / "README.rst").read_text("utf-8")
    page = (DOCS / "contributing.rst").read_text("utf-8")
    commands = re.findall(r"^    ((?:python3 -m venv|\.venv/bin/pip).+)$", readme, re.M)
    assert len(commands) == 3
    for command in commands:
        assert command in page


def test_no_page_installs_flask_dance_from_pypi() -> None:
    """PyPI's Flask-Dance is 7.1, the release this project replaces."""
    for path in DOCS.glob("*.rst"):
        text = path.read_text("utf-8")
        for wrong in (
            "pip install Flask-Dance\n",
            "pip install --upgrade Flask-Dance",
            "pip install 'Flask-Dance[",
            'pip install "Flask-Dance[',
        ):
            assert wrong not in text, (path.name, wrong)
    installation = (DOCS / "installation.rst").read_text("utf-8")
    assert "pip install -e '.[oidc]'" in installation
    assert "not on PyPI" in installation


def test_multi_user_page_says_what_it_needs_and_how_to_run_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from flask.cli import ScriptInfo

    page = (DOCS / "multi-user.rst").read_text("utf-8")
    for package in ("Flask-SQLAlchemy", "Flask-Login", "Flask-Caching"):
        assert package in page
    match = re.search(r"flask --app '([\w:()]+)' run", page)
    assert match is not None
    # The app the command names starts with the environment the page sets.
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.delitem(sys.modules, "multi_user", raising=False)
    monkeypatch.setenv("FLASK_SECRET_KEY", "x" * 64)
    monkeypatch.setenv("FLASK_SESSION_COOKIE_SECURE", "false")
    try:
        app = ScriptInfo(app_import_path=match.group(1)).load_app()
    finally:
        sys.modules.pop("multi_user", None)
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert {"github", "google"} <= set(app.blueprints)
