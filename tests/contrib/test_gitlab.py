from __future__ import annotations

import typing as t

import pytest
import requests
from requests.adapters import HTTPAdapter

from contrib.preset_helpers import APP_URL
from contrib.preset_helpers import make_app
from contrib.preset_helpers import query
from flask_dance.consumer import OAuth2Session
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.contrib.gitlab import gitlab
from flask_dance.contrib.gitlab import make_gitlab_blueprint
from flask_dance.contrib.gitlab import NoVerifyOAuth2Session

HOST = "git.internal.example"


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, t.Any]]:
    """Record what reaches the HTTP adapter, the last stop before the socket."""
    calls: list[dict[str, t.Any]] = []

    def send(
        adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: t.Any
    ) -> requests.Response:
        calls.append({"url": request.url, **kwargs})
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response._content = b'{"access_token": "new", "token_type": "Bearer"}'
        response.url = request.url or ""
        response.request = request
        return response

    monkeypatch.setattr(HTTPAdapter, "send", send)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    return calls


def _dance_and_call(bp: t.Any) -> None:
    app = make_app(bp)
    client = app.test_client()
    response = client.get("/login/gitlab", base_url=APP_URL)
    state = query(response.headers["Location"])["state"]
    response = client.get(
        f"/login/gitlab/authorized?code=c&state={state}", base_url=APP_URL
    )
    assert response.status_code == 302
    with app.test_request_context("/"):
        gitlab.get("/user")


def test_no_verify_beats_ca_bundle_environment(sent: list[dict[str, t.Any]]) -> None:
    bp = make_gitlab_blueprint(
        "id",
        "secret",
        hostname=HOST,
        verify_tls_certificates=False,
        storage=MemoryStorage(),
    )
    _dance_and_call(bp)
    assert [call["url"] for call in sent] == [
        f"https://{HOST}/oauth/token",
        f"https://{HOST}/api/v4/user",
    ]
    assert [call["verify"] for call in sent] == [False, False]


def test_verify_by_default(sent: list[dict[str, t.Any]]) -> None:
    bp = make_gitlab_blueprint("id", "secret", hostname=HOST, storage=MemoryStorage())
    _dance_and_call(bp)
    assert [call["verify"] for call in sent] == [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/ssl/certs/ca-certificates.crt",
    ]


def test_no_verify_with_custom_session_class(sent: list[dict[str, t.Any]]) -> None:
    class Custom(OAuth2Session):
        pass

    bp = make_gitlab_blueprint(
        "id",
        "secret",
        verify_tls_certificates=False,
        session_class=Custom,
        storage=MemoryStorage({"access_token": "tok"}),
    )
    assert issubclass(bp.session_class, Custom)
    with make_app(bp).test_request_context("/"):
        session = gitlab._get_current_object()
        assert isinstance(session, Custom)
        session.verify = True
        gitlab.get("user", verify=True)
    assert sent[0]["verify"] is False
    assert sent[0]["url"] == "https://gitlab.com/api/v4/user"


def test_no_verify_session_class_is_kept() -> None:
    bp = make_gitlab_blueprint(verify_tls_certificates=False)
    assert bp.session_class is NoVerifyOAuth2Session
    bp = make_gitlab_blueprint(
        verify_tls_certificates=False, session_class=NoVerifyOAuth2Session
    )
    assert bp.session_class is NoVerifyOAuth2Session
    assert bp.token_url_params == {"verify": False}
