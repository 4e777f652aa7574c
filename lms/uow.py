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


_current: ContextVar[Work | None] = ContextVar("unit_of_work", default=None)


@contextmanager
def unit_of_work() -> Iterator[AfterCommit]:
    """Commit once at the end; run the registered callbacks once the data is durable.

    Any exception rolls the session back and propagates; callbacks then never run.
    """
    work = Work()
    token = _current.set(work)
    try:
        yield work.callbacks.append
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
