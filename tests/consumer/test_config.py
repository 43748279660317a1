"""Config binding (consumer/_config.py): from_config, load_config, per-app hooks."""

from __future__ import annotations

import types
import typing as t

import flask
import pytest
from flask.testing import FlaskClient

from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import start_login
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer._config import APP_HOOKS_KEY
from flask_dance.consumer._config import AppHooks
from flask_dance.contrib.github import make_github_blueprint


def test_session_in_app_context_reads_config() -> None:
    bp = make_blueprint(client_id=None, client_secret=None)
    bp.from_config["client_id"] = "TEST_CLIENT_ID"
    bp.from_config["client_secret"] = "TEST_CLIENT_SECRET"
    bp.from_config["session.verify"] = "TEST_CA_BUNDLE"
    app = make_app(bp)
    app.config["TEST_CLIENT_ID"] = "id-from-config"
    app.config["TEST_CLIENT_SECRET"] = "secret-from-config"
    app.config["TEST_CA_BUNDLE"] = "/etc/ca.pem"
    with app.app_context():
        session = bp.session
        assert session.client_id == "id-from-config"
        assert session._client.client_id == "id-from-config"
        assert session.verify == "/etc/ca.pem"
        assert bp.client_secret == "secret-from-config"


def test_adopted_session_gets_config_values() -> None:
    bp = make_blueprint(client_id=None)
    bp.from_config["client_id"] = "TEST_CLIENT_ID"
    app = make_app(bp)
    app.config["TEST_CLIENT_ID"] = "id-from-config"
    detached = bp.session
    with app.test_client() as client:
        params = start_login(client)
    assert bp.session is not detached
    assert params["client_id"] == "id-from-config"


def test_from_config_applies_only_truthy_values() -> None:
    bp = make_blueprint(client_id="kept", client_secret="kept-secret")
    bp.from_config["client_id"] = "TEST_CLIENT_ID"
    bp.from_config["client_secret"] = "TEST_CLIENT_SECRET"
    app = make_app(bp)
    app.config["TEST_CLIENT_ID"] = ""
    with app.test_request_context("/"):
        app.preprocess_request()
        assert bp.client_id == "kept"
        assert bp.session.client_id == "kept"
        assert bp.client_secret == "kept-secret"


def test_from_config_dotted_paths() -> None:
    bp = make_blueprint(client_id="default")
    bp.extra = types.SimpleNamespace(flavour=None)  # type: ignore[attr-defined]
    bp.from_config["extra.flavour"] = "FLAVOUR"
    bp.from_config["session.client_id"] = "SESSION_CLIENT_ID"
    bp.from_config["session._client.code_verifier"] = "DEEP"
    app = make_app(bp)
    app.config.update(FLAVOUR="mint", SESSION_CLIENT_ID="sess-id", DEEP="deep")
    with app.test_request_context("/"):
        app.preprocess_request()
        assert bp.extra.flavour == "mint"  # type: ignore[attr-defined]
        assert bp.session.client_id == "sess-id"
        assert bp.session._client.code_verifier == "deep"


_REBIND: dict[str, t.Callable[[t.Any], None]] = {
    "setitem": lambda fc: fc.__setitem__("client_secret", "NEW"),
    "update": lambda fc: fc.update(client_secret="NEW"),
    "ior": lambda fc: fc.__ior__({"client_secret": "NEW"}),
    "setdefault": lambda fc: (
        fc.pop("client_secret"),
        fc.setdefault("client_secret", "NEW"),
    ),
    "delitem": lambda fc: (
        fc.__delitem__("client_secret"),
        fc.update(client_secret="NEW"),
    ),
    "popitem": lambda fc: (fc.popitem(), fc.__setitem__("client_secret", "NEW")),
    "clear": lambda fc: (fc.clear(), fc.__setitem__("client_secret", "NEW")),
}


@pytest.mark.parametrize("how", [*_REBIND, "assign a plain dict"])
def test_every_change_to_from_config_is_applied_on_the_next_request(how: str) -> None:
    bp = make_blueprint(client_secret=None)
    bp.from_config["client_secret"] = "OLD"
    app = make_app(bp)
    app.config.update(OLD="old-secret", NEW="new-secret")

    @app.route("/secret")
    def secret() -> str:
        return bp.client_secret or ""

    client = app.test_client()
    # The second request takes the short path: nothing changed.
    assert client.get("/secret").data == b"old-secret"
    assert client.get("/secret").data == b"old-secret"
    if how == "assign a plain dict":
        bp.from_config = {"client_secret": "NEW"}
    else:
        _REBIND[how](bp.from_config)
    assert client.get("/secret").data == b"new-secret"


def test_config_is_read_per_request() -> None:
    bp = make_blueprint(client_id=None)
    bp.from_config["client_id"] = "TEST_CLIENT_ID"
    app = make_app(bp)
    app.config["TEST_CLIENT_ID"] = "first"
    with app.test_client() as client:
        assert start_login(client)["client_id"] == "first"
        app.config["TEST_CLIENT_ID"] = "second"
        assert start_login(client)["client_id"] == "second"


def test_load_config_runs_before_every_app_request() -> None:
    bp = make_blueprint(client_id=None)
    bp.from_config["client_id"] = "TEST_CLIENT_ID"
    app = make_app(bp)
    app.config["TEST_CLIENT_ID"] = "from-config"
    app.test_client().get("/")
    assert bp.client_id == "from-config"


