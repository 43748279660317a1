"""The callback's code exchange.

With the library's own ``fetch_token``, the blueprint builds the token request
itself (:meth:`OAuth2Session._fetch_token_for_code`); these tests pin that it
sends exactly what ``fetch_token(code=...)`` sends and answers alike, and that
a patched ``fetch_token`` is still called as Flask-Dance 7.1 called it.
"""

from __future__ import annotations

import typing as t
from unittest import mock

import pytest
import requests
import responses as responses_lib
from freezegun import freeze_time
from oauthlib.oauth2 import InvalidGrantError
from oauthlib.oauth2 import MissingTokenError
from oauthlib.oauth2 import WebApplicationClient

from dance_helpers import BASE
from dance_helpers import callback
from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import start_login
from dance_helpers import token_response
from dance_helpers import TOKEN_URL
from flask_dance.consumer.requests import OAuth2Session
from flask_dance.consumer.storage import MemoryStorage

REDIRECT_URI = "https://a.b.c/login/test-service/authorized"


def _session(client_id: str | None = "client-id", **kwargs: t.Any) -> OAuth2Session:
    return OAuth2Session(
        client_id=client_id,
        redirect_uri=REDIRECT_URI,
        base_url="https://example.com/",
        **kwargs,
    )


def _sent(call: t.Any) -> tuple[t.Any, ...]:
    request = call.request
    return (
        request.method,
        request.url,
        request.body,
        request.headers.get("Authorization"),
        request.headers.get("Accept"),
        # requests-oauthlib 1.3 adds ";charset=UTF-8"; the form is ASCII
        # either way (2.0 dropped the parameter).
        request.headers.get("Content-Type", "").split(";")[0],
    )


def _both_ways(
    responses: responses_lib.RequestsMock,
    *,
    client_id: str | None = "client-id",
    client_secret: str | None = "client-secret",
    params: dict[str, t.Any],
    token_url: str = TOKEN_URL,
) -> tuple[tuple[t.Any, t.Any], tuple[t.Any, t.Any]]:
    """Exchange a code directly and through ``fetch_token``; return each
    way's request as sent and token."""
    direct = _session(client_id)
    token = direct._fetch_token_for_code(
        token_url, "the-code", client_secret=client_secret, params=dict(params)
    )
    library = _session(client_id)
    expected = library.fetch_token(
        token_url, code="the-code", client_secret=client_secret, **params
    )
    first, second = responses.calls
    return (_sent(first), token), (_sent(second), expected)


@freeze_time("2026-11-23 12:00:00")
@pytest.mark.parametrize(
    ("client_id", "client_secret", "params"),
    [
        ("client-id", "client-secret", {}),
        ("client-id", "client-secret", {"code_verifier": "v" * 64}),
        ("client-id", "s:e%cret+/ é", {"code_verifier": "v" * 64}),
        ("client-id", None, {}),
        ("client-id", "", {"audience": "https://api.example"}),
        (None, "client-secret", {"code_verifier": "v" * 43}),
        ("client-id", "client-secret", {"resource": "", "audience": "a b&c"}),
        ("client-id", "client-secret", {"code_verifier": ""}),
    ],
)
def test_direct_exchange_sends_and_returns_what_fetch_token_does(
    responses: responses_lib.RequestsMock,
    client_id: str | None,
    client_secret: str | None,
    params: dict[str, t.Any],
) -> None:
    responses.add(
        responses_lib.POST,
        TOKEN_URL,
        json=token_response(refresh_token="r", expires_in=3600, scope="a b"),
    )
    (sent, token), (expected_sent, expected_token) = _both_ways(
        responses, client_id=client_id, client_secret=client_secret, params=params
    )
    assert sent == expected_sent
    assert token == expected_token
    assert token["expires_at"] == expected_token["expires_at"]


def test_direct_exchange_joins_a_relative_token_url(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.POST, TOKEN_URL, json=token_response())
    (sent, _), (expected_sent, _) = _both_ways(
        responses, params={}, token_url="oauth/access_token"
    )
    assert sent == expected_sent
    assert sent[1] == TOKEN_URL


def test_direct_exchange_loads_the_token_into_the_session(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.POST, TOKEN_URL, json=token_response())
    responses.add(responses_lib.GET, "https://example.com/user", json={"id": 1})
    session = _session()
    session._fetch_token_for_code(TOKEN_URL, "the-code", client_secret="s", params={})
    assert session.access_token == "access-1"
    session.get("/user")
    assert responses.calls[1].request.headers["Authorization"] == "Bearer access-1"


