"""The OAuth 2 provider session: token loading, URLs, the token in the
Authorization header, and the view decorator."""

from __future__ import annotations

import base64
import typing as t
from urllib.parse import parse_qs

import pytest
import requests
import responses as responses_lib
from freezegun import freeze_time
from oauthlib.oauth2 import InsecureTransportError
from oauthlib.oauth2 import LegacyApplicationClient

from dance_helpers import in_request
from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import token_response
from dance_helpers import TOKEN_URL
from dance_helpers import URL_JOINS
from flask_dance.consumer import OAuth2Session
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.consumer.storage.session import SessionStorage

API_URL = "https://example.com/user"


@pytest.mark.parametrize("storage_class", [SessionStorage, MemoryStorage])
def test_authorization_required(storage_class: type[t.Any]) -> None:
    storage = storage_class()
    bp = make_blueprint(storage=storage)
    app = make_app(bp)

    @app.route("/private")
    @bp.session.authorization_required
    def private() -> str:
        return "secret page"

    with app.test_client() as client:
        response = client.get("/private")
        assert response.status_code == 302
        assert response.headers["Location"] == "/login/test-service"
        if isinstance(storage, MemoryStorage):
            storage.token = {"access_token": "a"}
        else:
            with client.session_transaction() as sess:
                sess["test-service_oauth_token"] = {"access_token": "a"}
        assert client.get("/private").data == b"secret page"


def test_authorization_required_checks_each_user() -> None:
    """The decorator is made once, from the session of no request; it must
    look at the token of whoever is asking."""
    bp = make_blueprint()
    app = make_app(bp)

    @app.route("/private")
    @bp.session.authorization_required
    def private() -> str:
        return "secret page"

    alice, mallory = app.test_client(), app.test_client()
    with alice.session_transaction() as sess:
        sess["test-service_oauth_token"] = {"access_token": "alice"}
    assert alice.get("/private").data == b"secret page"
    assert mallory.get("/private").status_code == 302
    assert alice.get("/private").data == b"secret page"


def test_authorization_required_without_blueprint_passes() -> None:
    session = OAuth2Session(client_id="c")

    @session.authorization_required
    def view() -> str:
        return "ran"

    assert view() == "ran"


def test_token_is_loaded_lazily_once_per_session() -> None:
    reads: list[int] = []

    class CountingStorage(MemoryStorage):
        def get(self, blueprint: t.Any) -> t.Any:
            reads.append(1)
            return super().get(blueprint)

    bp = make_blueprint(storage=CountingStorage({"access_token": "a"}))
    with make_app(bp).test_request_context("/"):
        session = bp.session
        assert reads == []
        assert session.access_token == "a"
        assert session.authorized
        assert session.load_token()
    assert len(reads) == 1


def test_token_in_header_not_in_url(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses_lib.GET, API_URL)
    responses.add(responses_lib.POST, API_URL)
    token = {"access_token": "tok-in-header", "token_type": "Bearer"}
    with in_request(token) as (bp, _):
        bp.session.get(API_URL, params={"q": "1"})
        bp.session.post(API_URL, data={"field": "x"})
    for call in responses.calls:
        assert call.request.headers["Authorization"] == "Bearer tok-in-header"
        assert "tok-in-header" not in call.request.url
        assert "tok-in-header" not in (call.request.body or "")


def test_no_token_sends_no_authorization(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses_lib.GET, API_URL)
    with in_request() as (bp, _):
        assert not bp.session.authorized
        assert bp.session.access_token is None
        assert not bp.session.load_token()
        bp.session.get(API_URL)
    assert "Authorization" not in responses.calls[0].request.headers


def test_replaced_token_leaves_no_stale_expiry(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.GET, API_URL)
    bp = make_blueprint(storage=MemoryStorage())
    with freeze_time("2026-01-01"), make_app(bp).test_request_context("/"):
        session = bp.session
        session.token = {
            "access_token": "old",
            "token_type": "Bearer",
            "expires_in": -5,
        }
        session.token = {"access_token": "new", "token_type": "Bearer"}
        session.get(API_URL)
        session.token = {"access_token": "x", "refresh_token": "r", "expires_in": 60}
        del session.token
        assert session._client.refresh_token is None
        assert session._client.access_token is None
    assert responses.calls[0].request.headers["Authorization"] == "Bearer new"


def test_access_token_setter_reaches_the_client() -> None:
    session = OAuth2Session(client_id="c")
    session.access_token = "direct"
    assert session._client.access_token == "direct"


#: The joins of ``URL_JOINS`` that end at an absolute URL, which a request can go to.
_REQUESTABLE = {
    name: join
    for name, join in URL_JOINS.items()
    if join[2].startswith("https://") and "?" not in join[1]
}


@pytest.mark.parametrize(
    ("base_url", "path", "expected"),
    list(_REQUESTABLE.values()),
    ids=list(_REQUESTABLE),
)
def test_relative_urls_join_base_url(
    responses: responses_lib.RequestsMock,
    base_url: str | None,
    path: str,
    expected: str,
) -> None:
    responses.add(responses_lib.GET, expected)
    bp = make_blueprint(base_url=base_url, storage=MemoryStorage({"access_token": "a"}))
    with make_app(bp).test_request_context("/"):
        bp.session.get(path)
    assert responses.calls[0].request.url == expected


def test_bytes_method_and_url(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses_lib.GET, API_URL)
    with in_request({"access_token": "a"}) as (bp, _):
        bp.session.request(b"GET", b"/user")
    assert responses.calls[0].request.headers["Authorization"] == "Bearer a"


