"""A mirror that only remembers what it was asked to apply: tests add it beside the real ones
to see which changes the change log hands to mirrors, and when (and, with a journal file,
in which process)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from lms.changelog import Difference, Mirror


class RecordingMirror(Mirror):
    name = "recording"

    def __init__(self, journal: Path | None = None) -> None:
        self.calls: list[tuple[list[int], list[int]]] = []
        self.journal = journal

    @property
    def journal_lines(self) -> list[dict]:
        """Each call written to the journal file: ``pid``, ``records``, ``collections``."""
        assert self.journal is not None
        text = self.journal.read_text(encoding="utf-8") if self.journal.exists() else ""
        return [json.loads(raw) for raw in text.splitlines()]

    @property
    def records(self) -> list[int]:
        return [record_id for records, _ in self.calls for record_id in records]

    def apply(self, session: Session, record_ids: Sequence[int],
              collection_ids: Sequence[int]) -> None:
        self.calls.append((list(record_ids), list(collection_ids)))
        if self.journal is not None:  # a forked applier's calls stay in its own memory
            with self.journal.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"pid": os.getpid(), "records": list(record_ids),
                                     "collections": list(collection_ids)}) + "\n")

    def compare(self, session: Session, progress=None) -> list[Difference]:
        return []

    def repair(self, session: Session, differences: Sequence[Difference]) -> None:
        pass


@contextmanager
def recording(app: Flask, journal: Path | None = None) -> Iterator[RecordingMirror]:
    """Add a :class:`RecordingMirror` to ``app``'s mirrors for the block."""
    mirror = RecordingMirror(journal)
    app.extensions["mirrors"].append(mirror)
    try:
        yield mirror
    finally:
        app.extensions["mirrors"].remove(mirror)


@contextmanager
def mirrors_held(app: Flask, inline_wait: float = 0.05) -> Iterator[None]:
    """Hold every mirror's lock in another thread for the block, as another process applying
    them would: changes committed meanwhile stay pending (requests wait ``inline_wait``
    seconds for the mirrors, then leave their changes to the worker)."""
    import threading
    from contextlib import ExitStack

    from lms.changelog import mirror_lock

    ready, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def hold() -> None:
        try:
            with app.app_context(), ExitStack() as stack:
                for mirror in app.extensions["mirrors"]:
                    assert stack.enter_context(mirror_lock(mirror.name, wait=30))
                ready.set()
                release.wait(120)
        except BaseException as error:  # reported to the test below
            failure.append(error)
            ready.set()

    thread = threading.Thread(target=hold)
    thread.start()
    ready.wait(60)
    assert not failure, failure
    saved = app.config["CHANGE_LOG_INLINE_WAIT_SECONDS"]
    app.config["CHANGE_LOG_INLINE_WAIT_SECONDS"] = inline_wait
    try:
        yield
    finally:
        app.config["CHANGE_LOG_INLINE_WAIT_SECONDS"] = saved
        release.set()
        thread.join(60)
