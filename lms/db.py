"""Declarative base, naming convention and column types shared by every model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Column, DateTime, ForeignKey, MetaData, Table, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def link_table(name: str, left: tuple[str, str], right: tuple[str, str]) -> Table:
    """A many-to-many table of two cascading foreign keys, e.g.
    ``link_table("user_roles", ("user_id", "users.id"), ("role_id", "roles.id"))``."""
    return Table(
        name,
        Base.metadata,
        *(Column(column, ForeignKey(target, ondelete="CASCADE"), primary_key=True)
          for column, target in (left, right)),
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


class TZDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite stores no offset and hands back naive values; normalising here once keeps
    every comparison in the code base between aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # Cascades and integrity must behave on SQLite as they do on PostgreSQL.
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        # The web process and the worker write concurrently; WAL lets readers go on.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
        # SQLite's lower() folds only A-Z; "ĐỖ" must compare equal to "đỗ" as on PostgreSQL.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``: bulk statements keep under the backends'
    limits on bound parameters (SQLite: 32,766; PostgreSQL: 65,535)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


class RowPage:
    """A page of rows of several columns, shaped like Flask-SQLAlchemy's ``Pagination`` (whose
    ``db.paginate`` keeps only the first column of each row)."""

    def __init__(self, items: list, page: int, per_page: int, total: int) -> None:
        self.items, self.page, self.per_page, self.total = items, page, per_page, total
        self.pages = max(1, -(-total // per_page)) if total else 0
        self.has_prev, self.has_next = page > 1, page < self.pages
        self.prev_num = page - 1 if self.has_prev else None
        self.next_num = page + 1 if self.has_next else None


def paginate_rows(session, stmt, page: int, per_page: int) -> RowPage:
    """Page ``page`` (1-based; out of range gives an empty page) of a multi-column select."""
    from sqlalchemy import func

    page = max(page, 1)
    total = session.scalar(stmt.with_only_columns(func.count(), maintain_column_froms=True)
                           .order_by(None)) or 0
    items = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return RowPage(list(items), page, per_page, total)
