"""Fetching an OpenID Connect document (consumer/oidc/_http.py)."""

from __future__ import annotations

import json
import typing as t

import pytest
import requests
import responses as responses_lib

from flask_dance.consumer.oidc import DiscoveryError
from flask_dance.consumer.oidc._http import check_url
from flask_dance.consumer.oidc._http import describe_request_error
from flask_dance.consumer.oidc._http import fetch_json
from flask_dance.consumer.oidc._http import FetchFailed

from .conftest import document
from .conftest import fetch
from .conftest import ISSUER
from .conftest import OIDC_URL
from .conftest import RFC8414_URL


def _failure(
    responses: responses_lib.RequestsMock, session: requests.Session, **kw: t.Any
) -> DiscoveryError:
    for url in (OIDC_URL, RFC8414_URL):
        responses.get(url, **kw)
    with pytest.raises(DiscoveryError) as exc_info:
        fetch(session)
    assert exc_info.value.error == "discovery_failed"
    assert OIDC_URL in str(exc_info.value)
    assert RFC8414_URL in str(exc_info.value)
    return exc_info.value


def test_provider_down(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    err = _failure(responses, session, body=requests.ConnectionError("refused"))
    assert "the server could not be reached" in str(err)
    assert "ConnectionError(" not in str(err)
    assert isinstance(err, ValueError)


def test_provider_timeout(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    err = _failure(responses, session, body=requests.ReadTimeout("slow"))
    assert "the request timed out" in str(err)


def test_provider_500(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    assert "HTTP status 500" in str(_failure(responses, session, status=500))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<html>oops</html>", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ("\xff\xfe garbage", "not valid JSON"),
        ("{" * 100000, "not valid JSON"),
    ],
)
def test_provider_garbage(
    responses: responses_lib.RequestsMock,
    session: requests.Session,
    body: str,
    reason: str,
) -> None:
    assert reason in str(_failure(responses, session, body=body))


def test_oversized_document_refused(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    huge = json.dumps({"issuer": ISSUER, "pad": "x" * (600 * 1024)})
    assert "larger than" in str(_failure(responses, session, body=huge))


def test_http_issuer_needs_opt_in(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    issuer = "http://localhost:5000"
    responses.get(issuer + "/.well-known/openid-configuration", json=document(issuer))
    with pytest.raises(DiscoveryError, match="does not use https"):
        fetch(session, issuer)
    assert len(responses.calls) == 0
    assert fetch(session, issuer, allow_insecure=True).issuer == issuer


@pytest.mark.parametrize("url", ["/jwks", "ftp://idp.example/jwks", "https://"])
def test_only_absolute_http_urls_are_fetched(url: str) -> None:
    with pytest.raises(FetchFailed, match="not an absolute http"):
        check_url(url, allow_insecure=True)


def test_plain_http_needs_the_opt_in() -> None:
    with pytest.raises(FetchFailed, match="OAUTHLIB_INSECURE_TRANSPORT"):
        check_url("http://localhost/jwks", allow_insecure=False)
    check_url("http://localhost/jwks", allow_insecure=True)
    check_url("https://idp.example/jwks", allow_insecure=False)


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (requests.ConnectTimeout("slow"), "the request timed out"),
        (
            requests.exceptions.SSLError("bad cert"),
            "the TLS handshake failed (certificate or protocol)",
        ),
        (
            requests.ConnectionError(
                "HTTPSConnectionPool(host='idp'): Max retries exceeded"
                " (Caused by NewConnectionError('<urllib3.connection object>:"
                " Failed to establish a new connection: [Errno 111] Connection"
                " refused'))"
            ),
            "the server could not be reached (Connection refused)",
        ),
        (requests.ConnectionError("reset"), "the server could not be reached"),
        (requests.TooManyRedirects("loop"), "TooManyRedirects"),
    ],
)
def test_request_errors_are_told_in_a_few_words(
    exc: requests.RequestException, words: str
) -> None:
    assert describe_request_error(exc) == words


def test_a_json_object_is_returned(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    responses.get(OIDC_URL, json={"issuer": ISSUER})
    assert fetch_json(session, OIDC_URL, timeout=1.0) == {"issuer": ISSUER}
    assert responses.calls[0].request.headers["Accept"] == "application/json"


def test_a_redirect_to_another_origin_is_not_followed(
    responses: responses_lib.RequestsMock, session: requests.Session
) -> None:
    responses.get(OIDC_URL, status=302, headers={"Location": "https://evil.example/x"})
    with pytest.raises(FetchFailed, match="redirect to another origin"):
        fetch_json(session, OIDC_URL, timeout=1.0)
    assert len(responses.calls) == 1
