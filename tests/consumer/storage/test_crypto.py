from __future__ import annotations

import json
import logging
import secrets
import sys
import typing as t

import flask
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from dance_helpers import client_cookie_value
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.storage import _crypto
from flask_dance.consumer.storage.session import COOKIE_SIZE_WARNING
from flask_dance.consumer.storage.session import SessionStorage
from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from flask_dance.consumer.storage.sqla import SQLAlchemyStorage
from sqla_compat import column
from sqla_compat import new_base

from .conftest import DictCache

ACCESS = "secret-access-token-0123456789"
REFRESH = "secret-refresh-token-9876543210"
TOKEN = {"access_token": ACCESS, "refresh_token": REFRESH, "scope": ["a", "b"]}
KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
KEY_C = Fernet.generate_key().decode()
SESSION_KEY = "test-service_oauth_token"
STORAGE_LOGGER = "flask_dance.consumer.storage._crypto"


Base = new_base()


class Person(Base):
    __tablename__ = "fd_enc_person"
    id: Mapped[int] = column(sa.Integer, primary_key=True)
    name: Mapped[str] = column(String(80))


class SealedOAuth(OAuthConsumerMixin, Base):
    user_id: Mapped[int | None] = column(sa.Integer, ForeignKey(Person.id))


@pytest.fixture
def engine(tables):
    return tables(Base)


def _raw_tokens(session: Session) -> list[str]:
    """The token column as the database holds it, as text."""
    session.expire_all()
    rows = session.execute(
        sa.text("SELECT CAST(token AS TEXT) FROM flask_dance_sealedoauth ORDER BY id")
    )
    return [row[0] for row in rows]


def _decrypt_with(key: str, stored: t.Mapping[str, str]) -> dict[str, t.Any]:
    """The token sealed in ``stored`` (inside its binding, if it has one)."""
    data = json.loads(Fernet(key.encode()).decrypt(stored["_fd_enc"].encode()))
    return t.cast("dict[str, t.Any]", data.get("_fd_token", data))


# -- the codec ---------------------------------------------------------------


def test_codec_round_trip_hides_the_token():
    codec = _crypto.TokenCodec([KEY_A])
    stored = codec.seal(TOKEN)
    assert list(stored) == ["_fd_enc"]
    assert ACCESS not in stored["_fd_enc"]
    assert REFRESH not in stored["_fd_enc"]
    assert _crypto.is_sealed(stored)
    assert not _crypto.is_sealed(TOKEN)
    assert codec.unseal(stored) == TOKEN
    assert _decrypt_with(KEY_A, stored) == TOKEN


def test_codec_first_key_encrypts_all_keys_decrypt():
    old = _crypto.TokenCodec([KEY_A]).seal(TOKEN)
    rotated = _crypto.TokenCodec([KEY_B, KEY_A])
    assert rotated.unseal(old) == TOKEN
    new = rotated.seal(TOKEN)
    assert _decrypt_with(KEY_B, new) == TOKEN
    with pytest.raises(_crypto.InvalidTokenError):
        _crypto.TokenCodec([KEY_A]).unseal(new)


@pytest.mark.parametrize(
    "value",
    [
        f"{KEY_A},{KEY_B}",
        f" {KEY_A} , {KEY_B} ,",
        [KEY_A, KEY_B],
        (KEY_A.encode(), KEY_B),
        f"{KEY_A},{KEY_B}".encode(),
    ],
)
def test_parse_keys_accepts_lists_and_comma_separated_strings(value):
    assert _crypto.parse_keys(value) == (KEY_A.encode(), KEY_B.encode())


@pytest.mark.parametrize("value", [None, "", " , ", []])
def test_no_keys_means_encryption_off(value):
    assert _crypto.codec_from_config({"FLASK_DANCE_TOKEN_KEYS": value}) is None


def test_parse_keys_rejects_other_types():
    with pytest.raises(TypeError, match="FLASK_DANCE_TOKEN_KEYS"):
        _crypto.parse_keys(42)


