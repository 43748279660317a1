"""OpenID Connect logins end to end: the consumer blueprint against the local
provider on a real socket."""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

import flask
import pytest

from dance_helpers import Sends
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_authorized
from flask_dance.consumer import oauth_refresh_failed
from flask_dance.consumer.oidc import clear_caches
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.testing import LocalProvider


@pytest.fixture(scope="module")
def provider() -> t.Iterator[LocalProvider]:
    with LocalProvider() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(
    provider: LocalProvider, monkeypatch: pytest.MonkeyPatch
) -> t.Iterator[None]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    provider.reset()
    clear_caches()
    yield
    clear_caches()


def make_app(provider: LocalProvider, **kwargs: t.Any) -> flask.Flask:
    options: dict[str, t.Any] = {
        "client_id": "test-client",
        "client_secret": "test-secret",
        "issuer": provider.issuer,
        "scope": "openid profile email",
        "base_url": provider.url + "/",
        "storage": MemoryStorage(),
    }
    options.update(kwargs)
    bp = OAuth2ConsumerBlueprint("local", __name__, **options)
    app = flask.Flask(__name__)
    app.secret_key = "test"
    app.register_blueprint(bp, url_prefix="/login")

    @app.route("/")
    def index() -> str:
        return "index"

    return app


def dance(
    app: flask.Flask, provider: LocalProvider, client: t.Any, approve: bool = True
) -> t.Any:
    response = client.get("/login/local")
    assert response.status_code == 302, response.data
    result = provider.authorize(response.headers["Location"], approve=approve)
    path = urlsplit(result.url)
    if result.method == "POST":
        return client.post(path.path, data=result.params)
    return client.get(path.path + "?" + path.query)


def test_discovery_supplies_the_endpoints(provider: LocalProvider) -> None:
    app = make_app(provider)
    with app.test_client() as client:
        response = client.get("/login/local")
    location = response.headers["Location"]
    assert location.startswith(provider.authorization_url + "?")
    assert "nonce=" in location
    assert "code_challenge_method=S256" in location


def test_valid_login_stores_token_with_claims(provider: LocalProvider) -> None:
    app = make_app(provider)
    bp = t.cast(OAuth2ConsumerBlueprint, app.blueprints["local"])
    seen: list[t.Any] = []

    def receiver(sender: t.Any, token: t.Any) -> None:
        seen.append(token["id_token_claims"]["sub"])

    with oauth_authorized.connected_to(receiver), app.test_client() as client:
        response = dance(app, provider, client)
        assert response.headers["Location"] == "/"
    with app.test_request_context("/"):
        claims = bp.id_token_claims
        assert claims is not None
        assert claims["iss"] == provider.issuer
        assert claims["aud"] in ("test-client", ["test-client"])
        assert seen == [claims["sub"]]
        info = bp.userinfo()
        assert info["sub"] == claims["sub"]


@pytest.mark.parametrize(
    ("fault", "value", "expected"),
    [
        ("id_token_iss", "https://evil.example", "invalid_issuer"),
        ("id_token_aud", "someone-else", "invalid_audience"),
        ("id_token_nonce", "not-the-nonce", "invalid_nonce"),
        ("id_token_expired", True, "token_expired"),
        ("response_iss", "https://evil.example", "iss_mismatch"),
        ("omit_response_iss", True, "missing_iss"),
    ],
)
def test_bad_id_token_or_iss_stores_nothing(
    provider: LocalProvider,
    errors: list[dict[str, t.Any]],
    fault: str,
    value: t.Any,
    expected: str,
) -> None:
    setattr(provider.faults, fault, value)
    storage = MemoryStorage()
    app = make_app(provider, storage=storage)
    with app.test_client() as client:
        response = dance(app, provider, client)
    assert response.status_code == 302
    assert storage.get(app.blueprints["local"]) is None  # type: ignore[arg-type]
    assert errors[-1]["error"] == expected


@pytest.mark.usefixtures("errors")
def test_iss_mismatch_makes_no_token_request(provider: LocalProvider) -> None:
    provider.faults.response_iss = "https://evil.example"
    app = make_app(provider)
    with app.test_client() as client:
        dance(app, provider, client)
    assert provider.calls["token"] == 0


def test_deny_sends_access_denied(
    provider: LocalProvider, errors: list[dict[str, t.Any]]
) -> None:
    app = make_app(provider)
    with app.test_client() as client:
        dance(app, provider, client, approve=False)
    assert errors[-1]["error"] == "access_denied"


