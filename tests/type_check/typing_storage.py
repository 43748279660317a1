"""Token storages as applications use them, for mypy and pyright."""

from __future__ import annotations

import typing as t

from flask_login import current_user
from sqlalchemy import create_engine
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker
from typing_extensions import assert_type

from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.base import BaseOAuthConsumerBlueprint
from flask_dance.consumer.storage import BaseStorage
from flask_dance.consumer.storage import MemoryStorage
from flask_dance.consumer.storage import NullStorage
from flask_dance.consumer.storage.session import SessionStorage
from flask_dance.consumer.storage.sqla import OAuthConsumerMixin
from flask_dance.consumer.storage.sqla import SQLAlchemyStorage
from flask_dance.contrib.github import make_github_blueprint

# -- the built-in storages -----------------------------------------------------

memory = MemoryStorage({"access_token": "fake-token"})
stored: dict[str, t.Any] | None = memory.token
bp = make_github_blueprint(storage=memory)
assert_type(bp.storage, BaseStorage)
assert_type(memory.get(bp), dict[str, t.Any] | None)
memory.set(bp, {"access_token": "other"})
memory.delete(bp)

session_storage = SessionStorage(key="{bp.name}_token")
key: str = session_storage.key
bp.storage = session_storage
make_github_blueprint(storage=SessionStorage)
make_github_blueprint(storage=lambda: NullStorage())

# -- SQLAlchemy, with a declarative model --------------------------------------


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class OAuth(OAuthConsumerMixin, Base):
    user_id: Mapped[int | None] = mapped_column(ForeignKey(User.id))
    user: Mapped[User | None] = relationship(User)


engine = create_engine("sqlite://")
db_session = Session(engine)
scoped = scoped_session(sessionmaker(engine))

sqla = SQLAlchemyStorage(OAuth, db_session, user=current_user)
sqla_by_id = SQLAlchemyStorage(OAuth, scoped, user_id=1, user_required=True)
sqla_lazy_user = SQLAlchemyStorage(OAuth, scoped, user=lambda: db_session.get(User, 1))
bp.storage = sqla
bp.config["user"] = User(name="alice")

assert_type(sqla.get(bp), dict[str, t.Any] | None)
assert_type(sqla.get(bp, user_id=2), dict[str, t.Any] | None)
sqla.set(bp, {"access_token": "abc"}, user=User(name="bob"))
sqla.delete(bp, user_id=2)
with sqla.refresh_lock(bp):
    pass

row = OAuth(provider="github", token={"access_token": "abc"})
assert_type(row.id, int)
assert_type(row.provider, str)
assert_type(row.token, dict[str, t.Any])
owner: User | None = row.user

# -- a storage of one's own ----------------------------------------------------


class DictStorage(BaseStorage):
    """Keeps one token per blueprint name, as a storage written by an app."""

    def __init__(self) -> None:
        self.tokens: dict[str, dict[str, t.Any]] = {}

    def get(self, blueprint: BaseOAuthConsumerBlueprint) -> dict[str, t.Any] | None:
        return self.tokens.get(blueprint.name)

    def set(
        self, blueprint: BaseOAuthConsumerBlueprint, token: dict[str, t.Any]
    ) -> None:
        self.tokens[blueprint.name] = token

    def delete(self, blueprint: BaseOAuthConsumerBlueprint) -> None:
        self.tokens.pop(blueprint.name, None)


custom = DictStorage()
custom_bp = OAuth2ConsumerBlueprint(
    "custom",
    __name__,
    client_id="id",
    base_url="https://api.example.com/",
    authorization_url="https://example.com/authorize",
    token_url="https://example.com/token",
    storage=custom,
)
storage: BaseStorage = custom_bp.storage
token: dict[str, t.Any] | None = custom.get(custom_bp)
