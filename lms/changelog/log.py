"""Writing the change log: one row per change, in the transaction of the change itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import insert, inspect

from lms.changelog.mirrors import apply_inline
from lms.changelog.models import ChangeEntry, ChangeKind
from lms.db import utcnow
from lms.extensions import db
from lms.uow import current_work

_ENTRIES = "changelog.entries"
_batch: ContextVar[list[int] | None] = ContextVar("change_log_batch", default=None)


def log_change(kind: ChangeKind, target_id: int) -> None:
    """Record that ``target_id`` changed, in the current unit of work's transaction; its
    mirrors are brought up to date right after the commit (or at the end of :func:`batched`),
    and by the worker if that fails.

    Called outside a unit of work (after a commit), the row is committed on its own at once.
    """
    work = current_work()
    if work is None:
        entry = ChangeEntry(kind=str(kind), target_id=target_id, created_at=utcnow())
        db.session.add(entry)
        db.session.commit()
        _committed([entry])
        return
    entries: dict[tuple[str, int], ChangeEntry] | None = work.state.get(_ENTRIES)
    if entries is None:
        entries = work.state[_ENTRIES] = {}
        work.callbacks.append(lambda: _committed(list(entries.values())))
    key = (str(kind), target_id)
    if key not in entries:
        entries[key] = ChangeEntry(kind=key[0], target_id=target_id, created_at=utcnow())
        db.session.add(entries[key])


def log_changes(kind: ChangeKind, target_ids: Sequence[int]) -> None:
    """:func:`log_change` for many targets at once, in one statement (bulk imports); only
    inside a unit of work."""
    work = current_work()
    if work is None:
        raise RuntimeError("log_changes needs a unit of work")
    if not target_ids:
        return
    now = utcnow()
    ids = list(db.session.scalars(
        insert(ChangeEntry).returning(ChangeEntry.id, sort_by_parameter_order=True),
        [{"kind": str(kind), "target_id": target_id, "created_at": now}
         for target_id in target_ids]))
    work.callbacks.append(lambda: _apply_after_commit(ids))


def _committed(entries: list[ChangeEntry]) -> None:
    # The identity survives the commit's expiry: reading it loads nothing.
    _apply_after_commit([inspect(entry).identity[0] for entry in entries])  # type: ignore[index]


def _apply_after_commit(ids: list[int]) -> None:
    collected = _batch.get()
    if collected is not None:
        collected.extend(ids)
    else:
        apply_inline(ids)


@contextmanager
def batched(apply: Callable[[Sequence[int]], None] = apply_inline) -> Iterator[None]:
    """Apply the rows committed inside the block together when it ends (bulk work: one
    application per batch instead of one per record), by ``apply`` (a bulk import's may hand
    them to another process: :mod:`lms.changelog.apart`)."""
    if _batch.get() is not None:  # already batching: the outer block applies
        yield
        return
    collected: list[int] = []
    token = _batch.set(collected)
    try:
        yield
    finally:
        _batch.reset(token)
        if collected:
            apply(collected)
