"""The parts every consumer blueprint shares: the per-request session, the
token property, configuration, storage and routes."""

from __future__ import annotations

import http.server
import threading
import typing as t
from unittest import mock

import flask
import pytest
import requests
import responses as responses_lib
from freezegun import freeze_time
from oauthlib.oauth2 import InsecureTransportError

from dance_helpers import BASE
from dance_helpers import callback
from dance_helpers import in_request
from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import start_login
from flask_dance.consumer import OAuth1ConsumerBlueprint
from flask_dance.consumer import OAuth1Session
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import OAuth2Session
from flask_dance.consumer.base import BaseOAuthConsumerBlueprint
from flask_dance.consumer.base import BlueprintOptions
from flask_dance.consumer.storage import BaseStorage
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.consumer.storage import NullStorage
from flask_dance.consumer.storage.session import SessionStorage

# -- the per-request session ---------------------------------------------------------


def test_session_is_one_per_request_and_shares_the_pool() -> None:
    bp = make_blueprint()
    app = make_app(bp)
    with app.test_request_context("/"):
        first = bp.session
        assert bp.session is first
    with app.test_request_context("/"):
        second = bp.session
    assert first is not second
    assert isinstance(first, OAuth2Session)
    assert first.adapters is not second.adapters
    assert first.adapters["https://"] is second.adapters["https://"]
    assert first.adapters["http://"] is second.adapters["http://"]


def test_session_ends_with_the_request() -> None:
    bp = make_blueprint()
    app = make_app(bp)
    seen: list[t.Any] = []

    @app.route("/probe")
    def probe() -> str:
        seen.append(bp.session)
        return "ok"

    client = app.test_client()
    client.get("/probe")
    client.get("/probe")
    assert seen[0] is not seen[1]
    with app.test_request_context("/"):
        session = bp.session
        del bp.session
        assert bp.session is not session


@pytest.mark.usefixtures("memory_storage")
def test_session_token_is_per_request() -> None:
    bp = make_blueprint(storage=SessionStorage())
    app = make_app(bp)

    @app.route("/tok")
    def tok() -> str:
        return str(bp.session.access_token)

    alice, bob = app.test_client(), app.test_client()
    with alice.session_transaction() as sess:
        sess["test-service_oauth_token"] = {"access_token": "alice"}
    with bob.session_transaction() as sess:
        sess["test-service_oauth_token"] = {"access_token": "bob"}
    assert alice.get("/tok").text == "alice"
    assert bob.get("/tok").text == "bob"
    assert alice.get("/tok").text == "alice"


def test_closing_a_session_keeps_the_shared_pool_open() -> None:
    bp = make_blueprint()
    app = make_app(bp)
    with app.test_request_context("/"):
        session = bp.session
        shared = session.adapters["https://"]
        own = requests.adapters.HTTPAdapter()
        session.mount("https://special.example/", own)
        with (
            mock.patch.object(shared, "close") as shared_close,
            mock.patch.object(own, "close") as own_close,
        ):
            session.close()
        shared_close.assert_not_called()
        own_close.assert_called_once_with()
    with app.test_request_context("/"):
        assert bp.session.adapters["https://"] is shared


class _KeepAliveHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.peers.append(self.client_address[1])  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"me")

    def log_message(self, format: str, *args: t.Any) -> None:
        pass


def test_connection_is_reused_across_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveHandler)
    server.peers = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    bp = make_blueprint(base_url=url, storage=MemoryStorage({"access_token": "x"}))
    app = make_app(bp)
    try:
        for _ in range(3):
            with app.test_request_context("/"):
                assert bp.session.get("/me").text == "me"
    finally:
        with app.app_context():
            for adapter in bp.session.adapters.values():
                adapter.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    peers = server.peers  # type: ignore[attr-defined]
    assert len(peers) == 3
    assert len(set(peers)) == 1, "each request opened a new connection"


def test_session_outside_a_context_is_kept_and_adopted_once() -> None:
    bp = make_blueprint(storage=MemoryStorage({"access_token": "a"}))
    app = make_app(bp)
    detached = bp.session
    assert bp.session is detached
    assert detached.access_token == "a"
    bp.storage.set(bp, {"access_token": "b"})
    with app.test_request_context("/"):
        # the request adopts the patched session, but reloads the token
        assert bp.session is detached
        assert bp.session.access_token == "b"
    with app.test_request_context("/"):
        assert bp.session is not detached
    assert bp.session is not detached


