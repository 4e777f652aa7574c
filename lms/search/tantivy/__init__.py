"""The tantivy backend (``LMS_SEARCH_BACKEND=tantivy``; a Rust engine in a binary wheel). This
package is the only code that imports tantivy.

What is tantivy's own: the index layout (:mod:`.schema`), the query compiler's hooks, facet
counts by terms aggregations and the second ranking phase by searches restricted to the best
hits (here). Generations, writes and rebuilds are :mod:`lms.search.local`'s; fields, ranking
and writers are described in ``docs/search.md``.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import tantivy

from ..analysis import ChunkAnalyser
from ..backend import (
    KEY_SEP,
    FilterClause,
    Plan,
    RawHit,
    RawResult,
    StoredDoc,
    facet_group,
)
from ..compiler import QueryCompiler
from ..document import (
    FACETS,
    IndexedEntry,
    IndexLocked,
    Notice,
    SearchDocument,
    SearchError,
    Weights,
)
from ..local import LocalIndexBackend
from ..ranking import RESCORE_WINDOW, query_word_pairs, rescore
from ..readers import gc_paused
from .schema import Parts, build_document, document_parts, field_copies, make_schema, stored_doc

#: Writer memory: tantivy needs at least 15 MB per indexing thread.
WRITER_HEAP = 32_000_000
REBUILD_HEAP = 192_000_000
REBUILD_THREADS = 1
FACET_AGG_SIZE = 65_000
_MUST = tantivy.Occur.Must
_SHOULD = tantivy.Occur.Should
_MUST_NOT = tantivy.Occur.MustNot


# --- queries -------------------------------------------------------------------------------------


def _boost(q: tantivy.Query, boost: float) -> tantivy.Query:
    return q if boost == 1.0 else tantivy.Query.boost_query(q, boost)


def _any(queries: list[tantivy.Query]) -> tantivy.Query:
    if not queries:
        return tantivy.Query.empty_query()
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(_SHOULD, q) for q in queries])


def _filter(q: tantivy.Query) -> tantivy.Query:
    """A clause that filters without adding to the score."""
    return tantivy.Query.const_score_query(q, 0.0)


def _folded(field: str | None) -> str:
    return f"{field}_f" if field else "all_f"


class _Compiler(QueryCompiler[tantivy.Query]):
    """The query walk's tantivy hooks: folded fields ``*_f``, accented ``*_a``."""

    def __init__(
        self, weights: Weights, notices: list[Notice], schema: tantivy.Schema,
        searcher: tantivy.Searcher,
    ) -> None:
        super().__init__(weights, notices)
        self.schema = schema
        self.searcher = searcher

    def term(self, field: str | None, folded: str, boost: float) -> tantivy.Query:
        return _boost(tantivy.Query.term_query(self.schema, _folded(field), folded), boost)

    def accented_term(self, field: str | None, accented: str, boost: float) -> tantivy.Query:
        name = f"{field}_a" if field else "all_a"
        return _boost(tantivy.Query.term_query(self.schema, name, accented), boost)

    def phrase(self, field: str | None, folded: list[str], boost: float) -> tantivy.Query:
        return _boost(tantivy.Query.phrase_query(self.schema, _folded(field), folded), boost)

    def any_of(self, queries: list[tantivy.Query]) -> tantivy.Query:
        return _any(queries)

    def all_of(self, queries: list[tantivy.Query]) -> tantivy.Query:
        return tantivy.Query.boolean_query([(_MUST, q) for q in queries])

    def exclude(self, required: tantivy.Query, excluded: list[tantivy.Query]) -> tantivy.Query:
        return tantivy.Query.boolean_query([(_MUST, required), *((_MUST_NOT, q) for q in excluded)])

    def match_all(self) -> tantivy.Query:
        return tantivy.Query.all_query()

    def nothing(self) -> tantivy.Query:
        return tantivy.Query.empty_query()

    def fuzzy(self, folded: str) -> tantivy.Query:
        return tantivy.Query.fuzzy_term_query(self.schema, "all_f", folded, 1)

    def expand_prefix(self, field: str | None, prefix: str, limit: int) -> list[str]:
        return [t for t, _ in self.searcher.terms_with_prefix(_folded(field), prefix, limit=limit)]