def test_bad_key_error_says_how_to_make_one_and_hides_the_key():
    bad = "not-a-fernet-key-but-a-secret"
    with pytest.raises(ValueError, match="Fernet.generate_key") as exc_info:
        _crypto.codec_from_config({"FLASK_DANCE_TOKEN_KEYS": [KEY_A, bad]})
    assert "number 2" in str(exc_info.value)
    assert bad not in str(exc_info.value)


def test_missing_cryptography_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "cryptography.fernet", None)
    with pytest.raises(ImportError, match=r"'crypto' extra") as exc_info:
        _crypto.TokenCodec([KEY_A])
    assert "'oidc'" in str(exc_info.value)


def test_codec_rejects_a_tampered_envelope():
    codec = _crypto.TokenCodec([KEY_A])
    stored = codec.seal(TOKEN)
    with pytest.raises(_crypto.InvalidTokenError):
        codec.unseal({"_fd_enc": stored["_fd_enc"][:-4] + "AAAA"})
    with pytest.raises(_crypto.InvalidTokenError):
        codec.unseal({"_fd_enc": "ünïcode"})
    not_a_dict = Fernet(KEY_A.encode()).encrypt(b"[1, 2]").decode()
    with pytest.raises(_crypto.InvalidTokenError):
        codec.unseal({"_fd_enc": not_a_dict})


# -- SessionStorage ------------------------------------------------------------


def test_session_storage_encrypts_when_keys_are_set(app, blueprint):
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_A]
    storage = SessionStorage()
    with app.test_request_context("/"):
        storage.set(blueprint, TOKEN)
        stored = flask.session[SESSION_KEY]
        assert list(stored) == ["_fd_enc"]
        assert _decrypt_with(KEY_A, stored) == TOKEN
        assert storage.get(blueprint) == TOKEN


def test_session_storage_stays_plaintext_without_keys(app, blueprint):
    storage = SessionStorage()
    with app.test_request_context("/"):
        storage.set(blueprint, TOKEN)
        assert flask.session[SESSION_KEY] == TOKEN


def test_session_storage_reads_plaintext_and_encrypts_on_next_write(app, blueprint):
    app.config["FLASK_DANCE_TOKEN_KEYS"] = KEY_A
    storage = SessionStorage()
    with app.test_request_context("/"):
        flask.session[SESSION_KEY] = dict(TOKEN)
        assert storage.get(blueprint) == TOKEN
        assert flask.session[SESSION_KEY] == TOKEN  # a read does not rewrite
        storage.set(blueprint, {**TOKEN, "access_token": "new"})
        assert _decrypt_with(KEY_A, flask.session[SESSION_KEY])["access_token"] == (
            "new"
        )


def test_session_storage_key_rotation(app, blueprint):
    storage = SessionStorage()
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_A]
    with app.test_request_context("/"):
        storage.set(blueprint, TOKEN)
        old = flask.session[SESSION_KEY]
        app.config["FLASK_DANCE_TOKEN_KEYS"] = f"{KEY_B},{KEY_A}"
        assert storage.get(blueprint) == TOKEN
        storage.set(blueprint, TOKEN)
        new = flask.session[SESSION_KEY]
        assert new != old
        assert _decrypt_with(KEY_B, new) == TOKEN
        # Once every token was rewritten, the old key can go.
        app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_B]
        assert storage.get(blueprint) == TOKEN


def test_session_storage_unknown_key_reads_as_no_token(app, blueprint, caplog):
    storage = SessionStorage()
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_A]
    with app.test_request_context("/"):
        storage.set(blueprint, TOKEN)
        stored = flask.session[SESSION_KEY]["_fd_enc"]
        app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_C]
        with caplog.at_level(logging.WARNING, logger=STORAGE_LOGGER):
            assert storage.get(blueprint) is None
    [record] = [r for r in caplog.records if r.name == STORAGE_LOGGER]
    assert record.levelno == logging.WARNING
    assert "test-service" in record.getMessage()
    assert "no key" in record.getMessage()
    for secret in (ACCESS, REFRESH, stored, KEY_A, KEY_C):
        assert secret not in caplog.text


