"""A mirror that only remembers what it was asked to apply: tests add it beside the real ones
to see which changes the change log hands to mirrors, and when."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from flask import Flask
from sqlalchemy.orm import Session

from lms.changelog import Difference, Mirror


class RecordingMirror(Mirror):
    name = "recording"

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], list[int]]] = []

    @property
    def records(self) -> list[int]:
        return [record_id for records, _ in self.calls for record_id in records]

    def apply(self, session: Session, record_ids: Sequence[int],
              collection_ids: Sequence[int]) -> None:
        self.calls.append((list(record_ids), list(collection_ids)))

    def compare(self, session: Session, progress=None) -> list[Difference]:
        return []

    def repair(self, session: Session, differences: Sequence[Difference]) -> None:
        pass


@contextmanager
def recording(app: Flask) -> Iterator[RecordingMirror]:
    """Add a :class:`RecordingMirror` to ``app``'s mirrors for the block."""
    mirror = RecordingMirror()
    app.extensions["mirrors"].append(mirror)
    try:
        yield mirror
    finally:
        app.extensions["mirrors"].remove(mirror)