# --- the backend ---------------------------------------------------------------------------------


def _meta_stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path / "meta.json")
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class TantivyBackend(LocalIndexBackend[tantivy.Index]):
    name = "tantivy"
    schema_version = "tantivy-3"  # 3: digest and principals in the stored JSON
    unusable_errors = (OSError, ValueError, RuntimeError)
    parallel_readers = True

    def __init__(
        self, index_dir: Path, weights: Weights | None = None, *, lock_timeout: float = 10.0
    ) -> None:
        self._schema = make_schema()
        self._stamp: tuple[int, int, int] | None = None
        self._analyser = ChunkAnalyser(codes_last=True)
        super().__init__(index_dir, weights, lock_timeout=lock_timeout)
        self._copies = field_copies(self.weights)

    # -- index hooks --------------------------------------------------------------------------

    def _meta(self) -> dict[str, Any]:
        return {"tantivy": getattr(tantivy, "__version__", "")}

    def _create_index(self, path: Path) -> tantivy.Index:
        ix = tantivy.Index(self._schema, path=str(path), reuse=False)
        ix.config_reader(reload_policy="Manual")
        return ix

    def _open_index(self, path: Path) -> tantivy.Index:
        ix = tantivy.Index.open(str(path))
        ix.config_reader(reload_policy="Manual")
        return ix

    def _activated(self, old: tantivy.Index | None) -> None:
        self._stamp = _meta_stamp(self.index_dir / self._gen)

    def _written(self, ix: tantivy.Index) -> None:
        with self._lock:
            if ix is self._ix:
                self._stamp = _meta_stamp(self.index_dir / self._gen)

    def _prepare(self, doc: SearchDocument) -> tuple[int, Parts]:
        return int(doc.id), document_parts(doc, self._copies, self._analyser)

    def _writer(self, ix: tantivy.Index, heap: int = WRITER_HEAP, threads: int = 1) -> Any:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.01
        while True:
            try:
                return ix.writer(heap, threads)
            except ValueError as exc:
                if "LockBusy" not in str(exc):
                    raise SearchError(f"cannot open a search index writer: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise IndexLocked(
                        f"search index locked for more than {self.lock_timeout}s"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _id_query(self, doc_id: int) -> tantivy.Query:
        return tantivy.Query.term_query(self._schema, "id", int(doc_id))

    def _write(self, ix: tantivy.Index, op: str, payload: list[Any]) -> None:
        writer = self._writer(ix)
        try:
            if op == "index":
                for doc_id, parts in payload:
                    writer.delete_documents_by_query(self._id_query(doc_id))
                    writer.add_document(build_document(parts))
            else:
                for doc_id in payload:
                    writer.delete_documents_by_query(self._id_query(doc_id))
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()  # releases the lock
            del writer
        ix.reload()

    def _write_all(self, ix: tantivy.Index, prepared: Iterable[tuple[int, Parts]]) -> None:
        writer = self._writer(ix, REBUILD_HEAP, REBUILD_THREADS)
        try:
            with gc_paused():
                for _, parts in prepared:
                    writer.add_document(build_document(parts))
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
            del writer
        ix.reload()

    def _rebuilding(self) -> AbstractContextManager[None]:
        return self._analyser.rebuilding()

    # -- searching ----------------------------------------------------------------------------

    @contextmanager
    def _use(self) -> Iterator[tantivy.Searcher]:
        with self._lock:
            if self._closed:
                raise SearchError("search backend is closed")
            self._follow_pointer()
            stamp = _meta_stamp(self.index_dir / self._gen)
            if stamp != self._stamp:
                self._stamp = stamp
                self._ix.reload()
            searcher = self._ix.searcher()
        yield searcher

    def _compiler(self, state: tantivy.Searcher, notices: list[Notice]) -> _Compiler:
        return _Compiler(self.weights, notices, self._schema, state)

    def doc_count(self) -> int:
        with self._use() as s:
            return int(s.num_docs)

    def inventory(self) -> Iterator[IndexedEntry]:
        with self._use() as s:
            total = int(s.num_docs)
            if not total:
                return
            for _score, addr in s.search(tantivy.Query.all_query(), total).hits:
                doc = s.doc(addr)
                data = json.loads(doc.get_first("store") or b"{}")
                yield IndexedEntry(int(doc.get_first("id")), tuple(data.get("p") or ()),
                                   data.get("d"))

    def _access(self, principals: tuple[str, ...]) -> tantivy.Query:
        """The access filter: a document is visible if it has any of ``principals``."""
        terms = [tantivy.Query.term_query(self._schema, "principals", p) for p in principals]
        return _filter(_any(terms))

    def _clause(self, clause: FilterClause) -> tantivy.Query:
        if not clause.keys:
            return tantivy.Query.empty_query()
        return _filter(tantivy.Query.term_set_query(self._schema, "fkeys", sorted(clause.keys)))

    def _execute(self, plan: Plan) -> RawResult:
        with self._use() as s:
            notices: list[Notice] = []
            compiled = self._compiler(s, notices).compile(plan.parsed)
            if compiled is None:
                return RawResult(0, [])
            text_q, bonus = compiled
            base = [(_MUST, text_q), (_MUST, self._access(plan.principals))]
            base += [(_MUST_NOT, self._clause(c)) for c in plan.exclude if c.keys]
            clauses = [(c.facet, self._clause(c)) for c in plan.include]
            query = tantivy.Query.boolean_query(base + [(_MUST, q) for _, q in clauses])
            k = plan.offset + plan.limit
            if plan.sort == "relevance":
                pairs = []
                if self.weights.phrase > 0:
                    pairs = query_word_pairs([[w.folded for w in r] for r in plan.parsed.runs])
                second = bonus is not None or bool(pairs)
                fetch = max(k, RESCORE_WINDOW) if second else k
                res = s.search(query, fetch, count=True)
                top = [(float(score), addr) for score, addr in res.hits]
                if second and top:
                    top = self._rescore(s, top, bonus, pairs)
                top = top[plan.offset : k]
            else:
                field, order = {
                    "newest": ("published", tantivy.Order.Desc),
                    "downloads": ("downloads", tantivy.Order.Desc),
                    "title": ("title_key", tantivy.Order.Asc),
                }[plan.sort]
                res = s.search(
                    query, plan.limit, count=True, order_by_field=field, offset=plan.offset,
                    order=order,
                )
                top = [(0.0, addr) for _, addr in res.hits]
            hits = self._raw_hits(s, top, plan.with_text)
            facets = self._facets(s, base, clauses) if plan.facets else {}
            return RawResult(int(res.count or 0), hits, facets, notices)

    def _raw_hits(
        self, s: tantivy.Searcher, top: list[tuple[float, Any]], with_text: bool = True
    ) -> list[RawHit]:
        out = []
        for score, addr in top:
            doc = s.doc(addr)
            body = doc.get_first("body") if with_text else None
            stored = stored_doc(doc.get_first("id"), doc.get_first("store"), body)
            out.append(RawHit(stored, score))
        return out

    def _rescore(
        self,
        s: tantivy.Searcher,
        top: list[tuple[float, Any]],
        bonus: tantivy.Query | None,
        pairs: list[tuple[str, str]],
    ) -> list[tuple[float, Any]]:
        """Second phase over the first RESCORE_WINDOW hits: the accented-form bonus and the
        adjacency boost. Each is a search intersected with the window's ids, so tantivy only
        seeks to those documents: one for the bonus, one per query pair (a phrase query as a
        MUST clause; as SHOULD clauses of one query, tantivy's union would scan the phrases
        over the whole index)."""
        window = top[:RESCORE_WINDOW]
        addresses = [addr for _, addr in window]
        ids = s.fast_field_values("id", addresses)
        in_window = _filter(
            _any([tantivy.Query.term_query(self._schema, "id", i) for i in ids if i is not None])
        )
        # Hits are keyed by their rank in the window: one dictionary built once instead of
        # address tuples rebuilt for every comparison.
        rank = {(a.segment_ord, a.doc): i for i, a in enumerate(addresses)}
        n = len(window)
        extra: dict[int, float] = {}
        if bonus is not None:
            q = tantivy.Query.boolean_query([(_MUST, in_window), (_SHOULD, bonus)])
            for score, addr in s.search(q, n, count=False).hits:
                if score:
                    extra[rank[(addr.segment_ord, addr.doc)]] = float(score)
        found: Counter[int] = Counter()
        for a, b in pairs:
            phrase = tantivy.Query.phrase_query(self._schema, "all_f", [a, b])
            q = tantivy.Query.boolean_query([(_MUST, in_window), (_MUST, phrase)])
            found.update(rank[(addr.segment_ord, addr.doc)]
                         for _, addr in s.search(q, n, count=False).hits)
        share = (lambda i: found[i] / len(pairs)) if pairs else None
        keyed = [(score, i) for i, (score, _) in enumerate(window)]
        rescored = rescore(keyed, extra, share, self.weights.phrase)
        return [(score, addresses[i]) for score, i in rescored] + top[RESCORE_WINDOW:]

    def _facets(
        self,
        s: tantivy.Searcher,
        base: list[tuple[Any, tantivy.Query]],
        clauses: list[tuple[str, tantivy.Query]],
    ) -> dict[str, Counter[str]]:
        """Facet counts over the access-filtered matches with one tantivy terms aggregation;
        a facet with a filter gets its counts from the query without its own filter
        (multi-select), as the Whoosh backend's "failed only this facet" rule."""
        counts: dict[str, Counter[str]] = {f: Counter() for f in FACETS}
        filtered = {facet for facet, _ in clauses}
        query = tantivy.Query.boolean_query(base + [(_MUST, q) for _, q in clauses])
        for key, n in self._aggregate(s, query):
            facet, _, value = key.partition(KEY_SEP)
            if facet in counts and facet_group(facet) not in filtered:
                counts[facet][value] = n
        for group in filtered:
            own = [q for f, q in clauses if f == group]
            others = [(_MUST, q) for f, q in clauses if f != group]
            if len(own) > 1:  # year and decade filters: docs failing at most one of them
                others.append(
                    (
                        _MUST,
                        tantivy.Query.boolean_query(
                            [(_SHOULD, q) for q in own], minimum_number_should_match=len(own) - 1
                        ),
                    )
                )
            q = tantivy.Query.boolean_query(base + others)
            for key, n in self._aggregate(s, q):
                facet, _, value = key.partition(KEY_SEP)
                if facet in counts and facet_group(facet) == group:
                    counts[facet][value] = n
        return counts

    def _aggregate(self, s: tantivy.Searcher, query: tantivy.Query) -> list[tuple[str, int]]:
        agg = {"k": {"terms": {"field": "fkeys", "size": FACET_AGG_SIZE}}}
        result = s.aggregate(query, agg)
        return [(b["key"], int(b["doc_count"])) for b in result["k"]["buckets"]]

    def _candidates(
        self, state: tantivy.Searcher, query: tantivy.Query, principals: tuple[str, ...],
        limit: int, with_text: bool,
    ) -> list[StoredDoc]:
        q = tantivy.Query.boolean_query([(_MUST, query), (_MUST, self._access(principals))])
        res = state.search(q, limit, count=False)
        return [h.doc for h in self._raw_hits(state, list(res.hits), with_text)]
