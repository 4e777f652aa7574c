"""Applying a long run's change-log rows in a process of its own while the run goes on.

A bulk import spends about as much time keeping the mirrors up to date (search analysis and
indexing, the OAI-PMH renderings) as writing its records. With a second core, a forked
applier takes each batch's rows as the import hands them over and applies them
(:func:`~lms.changelog.mirrors.apply_inline`) while the import writes the next batch; the
search engine's memory (analysis caches, segment merges) then lives in that process too.

Nothing is lost with the applier: the rows are committed before they are handed over, so if
it dies the run applies whatever it had sent once it ends (applying a row twice is harmless),
and the worker picks up anything left.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from flask import Flask, current_app

from lms.changelog.mirrors import INLINE_BATCH, apply_inline
from lms.extensions import db

log = logging.getLogger(__name__)

Apply = Callable[[Sequence[int]], None]

#: The applier process's name (``ps``, ``multiprocessing.active_children()``).
APPLIER_NAME = "lms-mirror-applier"


def _serve(app: Flask, receiver: Any, sender: Any) -> None:
    """The applier process: apply each list of row ids received until None comes, or until
    the run is gone (its end of the pipe closed: killed or crashed)."""
    sender.close()  # the fork's copy; with it open, a dead run would never be noticed
    with app.app_context():
        # The parent's pooled connections and search engine handles are not ours to use.
        db.engine.dispose(close=False)
        app.extensions.pop("search", None)
        try:
            while (ids := receiver.recv()) is not None:
                apply_inline(ids)
                return_freed_memory()
        except EOFError:
            return  # what the run committed and did not hand over stays for the worker


def return_freed_memory() -> None:
    """Hand the memory freed by a batch back to the system (glibc keeps it in the arenas of
    the threads that used it: the search engine's, the blob syncs'), so that a long run's
    footprint stays that of one batch."""
    with suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL(None).malloc_trim(0)


class _Applier:
    def __init__(self, app: Flask) -> None:
        context = multiprocessing.get_context("fork")
        receiver, self._sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_serve, args=(app, receiver, self._sender),
                                        daemon=True, name=APPLIER_NAME)
        # The applier shares the run's memory until either writes to it. The heap stays frozen
        # in both processes until the applier is done: a full collection writes to every object
        # it walks, and would copy the whole inherited heap into both. (Garbage among those
        # objects waits for the unfreeze; a second run in the same process may unfreeze first,
        # which costs memory, nothing else.)
        gc.freeze()
        try:
            self._process.start()
        except BaseException:
            gc.unfreeze()
            raise
        receiver.close()
        self._sent = array("q")
        self._alive = True

    def apply(self, ids: Sequence[int]) -> None:
        """Hand ``ids`` over (a full pipe makes the run wait: the applier sets the pace)."""
        self._sent.extend(ids)
        if self._alive:
            try:
                for start in range(0, len(ids), INLINE_BATCH):
                    self._sender.send(list(ids[start:start + INLINE_BATCH]))
            except OSError:  # it died; what it did not apply is applied at the end
                self._alive = False

    def abandon(self) -> None:
        """Stop at once (an interrupted run): what is not applied stays for the worker."""
        self._process.kill()
        self._process.join()
        self._sender.close()
        gc.unfreeze()

    def finish(self) -> None:
        """Wait for the applier to apply everything handed over; apply here what it could not."""
        if self._alive:
            try:
                self._sender.send(None)
            except OSError:
                self._alive = False
        self._sender.close()
        self._process.join()
        gc.unfreeze()
        if self._process.exitcode != 0:
            log.warning("the mirror applier ended with exit code %s; applying its %d change(s) "
                        "here", self._process.exitcode, len(self._sent))
            apply_inline(self._sent.tolist())


@contextmanager
def applied_apart(enabled: bool = True) -> Iterator[Apply]:
    """Yield the function that applies a batch's committed change-log rows: a forked applier
    process's (``enabled``, where processes can fork), else :func:`apply_inline`. On leaving
    the block every row handed over has been applied (or left to the worker, as inline)."""
    if not enabled or "fork" not in multiprocessing.get_all_start_methods():
        yield apply_inline
        return
    applier = _Applier(current_app._get_current_object())  # type: ignore[attr-defined]
    try:
        yield applier.apply
    except (KeyboardInterrupt, SystemExit):
        applier.abandon()
        raise
    except BaseException:
        applier.finish()
        raise
    applier.finish()