def test_teardown_outside_a_context_drops_the_detached_session() -> None:
    bp = make_blueprint()
    detached = bp.session
    del bp.session
    assert bp.session is not detached


def _oauth1_blueprint(**kwargs: t.Any) -> OAuth1ConsumerBlueprint:
    return OAuth1ConsumerBlueprint(
        "test-service", __name__, client_key="k", base_url=BASE, **kwargs
    )


@pytest.mark.parametrize(
    ("session_base", "blueprint_factory"),
    [(OAuth2Session, make_blueprint), (OAuth1Session, _oauth1_blueprint)],
    ids=["oauth2", "oauth1"],
)
def test_session_class_and_kwargs_are_used(
    session_base: type[t.Any], blueprint_factory: t.Callable[..., t.Any]
) -> None:
    class MySession(session_base):  # type: ignore[misc,valid-type]
        def __init__(self, *args: t.Any, flavour: str, **kwargs: t.Any) -> None:
            super().__init__(*args, **kwargs)
            self.flavour = flavour

    bp = blueprint_factory(session_class=MySession, flavour="mint")
    with make_app(bp).test_request_context("/"):
        assert isinstance(bp.session, MySession)
        assert bp.session.flavour == "mint"
        assert bp.session.blueprint is bp


#: A value of each :class:`BlueprintOptions` key, and where it lands.
_OPTION_VALUES: dict[str, t.Any] = {
    "static_folder": "/srv/static",
    "static_url_path": "/assets",
    "template_folder": "templates",
    "url_prefix": "/login",
    "subdomain": "auth",
    "url_defaults": {"lang": "en"},
    "root_path": "/srv/app",
    "login_url": "/in",
    "authorized_url": "/in/done",
    "base_url": "https://api.example.com/",
    "authorization_url": "https://example.com/authorize",
    "redirect_url": "https://app.example.com/home",
    "redirect_to": "index",
    "storage": MemoryStorage(),
    "rule_kwargs": {"host": "login.example"},
    "redirect_uri": "https://app.example.com/in/done",
    "timeout": (1.0, 2.0),
    "pending_login_ttl": 60,
}


def _where_option_lands(bp: t.Any, key: str) -> t.Any:
    if key in ("login_url", "authorized_url"):
        app = flask.Flask(__name__)
        app.register_blueprint(bp)
        endpoint = "svc.login" if key == "login_url" else "svc.authorized"
        (rule,) = [r.rule for r in app.url_map.iter_rules() if r.endpoint == endpoint]
        return rule
    if key == "url_defaults":
        return bp.url_values_defaults
    return getattr(bp, key)


def test_blueprint_options_name_every_option() -> None:
    assert set(BlueprintOptions.__annotations__) == set(_OPTION_VALUES)


@pytest.mark.parametrize("key", sorted(_OPTION_VALUES))
@pytest.mark.parametrize(
    "blueprint_class", [OAuth2ConsumerBlueprint, OAuth1ConsumerBlueprint]
)
def test_each_blueprint_option_reaches_the_blueprint_not_the_session(
    blueprint_class: type[t.Any], key: str
) -> None:
    value = _OPTION_VALUES[key]
    bp = blueprint_class("svc", __name__, **{key: value})
    assert bp.kwargs == {}
    if key != "rule_kwargs":  # see test_rule_kwargs_reach_both_rules
        assert _where_option_lands(bp, key) == value


@pytest.mark.parametrize(
    "blueprint_class", [OAuth2ConsumerBlueprint, OAuth1ConsumerBlueprint]
)
def test_options_and_session_arguments_are_parted(blueprint_class: type[t.Any]) -> None:
    bp = blueprint_class("svc", __name__, url_prefix="/login", flavour="mint")
    assert bp.url_prefix == "/login"
    assert bp.kwargs == {"flavour": "mint"}


def test_the_base_refuses_an_unknown_keyword() -> None:
    class Minimal(BaseOAuthConsumerBlueprint):
        def login(self) -> str:
            return "login"

        def authorized(self) -> str:
            return "authorized"

    assert Minimal("svc", __name__, url_prefix="/x").url_prefix == "/x"
    with pytest.raises(TypeError, match="unexpected keyword arguments: flavour"):
        Minimal("svc", __name__, url_prefix="/x", flavour="mint")  # type: ignore[call-arg]


