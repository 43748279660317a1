"""Twitter: OAuth 1.0a for apps of the Flask-Dance 6 era (``api_key=`` or the
``TWITTER_OAUTH_CLIENT_KEY`` config key), OAuth 2.0 for ``client_id=`` or
``TWITTER_OAUTH_CLIENT_ID``, and a clear error for both."""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import flask
import pytest
import responses as responses_lib

from flask_dance.consumer import OAuth1ConsumerBlueprint
from flask_dance.consumer import OAuth1Session
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_authorized
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.contrib.twitter import make_twitter_blueprint
from flask_dance.contrib.twitter import twitter

REQUEST_TOKEN_URL = "https://api.twitter.com/oauth/request_token"
AUTHORIZE_URL = "https://api.twitter.com/oauth/authorize"
ACCESS_TOKEN_URL = "https://api.twitter.com/oauth/access_token"
SETTINGS_URL = "https://api.twitter.com/1.1/account/settings.json"
OAUTH1_TOKEN = {"oauth_token": "tok", "oauth_token_secret": "sec"}


def make_app(bp: flask.Blueprint, **config: t.Any) -> flask.Flask:
    """An app shaped like Flask-Dance 6's Twitter example."""
    app = flask.Flask(__name__)
    app.secret_key = "twitter"
    app.config.update(config)
    app.register_blueprint(bp, url_prefix="/login")

    @app.route("/")
    def index() -> t.Any:
        if not twitter.authorized:
            return flask.redirect(flask.url_for("twitter.login"))
        response = twitter.get("account/settings.json")
        return f"You are @{response.json()['screen_name']} on Twitter"

    return app


def add_request_token(responses: responses_lib.RequestsMock) -> None:
    responses.add(
        responses_lib.POST,
        REQUEST_TOKEN_URL,
        body="oauth_token=rt&oauth_token_secret=rts&oauth_callback_confirmed=true",
    )


def assert_oauth1(bp: t.Any) -> None:
    assert isinstance(bp, OAuth1ConsumerBlueprint)
    assert bp.base_url == "https://api.twitter.com/1.1/"
    assert bp.request_token_url == REQUEST_TOKEN_URL
    assert bp.authorization_url == AUTHORIZE_URL
    assert bp.access_token_url == ACCESS_TOKEN_URL


def test_api_key_arguments_give_oauth1() -> None:
    bp = make_twitter_blueprint(api_key="key", api_secret="secret")
    assert_oauth1(bp)
    assert bp.client_key == "key"  # type: ignore[union-attr]
    assert bp.client_secret == "secret"
    app = make_app(bp)
    with app.test_request_context("/"):
        assert isinstance(bp.session, OAuth1Session)


def test_client_id_arguments_give_oauth2() -> None:
    bp = make_twitter_blueprint("cid", "csecret")
    assert isinstance(bp, OAuth2ConsumerBlueprint)
    assert bp.base_url == "https://api.x.com/2/"
    make_app(bp, TWITTER_OAUTH_CLIENT_SECRET="s")
    assert isinstance(bp, OAuth2ConsumerBlueprint)


def test_oauth1_config_keys_give_oauth1_and_a_working_dance(
    responses: responses_lib.RequestsMock,
) -> None:
    add_request_token(responses)
    responses.add(
        responses_lib.POST,
        ACCESS_TOKEN_URL,
        body="oauth_token=at&oauth_token_secret=ats&screen_name=dance",
    )
    responses.add(responses_lib.GET, SETTINGS_URL, json={"screen_name": "dance"})
    bp = make_twitter_blueprint(storage=MemoryStorage())
    tokens: list[t.Any] = []

    @oauth_authorized.connect_via(bp)
    def logged_in(blueprint: t.Any, token: t.Any) -> None:
        # as Flask-Dance 6's Twitter+SQLAlchemy example does, before storing
        blueprint.session.get("account/settings.json")
        tokens.append(token)

    app = make_app(
        bp,
        TWITTER_OAUTH_CLIENT_KEY="ckey",
        TWITTER_OAUTH_CLIENT_SECRET="csecret",
    )
    assert_oauth1(bp)
    with app.test_client() as client:
        login = client.get("/login/twitter")
        assert login.headers["Location"] == AUTHORIZE_URL + "?oauth_token=rt"
        signed = str(responses.calls[0].request.headers["Authorization"])
        assert 'oauth_consumer_key="ckey"' in signed
        done = client.get("/login/twitter/authorized?oauth_token=rt&oauth_verifier=v")
        assert done.status_code == 302
        assert client.get("/").get_data(as_text=True) == "You are @dance on Twitter"
    assert tokens[0]["oauth_token"] == "at"
    in_receiver, on_page = responses.calls[2], responses.calls[3]
    assert in_receiver.request.url == on_page.request.url == SETTINGS_URL
    for call in (in_receiver, on_page):
        assert 'oauth_token="at"' in str(call.request.headers["Authorization"])


