"""Declarative base, naming convention and column types shared by every model."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Self, TypeVar

from sqlalchemy import JSON, Column, DateTime, Float, ForeignKey, MetaData, Table, Text, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, registry
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
    # A ``Mapped[float]`` column is a FLOAT, as the migrations made them (SQLAlchemy's own
    # default for ``float`` is a DOUBLE).
    registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION),
                        type_annotation_map={float: Float()})


def link_table(name: str, left: tuple[str, str], right: tuple[str, str]) -> Table:
    """A many-to-many table of two cascading foreign keys, e.g.
    ``link_table("user_roles", ("user_id", "users.id"), ("role_id", "roles.id"))``."""
    return Table(
        name,
        Base.metadata,
        *(Column(column, ForeignKey(target, ondelete="CASCADE"), primary_key=True)
          for column, target in (left, right)),
    )


class TreeNode:
    """A row of a tree held together by its ``parent`` relationship (units, collections)."""

    if TYPE_CHECKING:
        id: int
        parent_id: int | None
        parent: Self | None

    @property
    def ancestors(self) -> list[Self]:
        """The nodes above this one, the root first."""
        chain: list[Self] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]

    def is_descendant_of(self, other: Self) -> bool:
        return any(node.id == other.id for node in self.ancestors)


#: The status of a :class:`Publishable` row that learners see.
PUBLISHED_STATUS = "published"


class Publishable:
    """A row that learners see once its ``status`` is :data:`PUBLISHED_STATUS` (courses,
    tracks, quizzes)."""

    if TYPE_CHECKING:
        status: str

    @property
    def is_published(self) -> bool:
        return self.status == PUBLISHED_STATUS


Node = TypeVar("Node", bound=TreeNode)


def tree_order(nodes: Iterable[Node]) -> list[tuple[Node, int]]:
    """Every node of a whole tree with its depth (0 for a root), each one before its children,
    siblings in the order given."""
    children: dict[int | None, list[Node]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    ordered: list[tuple[Node, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for node in children.get(parent_id, []):
            ordered.append((node, depth))
            walk(node.id, depth + 1)

    walk(None, 0)
    return ordered


#: Text compared byte by byte: PostgreSQL's "C" collation (a database created with a
#: language locale would ignore the separators of our sort keys), SQLite's default BINARY.
SortKey = Text().with_variant(Text(collation="C"), "postgresql")


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
        # In WAL mode, NORMAL syncs at checkpoints instead of every commit: a crash of the
        # process loses nothing, a power cut at most the last commits, and the file is never
        # corrupted. FULL would cap SQLite at one fsync per commit (about 100 quiz answer
        # saves a second on our disks, bench/quiz_bench.py).
        cursor.execute("PRAGMA synchronous=NORMAL")
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


def one_of(session, column, values: Sequence[int]):
    """SQL: ``column`` is one of the integers ``values``. On PostgreSQL ``= ANY(array)``, one
    parameter however many values (an ``IN`` list binds each value as a parameter: a query
    the driver parses and the server plans anew for each length)."""
    from sqlalchemy import Integer, any_, bindparam
    from sqlalchemy.dialects.postgresql import ARRAY

    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(bindparam(None, list(values), type_=ARRAY(Integer)))


def insert_rows(session, target, rows: Sequence[dict], *,
                ignore_conflicts_on: Sequence[str] = ()) -> int:
    """Insert ``rows`` (dicts with the same keys) into ``target`` (a table or a mapped
    class) in the caller's transaction, in as few round trips as the database allows; with
    ``ignore_conflicts_on`` (a unique key's columns), a row that conflicts is skipped.
    Returns how many rows were inserted (see :func:`insert_rows_returning` for their
    columns).

    SQLite's executemany is a loop in C. On PostgreSQL an executemany sends one statement
    per row and a multi-row ``VALUES`` is compiled anew for each size: the rows go as one
    array per column instead, ``INSERT ... SELECT * FROM unnest(...)``, one statement whose
    text depends only on the columns, the arrays sent in binary (``%(p)b``: in text, each
    element of a text array is escaped by a regular expression).
    """
    if not rows:
        return 0
    table = getattr(target, "__table__", target)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        # SQLite sums an executemany's changes; a skipped conflict changes nothing.
        return connection.execute(_sqlite_insert(table, ignore_conflicts_on),
                                  list(rows)).rowcount
    sql, arrays = _unnest_insert(connection, table, rows, ignore_conflicts_on)
    return connection.exec_driver_sql(sql, arrays).rowcount


def insert_rows_returning(session, target, rows: Sequence[dict], returning: Sequence[str], *,
                          ignore_conflicts_on: Sequence[str] = ()) -> list[tuple]:
    """:func:`insert_rows`, giving back the ``returning`` columns of the rows inserted."""
    if not rows:
        return []
    table = getattr(target, "__table__", target)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        statement = _sqlite_insert(table, ignore_conflicts_on).returning(
            *(table.c[name] for name in returning))
        return [tuple(row) for row in connection.execute(statement, list(rows))]
    sql, arrays = _unnest_insert(connection, table, rows, ignore_conflicts_on)
    quote = connection.dialect.identifier_preparer.quote
    sql += f" RETURNING {', '.join(quote(table.c[name].name) for name in returning)}"
    return [tuple(row) for row in connection.exec_driver_sql(sql, arrays)]


def _sqlite_insert(table, ignore_conflicts_on: Sequence[str]):
    from sqlalchemy.dialects import sqlite

    statement = sqlite.insert(table)
    if ignore_conflicts_on:
        statement = statement.on_conflict_do_nothing(index_elements=list(ignore_conflicts_on))
    return statement


def _with_python_defaults(table, rows: Sequence[dict]) -> Sequence[dict]:
    """``rows`` with the columns they leave out that have a ``default=`` in Python (Core does
    this for SQLite's executemany; the driver-level ``unnest`` statement would store NULL)."""
    missing = [column for column in table.c if column.name not in rows[0]
               and column.default is not None
               and (column.default.is_scalar or column.default.is_callable)]
    if not missing:
        return rows

    def value(column):
        default = column.default
        # A callable default is wrapped by SQLAlchemy to take the execution context.
        return default.arg(None) if default.is_callable else default.arg

    return [{**row, **{column.name: value(column) for column in missing}} for row in rows]


def _unnest_insert(connection, table, rows: Sequence[dict],
                   ignore_conflicts_on: Sequence[str]) -> tuple[str, dict[str, list]]:
    """PostgreSQL's ``INSERT ... SELECT * FROM unnest(...)`` of ``rows`` and its arrays."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    rows = _with_python_defaults(table, rows)
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    arrays: dict[str, list] = {}
    casts = []
    for n, column in enumerate(columns):
        values = [row[column.name] for row in rows]
        sql_type = column.type.compile(dialect=dialect)
        if isinstance(column.type, JSON):
            # Serialised here, as text (the driver adapts JSON itself, not in arrays); None
            # is JSON's null, as SQLAlchemy stores it unless the column says otherwise.
            arrays[f"p{n}"] = [None if v is None and column.type.none_as_null
                               else json.dumps(v) for v in values]
            casts.append(f"CAST(CAST(%(p{n})b AS TEXT[]) AS {sql_type}[])")
            continue
        process = column.type.bind_processor(connection.dialect)
        arrays[f"p{n}"] = [process(v) for v in values] if process else values
        casts.append(f"CAST(%(p{n})b AS {sql_type}[])")
    # Identifiers are the table's own columns (table.c refuses any other), quoted; values
    # are bound.
    quote = connection.dialect.identifier_preparer.quote
    conflict = [quote(table.c[name].name) for name in ignore_conflicts_on]
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) "  # noqa: S608  # nosec B608
           f"SELECT * FROM unnest({', '.join(casts)})")
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    return sql, arrays


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