def test_registering_notes_the_blueprint_in_extensions() -> None:
    bp = make_blueprint()
    app = make_app(bp)
    assert app.extensions["flask_dance"]["test-service"] is bp


# -- the token property -------------------------------------------------------


def test_token_setter_stores_a_copy_with_expires_at() -> None:
    storage = MemoryStorage()
    bp = make_blueprint(storage=storage)
    given = {"access_token": "a", "expires_in": 3600}
    with freeze_time("2026-01-01 00:00:00"):
        bp.token = given
    assert given == {"access_token": "a", "expires_in": 3600}
    assert storage.token is not given
    assert storage.token == {
        "access_token": "a",
        "expires_in": 3600,
        "expires_at": 1767225600.0 + 3600,
    }


def test_token_setter_overrides_provider_expires_at() -> None:
    storage = MemoryStorage()
    bp = make_blueprint(storage=storage)
    with freeze_time("2026-01-01 00:00:00"):
        bp.token = {"access_token": "a", "expires_in": "60", "expires_at": 1}
    assert storage.token is not None
    assert storage.token["expires_at"] == 1767225600.0 + 60


def test_token_without_expiry_is_stored_as_given() -> None:
    storage = MemoryStorage()
    bp = make_blueprint(storage=storage)
    bp.token = {"access_token": "a"}
    assert storage.token == {"access_token": "a"}
    bp.token = "opaque"  # type: ignore[assignment]
    assert bp.token == "opaque"


def test_token_getter_recomputes_expires_in_on_a_copy() -> None:
    stored = {
        "access_token": "a",
        "expires_in": 3600,
        "expires_at": 1767225600.0 + 3600,
    }
    storage = MemoryStorage(stored)
    bp = make_blueprint(storage=storage)
    with freeze_time("2026-01-01 00:10:00"):
        token = bp.token
    assert token["expires_in"] == pytest.approx(3000)
    assert stored["expires_in"] == 3600
    with freeze_time("2026-01-01 02:00:00"):
        assert bp.token["expires_in"] == pytest.approx(-3600)
    token["access_token"] = "changed"
    assert stored["access_token"] == "a"


def test_token_getter_leaves_tokens_without_expiry_alone() -> None:
    bp = make_blueprint(storage=MemoryStorage({"access_token": "a", "expires_at": 5}))
    assert bp.token == {"access_token": "a", "expires_at": 5}
    bp.storage = NullStorage()
    assert bp.token is None


@pytest.mark.parametrize("storage_class", [SessionStorage, MemoryStorage])
def test_deleting_a_missing_token_does_nothing(
    storage_class: type[BaseStorage],
) -> None:
    bp = make_blueprint(storage=storage_class())
    app = make_app(bp)
    with app.test_request_context("/"):
        del bp.token
        del bp.token
        assert bp.token is None


def test_deleting_the_token_forgets_it_in_the_session() -> None:
    with in_request({"access_token": "a"}) as (bp, _):
        assert bp.session.authorized
        del bp.token
        assert not bp.session.authorized
        bp.token = {"access_token": "b"}
        assert bp.session.access_token == "b"


def test_config_update_invalidates_cached_token() -> None:
    class PerUserStorage(BaseStorage):
        def get(self, blueprint: t.Any) -> t.Any:
            user = blueprint.config.get("user")
            return {"access_token": f"token-{user}"} if user else None

        def set(self, blueprint: t.Any, token: t.Any) -> None:
            raise AssertionError("not used")

        def delete(self, blueprint: t.Any) -> None:
            raise AssertionError("not used")

    bp = make_blueprint(storage=PerUserStorage())
    with make_app(bp).test_request_context("/"):
        assert bp.session.access_token is None
        bp.config["user"] = "alice"
        assert bp.session.access_token == "token-alice"
        bp.config.update(user="bob")
        assert bp.session.access_token == "token-bob"
        del bp.config["user"]
        assert bp.session.access_token is None
    # outside a request the detached session is invalidated too
    bp.config["user"] = "carol"
    assert bp.session.access_token == "token-carol"
    bp.config["user"] = "dave"
    assert bp.session.access_token == "token-dave"


