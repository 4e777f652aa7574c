"""The Whoosh backend (the default; pure Python). This package is the only code that imports
Whoosh.

What is Whoosh's own: the index layout and tokenizer bridge (:mod:`.schema`), our search loop
over Whoosh's matchers (:mod:`.collector`), the query compiler's hooks and the writers (here).
Generations, writes and rebuilds are :mod:`lms.search.local`'s, the query walk
:mod:`lms.search.compiler`'s; fields, ranking and writers are described in ``docs/search.md``.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh import query as wq
from whoosh import scoring
from whoosh.index import LockError

from ..backend import Plan, RawHit, RawResult, StoredDoc
from ..compiler import PREFIX_EXPANSIONS, QueryCompiler
from ..document import IndexedEntry, IndexLocked, Notice, SearchDocument, SearchError, Weights
from ..local import LocalIndexBackend
from ..ranking import query_pairs
from .collector import SegmentValues, Snapshot, View, collect, facet_counts, segment_id
from .schema import PreTokenized, Separated, document_fields, make_schema, stored_doc

# Pickled schemas of existing indexes name the tokenizers as attributes of this package.
__all__ = ["PreTokenized", "Separated", "WhooshBackend"]

#: Searchers kept open for the next searches (about the threads serving searches at once).
MAX_IDLE_SEARCHERS = 8


class WhooshBackend(LocalIndexBackend[Any]):
    name = "whoosh"
    schema_version = "2"  # 2: the stored "inventory" field
    unusable_errors = (OSError, ValueError, EOFError, AttributeError, ImportError,
                       pickle.UnpicklingError, windex.IndexError)

    def __init__(
        self,
        index_dir: Path,
        weights: Weights | None = None,
        *,
        lock_timeout: float = 10.0,
        refresh_interval: float = 0.0,
    ) -> None:
        self.refresh_interval = refresh_interval
        self._segment_cache: dict[str, SegmentValues] = {}
        self._snapshot: Snapshot | None = None
        self._idle: list[View] = []  # searchers of the current snapshot, not in use
        self._last_check = 0.0
        super().__init__(index_dir, weights, lock_timeout=lock_timeout)
        self._weighting = scoring.BM25F(B=self.weights.b, K1=self.weights.k1)

    # -- index hooks --------------------------------------------------------------------------

    def _create_index(self, path: Path) -> Any:
        return windex.create_in(str(path), make_schema())

    def _open_index(self, path: Path) -> Any:
        return windex.open_dir(str(path))

    def _activated(self, old: Any) -> None:
        self._retire_views()
        self._last_check = float("-inf")
        if old is not None:
            old.close()

    def _written(self, ix: Any) -> None:
        self._last_check = float("-inf")

    def _discard(self, ix: Any) -> None:
        ix.close()

    def _closing(self, ix: Any) -> None:
        self._retire_views()
        if ix is not None:
            ix.close()

    def _prepare(self, doc: SearchDocument) -> dict[str, Any]:
        return document_fields(doc, self.weights)

    def _writer(self, ix: Any) -> Any:
        try:
            return ix.writer(timeout=self.lock_timeout, delay=0.05)
        except LockError as exc:
            raise IndexLocked(f"search index locked for more than {self.lock_timeout}s") from exc

    def _write(self, ix: Any, op: str, payload: list[Any]) -> None:
        writer = self._writer(ix)
        try:
            ids = [values["id"] for values in payload] if op == "index" else \
                [str(doc_id) for doc_id in payload]
            # update_document would open a searcher per document to delete its old entry;
            # one reader finds those that have one (a bulk import's records are new).
            with writer.reader() as reader:
                indexed = [doc_id for doc_id in ids if ("id", doc_id) in reader]
            for doc_id in indexed:
                writer.delete_by_term("id", doc_id)
            if op == "index":
                for values in payload:
                    writer.add_document(**values)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def _write_all(self, ix: Any, prepared: Iterable[dict[str, Any]]) -> None:
        writer = ix.writer(limitmb=256)
        try:
            for values in prepared:
                writer.add_document(**values)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    # -- searchers ----------------------------------------------------------------------------

    def _retire_views(self) -> None:
        """Forget the current index state: idle searchers are closed now, those in use when
        released. The caller holds ``_lock``."""
        self._snapshot = None
        idle, self._idle = self._idle, []
        for view in idle:
            view.close()

    @contextmanager
    def _use(self) -> Iterator[View]:
        """A searcher for this thread alone: an idle one of the current index state, or a new
        one. Whoosh searchers are not safe to share between threads."""
        with self._lock:
            if self._closed:
                raise SearchError("search backend is closed")
            now = time.monotonic()
            if self._snapshot is None or now - self._last_check >= self.refresh_interval:
                self._last_check = now
                self._follow_pointer()
                if (
                    self._snapshot is not None
                    and self._ix.latest_generation() != self._snapshot.generation
                ):
                    self._retire_views()
            view = self._idle.pop() if self._idle else None
            if view is None:
                searcher = self._ix.searcher(weighting=self._weighting)
                generation = searcher.reader().generation()
                if self._snapshot is None or self._snapshot.generation != generation:
                    self._retire_views()  # the index changed since the last check
                    self._snapshot = Snapshot(generation, self._segment_cache)
                    self._trim_segment_cache(searcher)
                view = View(searcher, self._snapshot)
        try:
            yield view
        finally:
            with self._lock:
                keep = view.snapshot is self._snapshot and len(self._idle) < MAX_IDLE_SEARCHERS
                if keep:
                    self._idle.append(view)
            if not keep:
                view.close()

    def _trim_segment_cache(self, searcher: Any) -> None:
        if len(self._segment_cache) > 64:
            live = {segment_id(r) for r, _ in searcher.reader().leaf_readers()}
            for key in list(self._segment_cache):
                if key not in live:
                    del self._segment_cache[key]

    def doc_count(self) -> int:
        with self._use() as view:
            return int(view.searcher.doc_count())

    def inventory(self) -> Iterator[IndexedEntry]:
        with self._use() as view:
            for stored in view.searcher.all_stored_fields():
                digest, principals = stored.get("inventory") or (None, ())
                yield IndexedEntry(int(stored["id"]), tuple(principals), digest)

    # -- searching ----------------------------------------------------------------------------

    def _execute(self, plan: Plan) -> RawResult:
        with self._use() as view:
            allow = view.access_set(plan.principals)
            if not allow:
                return RawResult(0, [])
            notices: list[Notice] = []
            compiled = self._compiler(view, notices).compile(plan.parsed)
            if compiled is None:
                return RawResult(0, [])
            required, bonus = compiled
            required = required.normalize()
            if required is wq.NullQuery:
                return RawResult(0, [])
            bonus = bonus.normalize() if bonus is not None else None
            clauses = [(c.facet, view.clause_set(c)) for c in plan.include]
            excluded: set[int] = set()
            for c in plan.exclude:
                excluded |= view.clause_set(c)
            k = plan.offset + plan.limit
            pairs = query_pairs([[w.folded for w in r] for r in plan.parsed.runs])
            found = collect(
                view, (required, bonus), allow, excluded, clauses, k, plan.sort, plan.facets,
                pairs, self.weights.phrase,
            )
            hits = [
                RawHit(found.stored.get(g) or stored_doc(view.searcher.stored_fields(g)), score)
                for score, g in found.top[plan.offset : k]
            ]
            facets = facet_counts(view, found) if plan.facets else {}
            return RawResult(found.total, hits, facets, notices)

    def _compiler(self, state: View, notices: list[Notice]) -> _Compiler:
        return _Compiler(self.weights, notices, state.searcher.reader())

    def _candidates(
        self, state: View, query: wq.Query, principals: tuple[str, ...], limit: int,
        with_text: bool,
    ) -> list[StoredDoc]:
        allow = state.access_set(principals)
        if not allow:
            return []
        found = collect(state, query.normalize(), allow, set(), [], limit, "relevance", False)
        searcher = state.searcher
        return [stored_doc(searcher.stored_fields(g), with_text=with_text) for _, g in found.top]


def _expand(reader: Any, fieldname: str, prefix: str, cap: int = PREFIX_EXPANSIONS) -> list[str]:
    field = reader.schema[fieldname]
    return [field.from_bytes(b) for b in islice(reader.expand_prefix(fieldname, prefix), cap)]


def _folded(field: str | None) -> str:
    return f"{field}_f" if field else "all_f"


class _Compiler(QueryCompiler[wq.Query]):
    """The query walk's Whoosh hooks: folded fields ``*_f``, accented ``*_a``."""

    def __init__(self, weights: Weights, notices: list[Notice], reader: Any) -> None:
        super().__init__(weights, notices)
        self.reader = reader

    def term(self, field: str | None, folded: str, boost: float) -> wq.Query:
        return wq.Term(_folded(field), folded, boost=boost)

    def accented_term(self, field: str | None, accented: str, boost: float) -> wq.Query:
        return wq.Term(f"{field}_a" if field else "all_a", accented, boost=boost)

    def phrase(self, field: str | None, folded: list[str], boost: float) -> wq.Query:
        return wq.Phrase(_folded(field), folded, slop=1, boost=boost)

    def any_of(self, queries: list[wq.Query]) -> wq.Query:
        return wq.Or(queries)

    def all_of(self, queries: list[wq.Query]) -> wq.Query:
        return wq.And(queries)

    def exclude(self, required: wq.Query, excluded: list[wq.Query]) -> wq.Query:
        return wq.AndNot(required, wq.Or(excluded))

    def match_all(self) -> wq.Query:
        return wq.Every()

    def fuzzy(self, folded: str) -> wq.Query:
        return wq.FuzzyTerm("all_f", folded, maxdist=1, prefixlength=1)

    def nothing(self) -> wq.Query:
        return wq.NullQuery

    def expand_prefix(self, field: str | None, prefix: str, limit: int) -> list[str]:
        return _expand(self.reader, _folded(field), prefix, limit)


