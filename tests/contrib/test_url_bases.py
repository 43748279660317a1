"""Base URLs with a path keep it for relative and absolute-path requests."""

from __future__ import annotations

import typing as t

import pytest
import responses as responses_lib

from contrib.preset_helpers import make_app
from contrib.preset_helpers import rsa_private_key
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.contrib import dexcom
from flask_dance.contrib import digitalocean
from flask_dance.contrib import jira
from flask_dance.contrib import salesforce
from flask_dance.contrib import strava


@pytest.mark.parametrize(
    ("module", "kwargs", "path", "expected"),
    [
        (
            digitalocean,
            {},
            "token/info",
            "https://cloud.digitalocean.com/v1/oauth/token/info",
        ),
        (
            salesforce,
            {"instance_url": "https://example.my.salesforce.com"},
            "/services/data/v60.0/sobjects",
            "https://example.my.salesforce.com/services/data/v60.0/sobjects",
        ),
        (
            dexcom,
            {"base_url": "https://api.dexcom.eu"},
            "v3/users/self/egvs",
            "https://api.dexcom.eu/v3/users/self/egvs",
        ),
    ],
    ids=["digitalocean", "salesforce-instance", "dexcom-eu"],
)
def test_relative_paths(
    module: t.Any,
    kwargs: dict[str, t.Any],
    path: str,
    expected: str,
    responses: responses_lib.RequestsMock,
) -> None:
    name = module.__name__.rsplit(".", 1)[1]
    responses.add(responses.GET, expected, json={})
    factory = getattr(module, f"make_{name}_blueprint")
    bp = factory("id", "secret", storage=MemoryStorage({"access_token": "t"}), **kwargs)
    with make_app(bp).test_request_context("/"):
        getattr(module, name).get(path)
    assert responses.calls[0].request.url == expected


def test_dexcom_login_follows_base_url() -> None:
    bp = dexcom.make_dexcom_blueprint(base_url="https://api.dexcom.eu")
    assert bp.authorization_url == "https://api.dexcom.eu/v2/oauth2/login"
    assert bp.token_url == "https://api.dexcom.eu/v2/oauth2/token"
    assert bp.auto_refresh_url == "https://api.dexcom.eu/v2/oauth2/token"


@pytest.mark.parametrize(
    ("make", "base_url", "path", "expected"),
    [
        (
            lambda: strava.make_strava_blueprint("id", "secret"),
            "https://www.strava.com/api/v3",
            "athlete",
            "https://www.strava.com/api/v3/athlete",
        ),
        (
            lambda: jira.make_jira_blueprint(
                "https://flask.atlassian.net", "key", rsa_private_key()
            ),
            "https://flask.atlassian.net",
            "rest/api/2/myself",
            "https://flask.atlassian.net/rest/api/2/myself",
        ),
        (
            lambda: jira.make_jira_blueprint(
                "https://example.com/jira", "key", rsa_private_key()
            ),
            "https://example.com/jira",
            "/rest/api/2/myself",
            "https://example.com/jira/rest/api/2/myself",
        ),
    ],
    ids=["strava", "jira-cloud", "jira-context-path"],
)
def test_session_base_url_keeps_the_value_given(
    make: t.Callable[[], t.Any],
    base_url: str,
    path: str,
    expected: str,
    responses: responses_lib.RequestsMock,
) -> None:
    """As Flask-Dance 7.1 shows it; the whole base path still applies."""
    responses.add(responses.GET, expected, json={})
    bp = make()
    bp.storage = MemoryStorage(
        {"access_token": "t", "oauth_token": "t", "oauth_token_secret": "s"}
    )
    with make_app(bp).test_request_context("/"):
        assert bp.base_url == base_url
        assert bp.session.base_url == base_url
        bp.session.get(path)
    assert responses.calls[0].request.url == expected
