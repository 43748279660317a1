"""Base URLs with a path keep it for relative and absolute-path requests."""

from __future__ import annotations

import typing as t

import pytest
import responses as responses_lib

from contrib.preset_helpers import make_app
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.contrib import dexcom
from flask_dance.contrib import digitalocean
from flask_dance.contrib import salesforce


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
