from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
import requests
from oauthlib.oauth1 import Client as OAuth1Signer
from requests_oauthlib import OAuth1Session
from requests_oauthlib.oauth1_session import TokenRequestDenied

from flask_dance.testing import LocalProvider

CALLBACK = "http://localhost:5000/login/twitter/authorized"
KEY = "test-consumer-key"
SECRET = "test-consumer-secret"


def _session(**kwargs: str) -> OAuth1Session:
    return OAuth1Session(KEY, client_secret=SECRET, callback_uri=CALLBACK, **kwargs)


def _temporary(provider: LocalProvider) -> tuple[OAuth1Session, dict[str, str]]:
    oauth = _session()
    tokens = oauth.fetch_request_token(provider.url + "/oauth1/request_token")
    return oauth, tokens


def _signed_post(url: str, **client_kwargs: str) -> requests.Response:
    signer = OAuth1Signer(KEY, client_secret=SECRET, **client_kwargs)
    uri, headers, body = signer.sign(url, http_method="POST")
    return requests.post(uri, headers=headers, data=body, timeout=5)


def test_full_dance(provider: LocalProvider) -> None:
    oauth, tokens = _temporary(provider)
    assert tokens["oauth_callback_confirmed"] == "true"
    url = oauth.authorization_url(provider.url + "/oauth1/authorize")
    result = provider.authorize(url, user="monalisa")
    assert result.redirect_uri == CALLBACK
    assert result.params["oauth_token"] == tokens["oauth_token"]
    assert result.params["oauth_verifier"]
    oauth.parse_authorization_response(result.url)
    access = oauth.fetch_access_token(provider.url + "/oauth1/access_token")
    assert access["oauth_token"] != tokens["oauth_token"]
    me = oauth.get(provider.url + "/oauth1/user", timeout=5)
    assert me.status_code == 200
    assert me.json()["login"] == "monalisa"
    emails = oauth.get(provider.url + "/oauth1/user/emails", timeout=5).json()
    assert emails[0]["email"] == "monalisa@example.com"
    assert provider.calls["oauth1_request_token"] == 1
    assert provider.calls["oauth1_authorize"] == 1
    assert provider.calls["oauth1_consent"] == 1
    assert provider.calls["oauth1_access_token"] == 1
    assert provider.calls["oauth1_user"] == 1


def test_access_token_request_must_use_temporary_secret(
    provider: LocalProvider,
) -> None:
    oauth, tokens = _temporary(provider)
    result = provider.authorize(
        oauth.authorization_url(provider.url + "/oauth1/authorize")
    )
    url = provider.url + "/oauth1/access_token"
    verifier = result.params["oauth_verifier"]

    def exchange(token_secret: str) -> requests.Response:
        return _signed_post(
            url,
            resource_owner_key=tokens["oauth_token"],
            resource_owner_secret=token_secret,
            verifier=verifier,
        )

    # Signed with an empty token secret (Flask-Dance 7.1's defect): refused.
    assert exchange("").status_code == 401
    assert exchange("not-the-secret").status_code == 401
    # The key is client_secret&temporary_secret.
    right = exchange(tokens["oauth_token_secret"])
    assert right.status_code == 200, right.text
    assert dict(parse_qsl(right.text))["oauth_token"]


def _exchange_with_a_made_up_verifier(
    provider: LocalProvider, tokens: dict[str, str]
) -> requests.Response:
    return _signed_post(
        provider.url + "/oauth1/access_token",
        resource_owner_key=tokens["oauth_token"],
        resource_owner_secret=tokens["oauth_token_secret"],
        verifier="x" * 30,
    )


def test_wrong_verifier_refused(provider: LocalProvider) -> None:
    oauth, tokens = _temporary(provider)
    provider.authorize(oauth.authorization_url(provider.url + "/oauth1/authorize"))
    assert _exchange_with_a_made_up_verifier(provider, tokens).status_code == 401


def test_unauthorized_request_token_cannot_be_exchanged(
    provider: LocalProvider,
) -> None:
    _, tokens = _temporary(provider)
    assert _exchange_with_a_made_up_verifier(provider, tokens).status_code == 401