def test_unset_oauth1_key_still_means_oauth1() -> None:
    """As the Flask-Dance 6 example runs in tests: the key copied from an
    unset environment variable."""
    bp = make_twitter_blueprint(storage=MemoryStorage())
    app = make_app(bp, TWITTER_OAUTH_CLIENT_KEY=None, TWITTER_OAUTH_CLIENT_SECRET=None)
    assert_oauth1(bp)
    with app.test_client() as client:
        response = client.get("/", base_url="https://example.com")
    assert response.headers["Location"] == "/login/twitter"


def test_oauth2_config_key_gives_oauth2() -> None:
    bp = make_twitter_blueprint()
    make_app(bp, TWITTER_OAUTH_CLIENT_ID="cid", TWITTER_OAUTH_CLIENT_SECRET="s")
    assert isinstance(bp, OAuth2ConsumerBlueprint)
    assert bp.from_config["client_id"] == "TWITTER_OAUTH_CLIENT_ID"


def test_config_set_after_registration_is_followed(
    responses: responses_lib.RequestsMock,
) -> None:
    add_request_token(responses)
    bp = make_twitter_blueprint(storage=MemoryStorage(OAUTH1_TOKEN))
    app = make_app(bp)
    assert isinstance(bp, OAuth2ConsumerBlueprint)
    app.config["TWITTER_OAUTH_CLIENT_KEY"] = "ckey"
    app.config["TWITTER_OAUTH_CLIENT_SECRET"] = "csecret"
    with app.test_client() as client:
        response = client.get("/login/twitter", base_url="https://example.com")
    assert isinstance(bp, OAuth1ConsumerBlueprint)
    assert bp.client_key == "ckey"
    assert response.headers["Location"] == AUTHORIZE_URL + "?oauth_token=rt"


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"client_id": "a", "api_key": "b"}, ["'client_id'", "'api_key'"]),
        (
            {"client_secret": "a", "api_secret": "b"},
            ["'client_secret'", "'api_secret'"],
        ),
    ],
)
def test_both_kinds_of_arguments_are_an_error(
    kwargs: dict[str, str], names: list[str]
) -> None:
    with pytest.raises(ValueError, match="OAuth 2.0 credentials") as info:
        make_twitter_blueprint(**kwargs)
    assert all(name in str(info.value) for name in names)


@pytest.mark.parametrize(
    ("kwargs", "config", "names"),
    [
        (
            {},
            {"TWITTER_OAUTH_CLIENT_ID": "a", "TWITTER_OAUTH_CLIENT_KEY": "b"},
            ["'TWITTER_OAUTH_CLIENT_ID'", "'TWITTER_OAUTH_CLIENT_KEY'"],
        ),
        (
            {"api_key": "k"},
            {"TWITTER_OAUTH_CLIENT_ID": "a"},
            ["'TWITTER_OAUTH_CLIENT_ID'", "'api_key'"],
        ),
        (
            {"client_id": "c"},
            {"TWITTER_OAUTH_CLIENT_KEY": "b"},
            ["'client_id'", "'TWITTER_OAUTH_CLIENT_KEY'"],
        ),
    ],
    ids=["config", "api_key-and-config", "client_id-and-config"],
)
def test_both_kinds_in_config_are_an_error(
    kwargs: dict[str, str], config: dict[str, str], names: list[str]
) -> None:
    bp = make_twitter_blueprint(**kwargs)
    with pytest.raises(ValueError, match="give one kind only") as info:
        make_app(bp, **config)
    assert all(name in str(info.value) for name in names)


def test_oauth1_session_class_means_oauth1() -> None:
    class MySession(OAuth1Session):
        pass

    bp = make_twitter_blueprint(session_class=MySession)
    assert_oauth1(bp)
    assert bp.session_class is MySession


def test_authorization_url_carries_the_request_token(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(
        responses_lib.POST,
        REQUEST_TOKEN_URL,
        body="oauth_token=rt2&oauth_token_secret=s&oauth_callback_confirmed=true",
    )
    bp = make_twitter_blueprint(api_key="k", api_secret="s")
    with make_app(bp).test_client() as client:
        location = client.get("/login/twitter").headers["Location"]
    assert parse_qs(urlsplit(location).query) == {"oauth_token": ["rt2"]}