def test_session_storage_encrypted_token_without_keys_reads_as_none(
    app, blueprint, caplog
):
    storage = SessionStorage()
    with app.test_request_context("/"):
        flask.session[SESSION_KEY] = _crypto.TokenCodec([KEY_A]).seal(TOKEN)
        with caplog.at_level(logging.WARNING, logger=STORAGE_LOGGER):
            assert storage.get(blueprint) is None
    assert "is not set" in caplog.text
    assert ACCESS not in caplog.text


def _cookie_session(app: flask.Flask, client: t.Any) -> t.Any:
    value = client_cookie_value(client, app.config["SESSION_COOKIE_NAME"])
    assert value is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return value, serializer.loads(value)


@pytest.mark.parametrize("encrypted", [True, False])
def test_session_cookie_holds_no_token_when_encrypted(app, encrypted):
    if encrypted:
        app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_A]
    bp = OAuth2ConsumerBlueprint(
        "test-service",
        __name__,
        client_id="client",
        authorization_url="https://as.example/authorize",
        token_url="https://as.example/token",
    )
    app.register_blueprint(bp, url_prefix="/login")

    @app.route("/store")
    def store():
        bp.token = TOKEN
        return "ok"

    @app.route("/read")
    def read():
        return {"access_token": bp.token["access_token"]}

    client = app.test_client()
    client.get("/store")
    raw, data = _cookie_session(app, client)
    assert ACCESS not in raw
    decoded = json.dumps(data)
    if encrypted:
        assert ACCESS not in decoded
        assert REFRESH not in decoded
        assert list(data[SESSION_KEY]) == ["_fd_enc"]
    else:  # the check above is meaningful: without keys the token is there
        assert ACCESS in decoded
    assert client.get("/read").json == {"access_token": ACCESS}


# -- the cookie size warning -------------------------------------------------------


SIZE_LOGGER = "flask_dance.consumer.storage.session"


def _size_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == SIZE_LOGGER]


def test_big_cookie_warns_once_per_blueprint(app, make_blueprint, caplog):
    storage = SessionStorage()
    github, gitlab = make_blueprint("github"), make_blueprint("gitlab")
    big = {"access_token": ACCESS, "id_token": secrets.token_urlsafe(3000)}
    with caplog.at_level(logging.WARNING, logger=SIZE_LOGGER):
        with app.test_request_context("/"):
            storage.set(github, big)
            storage.set(github, big)
        with app.test_request_context("/"):
            storage.set(github, big)
            storage.set(gitlab, {"access_token": "small"})  # the session is big
    records = _size_warnings(caplog)
    assert [r.levelno for r in records] == [logging.WARNING, logging.WARNING]
    assert "'github'" in records[0].getMessage()
    assert "'gitlab'" in records[1].getMessage()
    size = int(records[0].args[0])  # type: ignore[index]
    assert size > COOKIE_SIZE_WARNING
    assert ACCESS not in caplog.text
    assert big["id_token"][:40] not in caplog.text


def test_small_cookie_does_not_warn(app, blueprint, caplog):
    storage = SessionStorage()
    with caplog.at_level(logging.WARNING, logger=SIZE_LOGGER):
        with app.test_request_context("/"):
            storage.set(blueprint, TOKEN)
    assert _size_warnings(caplog) == []


def test_cookie_size_counts_encryption(app, blueprint, caplog):
    # A token just below the limit in plaintext grows past it once encrypted.
    token = {"access_token": secrets.token_urlsafe(2000)}
    storage = SessionStorage()
    with caplog.at_level(logging.WARNING, logger=SIZE_LOGGER):
        with app.test_request_context("/"):
            storage.set(blueprint, token)
        assert _size_warnings(caplog) == []
        app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_A]
        with app.test_request_context("/"):
            storage.set(blueprint, token)
    assert len(_size_warnings(caplog)) == 1


def test_server_side_session_is_not_measured(app, blueprint, caplog):
    class ServerSide(flask.sessions.SessionInterface):
        def open_session(self, app, request):
            return flask.sessions.SecureCookieSession()

        def save_session(self, app, session, response):
            pass

    app.session_interface = ServerSide()
    storage = SessionStorage()
    with caplog.at_level(logging.WARNING, logger=SIZE_LOGGER):
        with app.test_request_context("/"):
            storage.set(blueprint, {"access_token": "x" * 10_000})
    assert _size_warnings(caplog) == []


