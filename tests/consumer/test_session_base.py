"""Session classes built directly work with any blueprint-like object, as in
Flask-Dance 7.1: tests build them with a :class:`unittest.mock.Mock`. No
secret reaches a log line, even with every logger at DEBUG."""

from __future__ import annotations

import base64
import logging
import time
import typing as t
from unittest import mock
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import flask
import pytest
import requests
import responses as responses_lib

from flask_dance.consumer import _deadline
from flask_dance.consumer import OAuth1ConsumerBlueprint
from flask_dance.consumer import OAuth1Session
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import OAuth2Session
from flask_dance.consumer._bounded import RedirectRefused
from flask_dance.consumer.storage import MemoryStorage

TOKEN = {"access_token": "a-token", "token_type": "Bearer"}
OAUTH1_TOKEN = {"oauth_token": "tok", "oauth_token_secret": "sec"}


def test_oauth2_session_with_a_mock_blueprint() -> None:
    sess = OAuth2Session(client_id="cid", blueprint=mock.Mock(token=TOKEN))
    assert sess.token == TOKEN
    assert sess.authorized
    assert sess.access_token == "a-token"
    assert sess.load_token()


def test_oauth2_session_with_a_mock_blueprint_without_token() -> None:
    sess = OAuth2Session(client_id="cid", blueprint=mock.Mock(token=None))
    assert not sess.authorized
    assert sess.access_token is None


def test_oauth2_session_with_a_mock_blueprint_sends_requests(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.GET, "https://api.example.com/v1/user", json={})
    # inside the refresh leeway, with a refresh token
    token = dict(TOKEN, refresh_token="r", expires_at=time.time() + 30)
    sess = OAuth2Session(
        client_id="cid",
        blueprint=mock.Mock(token=token),
        base_url="https://api.example.com/v1",
    )
    # a mock's made-up attributes are no refresh endpoint, pool or timeout
    with mock.patch.object(sess, "refresh_token") as refresh:
        sess.get("user")
    refresh.assert_not_called()
    request = responses.calls[0].request
    assert request.headers["Authorization"] == "Bearer a-token"
    assert all(
        isinstance(adapter, requests.adapters.HTTPAdapter)
        for adapter in sess.adapters.values()
    )
    sess.close()


def _authorization(request: requests.PreparedRequest) -> str:
    value: t.Any = request.headers["Authorization"]
    return value.decode() if isinstance(value, bytes) else str(value)


def test_oauth1_session_with_a_mock_blueprint(
    responses: responses_lib.RequestsMock,
) -> None:
    responses.add(responses_lib.GET, "https://api.example.com/resource")
    sess = OAuth1Session(
        client_key="ckey", client_secret="csec", blueprint=mock.Mock(token=OAUTH1_TOKEN)
    )
    sess.get("https://api.example.com/resource", should_load_token=False)
    header = _authorization(responses.calls[0].request)
    assert "oauth_token=" not in header
    sess.get("https://api.example.com/resource")
    header = _authorization(responses.calls[1].request)
    assert 'oauth_token="tok"' in header
    assert sess.token == OAUTH1_TOKEN
    assert sess.authorized


def _oauth1_session() -> OAuth1Session:
    return OAuth1Session(
        client_key="ckey", client_secret="csec", blueprint=mock.Mock(token=None)
    )


def _oauth2_session() -> OAuth2Session:
    return OAuth2Session(client_id="cid", blueprint=mock.Mock(token=None))


@pytest.mark.parametrize(
    "make_session", [_oauth1_session, _oauth2_session], ids=["oauth1", "oauth2"]
)
def test_sessions_bound_only_requests_inside_a_token_endpoint_block(
    responses: responses_lib.RequestsMock,
    make_session: t.Callable[[], requests.Session],
) -> None:
    """A request made without a token follows redirects, as requests does;
    inside :func:`~flask_dance.consumer._deadline.token_endpoint` it follows
    none. Both accept a method and URL given as bytes."""
    moved = {"Location": "https://api.example.com/next"}
    responses.add(
        responses_lib.POST, "https://api.example.com/go", status=307, headers=moved
    )
    responses.add(responses_lib.POST, "https://api.example.com/next", body="ok")
    sess = make_session()
    assert sess.request(b"POST", b"https://api.example.com/go").text == "ok"
    with _deadline.token_endpoint(), pytest.raises(RedirectRefused):
        sess.request(b"POST", b"https://api.example.com/go")
    assert [call.request.url for call in responses.calls] == [
        "https://api.example.com/go",
        "https://api.example.com/next",
        "https://api.example.com/go",
    ]


