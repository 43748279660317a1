"""Setup mistakes get our own message, naming the fix: where the developer
looks (raised in debug and testing apps, an HTTP 500 page otherwise)."""

from __future__ import annotations

import logging

import flask
import pytest
from oauthlib.oauth2 import InsecureTransportError

from dance_helpers import BASE
from dance_helpers import make_app
from dance_helpers import make_blueprint
from flask_dance.consumer import OAuth1ConsumerBlueprint
from flask_dance.consumer._setup import InsecureTransportSetupError
from flask_dance.consumer._setup import SetupError
from flask_dance.contrib.github import github
from flask_dance.contrib.github import make_github_blueprint


def _github_app(**config: str) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "a test secret key"
    app.config.update(config)
    app.register_blueprint(make_github_blueprint(), url_prefix="/login")
    return app


def test_missing_client_id_names_the_config_keys() -> None:
    app = _github_app()
    response = app.test_client().get("/login/github")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "no client ID and client secret" in page
    assert "GITHUB_OAUTH_CLIENT_ID and GITHUB_OAUTH_CLIENT_SECRET" in page
    assert "make_github_blueprint()" in page
    assert "client_id=None" not in response.headers.get("Location", "")


def test_missing_client_id_is_raised_in_debug_mode() -> None:
    app = _github_app(GITHUB_OAUTH_CLIENT_SECRET="s")
    app.debug = True
    with pytest.raises(SetupError, match="GITHUB_OAUTH_CLIENT_ID in app.config"):
        app.test_client().get("/login/github")


def test_missing_client_id_in_a_testing_app_logs_and_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Tests written for Flask-Dance 7.1 may log in without credentials."""
    app = _github_app()
    app.testing = True
    response = app.test_client().get("/login/github")
    assert response.status_code == 302
    assert "GITHUB_OAUTH_CLIENT_ID" in caplog.text


def test_configured_client_logs_in() -> None:
    app = _github_app(GITHUB_OAUTH_CLIENT_ID="id", GITHUB_OAUTH_CLIENT_SECRET="s")
    response = app.test_client().get("/login/github")
    assert response.status_code == 302
    assert "client_id=id" in response.headers["Location"]


def test_missing_client_secret_of_a_preset_is_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = _github_app(GITHUB_OAUTH_CLIENT_ID="id")
    with caplog.at_level(logging.WARNING, logger="flask_dance"):
        assert app.test_client().get("/login/github").status_code == 302
    assert "set GITHUB_OAUTH_CLIENT_SECRET in app.config" in caplog.text


def test_blueprint_without_config_keys_names_the_argument() -> None:
    app = make_app(make_blueprint(client_id=None))
    response = app.test_client().get("/login/test-service", base_url=BASE)
    assert response.status_code == 500
    assert "pass client_id= to OAuth2ConsumerBlueprint(...)" in (
        response.get_data(as_text=True).replace("Pass", "pass")
    )


def test_oauth1_without_secret() -> None:
    bp = OAuth1ConsumerBlueprint(
        "one",
        __name__,
        client_key="key",
        base_url="https://example.com/",
        request_token_url="https://example.com/request",
        authorization_url="https://example.com/authorize",
        access_token_url="https://example.com/access",
    )
    bp.from_config["client_secret"] = "ONE_SECRET"
    app = flask.Flask(__name__)
    app.secret_key = "a test secret key"
    app.register_blueprint(bp, url_prefix="/login")
    response = app.test_client().get("/login/one")
    assert response.status_code == 500
    assert "no client secret" in response.get_data(as_text=True)
    assert "Set ONE_SECRET in app.config" in response.get_data(as_text=True)


HTTP_AUTHORIZE = "http://provider.test/authorize"


def test_plain_http_provider_names_the_variable() -> None:
    app = make_app(authorization_url=HTTP_AUTHORIZE)
    response = app.test_client().get("/login/test-service", base_url=BASE)
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "OAUTHLIB_INSECURE_TRANSPORT=1" in page
    assert "local development only" in page
    assert "InsecureTransportError" not in page


def test_plain_http_provider_raises_an_insecure_transport_error_in_tests() -> None:
    """Still the exception Flask-Dance 7.1 raised, with our message."""
    app = make_app(authorization_url=HTTP_AUTHORIZE)
    app.testing = True
    with pytest.raises(InsecureTransportError) as caught:
        app.test_client().get("/login/test-service", base_url=BASE)
    assert isinstance(caught.value, InsecureTransportSetupError)
    assert "OAUTHLIB_INSECURE_TRANSPORT=1" in str(caught.value)
    assert HTTP_AUTHORIZE in caught.value.description


def test_plain_http_is_fine_with_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    app = make_app(authorization_url=HTTP_AUTHORIZE)
    response = app.test_client().get("/login/test-service", base_url=BASE)
    assert response.headers["Location"].startswith(HTTP_AUTHORIZE)


def test_proxy_in_an_app_context_without_a_request() -> None:
    app = _github_app(GITHUB_OAUTH_CLIENT_ID="id", GITHUB_OAUTH_CLIENT_SECRET="s")
    with app.app_context(), pytest.raises(RuntimeError) as caught:
        github.get("/user")
    message = str(caught.value)
    assert "'github'" in message
    assert "test_request_context()" in message
    assert "SQLAlchemyStorage" in message
    assert "Working outside of request context" not in message
    with app.test_request_context("/"):
        assert not github.authorized


def test_plain_http_issuer_names_the_variable_instead_of_a_redirect_loop() -> None:
    """Discovery would fail, oauth_error would send the user to "/", which
    sends them to the login again: refuse with the fix instead."""
    from flask_dance.contrib.oidc import make_oidc_blueprint

    app = flask.Flask(__name__)
    app.secret_key = "a test secret key"
    app.config.update(ACME_OAUTH_CLIENT_ID="id", ACME_OAUTH_CLIENT_SECRET="s")
    bp = make_oidc_blueprint("acme", issuer="http://127.0.0.1:5001")
    app.register_blueprint(bp, url_prefix="/login")
    response = app.test_client().get("/login/acme")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "the issuer &#39;http://127.0.0.1:5001&#39; uses plain HTTP" in page
    assert "OAUTHLIB_INSECURE_TRANSPORT=1" in page
