"""One commit per use case; side effects (indexing, jobs, notifications) only after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lms.extensions import db

AfterCommit = Callable[[Callable[[], object]], None]


@contextmanager
def unit_of_work() -> Iterator[AfterCommit]:
    """Commit once at the end; run the registered callbacks once the data is durable.

    Any exception rolls the session back and propagates; callbacks then never run.
    """
    callbacks: list[Callable[[], object]] = []
    try:
        yield callbacks.append
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    for callback in callbacks:
        callback()