def test_custom_session_class_with_a_mock_blueprint() -> None:
    class TracingSession(OAuth2Session):
        def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
            self.trace = ["built"]
            super().__init__(*args, **kwargs)
            self.headers["X-Trace"] = "1"

    blueprint = mock.MagicMock(token=TOKEN)
    sess = TracingSession(client_id="cid", blueprint=blueprint)
    assert sess.authorized
    assert sess.trace == ["built"]
    assert sess.headers["X-Trace"] == "1"
    assert sess.blueprint is blueprint


# -- no secret reaches a log line, even with every logger at DEBUG -------------

CLIENT_SECRET = "CLIENT-SECRET-zx81q"
CODE = "AUTH-CODE-qp22w"
ACCESS = "ACCESS-TOKEN-mm31e"
REFRESH = "REFRESH-TOKEN-kk90r"
ACCESS_2 = "ACCESS-TOKEN-TWO-hh7t"
REFRESH_2 = "REFRESH-TOKEN-TWO-jj5y"
OA1_CLIENT_SECRET = "OA1-CLIENT-SECRET-pp4u"
OA1_REQUEST_TOKEN = "OA1-REQUEST-TOKEN-ll2i"
OA1_REQUEST_SECRET = "OA1-REQUEST-SECRET-oo8o"
OA1_VERIFIER = "OA1-VERIFIER-ii6p"
OA1_ACCESS = "OA1-ACCESS-TOKEN-uu3a"
OA1_ACCESS_SECRET = "OA1-ACCESS-SECRET-yy1s"


def _provider() -> flask.Flask:
    provider = flask.Flask("provider")

    @provider.route("/token", methods=["POST"])
    def token() -> t.Any:
        form = flask.request.form
        if form["grant_type"] == "authorization_code":
            assert form["code"] == CODE
            return {
                "access_token": ACCESS,
                "refresh_token": REFRESH,
                "token_type": "Bearer",
                "expires_in": 3600,
            }
        if form["refresh_token"] == REFRESH:
            return {
                "access_token": ACCESS_2,
                "refresh_token": REFRESH_2,
                "token_type": "Bearer",
                "expires_in": 3600,
            }
        return {"error": "invalid_grant"}, 400

    @provider.route("/api/user")
    def user() -> str:
        return "user"

    @provider.route("/oauth1/request_token", methods=["POST"])
    def request_token() -> str:
        return (
            f"oauth_token={OA1_REQUEST_TOKEN}&oauth_token_secret={OA1_REQUEST_SECRET}"
            "&oauth_callback_confirmed=true"
        )

    @provider.route("/oauth1/access_token", methods=["POST"])
    def access_token() -> str:
        return f"oauth_token={OA1_ACCESS}&oauth_token_secret={OA1_ACCESS_SECRET}"

    return provider


