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


# -- quickstart ------------------------------------------------------------------------


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
        json={
            "access_token": "gho_docs",
            "token_type": "bearer",
            "scope": "user:email",
        },
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
    insecure: None,
    responses: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
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
    insecure: None,
    responses: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
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
        response = client.get(f"/login/google/authorized?code=c&state={query['state']}")
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
        assert page == (f"You are octocat@example.com (subject 1 at {provider.issuer})")
        response = client.get("/logout")
        assert response.headers["Location"] == "/login/acme/logout"
        response = client.get("/login/acme/logout")
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


def test_multi_user_example(
    insecure: None,
    responses: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mock_github(responses)
    mock_google(responses)
    example, app = multi_user_app(monkeypatch)
    check_multi_user_app(example, app)


def test_multi_user_example_refuses_an_account_of_another_user(
    insecure: None,
    responses: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mock_github(responses)
    mock_google(responses)
    example, app = multi_user_app(monkeypatch)
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


def _unavailable(what: str, exc: BaseException) -> t.NoReturn:
    """Skip when a server is down, unless on CI, where that is a failure."""
    import os

    reason = f"{what} is unreachable: {type(exc).__name__}: {exc}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the server must be running)")
    pytest.skip(reason)


@pytest.fixture
def postgresql_url() -> t.Iterator[str]:
    """A fresh schema on the PostgreSQL server, as the ``search_path`` of
    the URL, dropped afterwards."""
    import uuid

    psycopg = pytest.importorskip("psycopg")
    try:
        conn = psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3
        )
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL at 127.0.0.1:5432", exc)
    schema = f"fd_docs_{uuid.uuid4().hex[:12]}"
    conn.autocommit = True
    conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            "postgresql+psycopg://postgres@127.0.0.1:5432/test"
            f"?options=-csearch_path%3D{schema}"
        )
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


@pytest.fixture
def redis_url() -> str:
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable("Redis at 127.0.0.1:6379", exc)
    finally:
        client.close()
    return url


def test_multi_user_example_on_postgresql_and_redis(
    insecure: None,
    responses: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
    postgresql_url: str,
    redis_url: str,
) -> None:
    """The deployment page's settings: DATABASE_URL and REDIS_URL."""
    responses.add_passthru("http://127.0.0.1")
    mock_github(responses)
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


def test_lifecycle_example(
    insecure: None, provider: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
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


def test_magic_example(
    insecure: None,
    responses: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    github_env(monkeypatch)
    monkeypatch.setenv("FLASK_SECRET_KEY", "docs")
    monkeypatch.setenv("FLASK_GITHUB_OAUTH_CLIENT_ID", "from-config")
    monkeypatch.setenv("FLASK_GITHUB_OAUTH_CLIENT_SECRET", "secret-from-config")
    mock_github(responses)
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
    assert rules["github.logout"] == "/login/github/logout"
    assert rules["github.logged_out"] == "/login/github/logged-out"
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


def test_signals_example(
    insecure: None,
    responses: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "docs")
    monkeypatch.setenv("FLASK_GITHUB_OAUTH_CLIENT_ID", "id")
    monkeypatch.setenv("FLASK_GITHUB_OAUTH_CLIENT_SECRET", "secret")
    mock_github(responses)
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
    insecure: None,
    responses: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    github_env(monkeypatch)
    mock_github(responses)
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


def test_migrating_example(
    insecure: None,
    responses: responses_lib.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mock_github(responses)
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
