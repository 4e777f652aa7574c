"""Our search loop over Whoosh's matchers: one pass over the matches of a query (access filter,
exclusions and facet filters applied to document numbers before scoring; the exact total, the
top hits and the facet counts collected together), then the second ranking phase over the best
hits. Doc values and filter sets are cached per searcher (:class:`View`).
"""

from __future__ import annotations

import heapq
import threading
from collections import Counter
from itertools import chain
from typing import Any

from whoosh import query as wq

from ..backend import KEY_SEP, FilterClause, StoredDoc, facet_group
from ..document import FACETS
from ..ranking import RESCORE_WINDOW, coverage, rescore
from .schema import DV_SEP, LIST_SEP


class SegmentValues:
    """Doc values of one segment, read once from the ``dv`` column."""

    __slots__ = ("downloads", "keys", "published", "title_key")

    def __init__(self, reader: Any) -> None:
        self.published: list[float] = []
        self.downloads: list[int] = []
        self.title_key: list[str] = []
        self.keys: list[tuple[str, ...]] = []
        n = reader.doc_count_all()
        if not reader.has_column("dv"):
            self.published = [0.0] * n
            self.downloads = [0] * n
            self.title_key = [""] * n
            self.keys = [()] * n
            return
        for raw in reader.column_reader("dv"):
            parts = raw.decode("utf-8").split(DV_SEP) if raw else []
            if len(parts) != 4:
                parts = ["0", "0", "", ""]
            self.published.append(float(parts[0] or 0))
            self.downloads.append(int(parts[1] or 0))
            self.title_key.append(parts[2])
            self.keys.append(tuple(k for k in parts[3].split(LIST_SEP) if k))


#: Per document number: published timestamp, downloads, title collation key, facet keys.
DocValues = tuple[list[float], list[int], list[str], list[tuple[str, ...]]]


class Snapshot:
    """Caches valid for one state of the index (one Whoosh generation), shared by every
    searcher open on that state: doc values, access and filter sets (document numbers are the
    same in all of them). Each is computed by the searcher of whichever thread needs it first;
    a value computed twice by two threads at once is the same value."""

    def __init__(self, generation: int | None, segment_cache: dict[str, SegmentValues]) -> None:
        self.generation = generation
        self._segment_cache = segment_cache
        self._values: DocValues | None = None
        self._sets: dict[Any, frozenset[int]] = {}
        self._lock = threading.Lock()

    def values(self, searcher: Any) -> DocValues:
        if self._values is None:
            with self._lock:
                if self._values is None:
                    pub: list[float] = []
                    dl: list[int] = []
                    tk: list[str] = []
                    keys: list[tuple[str, ...]] = []
                    for reader, _offset in searcher.reader().leaf_readers():
                        segid = segment_id(reader)
                        seg = self._segment_cache.get(segid) if segid else None
                        if seg is None:
                            seg = SegmentValues(reader)
                            if segid:
                                self._segment_cache[segid] = seg
                        pub += seg.published
                        dl += seg.downloads
                        tk += seg.title_key
                        keys += seg.keys
                    self._values = (pub, dl, tk, keys)
        return self._values

    def docset(self, key: Any, q: wq.Query, searcher: Any) -> frozenset[int]:
        """Document numbers matching an unscored query."""
        found = self._sets.get(key)
        if found is None:
            found = frozenset(searcher.docs_for_query(q))
            if len(self._sets) > 512:
                self._sets.clear()
            self._sets[key] = found
        return found


class View:
    """One Whoosh searcher, used by one thread at a time (Whoosh's readers share file
    positions: two threads reading through one searcher get each other's bytes), on the
    :class:`Snapshot` of its index state."""

    def __init__(self, searcher: Any, snapshot: Snapshot) -> None:
        self.searcher = searcher
        self.snapshot = snapshot
        self._pairs: list[tuple[int, Any]] | None = None  # column readers read our files

    def close(self) -> None:
        self.searcher.close()

    def values(self) -> DocValues:
        return self.snapshot.values(self.searcher)

    def pairs_of(self, g: int) -> bytes | None:
        """The adjacent-pair hashes of global document ``g``."""
        if self._pairs is None:
            readers = []
            for reader, offset in self.searcher.reader().leaf_readers():
                if reader.has_column("pairs"):
                    readers.append((offset, reader.column_reader("pairs")))
            self._pairs = readers
        for offset, cr in reversed(self._pairs):
            if g >= offset:
                return cr[g - offset]
        return None

    def access_set(self, principals: tuple[str, ...]) -> frozenset[int]:
        q = wq.Or([wq.Term("principals", p) for p in principals])
        return self.snapshot.docset(("access", principals), q, self.searcher)

    def clause_set(self, clause: FilterClause) -> frozenset[int]:
        if not clause.keys:
            return frozenset()
        q = wq.Or([wq.Term("fkeys", k) for k in sorted(clause.keys)])
        return self.snapshot.docset(("keys", clause.keys), q, self.searcher)


def segment_id(reader: Any) -> str | None:
    try:
        return str(reader.segment().segment_id())
    except AttributeError:
        return None