def test_no_secret_in_any_log_record(
    serve: t.Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    caplog.set_level(logging.DEBUG)
    url = serve(_provider())

    storage2 = MemoryStorage()
    bp2 = OAuth2ConsumerBlueprint(
        "two",
        __name__,
        client_id="client-two",
        client_secret=CLIENT_SECRET,
        base_url=url + "/api/",
        authorization_url=url + "/authorize",
        token_url=url + "/token",
        storage=storage2,
    )
    storage1 = MemoryStorage()
    bp1 = OAuth1ConsumerBlueprint(
        "one",
        __name__,
        client_key="client-one",
        client_secret=OA1_CLIENT_SECRET,
        base_url=url + "/api/",
        request_token_url=url + "/oauth1/request_token",
        authorization_url=url + "/oauth1/authorize",
        access_token_url=url + "/oauth1/access_token",
        storage=storage1,
    )
    app = flask.Flask(__name__)
    app.secret_key = "logging"
    app.register_blueprint(bp2, url_prefix="/login")
    app.register_blueprint(bp1, url_prefix="/login")
    secrets = [
        CLIENT_SECRET,
        CODE,
        ACCESS,
        REFRESH,
        ACCESS_2,
        REFRESH_2,
        OA1_CLIENT_SECRET,
        OA1_REQUEST_TOKEN,
        OA1_REQUEST_SECRET,
        OA1_VERIFIER,
        OA1_ACCESS,
        OA1_ACCESS_SECRET,
        base64.b64encode(f"client-two:{CLIENT_SECRET}".encode()).decode(),
    ]

    try:
        with app.test_client() as client:
            # OAuth 2: login, callback, API call, refresh, failed refresh
            response = client.get("/login/two")
            query = {
                k: v[0] for k, v in parse_qs(urlsplit(response.location).query).items()
            }
            secrets.append(query["state"])
            secrets.append(flask.session["two_oauth_code_verifier"])
            response = client.get(
                "/login/two/authorized",
                query_string={"code": CODE, "state": query["state"]},
            )
            assert response.status_code == 302
            assert storage2.token is not None
            assert storage2.token["access_token"] == ACCESS
            with app.test_request_context("/"):
                assert bp2.session.get("user").text == "user"
            storage2.token["expires_at"] = time.time() - 10
            with app.test_request_context("/"):
                bp2.session.get("user")
            assert storage2.token["access_token"] == ACCESS_2
            storage2.token.update(expires_at=time.time() - 10, refresh_token="dead")
            with app.test_request_context("/"):
                bp2.session.get("user")
            assert storage2.token is None

            # OAuth 1: login, callback, API call
            client.get("/login/one")
            response = client.get(
                "/login/one/authorized",
                query_string={
                    "oauth_token": OA1_REQUEST_TOKEN,
                    "oauth_verifier": OA1_VERIFIER,
                },
            )
            assert response.status_code == 302
            assert storage1.token == {
                "oauth_token": OA1_ACCESS,
                "oauth_token_secret": OA1_ACCESS_SECRET,
            }
            with app.test_request_context("/"):
                assert bp1.session.get("user").text == "user"
    finally:
        with app.app_context():
            for bp in (bp1, bp2):
                for adapter in bp.session.adapters.values():
                    adapter.close()

    names = {record.name for record in caplog.records}
    # the libraries did log at DEBUG: the test saw real traffic
    assert any(name.startswith("requests_oauthlib") for name in names), names
    assert any(name.startswith("oauthlib") for name in names), names
    assert any(name.startswith("flask_dance") for name in names), names
    for record in caplog.records:
        message = record.getMessage()
        for secret in secrets:
            assert secret not in message, f"{record.name}: {message}"


# -- the redaction filter itself ------------------------------------------------


@pytest.fixture
def oauthlib_log(caplog: pytest.LogCaptureFixture) -> logging.Logger:
    caplog.set_level(logging.DEBUG)
    return logging.getLogger("requests_oauthlib.oauth2_session")


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        pytest.param(
            [
                ("Prepared body %s for %r", "code=SECRET", "SECRET2"),
                ("Invoking %d hooks, status %s", 3, 200),
            ],
            [
                "Prepared body [redacted by flask_dance] for"
                " '[redacted by flask_dance]'",
                "Invoking 3 hooks, status 200",
            ],
            id="positional-arguments",
        ),
        pytest.param(
            [
                ("Headers were %s", {"Authorization": "Bearer SECRET"}),
                ("Token %(access_token)s", {"access_token": "SECRET"}),
            ],
            [
                "Headers were [redacted by flask_dance]",
                "Token [redacted by flask_dance]",
            ],
            id="a-mapping-argument",
        ),
        pytest.param(
            [
                ("Signature base string: POST&SECRET",),
                ("Expected %d things", "SECRET"),
                ("No secret here",),
            ],
            [
                "Signature base string: [redacted by flask_dance]",
                "Expected [redacted by flask_dance]",
                "No secret here",
            ],
            id="preformatted-and-unformattable-messages",
        ),
    ],
)
def test_redaction_of_debug_messages(
    oauthlib_log: logging.Logger,
    caplog: pytest.LogCaptureFixture,
    logged: list[tuple[t.Any, ...]],
    expected: list[str],
) -> None:
    for message, *args in logged:
        oauthlib_log.debug(message, *args)
    assert _messages(caplog) == expected


def test_info_messages_are_left_alone(
    oauthlib_log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    oauthlib_log.info("Info %s is left alone", "visible")
    assert _messages(caplog) == ["Info visible is left alone"]


def test_redaction_filter_installs_once() -> None:
    from flask_dance.consumer import _session_base

    logger = logging.getLogger("oauthlib")
    before = list(logger.filters)
    _session_base.redact_library_logs()
    _session_base.redact_library_logs()
    assert logger.filters == before
    assert _session_base._redact_filter in logger.filters