# -- SQLAlchemyStorage ------------------------------------------------------------


def test_sqla_row_holds_no_token_when_encrypted(app, session, blueprint):
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_A]
    storage = SQLAlchemyStorage(SealedOAuth, session)
    with app.app_context():
        storage.set(blueprint, TOKEN)
        [raw] = _raw_tokens(session)
        assert ACCESS not in raw
        assert REFRESH not in raw
        stored = json.loads(raw)
        assert list(stored) == ["_fd_enc"]
        assert _decrypt_with(KEY_A, stored) == TOKEN
        assert storage.get(blueprint) == TOKEN
        storage.set(blueprint, {**TOKEN, "access_token": "second"})  # the update path
        [raw] = _raw_tokens(session)
        assert "second" not in raw
        assert storage.get(blueprint)["access_token"] == "second"


def test_sqla_plaintext_row_stays_readable_and_is_encrypted_on_write(
    app, session, blueprint
):
    session.add(SealedOAuth(provider=blueprint.name, token=TOKEN))
    session.add(SealedOAuth(provider="other", token={"access_token": "x"}))
    session.commit()
    app.config["FLASK_DANCE_TOKEN_KEYS"] = f"{KEY_A}"
    storage = SQLAlchemyStorage(SealedOAuth, session)
    with app.app_context():
        assert storage.get(blueprint) == TOKEN
        assert ACCESS in _raw_tokens(session)[0]  # reading does not rewrite
        storage.set(blueprint, TOKEN)
    raw = _raw_tokens(session)
    assert ACCESS not in raw[0]
    assert json.loads(raw[1]) == {"access_token": "x"}  # another provider's row


def test_sqla_key_rotation(app, session, blueprint):
    storage = SQLAlchemyStorage(SealedOAuth, session)
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_A]
    with app.app_context():
        storage.set(blueprint, TOKEN)
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_B, KEY_A]
    with app.app_context():
        assert storage.get(blueprint) == TOKEN
        storage.set(blueprint, TOKEN)
    [raw] = _raw_tokens(session)
    assert _decrypt_with(KEY_B, json.loads(raw)) == TOKEN


def test_sqla_unknown_key_reads_as_no_token(app, session, blueprint, caplog):
    storage = SQLAlchemyStorage(SealedOAuth, session)
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_A]
    with app.app_context():
        storage.set(blueprint, TOKEN)
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_C]
    with caplog.at_level(logging.WARNING, logger=STORAGE_LOGGER):
        with app.app_context():
            assert storage.get(blueprint) is None
    assert "no key" in caplog.text
    assert ACCESS not in caplog.text
    assert KEY_A not in caplog.text
    # The row is left alone: putting the old key back makes it readable.
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_C, KEY_A]
    with app.app_context():
        assert storage.get(blueprint) == TOKEN


def test_sqla_cache_holds_the_encrypted_form(app, blueprint):
    engine = sa.create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    Base.metadata.create_all(engine)
    cache = DictCache()
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_A]
    with Session(engine) as session, app.app_context():
        storage = SQLAlchemyStorage(SealedOAuth, session, cache=cache)
        storage.set(blueprint, TOKEN)
        assert storage.get(blueprint) == TOKEN  # fills the cache
        [cached] = cache.data.values()
        assert _crypto.is_sealed(cached)
        assert ACCESS not in json.dumps(cached)
        assert storage.get(blueprint) == TOKEN  # read from the cache
        app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_C]
        assert storage.get(blueprint) is None
    engine.dispose()


def test_unserializable_session_is_not_measured(app, blueprint, caplog):
    storage = SessionStorage()
    with caplog.at_level(logging.DEBUG, logger=SIZE_LOGGER):
        with app.test_request_context("/"):
            flask.session["odd"] = object()
            storage.set(blueprint, TOKEN)
            assert flask.session[SESSION_KEY] == TOKEN
    [record] = _size_warnings(caplog)
    assert record.levelno == logging.DEBUG
    assert "TypeError" in record.getMessage()


# -- C47: a sealed token is bound to its provider and owner ------------------------


