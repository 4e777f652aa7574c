"""An index in a local folder, kept in generations: the frame the Whoosh and tantivy backends
share (see ``docs/search.md``).

``<index_dir>/CURRENT`` names the live generation folder ``<index_dir>/gen-…/``: the engine's
index plus ``lms-search.json`` (engine, analyzer and schema versions, field weights). A rebuild
writes a new generation beside the live one, replays the writes that arrived meanwhile and
swaps the pointer atomically, so searches keep working during a rebuild and other processes
follow the swap on their next query. An index built by another analyzer, schema or with other
field weights (they are applied at index time) reports :attr:`needs_rebuild`.

Writers: one at a time per index. In-process writers queue on a lock; another process's writer
is waited for up to ``lock_timeout`` seconds (by the engine), then :class:`IndexLocked` is
raised so that a job can retry.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from abc import abstractmethod
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from . import analysis
from .backend import Counted, SearchBackend
from .document import SearchDocument, Weights

POINTER_FILE = "CURRENT"
META_FILE = "lms-search.json"

Index = TypeVar("Index")


def new_generation_name() -> str:
    return f"gen-{time.time_ns():x}-{uuid.uuid4().hex[:8]}"


def read_pointer(index_dir: Path) -> str | None:
    """The live generation's folder name, or None (no pointer, or one that is not ours)."""
    try:
        name = (index_dir / POINTER_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name if name.startswith("gen-") and "/" not in name else None


def write_pointer(index_dir: Path, name: str) -> None:
    """Point ``CURRENT`` at ``name``: written aside, fsynced, then renamed into place."""
    tmp = index_dir / f"{POINTER_FILE}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(name)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / POINTER_FILE)


class LocalIndexBackend(SearchBackend, Generic[Index]):
    """Generations, the pointer, writes (also replayed onto a generation being built) and the
    rebuild frame. An engine adds its index objects through the hooks below."""

    #: Changes whenever an engine's index layout changes: an index of another one is unusable.
    schema_version: ClassVar[str]
    #: What opening an index that is not usable (corrupt, of another version) may raise.
    unusable_errors: ClassVar[tuple[type[BaseException], ...]] = (OSError, ValueError)

    def __init__(
        self, index_dir: Path, weights: Weights | None = None, *, lock_timeout: float = 10.0
    ) -> None:
        super().__init__(weights)
        self.index_dir = Path(index_dir)
        self.lock_timeout = lock_timeout
        self._lock = threading.RLock()  # guards the generation swap
        self._write_lock = threading.RLock()  # one writer per process at a time
        self._pending: list[tuple[str, list[Any]]] | None = None  # writes during a rebuild
        self._closed = False
        self._stale = False
        self._gen = ""
        self._ix: Index | None = None
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self._open_current()

    # -- engine hooks -------------------------------------------------------------------------

    @abstractmethod
    def _create_index(self, path: Path) -> Index:
        """A new, empty engine index in the folder ``path``."""

    @abstractmethod
    def _open_index(self, path: Path) -> Index:
        """The engine index in ``path``; raises one of :attr:`unusable_errors` if unusable."""

    @abstractmethod
    def _write(self, ix: Index, op: str, payload: list[Any]) -> None:
        """Apply one batch and commit it: ``op`` "index" (prepared documents) or "remove"
        (record ids)."""

    @abstractmethod
    def _write_all(self, ix: Index, prepared: Iterable[Any]) -> None:
        """Write every prepared document into the new (empty) index ``ix`` and commit."""

    def _activated(self, old: Index | None) -> None:
        """Called under the swap lock once ``self._ix`` is another index than ``old``."""

    def _written(self, ix: Index) -> None:
        """Called after a write to ``ix`` committed."""

    def _discard(self, ix: Index) -> None:
        """Release a generation that will not be used (a failed rebuild)."""

    def _closing(self, ix: Index | None) -> None:
        """Release the live index when the backend is closed."""

    def _meta(self) -> dict[str, Any]:
        """Extra facts recorded in a generation's ``lms-search.json``."""
        return {}

    # -- generations --------------------------------------------------------------------------

    def _field_weights(self) -> dict[str, float]:
        """Field weights are applied at index time: an index built with others needs a
        rebuild."""
        return dict(self.weights.field_weights)

    def _new_generation(self) -> tuple[str, Index]:
        name = new_generation_name()
        path = self.index_dir / name
        path.mkdir()
        ix = self._create_index(path)
        meta = {
            "engine": self.name,
            **self._meta(),
            "analyzer_version": analysis.ANALYZER_VERSION,
            "schema_version": self.schema_version,
            "field_weights": self._field_weights(),
            "created": datetime.now(UTC).isoformat(),
        }
        (path / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
        return name, ix

    def _open_generation(self, name: str) -> tuple[Index, bool] | None:
        """(index, stale) or None when the folder is not a usable index of our schema."""
        path = self.index_dir / name
        try:
            meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
            if meta.get("engine") != self.name or meta.get("schema_version") != self.schema_version:
                return None
            ix = self._open_index(path)
        except self.unusable_errors:
            return None
        stale = (
            meta.get("analyzer_version") != analysis.ANALYZER_VERSION
            or meta.get("field_weights") != self._field_weights()
        )
        return ix, stale

    def _open_current(self) -> None:
        name = read_pointer(self.index_dir)
        opened = self._open_generation(name) if name else None
        if opened is None:
            name, ix = self._new_generation()
            write_pointer(self.index_dir, name)
            stale = True  # the index did not exist or was unusable: it must be rebuilt
        else:
            ix, stale = opened
        self._gen, self._ix, self._stale = name, ix, stale
        self._activated(None)

    def _follow_pointer(self) -> None:
        """Switch to the generation named by CURRENT if another process swapped it; start a
        new, empty one (to be rebuilt: :attr:`needs_rebuild`) if the index folder was deleted
        under us. The caller holds ``_lock``."""
        name = read_pointer(self.index_dir)
        if name is None or not (self.index_dir / name).is_dir():
            # Searches would go on from the files still open, and every write would fail.
            old = self._ix
            self.index_dir.mkdir(parents=True, exist_ok=True)
            self._gen, self._ix = self._new_generation()
            write_pointer(self.index_dir, self._gen)
            self._stale = True
            self._activated(old)
            return
        if name != self._gen:
            opened = self._open_generation(name)
            if opened is not None:
                old = self._ix
                self._gen, (self._ix, self._stale) = name, opened
                self._activated(old)

    def _remove_old_generations(self) -> None:
        for path in self.index_dir.glob("gen-*"):
            if path.name != self._gen and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)

    # -- writing ------------------------------------------------------------------------------

    def index(self, docs: Iterable[SearchDocument]) -> int:
        payload = [self._prepare(d) for d in docs]
        return self._write_live("index", payload)

    def remove(self, ids: Iterable[int]) -> int:
        return self._write_live("remove", [int(i) for i in ids])

    def _write_live(self, op: str, payload: list[Any]) -> int:
        if not payload:
            return 0
        with self._write_lock:
            with self._lock:
                self._follow_pointer()
                ix = self._ix
            self._write(ix, op, payload)
            self._written(ix)
            if self._pending is not None:
                self._pending.append((op, payload))
        return len(payload)

    def _build(self, prepared: Counted, progress: Callable[[int], None] | None) -> int:
        """Write a new generation, replay the writes that arrived meanwhile and swap it in; on
        any failure the new generation is removed and the old one stays."""
        name, ix = self._new_generation()
        with self._write_lock:
            self._pending = []
        try:
            self._write_all(ix, prepared)
            with self._write_lock:
                for op, payload in self._pending or []:
                    self._write(ix, op, payload)
                self._pending = None
                write_pointer(self.index_dir, name)
                with self._lock:
                    old = self._ix
                    self._gen, self._ix, self._stale = name, ix, False
                    self._activated(old)
                self._written(ix)
        except BaseException:
            with self._write_lock:
                self._pending = None
            self._discard(ix)
            shutil.rmtree(self.index_dir / name, ignore_errors=True)
            raise
        self._remove_old_generations()
        if progress is not None:
            progress(prepared.count)
        return prepared.count

    # -- state --------------------------------------------------------------------------------

    @property
    def needs_rebuild(self) -> bool:
        with self._lock:
            self._follow_pointer()
            return self._stale

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._closing(self._ix)
            self._ix = None