class Collected:
    __slots__ = ("near", "passing", "stored", "top", "total")

    def __init__(self) -> None:
        self.total = 0
        self.top: list[tuple[float, int]] = []
        self.passing: list[int] = []
        self.near: dict[str, list[int]] = {}
        self.stored: dict[int, StoredDoc] = {}


def rescore_window(
    view: View,
    out: Collected,
    bonus: wq.Query | None,
    pairs: tuple[int, ...],
    phrase_weight: float,
) -> None:
    """Second phase over the first RESCORE_WINDOW hits: add the accented-form bonus (exact
    accents rank first) and apply the adjacency boost (see :mod:`lms.search.ranking`)."""
    window = out.top[:RESCORE_WINDOW]
    extra: dict[int, float] = {}
    if bonus is not None and window:
        docs = sorted(g for _, g in window)
        searcher = view.searcher
        context = searcher.context(needs_current=True)
        leaves = searcher.leaf_searchers()
        for i, (sub, offset) in enumerate(leaves):
            end = leaves[i + 1][1] if i + 1 < len(leaves) else None
            mine = [g for g in docs if g >= offset and (end is None or g < end)]
            if not mine:
                continue
            m = bonus.matcher(sub, context)
            for g in mine:
                if not m.is_active():
                    break
                local = g - offset
                if m.id() < local:
                    m.skip_to(local)
                    if not m.is_active():
                        break
                if m.id() == local:
                    extra[g] = m.score()

    def pair_share(g: int) -> float:
        return coverage(pairs, view.pairs_of(g))

    share = pair_share if pairs and phrase_weight > 0 else None
    out.top = rescore(window, extra, share, phrase_weight) + out.top[RESCORE_WINDOW:]


def collect(
    view: View,
    compiled: tuple[wq.Query, wq.Query | None] | wq.Query,
    allow: frozenset[int],
    excluded: set[int],
    clauses: list[tuple[str, frozenset[int]]],
    k: int,
    sort: str,
    facets: bool,
    pairs: tuple[int, ...] = (),
    phrase_weight: float = 0.0,
) -> Collected:
    """Visit every match once: access filter, exclusions and facet filters are applied to
    doc numbers before scoring; keeps the top ``k``, the exact total and, for facet counts,
    the docs passing all filters or all but one facet's (multi-select counts)."""
    if isinstance(compiled, tuple):
        q, bonus = compiled
    else:
        q, bonus = compiled, None
    searcher = view.searcher
    context = searcher.context(needs_current=True)
    out = Collected()
    scored = sort == "relevance"
    second_phase = scored and (bonus is not None or (pairs and phrase_weight > 0))
    if second_phase:
        k = max(k, RESCORE_WINDOW)
    heap: list[tuple[float, int]] = []
    candidates: list[int] = []
    passing = out.passing
    near = out.near
    total = 0
    for sub, offset in searcher.leaf_searchers():
        m = q.matcher(sub, context)
        if not m.is_active():
            continue
        m = m.replace(0)
        while m.is_active():
            g = offset + m.id()
            if g in allow and g not in excluded:
                failed: str | None = None
                for facet, docs in clauses:
                    if g not in docs:
                        failed = facet if failed is None else ""
                        if failed == "":
                            break
                if failed is None:
                    total += 1
                    if facets:
                        passing.append(g)
                    if scored:
                        item = (m.score(), -g)
                        if len(heap) < k:
                            heapq.heappush(heap, item)
                        elif item > heap[0]:
                            heapq.heapreplace(heap, item)
                    else:
                        candidates.append(g)
                elif failed and facets:
                    near.setdefault(failed, []).append(g)
            m.next()
    out.total = total
    if scored:
        out.top = [(s, -ng) for s, ng in sorted(heap, reverse=True)]
        if second_phase:
            rescore_window(view, out, bonus, pairs, phrase_weight)
    else:
        pub, dl, tk, _ = view.values()
        if sort == "newest":
            best = heapq.nsmallest(k, candidates, key=lambda g: (-pub[g], g))
        elif sort == "downloads":
            best = heapq.nsmallest(k, candidates, key=lambda g: (-dl[g], g))
        else:
            best = heapq.nsmallest(k, candidates, key=lambda g: (tk[g], g))
        out.top = [(0.0, g) for g in best]
    return out


def facet_counts(view: View, found: Collected) -> dict[str, Counter[str]]:
    keys = view.values()[3]
    counts: dict[str, Counter[str]] = {f: Counter() for f in FACETS}
    combined = Counter(chain.from_iterable(keys[g] for g in found.passing))
    for near_facet, docs in found.near.items():
        extra = Counter(chain.from_iterable(keys[g] for g in docs))
        for key, n in extra.items():
            facet = key.split(KEY_SEP, 1)[0]
            if facet_group(facet) == near_facet:
                combined[key] += n
    for key, n in combined.items():
        facet, _, value = key.partition(KEY_SEP)
        if facet in counts:
            counts[facet][value] = n
    return counts