def test_request_token_is_single_use(provider: LocalProvider) -> None:
    oauth, tokens = _temporary(provider)
    result = provider.authorize(
        oauth.authorization_url(provider.url + "/oauth1/authorize")
    )
    kwargs = {
        "resource_owner_key": tokens["oauth_token"],
        "resource_owner_secret": tokens["oauth_token_secret"],
        "verifier": result.params["oauth_verifier"],
    }
    url = provider.url + "/oauth1/access_token"
    assert _signed_post(url, **kwargs).status_code == 200
    assert _signed_post(url, **kwargs).status_code == 401


def test_bad_consumer_secret(provider: LocalProvider) -> None:
    oauth = OAuth1Session(KEY, client_secret="wrong", callback_uri=CALLBACK)
    with pytest.raises(TokenRequestDenied):
        oauth.fetch_request_token(provider.url + "/oauth1/request_token")


def test_unregistered_callback_refused(provider: LocalProvider) -> None:
    oauth = OAuth1Session(
        KEY, client_secret=SECRET, callback_uri="https://evil.example/cb"
    )
    with pytest.raises(TokenRequestDenied):
        oauth.fetch_request_token(provider.url + "/oauth1/request_token")


def test_nonce_replay_refused(provider: LocalProvider) -> None:
    signer = OAuth1Signer(KEY, client_secret=SECRET, callback_uri=CALLBACK)
    uri, headers, body = signer.sign(
        provider.url + "/oauth1/request_token", http_method="POST"
    )
    assert requests.post(uri, headers=headers, data=body, timeout=5).status_code == 200
    assert requests.post(uri, headers=headers, data=body, timeout=5).status_code == 401


def test_deny(provider: LocalProvider) -> None:
    oauth, tokens = _temporary(provider)
    url = oauth.authorization_url(provider.url + "/oauth1/authorize")
    result = provider.authorize(url, approve=False)
    assert result.params == {"denied": tokens["oauth_token"]}
    assert result.redirect_uri == CALLBACK
    # The request token is gone.
    assert requests.get(url, timeout=5).status_code == 400


def test_deny_all(provider: LocalProvider) -> None:
    provider.faults.deny_all = True
    oauth, tokens = _temporary(provider)
    result = provider.authorize(
        oauth.authorization_url(provider.url + "/oauth1/authorize")
    )
    assert result.params == {"denied": tokens["oauth_token"]}


def test_unknown_token_on_authorize(provider: LocalProvider) -> None:
    response = requests.get(
        provider.url + "/oauth1/authorize", params={"oauth_token": "x" * 30}, timeout=5
    )
    assert response.status_code == 400


def test_resource_requires_signature(provider: LocalProvider) -> None:
    assert requests.get(provider.url + "/oauth1/user", timeout=5).status_code == 401
    oauth, _ = _temporary(provider)
    result = provider.authorize(
        oauth.authorization_url(provider.url + "/oauth1/authorize")
    )
    oauth.parse_authorization_response(result.url)
    access = oauth.fetch_access_token(provider.url + "/oauth1/access_token")
    forged = OAuth1Session(
        KEY,
        client_secret=SECRET,
        resource_owner_key=access["oauth_token"],
        resource_owner_secret="wrong",
    )
    assert forged.get(provider.url + "/oauth1/user", timeout=5).status_code == 401


def test_oob_callback(provider: LocalProvider) -> None:
    provider.add_oauth1_client("oob-key", "oob-secret", ["oob"])
    oauth = OAuth1Session("oob-key", client_secret="oob-secret", callback_uri="oob")
    oauth.fetch_request_token(provider.url + "/oauth1/request_token")
    page = requests.get(
        oauth.authorization_url(provider.url + "/oauth1/authorize"), timeout=5
    ).text
    txn = page.split('name="txn" value="')[1].split('"')[0]
    response = requests.post(
        provider.url + "/oauth1/authorize",
        data={"txn": txn, "user": "octocat", "approve": "1"},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 200
    assert "id='verifier'" in response.text


def test_blueprint_kwargs(provider: LocalProvider) -> None:
    kwargs = provider.oauth1_blueprint_kwargs()
    assert kwargs == {
        "client_key": KEY,
        "client_secret": SECRET,
        "base_url": provider.url + "/oauth1/",
        "request_token_url": provider.url + "/oauth1/request_token",
        "authorization_url": provider.url + "/oauth1/authorize",
        "access_token_url": provider.url + "/oauth1/access_token",
    }
