"""The examples of the two documents this project grew from, run as written.

Each app below is the seed's code, unchanged except for what a reader would
fill in themselves (their own database object, their own ``flask.g.user``).
The provider is mocked with ``responses``.
"""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import flask
import pytest
import responses as responses_lib

from dance_helpers import EMAILS
from dance_helpers import GITHUB_TOKEN_URL
from dance_helpers import mock_github


def _state_of(response: t.Any) -> str:
    location = response.headers["Location"]
    return parse_qs(urlsplit(location).query)["state"][0]


def _dance(client: t.Any, login: str = "/login/github") -> t.Any:
    response = client.get(login)
    assert response.status_code == 302
    state = _state_of(response)
    assert len(state) == 30
    return client.get(f"{login}/authorized?code=the-code&state={state}")


@pytest.fixture
def github_api(
    responses: responses_lib.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> responses_lib.RequestsMock:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    mock_github(responses, "gho_seed")
    return responses


# -- the first README: quickstart ----------------------------------------------


def make_quickstart_app() -> flask.Flask:
    from flask import Flask
    from flask import redirect
    from flask import url_for

    from flask_dance.contrib.github import github
    from flask_dance.contrib.github import make_github_blueprint

    app = Flask(__name__)
    github_blueprint = make_github_blueprint(
        client_id="my-key-here",
        client_secret="my-secret-here",
        scope="user:email",
        redirect_to="index",
    )
    app.register_blueprint(github_blueprint, url_prefix="/login")

    @app.route("/")
    def index():  # type: ignore[no-untyped-def]
        if not github.authorized:
            return redirect(url_for("github.login"))
        resp = github.get("/user/emails")
        assert resp.ok
        emails = [result["email"] for result in resp.json()]
        return " ".join(emails)

    app.secret_key = "seed"
    return app


def test_quickstart(github_api: responses_lib.RequestsMock) -> None:
    app = make_quickstart_app()
    with app.test_client() as client:
        response = client.get("/")
        assert response.headers["Location"] == "/login/github"
        response = _dance(client)
        assert response.headers["Location"] == "/"
        page = client.get("/")
    assert page.data == b"octocat@example.com mona@example.com"
    api_call = github_api.calls[-1].request
    assert api_call.headers["Authorization"] == "Bearer gho_seed"
    token_request = github_api.calls[0].request
    assert token_request.url == GITHUB_TOKEN_URL
    assert "code=the-code" in token_request.body


# -- the first README: a custom service with the old argument names ------------


def make_custom_service_app() -> tuple[flask.Flask, t.Any]:
    from flask import Flask

    from flask_dance import OAuth2ConsumerBlueprint

    app = Flask(__name__)
    github_blueprint = OAuth2ConsumerBlueprint(
        "github",
        __name__,
        client_key="my-key-here",
        client_secret="my-secret-here",
        request_token_params={"scope": "user:email"},
        base_url="https://api.github.com",
        access_token_url="https://github.com/login/oauth/access_token",
        authorize_url="https://github.com/login/oauth/authorize",
        redirect_to="index",
    )
    app.register_blueprint(github_blueprint, url_prefix="/login")

    @app.route("/")
    def index() -> str:
        return "home"

    app.secret_key = "seed"
    return app, github_blueprint


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.usefixtures("github_api")
def test_custom_service_with_old_names() -> None:
    app, github_blueprint = make_custom_service_app()
    with app.test_client() as client:
        response = client.get("/login/github")
        location = response.headers["Location"]
        assert location.startswith("https://github.com/login/oauth/authorize?")
        query = parse_qs(urlsplit(location).query)
        assert query["client_id"] == ["my-key-here"]
        assert query["scope"] == ["user:email"]
        assert _dance(client).headers["Location"] == "/"

        with app.test_request_context("/"):
            flask.session["github_oauth_token"] = {
                "access_token": "gho_seed",
                "token_type": "bearer",
            }
            # "Once you've got your OAuth credentials"
            github = github_blueprint.session
            resp = github.get("/user/emails")
            assert resp.ok
            printed = [result["email"] for result in resp.json()]
    assert printed == ["octocat@example.com", "mona@example.com"]


def test_old_names_warn_with_the_new_spelling() -> None:
    with pytest.warns(DeprecationWarning, match="use") as record:
        make_custom_service_app()
    text = " ".join(str(w.message) for w in record)
    for current in ("client_id", "token_url", "authorization_url", "scope"):
        assert current in text


# -- the first README: token storage through decorators ------------------------


class _User:
    github_token: t.Any = None


class _DB:
    """The reader's own database object."""

    def __init__(self) -> None:
        self.session = self
        self.commits = 0

    def add(self, obj: t.Any) -> None:
        pass

    def commit(self) -> None:
        self.commits += 1


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.usefixtures("github_api")
def test_token_storage_decorators() -> None:
    app, github_blueprint = make_custom_service_app()
    db = _DB()
    user = _User()

    @app.before_request
    def load_user() -> None:
        flask.g.user = user

    @github_blueprint.token_setter
    def set_github_token(token):  # type: ignore[no-untyped-def]
        user = flask.g.user
        user.github_token = token
        db.session.add(user)
        db.commit()

    @github_blueprint.token_getter
    def get_github_token():  # type: ignore[no-untyped-def]
        user = flask.g.user
        return user.github_token

    @github_blueprint.token_deleter
    def delete_github_token():  # type: ignore[no-untyped-def]
        user = flask.g.user
        user.github_token = None
        db.session.add(user)
        db.commit()

    with app.test_client() as client:
        _dance(client)
        assert user.github_token["access_token"] == "gho_seed"
        assert db.commits == 1
        assert "github_oauth_token" not in flask.session
        with app.test_request_context("/"):
            app.preprocess_request()
            assert github_blueprint.token["access_token"] == "gho_seed"
            assert github_blueprint.session.get("/user/emails").json() == EMAILS
            del github_blueprint.token
            assert github_blueprint.token is None
    assert user.github_token is None
    assert db.commits == 2


# -- the first README: login callbacks -----------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.usefixtures("github_api")
def test_logged_in_callback() -> None:
    from flask import flash

    app, github_blueprint = make_custom_service_app()
    seen: list[t.Any] = []

    @github_blueprint.logged_in
    def github_logged_in(token):  # type: ignore[no-untyped-def]
        seen.append(dict(github_blueprint.token or {}))
        if "error" in token:
            flash("You denied the request to sign in. Please try again.")
            del github_blueprint.token
        else:
            flash("Signed in successfully!")

    with app.test_client() as client:
        _dance(client)
        assert flask.session["github_oauth_token"]["access_token"] == "gho_seed"
        assert flask.session["_flashes"] == [("message", "Signed in successfully!")]
    # "By the time this function is called, the token will already be saved"
    assert seen[0]["access_token"] == "gho_seed"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_logged_in_callback_can_delete_the_token(
    responses: responses_lib.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask import flash

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    responses.add(
        responses_lib.POST,
        GITHUB_TOKEN_URL,
        json={"access_token": "x", "token_type": "bearer", "error": "denied"},
    )
    app, github_blueprint = make_custom_service_app()

    @github_blueprint.logged_in
    def github_logged_in(token):  # type: ignore[no-untyped-def]
        if "error" in token:
            flash("You denied the request to sign in. Please try again.")
            del github_blueprint.token
        else:
            flash("Signed in successfully!")

    with app.test_client() as client:
        _dance(client)
        assert "github_oauth_token" not in flask.session


# -- the second seed: Understanding the Magic ----------------------------------


@pytest.mark.usefixtures("github_api")
def test_magic_from_config_and_authorized() -> None:
    from flask_dance.contrib.github import github
    from flask_dance.contrib.github import make_github_blueprint

    app = flask.Flask(__name__)
    app.secret_key = "seed"
    blueprint = make_github_blueprint(redirect_url="/after")
    app.register_blueprint(blueprint, url_prefix="/login")
    app.config["GITHUB_OAUTH_CLIENT_ID"] = "from-config"
    app.config["GITHUB_OAUTH_CLIENT_SECRET"] = "secret-from-config"
    assert blueprint.from_config == {
        "client_id": "GITHUB_OAUTH_CLIENT_ID",
        "client_secret": "GITHUB_OAUTH_CLIENT_SECRET",
    }

    def my_view_func():  # type: ignore[no-untyped-def]
        from flask import redirect
        from flask import url_for

        # ... implement whatever logic you want here
        return redirect(url_for("github.login"))

    app.add_url_rule("/start", view_func=my_view_func)

    with app.test_client() as client:
        with app.test_request_context("/"):
            assert github.authorized is False
        response = client.get("/start")
        assert response.headers["Location"] == "/login/github"
        response = client.get("/login/github")
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        assert query["client_id"] == ["from-config"]
        state = query["state"][0]
        assert len(state) == 30
        response = client.get(f"/login/github/authorized?code=c&state={state}")
        assert response.headers["Location"] == "/after"
        with client.session_transaction() as sess:
            assert sess["github_oauth_token"]["access_token"] == "gho_seed"


@pytest.mark.usefixtures("github_api")
def test_magic_dynamic_redirect_receiver() -> None:
    import flask

    from flask_dance.consumer import oauth_authorized
    from flask_dance.contrib.github import make_github_blueprint

    app = flask.Flask(__name__)
    app.secret_key = "seed"
    blueprint = make_github_blueprint(client_id="id", client_secret="secret")
    app.register_blueprint(blueprint, url_prefix="/login")

    @oauth_authorized.connect
    def redirect_to_next_url(blueprint, token):  # type: ignore[no-untyped-def]
        # set OAuth token in the token storage backend
        blueprint.token = token
        # retrieve `next_url` from Flask's session cookie
        next_url = flask.session["next_url"]
        # redirect the user to `next_url`
        return flask.redirect(next_url)

    try:
        with app.test_client() as client:
            with client.session_transaction() as sess:
                sess["next_url"] = "/where-i-was"
            response = _dance(client)
            assert response.headers["Location"] == "/where-i-was"
            assert flask.session["github_oauth_token"]["access_token"] == "gho_seed"
    finally:
        oauth_authorized.disconnect(redirect_to_next_url)
