"""After-commit notifications of repository changes, for the channels that mirror records.

The search index and the OAI-PMH projection register listeners; services call these only
after their transaction committed, so a listener never sees uncommitted state. A bulk import
wraps its work in :func:`batched`, so that listeners get one call per batch of records
instead of one per record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

RecordsListener = Callable[[Sequence[int]], None]
CollectionListener = Callable[[int], None]

_record_listeners: list[RecordsListener] = []
_collection_listeners: list[CollectionListener] = []
_pending: ContextVar[list[int] | None] = ContextVar("pending_record_changes", default=None)


def on_records_changed(listener: RecordsListener) -> RecordsListener:
    """Register ``listener(record_ids)``, called after commits that changed those records."""
    _record_listeners.append(listener)
    return listener


def on_collection_changed(listener: CollectionListener) -> CollectionListener:
    _collection_listeners.append(listener)
    return listener


def record_changed(record_id: int) -> None:
    pending = _pending.get()
    if pending is not None:
        pending.append(record_id)
        return
    _notify([record_id])


def _notify(record_ids: Sequence[int]) -> None:
    for listener in _record_listeners:
        listener(record_ids)


@contextmanager
def batched() -> Iterator[None]:
    """Collect record changes inside the block; notify them together when it ends."""
    if _pending.get() is not None:  # already batching: the outer block notifies
        yield
        return
    pending: list[int] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
        if pending:
            _notify(list(dict.fromkeys(pending)))


def collection_changed(collection_id: int) -> None:
    for listener in _collection_listeners:
        listener(collection_id)
