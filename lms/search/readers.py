"""Reading and preparing documents for a rebuild in forked processes.

The Python half of a rebuild (database reads, our analysis: a few hundred µs per news article)
is its bottleneck; an engine that writes in its own threads or server gets its documents
faster when each shard of the database is read and prepared by a process of its own while the
calling process only writes.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.connection
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from .document import DocumentSource, SearchDocument, SearchError

#: Prepared documents per message from a forked reader to the process that writes the index.
READER_BATCH = 128

T = TypeVar("T")


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a rebuild allocates millions of short-lived
    containers that hold no cycles: the collector's passes over the whole heap cost ~10% of a
    rebuild's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_source(
    source: DocumentSource, prepare: Callable[[SearchDocument], Any], conn: Any
) -> None:
    """In a forked reader: ``source``'s documents, prepared, sent in batches; then None, or an
    error message (a str) if reading failed."""
    gc.disable()  # see gc_paused; this process ends with the source
    try:
        batch: list[Any] = []
        for doc in source():
            batch.append(prepare(doc))
            if len(batch) >= READER_BATCH:
                conn.send(batch)
                batch = []
        if batch:
            conn.send(batch)
        conn.send(None)
    except BaseException as exc:  # reported to the parent, which raises SearchError
        conn.send(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def prepared_in_forks(
    sources: Sequence[DocumentSource], prepare: Callable[[SearchDocument], T]
) -> Iterator[T]:
    """``prepare(doc)`` of every source's documents (picklable values), each source read by a
    forked process of its own (in any order). The readers are started at once, before the
    caller opens an engine writer (whose threads a fork would not copy), and stopped when the
    iterator is closed."""
    context = multiprocessing.get_context("fork")
    readers, conns = [], []
    for source in sources:
        receiver, sender = context.Pipe(duplex=False)
        reader = context.Process(target=_read_source, args=(source, prepare, sender), daemon=True)
        reader.start()
        sender.close()
        readers.append(reader)
        conns.append(receiver)

    def receive() -> Iterator[T]:
        live = list(conns)
        try:
            while live:
                for conn in multiprocessing.connection.wait(live):
                    try:
                        message = conn.recv()
                    except EOFError:
                        raise SearchError("a search index reader process died") from None
                    if message is None:
                        live.remove(conn)
                    elif isinstance(message, str):
                        raise SearchError(f"reading documents to index failed: {message}")
                    else:
                        yield from message
        finally:
            for conn in conns:
                conn.close()
            for reader in readers:
                if reader.is_alive():
                    reader.terminate()
                reader.join()

    return receive()