def test_form_post_callback(provider: LocalProvider) -> None:
    storage = MemoryStorage()
    app = make_app(provider, response_mode="form_post", storage=storage)
    with app.test_client() as client:
        response = dance(app, provider, client)
    assert response.status_code == 302
    stored = storage.get(app.blueprints["local"])  # type: ignore[arg-type]
    assert stored is not None
    assert "id_token_claims" in stored


def test_form_post_without_cookie_is_posted_again(provider: LocalProvider) -> None:
    app = make_app(provider, response_mode="form_post")
    with app.test_client() as client:
        response = client.post(
            "/login/local/authorized", data={"code": "c", "state": "s"}
        )
    assert response.status_code == 200
    assert b'name="_flask_dance_repost"' in response.data
    assert b'value="s"' in response.data


def test_discovery_failure_at_login_is_clean(errors: list[dict[str, t.Any]]) -> None:
    app = make_app(
        t.cast(
            LocalProvider,
            type(
                "P", (), {"issuer": "http://127.0.0.1:9", "url": "http://127.0.0.1:9"}
            )(),
        )
    )
    response = app.test_client().get("/login/local")
    assert response.status_code == 302
    assert errors[-1]["error"] == "discovery_failed"


def expired_login(
    provider: LocalProvider,
) -> tuple[flask.Flask, OAuth2ConsumerBlueprint, MemoryStorage, dict[str, t.Any]]:
    """A login through ``provider`` whose stored token has expired; return the
    app, its blueprint and storage, and the token."""
    storage = MemoryStorage()
    app = make_app(provider, storage=storage)
    bp = t.cast(OAuth2ConsumerBlueprint, app.blueprints["local"])
    with app.test_client() as client:
        dance(app, provider, client)
    stored = storage.get(bp)
    assert stored is not None
    stored["expires_at"] = 1.0
    stored["expires_in"] = 3600
    return app, bp, storage, stored


def test_refresh_keeps_identity_and_rotates(provider: LocalProvider) -> None:
    app, bp, storage, stored = expired_login(provider)
    with app.test_request_context("/"):
        response = bp.session.get("user")
        assert response.status_code == 200
    refreshed = storage.get(bp)
    assert refreshed is not None
    assert refreshed["access_token"] != stored["access_token"]
    assert refreshed["id_token_claims"]["sub"] == stored["id_token_claims"]["sub"]
    assert provider.calls["refresh"] == 1


def test_refreshed_id_token_with_other_subject_is_rejected(
    provider: LocalProvider, record: t.Callable[..., Sends]
) -> None:
    app, bp, storage, stored = expired_login(provider)
    provider.faults.id_token_sub = "someone-else"
    failures = record(oauth_refresh_failed)
    with app.test_request_context("/"):
        response = bp.session.get("user")
    assert response.status_code == 401
    assert storage.get(bp) is None
    assert len(failures) == 1


def test_logout_revokes_and_redirects_to_end_session(provider: LocalProvider) -> None:
    storage = MemoryStorage()
    app = make_app(
        provider,
        storage=storage,
        post_logout_redirect_uri="http://localhost/login/local/logged-out",
        logout=True,
    )
    bp = t.cast(OAuth2ConsumerBlueprint, app.blueprints["local"])
    with app.test_client() as client:
        dance(app, provider, client)
        token = storage.get(bp)
        assert token is not None
        with client.session_transaction() as browser:
            browser["local_oauth_logout_token"] = "per-session"
        response = client.get("/login/local/logout?next=/bye&logout_token=per-session")
        assert storage.get(bp) is None
        location = response.headers["Location"]
        assert location.startswith(provider.end_session_url + "?")
        assert provider.calls["revoke"] == 1
        assert not provider.is_active(token["refresh_token"])
        state = flask.session["local_oauth_logout"]["state"]
        bad = client.get("/login/local/logged-out?state=tampered")
        assert bad.status_code == 302
        assert "local_oauth_logout" not in flask.session
    with app.test_client() as client:
        dance(app, provider, client)
        with client.session_transaction() as browser:
            browser["local_oauth_logout_token"] = "per-session"
        client.get("/login/local/logout?next=/bye&logout_token=per-session")
        state = flask.session["local_oauth_logout"]["state"]
        good = client.get(f"/login/local/logged-out?state={state}")
    assert good.headers["Location"] == "/bye"