def test_direct_exchange_runs_the_compliance_hooks(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(
        responses_lib.POST,
        TOKEN_URL,
        json={"ok": True, "authed_user": {"access_token": "nested"}},
    )
    seen: list[str] = []

    def on_request(url: str, headers: t.Any, kwargs: t.Any) -> t.Any:
        seen.append("request")
        kwargs["data"]["team"] = "T1"
        return url, dict(headers, **{"X-Hook": "1"}), kwargs

    def on_response(response: requests.Response) -> requests.Response:
        seen.append("response")
        data = response.json()
        response._content = (
            b'{"access_token": "%s", "token_type": "bearer"}'
            % data["authed_user"]["access_token"].encode()
        )
        return response

    session = _session()
    # requests-oauthlib 2 added the request hooks; 1.3 has the response ones.
    request_hooks = "access_token_request" in session.compliance_hook
    if request_hooks:
        session.register_compliance_hook("access_token_request", on_request)
    session.register_compliance_hook("access_token_response", on_response)
    token = session._fetch_token_for_code(
        TOKEN_URL, "the-code", client_secret="s", params={}
    )
    assert seen == (["request", "response"] if request_hooks else ["response"])
    assert token["access_token"] == "nested"
    request = responses.calls[0].request
    if request_hooks:
        assert request.headers["X-Hook"] == "1"
        assert "team=T1" in request.body


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"json": {"error": "invalid_grant"}, "status": 400}, InvalidGrantError),
        ({"json": {"token_type": "bearer"}}, MissingTokenError),
        ({"body": "Internal error", "status": 500}, requests.HTTPError),
        ({"body": "<html>not json</html>"}, MissingTokenError),
    ],
)
def test_direct_exchange_fails_as_fetch_token_does(
    responses: responses_lib.RequestsMock,
    answer: dict[str, t.Any],
    error: type[Exception],
) -> None:
    responses.add(responses_lib.POST, TOKEN_URL, **answer)
    with pytest.raises(error):
        _session()._fetch_token_for_code(
            TOKEN_URL, "the-code", client_secret="s", params={}
        )
    with pytest.raises(error):
        _session().fetch_token(TOKEN_URL, code="the-code", client_secret="s")


def test_direct_exchange_accepts_another_scope(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.POST, TOKEN_URL, json=token_response(scope="read"))
    session = _session(scope=["read", "write"])
    token = session._fetch_token_for_code(
        TOKEN_URL, "the-code", client_secret="s", params={}
    )
    assert token["access_token"] == "access-1"
    assert session.token["access_token"] == "access-1"


def test_direct_exchange_refuses_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    from oauthlib.oauth2 import InsecureTransportError

    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    with pytest.raises(InsecureTransportError):
        _session()._fetch_token_for_code(
            "http://example.com/token", "c", client_secret="s", params={}
        )


class _CustomBodyClient(WebApplicationClient):
    def prepare_request_body(self, *args: t.Any, **kwargs: t.Any) -> str:
        return super().prepare_request_body(*args, **kwargs) + "&custom=1"


@pytest.mark.parametrize(
    ("session_kwargs", "params"),
    [
        ({}, {"scope": ["a", "b"]}),
        ({}, {"max_retries": 3}),
        ({}, {"scope": "a b"}),
        ({"client": _CustomBodyClient("client-id")}, {}),
    ],
    ids=["scope-list", "not-a-string", "scope-string", "custom-client"],
)
def test_direct_exchange_leaves_what_it_does_not_build_to_fetch_token(
    responses: responses_lib.RequestsMock,
    session_kwargs: dict[str, t.Any],
    params: dict[str, t.Any],
) -> None:
    responses.add(responses_lib.POST, TOKEN_URL, json=token_response())
    session = _session(**session_kwargs)
    library_fetch_token = OAuth2Session.fetch_token
    with mock.patch.object(
        OAuth2Session, "fetch_token", autospec=True, side_effect=library_fetch_token
    ) as fetch_token:
        session._fetch_token_for_code(
            TOKEN_URL, "the-code", client_secret="s", params=params
        )
    fetch_token.assert_called_once_with(
        session, TOKEN_URL, code="the-code", client_secret="s", **params
    )


# -- the blueprint's callback ------------------------------------------------------


def test_callback_exchanges_the_code_without_fetch_token(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.POST, TOKEN_URL, json=token_response())
    bp = make_blueprint(storage=MemoryStorage(), token_url_params={"audience": "x"})
    app = make_app(bp)
    with (
        mock.patch.object(
            OAuth2Session,
            "_fetch_token_for_code",
            autospec=True,
            side_effect=OAuth2Session._fetch_token_for_code,
        ) as direct,
        app.test_client() as client,
    ):
        params = start_login(client)
        response = callback(client, code="the-code", state=params["state"])
    assert response.status_code == 302
    assert direct.call_args.args[1:] == (TOKEN_URL, "the-code")
    assert direct.call_args.kwargs["params"]["audience"] == "x"
    assert direct.call_args.kwargs["params"]["code_verifier"]
    assert bp.storage.get(bp)["access_token"] == "access-1"  # type: ignore[index]


def test_callback_calls_a_patched_session_fetch_token_as_7_1_did() -> None:
    bp = make_blueprint(storage=MemoryStorage())
    app = make_app(bp)
    with app.test_client() as client:
        with client.session_transaction(base_url=BASE) as sess:
            sess["test-service_oauth_state"] = "random-string"
        bp.session.fetch_token = mock.Mock(return_value={"access_token": "t"})
        callback(client, code="secret-code", state="random-string")
        fetch_token = bp.session.fetch_token
    fetch_token.assert_called_once_with(
        TOKEN_URL,
        authorization_response=(f"{REDIRECT_URI}?code=secret-code&state=random-string"),
        client_secret="client_secret",
    )


@pytest.mark.parametrize(
    "target",
    [
        "flask_dance.consumer.requests.OAuth2Session.fetch_token",
        "requests_oauthlib.OAuth2Session.fetch_token",
    ],
)
def test_callback_calls_a_patched_class_fetch_token_with_the_callback_url(
    target: str,
) -> None:
    app = make_app(storage=MemoryStorage())
    with mock.patch(target, return_value={"access_token": "t"}) as fetch_token:
        with app.test_client() as client:
            params = start_login(client)
            response = callback(client, code="c", state=params["state"])
    assert response.status_code == 302
    kwargs = fetch_token.call_args.kwargs
    assert kwargs["authorization_response"].startswith(REDIRECT_URI + "?code=c&state=")
    assert kwargs["code_verifier"]
