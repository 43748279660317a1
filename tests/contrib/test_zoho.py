from __future__ import annotations

import pytest
import responses as responses_lib

from contrib.preset_helpers import make_app
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.contrib.zoho import DATA_CENTRES
from flask_dance.contrib.zoho import make_zoho_blueprint
from flask_dance.contrib.zoho import zoho
from flask_dance.contrib.zoho import ZohoWebClient


def test_each_session_has_its_own_client() -> None:
    bp = make_zoho_blueprint()
    app = make_app(bp)
    app.config["ZOHO_OAUTH_CLIENT_ID"] = "config-id"
    with app.test_request_context("/"):
        first = zoho._get_current_object()
    with app.test_request_context("/"):
        second = zoho._get_current_object()
    assert first is not second
    assert isinstance(first._client, ZohoWebClient)
    assert isinstance(second._client, ZohoWebClient)
    assert first._client is not second._client
    assert second._client.client_id == "config-id"


def test_token_scheme(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses.GET, "https://www.zohoapis.eu/crm/v2/users", json={})
    responses.add(responses.GET, "https://www.zohoapis.eu/crm/v2/org", json={})
    bp = make_zoho_blueprint(
        "id", "secret", region="eu", storage=MemoryStorage({"access_token": "tok"})
    )
    with make_app(bp).test_request_context("/"):
        zoho.get("crm/v2/users")
        zoho.get("crm/v2/org", params={"a": "b"})
    for call in responses.calls:
        assert call.request.headers["Authorization"] == "Zoho-oauthtoken tok"


@pytest.mark.parametrize("region", sorted(DATA_CENTRES))
def test_regions(region: str) -> None:
    accounts, api = DATA_CENTRES[region]
    bp = make_zoho_blueprint(region=region)
    assert bp.authorization_url == f"https://{accounts}/oauth/v2/auth"
    assert bp.token_url == f"https://{accounts}/oauth/v2/token"
    assert bp.base_url == f"https://{api}/"


def test_known_data_centres() -> None:
    assert DATA_CENTRES["eu"] == ("accounts.zoho.eu", "www.zohoapis.eu")
    assert DATA_CENTRES["in"] == ("accounts.zoho.in", "www.zohoapis.in")
    assert DATA_CENTRES["au"] == ("accounts.zoho.com.au", "www.zohoapis.com.au")
    assert DATA_CENTRES["jp"] == ("accounts.zoho.jp", "www.zohoapis.jp")
    assert DATA_CENTRES["ca"] == ("accounts.zohocloud.ca", "www.zohoapis.ca")
    assert DATA_CENTRES["us"] == DATA_CENTRES["com"]


def test_authorized_url() -> None:
    app = make_app(make_zoho_blueprint(authorized_url="/zoho/callback"))
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    assert rules["zoho.authorized"] == "/login/zoho/callback"


def test_client_token_placements() -> None:
    from oauthlib.oauth2.rfc6749.clients.base import BODY
    from oauthlib.oauth2.rfc6749.clients.base import URI_QUERY

    client = ZohoWebClient("id", token={"access_token": "tok"})
    client.access_token = "tok"
    url, headers, body = client.add_token("https://x.example/a", headers={"A": "b"})
    assert headers == {"A": "b", "Authorization": "Zoho-oauthtoken tok"}
    url, headers, body = client.add_token(
        "https://x.example/a", token_placement=URI_QUERY
    )
    assert url == "https://x.example/a?access_token=tok"
    url, headers, body = client.add_token(
        "https://x.example/a", body="", token_placement=BODY
    )
    assert body == "access_token=tok"


def test_custom_session_with_its_own_zoho_client() -> None:
    from flask_dance.consumer import OAuth2Session

    own = ZohoWebClient("id")

    class Custom(OAuth2Session):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs["client"] = own
            super().__init__(*args, **kwargs)

    bp = make_zoho_blueprint("id", "secret", session_class=Custom)
    with make_app(bp).test_request_context("/"):
        assert zoho._get_current_object()._client is own
