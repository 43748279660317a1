"""Config binding (consumer/_config.py): from_config, load_config, per-app hooks."""

from __future__ import annotations

import types

from dance_helpers import make_app
from dance_helpers import make_blueprint
from dance_helpers import start_login


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