def _people(session: Session, *names: str) -> list[Person]:
    people = [Person(name=name) for name in names]
    session.add_all(people)
    session.commit()
    return people


def _move_token(session: Session, source: int, target: int) -> None:
    """Copy one row's stored token into another row, as someone who can write
    the table would."""
    rows = {row.id: row for row in session.scalars(sa.select(SealedOAuth))}
    rows[target].token = dict(rows[source].token)
    session.commit()


def test_c47_token_copied_to_another_users_row_is_refused(
    app, session, blueprint, caplog
):
    alice, bob = _people(session, "alice", "bob")
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_A]
    storage = SQLAlchemyStorage(SealedOAuth, session)
    with app.app_context():
        storage.set(blueprint, TOKEN, user_id=alice.id)
        storage.set(blueprint, {"access_token": "bobs"}, user_id=bob.id)
        rows = session.execute(sa.select(SealedOAuth.id, SealedOAuth.user_id)).all()
        ids = {user_id: row_id for row_id, user_id in rows}
        _move_token(session, ids[alice.id], ids[bob.id])
        with caplog.at_level(logging.WARNING, logger=STORAGE_LOGGER):
            assert storage.get(blueprint, user_id=bob.id) is None
        assert storage.get(blueprint, user_id=alice.id) == TOKEN
    [record] = [r for r in caplog.records if r.name == STORAGE_LOGGER]
    assert "another provider or user" in record.getMessage()
    assert ACCESS not in caplog.text


def test_c47_token_copied_to_another_provider_or_to_no_user_is_refused(
    app, session, blueprint, make_blueprint
):
    (alice,) = _people(session, "alice")
    other = make_blueprint("other-service")
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_A]
    storage = SQLAlchemyStorage(SealedOAuth, session)
    with app.app_context():
        storage.set(blueprint, TOKEN, user_id=alice.id)
        storage.set(other, {"access_token": "other"}, user_id=alice.id)
        storage.set(blueprint, {"access_token": "nobody"})  # a row of no user
        rows = session.execute(
            sa.select(SealedOAuth.id, SealedOAuth.provider, SealedOAuth.user_id)
        ).all()
        ids = {(provider, user_id): row_id for row_id, provider, user_id in rows}
        _move_token(
            session, ids[(blueprint.name, alice.id)], ids[(other.name, alice.id)]
        )
        _move_token(
            session, ids[(blueprint.name, alice.id)], ids[(blueprint.name, None)]
        )
        assert storage.get(other, user_id=alice.id) is None
        assert storage.get(blueprint) is None
        assert storage.get(blueprint, user_id=alice.id) == TOKEN


def test_c47_unbound_sealed_token_still_reads(app, session, blueprint):
    """A token sealed before tokens were bound (no binding inside) reads."""
    (alice,) = _people(session, "alice")
    legacy = _crypto.TokenCodec([KEY_A]).seal(TOKEN)
    session.add(SealedOAuth(provider=blueprint.name, user_id=alice.id, token=legacy))
    session.commit()
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_A]
    storage = SQLAlchemyStorage(SealedOAuth, session)
    with app.app_context():
        assert storage.get(blueprint, user_id=alice.id) == TOKEN


def test_c47_codec_checks_the_binding():
    codec = _crypto.TokenCodec([KEY_A])
    sealed = codec.seal(TOKEN, binding="a")
    assert codec.unseal(sealed, binding="a") == TOKEN
    assert codec.unseal(sealed) == TOKEN  # no check asked for
    with pytest.raises(_crypto.BindingMismatchError):
        codec.unseal(sealed, binding="b")
    assert codec.unseal(codec.seal(TOKEN), binding="b") == TOKEN  # unbound


def test_c47_session_token_of_another_provider_is_refused(app, make_blueprint):
    app.config["FLASK_DANCE_TOKEN_KEYS"] = [KEY_A]
    storage = SessionStorage(key="shared_token")
    with app.test_request_context("/"):
        storage.set(make_blueprint("github"), TOKEN)
        assert storage.get(make_blueprint("github")) == TOKEN
        assert storage.get(make_blueprint("gitlab")) is None
