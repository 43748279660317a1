from __future__ import annotations

import flask

from flask_dance.consumer.storage.session import SessionStorage


def test_session_storage_default_key(app, blueprint):
    storage = SessionStorage()
    with app.test_request_context("/"):
        assert storage.get(blueprint) is None
        storage.set(blueprint, {"access_token": "a"})
        assert flask.session["test-service_oauth_token"] == {"access_token": "a"}
        assert storage.get(blueprint) == {"access_token": "a"}
        storage.delete(blueprint)
        assert "test-service_oauth_token" not in flask.session
        assert storage.get(blueprint) is None


def test_session_storage_custom_key_is_formatted_per_blueprint(app, make_blueprint):
    storage = SessionStorage(key="tokens-{bp.name}")
    github, gitlab = make_blueprint("github"), make_blueprint("gitlab")
    with app.test_request_context("/"):
        storage.set(github, {"access_token": "gh"})
        storage.set(gitlab, {"access_token": "gl"})
        assert flask.session["tokens-github"] == {"access_token": "gh"}
        assert storage.get(gitlab) == {"access_token": "gl"}
        storage.delete(github)
        assert storage.get(github) is None
        assert storage.get(gitlab) == {"access_token": "gl"}


def test_session_storage_delete_without_token_is_a_noop(app, blueprint):
    storage = SessionStorage()
    with app.test_request_context("/"):
        flask.session["other"] = 1
        flask.session.modified = False
        storage.delete(blueprint)
        assert not flask.session.modified
        assert dict(flask.session) == {"other": 1}


def test_session_storage_survives_the_cookie(app, blueprint):
    storage = SessionStorage()

    @app.route("/store")
    def store():
        storage.set(blueprint, {"access_token": "a", "scope": ["x"]})
        return "ok"

    @app.route("/read")
    def read():
        return {"token": storage.get(blueprint)}

    @app.route("/forget")
    def forget():
        storage.delete(blueprint)
        return "ok"

    client = app.test_client()
    assert client.get("/read").json == {"token": None}
    client.get("/store")
    assert client.get("/read").json == {"token": {"access_token": "a", "scope": ["x"]}}
    client.get("/forget")
    assert client.get("/read").json == {"token": None}
    # A second delete with nothing stored does not fail.
    assert client.get("/forget").status_code == 200


def test_session_storages_of_two_browsers_are_separate(app, blueprint):
    storage = SessionStorage()

    @app.route("/store/<value>")
    def store(value):
        storage.set(blueprint, {"access_token": value})
        return "ok"

    @app.route("/read")
    def read():
        return {"token": storage.get(blueprint)}

    alice, bob = app.test_client(), app.test_client()
    alice.get("/store/alice")
    assert bob.get("/read").json == {"token": None}
    bob.get("/store/bob")
    assert alice.get("/read").json == {"token": {"access_token": "alice"}}