def test_load_config_outside_a_context_does_nothing() -> None:
    bp = make_blueprint(client_id="kept")
    bp.from_config["client_id"] = "TEST_CLIENT_ID"
    bp.load_config()
    assert bp.client_id == "kept"


def test_unset_session_config_is_not_applied() -> None:
    bp = make_blueprint()
    bp.from_config["session.verify"] = "TEST_CA_BUNDLE"
    app = make_app(bp)
    with app.app_context():
        assert bp.session.verify is True


@pytest.fixture
def applied_configs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, t.Any]]:
    """A copy of the app config each time a blueprint applies it."""
    applied: list[dict[str, t.Any]] = []
    apply_config = OAuth2ConsumerBlueprint._apply_config

    def counting(self: OAuth2ConsumerBlueprint, config: t.Any) -> None:
        applied.append(dict(config))
        apply_config(self, config)

    monkeypatch.setattr(OAuth2ConsumerBlueprint, "_apply_config", counting)
    return applied


def _github_app() -> tuple[flask.Flask, OAuth2ConsumerBlueprint, FlaskClient]:
    """The GitHub blueprint on an app whose page ``/ids`` shows the client ID
    and secret, and a client of that app."""
    bp = make_github_blueprint()
    app = flask.Flask(__name__)
    app.register_blueprint(bp, url_prefix="/login")

    @app.route("/ids")
    def ids() -> str:
        return f"{bp.client_id}/{bp.client_secret}"

    return app, bp, app.test_client()


def test_config_is_applied_again_only_when_it_changed(
    applied_configs: list[dict[str, t.Any]],
) -> None:
    app, bp, client = _github_app()
    app.config["GITHUB_OAUTH_CLIENT_ID"] = "one"
    pages = [client.get("/ids").get_data(as_text=True) for _ in range(3)]
    assert pages == ["one/None"] * 3
    app.config["GITHUB_OAUTH_CLIENT_ID"] = "two"
    pages = [client.get("/ids").get_data(as_text=True) for _ in range(2)]
    assert pages == ["two/None"] * 2
    bp.from_config["client_secret"] = "GITHUB_SECRET"
    app.config["GITHUB_SECRET"] = "s3cret"
    client.get("/ids")
    assert bp.client_secret == "s3cret"
    applied = [config.get("GITHUB_OAUTH_CLIENT_ID") for config in applied_configs]
    assert applied == ["one", "two", "two"]


def test_config_keys_added_removed_and_replaced_are_noticed(
    applied_configs: list[dict[str, t.Any]],
) -> None:
    app, bp, client = _github_app()

    def page() -> str:
        return client.get("/ids").get_data(as_text=True)

    def settled() -> str:
        # After a change is applied, the next request notes the values, and
        # the ones after it take the quick path that the next change must
        # not slip past.
        return [page() for _ in range(3)][-1]

    assert settled() == "None/None"
    app.config["GITHUB_OAUTH_CLIENT_SECRET"] = "s1"  # a key that was absent
    assert settled() == "None/s1"
    del app.config["GITHUB_OAUTH_CLIENT_SECRET"]  # removed: read again
    assert settled() == "None/s1"  # (only truthy values are applied)
    # set again under an equal but new key object, with a new value
    app.config["".join(["GITHUB_OAUTH_", "CLIENT_SECRET"])] = "s2"
    assert settled() == "None/s2"
    app.config.update(GITHUB_OAUTH_CLIENT_ID="id")
    assert settled() == "id/s2"
    applied = [
        (config.get("GITHUB_OAUTH_CLIENT_ID"), config.get("GITHUB_OAUTH_CLIENT_SECRET"))
        for config in applied_configs
    ]
    assert applied == [
        (None, None),
        (None, "s1"),
        (None, None),
        (None, "s2"),
        ("id", "s2"),
    ]


def test_one_blueprint_on_two_apps_follows_each_apps_config() -> None:
    bp = make_github_blueprint()
    apps = []
    for name in ("first", "second"):
        app = flask.Flask(name)
        app.config["GITHUB_OAUTH_CLIENT_ID"] = f"{name}-id"
        app.register_blueprint(bp, url_prefix="/login")

        @app.route("/id")
        def client_id() -> str:
            return str(bp.client_id)

        apps.append(app.test_client())
    for _ in range(3):
        assert apps[0].get("/id").get_data(as_text=True) == "first-id"
        assert apps[1].get("/id").get_data(as_text=True) == "second-id"


def test_one_hook_serves_every_blueprint_of_an_app() -> None:
    first, second = make_blueprint(), make_github_blueprint()
    app = make_app(first)
    app.register_blueprint(second, url_prefix="/gh")
    app.register_blueprint(first, url_prefix="/again", name="again")
    hooks = app.extensions[APP_HOOKS_KEY]
    assert isinstance(hooks, AppHooks)
    assert hooks.blueprints == [first, second]
    assert app.before_request_funcs[None].count(hooks.before_request) == 1
    assert hooks.teardown_request not in app.teardown_request_funcs.get(None, [])


def test_a_custom_teardown_session_runs_after_each_request() -> None:
    ended: list[BaseException | None] = []

    class Tidy(OAuth2ConsumerBlueprint):
        def teardown_session(self, exception: BaseException | None = None) -> None:
            ended.append(exception)
            super().teardown_session(exception)

    app = make_app(Tidy("tidy", __name__, client_id="c"))
    client = app.test_client()
    client.get("/")
    client.get("/")
    assert ended == [None, None]
