"""One commit per use case; side effects (indexing, jobs, notifications) only after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from lms.errors import Conflict
from lms.extensions import db

AfterCommit = Callable[[Callable[[], object]], None]


@dataclass
class Work:
    """The unit of work in progress: its after-commit callbacks, and what helpers keep for
    it (the change log collects the rows this use case wrote, to apply them after commit)."""

    callbacks: list[Callable[[], object]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    #: A batch (:func:`batch_of_work`): the units of work inside it are its savepoints.
    batch: bool = False


_current: ContextVar[Work | None] = ContextVar("unit_of_work", default=None)


@contextmanager
def unit_of_work() -> Iterator[AfterCommit]:
    """Commit once at the end; run the registered callbacks once the data is durable.

    Any exception rolls the session back and propagates; callbacks then never run.

    Inside :func:`batch_of_work` the unit is a savepoint of the batch's transaction instead:
    an exception rolls back this unit only, and its callbacks run after the batch commits.
    """
    outer = _current.get()
    if outer is not None and outer.batch:
        with _savepoint(outer) as after_commit:
            yield after_commit
        return
    with _committed(Work()) as work:
        yield work.callbacks.append


@contextmanager
def _committed(work: Work) -> Iterator[Work]:
    """``work`` is the current unit while the block runs; then one commit (or a rollback on
    any exception, which propagates), then its callbacks."""
    token = _current.set(work)
    try:
        yield work
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _current.reset(token)
    for callback in work.callbacks:
        callback()


def current_work() -> Work | None:
    """The unit of work whose transaction is open in this context, or None (outside one, or
    while its after-commit callbacks run)."""
    return _current.get()


@contextmanager
def _savepoint(batch: Work) -> Iterator[AfterCommit]:
    work = Work()
    token = _current.set(work)
    try:
        with db.session.begin_nested():
            yield work.callbacks.append
    finally:
        _current.reset(token)
    batch.callbacks.extend(work.callbacks)


@contextmanager
def batch_of_work() -> Iterator[Work]:
    """One transaction, one commit, for many units of work (bulk imports): each
    :func:`unit_of_work` inside it is a savepoint, applied whole or not at all, and the
    callbacks of those that succeeded run once the batch is committed. Anything else written
    in the block joins the batch's transaction.

    Any exception escaping the block rolls the whole batch back and propagates.
    """
    if _current.get() is not None:
        raise RuntimeError("a batch of work cannot start inside another unit of work")
    _begin()
    with _committed(Work(batch=True)) as work:
        yield work


def _begin() -> None:
    """Open the session's transaction on the database now. SQLite's driver opens one only
    before a data change: a SAVEPOINT sent first would start (and its RELEASE commit) a
    transaction of its own. BEGIN IMMEDIATE also takes the write lock at once, so that the
    batch never fails half-way for want of it."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite" and \
            not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def locked_change(row: Any, lock_version: int, stale_message: str) -> Iterator[AfterCommit]:
    """A unit of work that changes ``row`` (or what belongs to it), which the user opened at
    ``lock_version``: it first claims the row's lock (:func:`claim_lock`), so that of two
    saves sent at the same moment exactly one wins.

    :raise Conflict: the row was changed since it was opened (``stale_message``).
    """
    with unit_of_work() as after_commit:
        claim_lock(type(row), row.id, lock_version, stale_message)
        yield after_commit


def claim_lock(model: type, row_id: int, lock_version: int, message: str) -> None:
    """Bump ``lock_version`` of a row if it is still ``lock_version``, in one statement, so
    that of two saves sent at the same moment exactly one wins.

    :raise Conflict: the row was changed since the form was opened (``message``).
    """
    claimed = db.session.execute(
        update(model).where(model.id == row_id, model.lock_version == lock_version)
        .values(lock_version=model.lock_version + 1)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        raise Conflict(message)
