"""Declarative models that SQLAlchemy 1.4 and 2.x both map, for the storage
tests: CI runs them on both (see .ci/matrix)."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from sqlalchemy import orm

#: Whether the installed SQLAlchemy is 1.4.
SQLALCHEMY_1 = sa.__version__.startswith("1.")

#: A column of a declarative model: ``mapped_column`` on SQLAlchemy 2,
#: ``Column`` on 1.4. Give it the column's type: 1.4 does not read it from the
#: ``Mapped`` annotation.
column: t.Any = getattr(orm, "mapped_column", sa.Column)


def new_base() -> t.Any:
    """A new declarative base class, with a metadata of its own."""
    if SQLALCHEMY_1:
        return orm.declarative_base()
    return type("Base", (orm.DeclarativeBase,), {})


def postgresql_url(url: str) -> str:
    """``url`` with the driver that the installed SQLAlchemy supports:
    psycopg 3 on SQLAlchemy 2, psycopg2 on 1.4."""
    if SQLALCHEMY_1:
        return url.replace("postgresql+psycopg://", "postgresql+psycopg2://", 1)
    return url