def test_token_getter_setter_deleter_decorators() -> None:
    bp = make_blueprint(storage=MemoryStorage({"access_token": "from-storage"}))
    kept: dict[str, t.Any] = {"token": {"access_token": "from-getter"}}
    calls: list[str] = []

    @bp.token_getter
    def get_token() -> t.Any:
        calls.append("get")
        return kept["token"]

    @bp.token_setter
    def set_token(token: t.Any) -> None:
        calls.append("set")
        kept["token"] = token

    @bp.token_deleter
    def delete_token() -> None:
        calls.append("delete")
        kept["token"] = None

    assert get_token is not None
    assert set_token is not None
    assert delete_token is not None
    assert bp.token == {"access_token": "from-getter"}
    with freeze_time("2026-01-01 00:00:00"):
        bp.token = {"access_token": "new", "expires_in": 10}
    assert kept["token"]["expires_at"] == 1767225600.0 + 10
    del bp.token
    assert kept["token"] is None
    assert calls == ["get", "set", "delete"]
    assert bp.storage.get(bp) == {"access_token": "from-storage"}


# -- storage ------------------------------------------------------------------


def test_default_storage_is_session_storage() -> None:
    assert isinstance(make_blueprint().storage, SessionStorage)


def test_storage_class_is_instantiated() -> None:
    bp = make_blueprint(storage=MemoryStorage)
    assert isinstance(bp.storage, MemoryStorage)
    other = make_blueprint(storage=MemoryStorage)
    assert other.storage is not bp.storage


def test_storage_factory_is_called() -> None:
    made = MemoryStorage()
    bp = make_blueprint(storage=lambda: made)
    assert bp.storage is made


def test_storage_instance_is_used_even_if_callable() -> None:
    class CallableStorage(MemoryStorage):
        def __call__(self) -> t.NoReturn:
            raise AssertionError("a storage instance must not be called")

    storage = CallableStorage()
    assert make_blueprint(storage=storage).storage is storage


def test_storage_property_set_and_delete() -> None:
    bp = make_blueprint()
    new = MemoryStorage({"access_token": "x"})
    bp.storage = new
    assert bp.storage is new
    assert bp.token == {"access_token": "x"}
    del bp.storage
    with pytest.raises(AttributeError):
        bp.storage  # noqa: B018


# -- routes -------------------------------------------------------------------


@pytest.mark.usefixtures("token_endpoint")
def test_custom_login_and_authorized_urls() -> None:
    storage = MemoryStorage()
    bp = make_blueprint(
        login_url="/start/{bp.name}",
        authorized_url="/back/{bp.name}/done",
        storage=storage,
    )
    app = make_app(bp)
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    assert rules["test-service.login"] == "/login/start/test-service"
    assert rules["test-service.authorized"] == "/login/back/test-service/done"
    with app.test_client() as client:
        params = start_login(client, "/login/start/test-service")
        assert params["redirect_uri"] == "https://a.b.c/login/back/test-service/done"
        response = client.get(
            "/login/back/test-service/done",
            query_string={"code": "c", "state": params["state"]},
            base_url=BASE,
        )
    assert response.status_code == 302
    assert storage.token is not None


@pytest.mark.parametrize("oauth_version", [1, 2])
def test_rule_kwargs_reach_both_rules(oauth_version: int) -> None:
    if oauth_version == 2:
        bp: t.Any = make_blueprint(rule_kwargs={"host": "login.example"})
    else:
        bp = OAuth1ConsumerBlueprint(
            "test-service", __name__, rule_kwargs={"host": "login.example"}
        )
    app = flask.Flask(__name__, host_matching=True, static_host="static.example")
    app.secret_key = "k"
    app.register_blueprint(bp, url_prefix="/login")
    hosts = {
        rule.endpoint: rule.host
        for rule in app.url_map.iter_rules()
        if rule.endpoint in ("test-service.login", "test-service.authorized")
    }
    assert hosts == {
        "test-service.login": "login.example",
        "test-service.authorized": "login.example",
    }
    client = app.test_client()
    assert (
        client.get("/login/test-service", base_url="https://other.example").status_code
        == 404
    )


def test_plain_http_token_url_is_refused(responses: responses_lib.RequestsMock) -> None:
    app = make_app(token_url="http://example.com/oauth/token")
    app.testing = True
    with app.test_client() as client:
        params = start_login(client)
        with pytest.raises(InsecureTransportError):
            callback(client, code="c", state=params["state"])
    assert len(responses.calls) == 0
