"""SQLAlchemyStorage behind a real OAuth2ConsumerBlueprint: the whole dance,
with Flask-Login's ``current_user`` choosing the row."""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_login import current_user
from flask_login import login_user
from flask_login import LoginManager
from flask_login import UserMixin
from sqlalchemy import ForeignKey
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import relationship
from sqlalchemy.orm import Session

from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_error
from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from flask_dance.consumer.storage.sqla import SQLAlchemyStorage
from sqla_compat import column
from sqla_compat import new_base

BASE = "https://a.b.c"
TOKEN_URL = "https://provider.example/oauth/token"


Base = new_base()


class Person(UserMixin, Base):
    __tablename__ = "fd_person"
    id: Mapped[int] = column(sa.Integer, primary_key=True)


class PersonOAuth(OAuthConsumerMixin, Base):
    user_id: Mapped[int | None] = column(sa.Integer, ForeignKey(Person.id))
    user: Mapped[Person | None] = relationship(Person)


@pytest.fixture
def engine(tables):
    return tables(Base)


@pytest.fixture
def dance(session):
    storage = SQLAlchemyStorage(PersonOAuth, session, user=current_user)
    bp = OAuth2ConsumerBlueprint(
        "test-service",
        __name__,
        client_id="client-id",
        client_secret="client-secret",
        authorization_url="https://provider.example/oauth/authorize",
        token_url=TOKEN_URL,
        redirect_to="index",
        storage=storage,
    )
    app = Flask(__name__)
    app.secret_key = "storage-e2e"
    app.testing = True
    app.register_blueprint(bp, url_prefix="/login")
    manager = LoginManager(app)

    @manager.user_loader
    def load(user_id: str) -> Person | None:
        return session.get(Person, int(user_id))

    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/as/<int:person_id>")
    def log_in(person_id: int) -> str:
        login_user(session.get(Person, person_id))
        return "ok"

    @app.route("/token")
    def token() -> dict[str, t.Any]:
        return {"token": bp.token}

    @app.route("/disconnect")
    def disconnect() -> str:
        del bp.token
        return "gone"

    return app, bp


def _run_dance(client: t.Any, responses: t.Any, access_token: str) -> t.Any:
    login = client.get("/login/test-service", base_url=BASE)
    assert login.status_code == 302
    state = parse_qs(urlsplit(login.headers["Location"]).query)["state"][0]
    responses.post(
        TOKEN_URL,
        json={"access_token": access_token, "token_type": "bearer", "expires_in": 3600},
    )
    return client.get(
        f"/login/test-service/authorized?code=the-code&state={state}", base_url=BASE
    )


def _stored(session: Session) -> list[tuple[int | None, str]]:
    session.expire_all()
    rows = session.scalars(select(PersonOAuth).order_by(PersonOAuth.id))
    return [(row.user_id, row.token["access_token"]) for row in rows]


def test_dance_stores_the_token_of_the_logged_in_user(dance, session, responses):
    app, _ = dance
    alice, bob = Person(), Person()
    session.add_all([alice, bob])
    session.commit()
    as_alice, as_bob = app.test_client(), app.test_client()
    as_alice.get(f"/as/{alice.id}", base_url=BASE)
    as_bob.get(f"/as/{bob.id}", base_url=BASE)

    assert _run_dance(as_alice, responses, "alice-token").status_code == 302
    assert _run_dance(as_bob, responses, "bob-token").status_code == 302
    assert _stored(session) == [(alice.id, "alice-token"), (bob.id, "bob-token")]
    row = session.scalars(select(PersonOAuth).filter_by(user_id=alice.id)).one()
    assert "expires_at" in row.token

    token = as_alice.get("/token", base_url=BASE).json["token"]
    assert token["access_token"] == "alice-token"
    assert 3500 < token["expires_in"] <= 3600

    # A second login of alice updates her row in place.
    _run_dance(as_alice, responses, "alice-token-2")
    assert _stored(session) == [(alice.id, "alice-token-2"), (bob.id, "bob-token")]
    assert session.scalars(select(PersonOAuth).filter_by(user_id=alice.id)).one() is row

    assert as_alice.get("/disconnect", base_url=BASE).status_code == 200
    assert as_alice.get("/disconnect", base_url=BASE).status_code == 200
    assert _stored(session) == [(bob.id, "bob-token")]
    assert as_alice.get("/token", base_url=BASE).json == {"token": None}


def test_dance_without_a_user_is_an_oauth_error(dance, session, responses):
    app, bp = dance
    errors: list[t.Any] = []

    def receiver(sender: t.Any, **kwargs: t.Any) -> None:
        errors.append((sender, kwargs.get("error")))

    with oauth_error.connected_to(receiver):
        response = _run_dance(app.test_client(), responses, "anon-token")
    assert response.status_code in (302, 303)
    ((sender, error),) = errors
    assert sender is bp
    assert isinstance(error, ValueError)
    assert str(error) == "Cannot set OAuth token without an associated user"
    assert _stored(session) == []