def test_plain_http_is_refused(responses: responses_lib.RequestsMock) -> None:
    bp = make_blueprint(
        base_url="http://example.com", storage=MemoryStorage({"access_token": "a"})
    )
    with make_app(bp).test_request_context("/"):
        with pytest.raises(InsecureTransportError):
            bp.session.get("/user")
        with pytest.raises(InsecureTransportError):
            bp.session.get("/user", withhold_token=True)
    assert len(responses.calls) == 0


def test_plain_http_allowed_in_development(
    responses: responses_lib.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    responses.add(responses_lib.GET, "http://example.com/user")
    bp = make_blueprint(
        base_url="http://example.com", storage=MemoryStorage({"access_token": "a"})
    )
    with make_app(bp).test_request_context("/"):
        bp.session.get("/user")
    assert responses.calls[0].request.headers["Authorization"] == "Bearer a"


def test_protected_request_hooks_run(responses: responses_lib.RequestsMock) -> None:
    responses.add(responses_lib.GET, API_URL)
    bp = make_blueprint(storage=MemoryStorage({"access_token": "a"}))
    seen: list[str] = []

    def hook(url: str, headers: t.Any, data: t.Any) -> tuple[str, t.Any, t.Any]:
        seen.append(url)
        headers = dict(headers or {})
        headers["X-Hooked"] = "1"
        return url, headers, data

    with make_app(bp).test_request_context("/"):
        bp.session.register_compliance_hook("protected_request", hook)
        bp.session.get(API_URL)
    assert seen == [API_URL]
    assert responses.calls[0].request.headers["X-Hooked"] == "1"


def test_fetch_token_accepts_relative_token_url(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(
        responses_lib.POST,
        "https://example.com/oauth/token",
        json={"access_token": "t", "token_type": "Bearer"},
    )
    session = OAuth2Session(client_id="c", base_url="https://example.com/oauth")
    token = session.fetch_token(
        "token",
        code="x",
        client_secret="s",
    )
    assert token["access_token"] == "t"
    assert session.access_token == "t"


def test_fetch_token_server_error_is_an_http_error(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.POST, "https://example.com/token", status=502, body="x")
    session = OAuth2Session(client_id="c")
    with pytest.raises(requests.HTTPError, match="502"):
        session.fetch_token("https://example.com/token", code="x", client_secret="s")


def test_session_without_blueprint_closes_its_adapters() -> None:
    session = OAuth2Session(client_id="c")
    adapter = session.adapters["https://"]
    closed: list[bool] = []
    adapter.close = lambda: closed.append(True)  # type: ignore[method-assign]
    session.close()
    assert closed == [True]


@pytest.fixture
def token_endpoint(responses: responses_lib.RequestsMock) -> responses_lib.RequestsMock:
    responses.add(
        responses_lib.POST,
        "https://example.com/token",
        json={"access_token": "t", "token_type": "Bearer"},
    )
    return responses


def test_fetch_token_with_client_id_in_body(
    token_endpoint: responses_lib.RequestsMock,
) -> None:
    session = OAuth2Session(client_id="cid")
    session.fetch_token(
        "https://example.com/token",
        code="x",
        client_secret="sec",
        include_client_id=True,
    )
    request = token_endpoint.calls[0].request
    assert "Authorization" not in request.headers
    body = parse_qs(request.body)
    assert body["client_id"] == ["cid"]
    assert body["client_secret"] == ["sec"]


def test_fetch_token_basic_auth_is_form_encoded(
    token_endpoint: responses_lib.RequestsMock,
) -> None:
    session = OAuth2Session(client_id="id:1")
    session.fetch_token("https://example.com/token", code="x", client_secret="a b%:")
    header = token_endpoint.calls[0].request.headers["Authorization"]
    decoded = base64.b64decode(header.split(" ")[1]).decode()
    assert decoded == "id%3A1:a+b%25%3A"
    assert "client_secret" not in parse_qs(token_endpoint.calls[0].request.body)


def test_refresh_with_a_changed_scope_is_accepted(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(
        responses_lib.POST,
        "https://example.com/token",
        json={"access_token": "new", "token_type": "Bearer", "scope": "read extra"},
    )
    session = OAuth2Session(client_id="cid", scope=["read"])
    token = session.refresh_token("https://example.com/token", refresh_token="r")
    assert token["access_token"] == "new"
    assert session.access_token == "new"


@pytest.mark.parametrize(
    ("session_kwargs", "args", "kwargs"),
    [
        ({}, (), {"username": "alice", "password": "secret"}),
        ({}, (), {"password": "secret"}),
        ({}, (None, None, "", None, "alice", "secret"), {}),
        ({"client": LegacyApplicationClient("client_id")}, (), {}),
    ],
    ids=["keywords", "password-only", "positional", "legacy-client"],
)
def test_password_grant_is_refused(
    responses: responses_lib.RequestsMock,
    session_kwargs: dict[str, t.Any],
    args: tuple[t.Any, ...],
    kwargs: dict[str, t.Any],
) -> None:
    """C18: no resource owner password grant (RFC 9700 2.4), not even through
    the lower-level fetch_token."""
    session = OAuth2Session(client_id="client_id", **session_kwargs)
    with pytest.raises(ValueError, match="password grant is not supported"):
        session.fetch_token(TOKEN_URL, *args, client_secret="s", **kwargs)
    assert len(responses.calls) == 0


def test_client_credentials_grant_still_works(
    responses: responses_lib.RequestsMock,
) -> None:
    from oauthlib.oauth2 import BackendApplicationClient

    responses.add(responses_lib.POST, TOKEN_URL, json=token_response())
    session = OAuth2Session(client=BackendApplicationClient("client_id"))
    token = session.fetch_token(TOKEN_URL, client_secret="s")
    assert token["access_token"] == "access-1"
    assert "grant_type=client_credentials" in responses.calls[0].request.body
