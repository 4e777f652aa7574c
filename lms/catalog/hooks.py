"""After-commit notifications of repository changes, for the channels that mirror records.

The search index (and any other derived store) registers a listener; services call these
only after their transaction committed, so a listener never sees uncommitted state.
"""

from __future__ import annotations

from collections.abc import Callable

RecordListener = Callable[[int], None]

_record_listeners: list[RecordListener] = []
_collection_listeners: list[RecordListener] = []


def on_record_changed(listener: RecordListener) -> RecordListener:
    _record_listeners.append(listener)
    return listener


def on_collection_changed(listener: RecordListener) -> RecordListener:
    _collection_listeners.append(listener)
    return listener


def record_changed(record_id: int) -> None:
    for listener in _record_listeners:
        listener(record_id)


def collection_changed(collection_id: int) -> None:
    for listener in _collection_listeners:
        listener(collection_id)
