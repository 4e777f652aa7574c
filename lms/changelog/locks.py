"""One applier per mirror at a time, across threads and processes.

A lock that dies with its holder: on PostgreSQL a session advisory lock on a connection of
its own (the server drops it with the connection); on SQLite, whose writers all share one
machine, ``flock`` on a file under ``DATA_DIR/locks`` (the kernel drops it with the process).
A killed applier therefore never leaves a mirror locked.
"""

from __future__ import annotations

import fcntl
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from lms.extensions import db

POLL_SECONDS = 0.02
_held = threading.local()


def _held_names() -> set[str]:
    names = getattr(_held, "names", None)
    if names is None:
        names = _held.names = set()
    return names


@contextmanager
def mirror_lock(name: str, wait: float) -> Iterator[bool]:
    """Hold mirror ``name``'s lock for the block; yields False if it could not be had within
    ``wait`` seconds (the caller then leaves the work to whoever holds it, or to the worker).
    Re-entrant within a thread."""
    held = _held_names()
    if name in held:
        yield True
        return
    acquire = _postgres_lock if db.engine.dialect.name == "postgresql" else _file_lock
    with acquire(name, wait) as got:
        if got:
            held.add(name)
        try:
            yield got
        finally:
            held.discard(name)


@contextmanager
def _postgres_lock(name: str, wait: float) -> Iterator[bool]:
    key = zlib.crc32(f"lms-mirror:{name}".encode())
    deadline = time.monotonic() + wait
    with db.engine.connect() as connection:
        while not connection.scalar(select(func.pg_try_advisory_lock(key))):
            if time.monotonic() >= deadline:
                connection.rollback()
                yield False
                return
            time.sleep(POLL_SECONDS)
        connection.commit()
        try:
            yield True
        finally:
            connection.execute(select(func.pg_advisory_unlock(key)))
            connection.commit()


@contextmanager
def _file_lock(name: str, wait: float) -> Iterator[bool]:
    folder = Path(current_app.config["DATA_DIR"]) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    with (folder / f"mirror-{name}.lock").open("a+b") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(POLL_SECONDS)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
