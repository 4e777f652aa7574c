"""The Whoosh backend (the default). The only module that imports Whoosh.

Layout on disk: ``<index_dir>/CURRENT`` names the live generation folder
``<index_dir>/gen-…/`` (a Whoosh index plus ``lms-search.json`` with the analyzer and schema
versions). :meth:`WhooshBackend.rebuild` builds a new generation beside it and swaps
``CURRENT`` atomically (``os.replace``), so searches keep working during a rebuild.

Fields (all text pre-analysed by :mod:`lms.search.analysis`; Whoosh only splits on spaces):

* ``all_f`` — every text field's *folded* tokens in one field, each token weighted by its
  field's weight (title > subject/creator > description > full text): weighted term
  frequencies are summed before BM25 saturation (BM25F proper). Positions, for phrases.
  Matching uses only this field, so a query word is one posting list (as cheap as it gets).
* ``all_a`` — the same with *accented* tokens, frequencies only: the exact-accent bonus.
* ``title_*``, ``creator_*``, ``subject_*`` — for ``title:`` … queries and autocomplete.
* ``principals`` — indexed for the access filter, a Whoosh query turned into a doc-number set
  cached per searcher; ``fkeys`` — facet keys for filters, the same way.
* columns ``dv`` (facet keys and sort values, read once per segment and cached) and ``pairs``
  (hashes of adjacent syllable pairs for the proximity boost).
* stored: id, external id, titles, subject labels, the text for snippets (zlib-compressed).

Ranking is two-phase: BM25F on ``all_f`` for every match (while counting the exact total and
collecting facet counts in the same pass), then the best ``RESCORE_WINDOW`` hits get the
accented-form bonus and the adjacency boost (:mod:`lms.search.ranking`). Field weights are
applied at index time and recorded in ``lms-search.json``: other weights → ``needs_rebuild``.

Writers: one at a time. In-process writers queue on a lock; across processes Whoosh's file
lock is waited for up to ``lock_timeout`` seconds (``index.writer(timeout=…)``), then
:class:`IndexLocked` is raised so a job can retry. No BufferedWriter (it holds the lock for
its whole life). Searchers are refreshed before each query when the index changed; a
searcher still in use by another thread is closed only when released.
"""

from __future__ import annotations

import heapq
import json
import pickle
import shutil
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any

from whoosh import columns, fields, scoring
from whoosh import index as windex
from whoosh import query as wq
from whoosh.analysis import Token, Tokenizer
from whoosh.index import LockError

from .analysis import ANALYZER_VERSION, VALUE_GAP, collation_key, index_forms, index_forms_multi
from .backend import (
    KEY_SEP,
    FilterClause,
    IndexLocked,
    Plan,
    RawHit,
    RawResult,
    SearchBackend,
    SearchError,
    StoredDoc,
    clean_principals,
    facet_keys,
)
from .document import FACETS, IndexedEntry, Notice, SearchDocument, Weights
from .generations import (
    new_generation_name,
    read_pointer,
    remove_old_generations,
    write_pointer,
)
from .query import AllOf, AnyOf, MatchAll, Node, ParsedQuery, Phrase, Word
from .ranking import RESCORE_WINDOW, coverage, pair_hashes, query_pairs

SCHEMA_VERSION = "2"  # 2: the stored "inventory" field
META_FILE = "lms-search.json"
PREFIX_EXPANSIONS = 256
STORE_COMPRESS_OVER = 512
_LIST_SEP = "\x1d"
_DV_SEP = "\x1e"


class PreTokenized(Tokenizer):
    """Splits text pre-analysed by :mod:`lms.search.analysis` on spaces. A token starting
    with "+" shares the previous token's position; ``VALUE_GAP`` skips positions; a token
    "\\x1c<weight>" sets the weight of the tokens after it (and skips positions)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos - 1
        boost = 1.0
        for word in value.split(" "):
            if not word:
                continue
            if word == VALUE_GAP:
                pos += 10
                continue
            if word[0] == _BOOST:
                boost = float(word[1:])
                pos += 10
                continue
            if word[0] == "+" and len(word) > 1:
                word = word[1:]
                pos = max(pos, start_pos)
            else:
                pos += 1
            t.text = word
            t.boost = boost
            t.stopped = False
            if keeporiginal:
                t.original = word
            if positions:
                t.pos = pos
            if chars:
                t.startchar = t.endchar = start_char
            yield t


class Separated(Tokenizer):
    """Splits a list joined with U+001D (opaque values such as principals)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for i, word in enumerate(v for v in value.split(_LIST_SEP) if v):
            t.text = word
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = word
            if positions:
                t.pos = start_pos + i
            if chars:
                t.startchar = t.endchar = start_char
            yield t


def _keyword() -> fields.KEYWORD:
    kw = fields.KEYWORD(stored=False, lowercase=False, commas=False, scorable=False)
    kw.analyzer = Separated()
    return kw


#: Text fields in the combined ``all_*`` fields, with their Weights attribute.
ALL_FIELDS = ("title", "subject", "creator", "description", "fulltext")
#: Fields a query may name (``title:`` …), indexed on their own as well.
NAMED_FIELDS = ("title", "creator", "subject")
_BOOST = "\x1c"


def make_schema() -> fields.Schema:
    spec: dict[str, fields.FieldType] = {
        "id": fields.ID(stored=True, unique=True),
        "ext": fields.STORED(),
        "titles": fields.STORED(),
        "subjects": fields.STORED(),
        "body": fields.STORED(),
        "inventory": fields.STORED(),  # (digest, principals), for lms check
        "principals": _keyword(),
        "fkeys": _keyword(),
        "dv": fields.COLUMN(columns.VarBytesColumn()),
        "pairs": fields.COLUMN(columns.VarBytesColumn()),
        # Every text field in one field, each token weighted by its field's weight: the
        # weighted term frequencies are combined before BM25 saturation (BM25F proper).
        "all_f": fields.TEXT(analyzer=PreTokenized(), phrase=True),
        "all_a": fields.TEXT(analyzer=PreTokenized(), phrase=False),
    }
    for name in NAMED_FIELDS:
        spec[f"{name}_f"] = fields.TEXT(analyzer=PreTokenized(), phrase=True)
        spec[f"{name}_a"] = fields.TEXT(analyzer=PreTokenized(), phrase=False)
    return fields.Schema(**spec)


def _timestamp(doc: SearchDocument) -> float:
    if doc.published_at is not None:
        dt = doc.published_at
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.timestamp()
    return 0.0


def document_fields(doc: SearchDocument, weights: Weights) -> dict[str, Any]:
    """The Whoosh field values of one document."""
    values: dict[str, Any] = {"id": str(int(doc.id))}
    pairs = {
        "title": index_forms_multi(list(doc.title)),
        "creator": index_forms_multi(list(doc.creator)),
        "subject": index_forms_multi(list(doc.subject)),
        "description": index_forms_multi(list(doc.description)),
        "fulltext": index_forms(doc.fulltext or ""),
    }
    all_a: list[str] = []
    all_f: list[str] = []
    for name in ALL_FIELDS:
        acc, fol = pairs[name]
        if not fol:
            continue
        marker = f"{_BOOST}{weights.field(name):g}"
        all_a += [marker, acc]
        all_f += [marker, fol]
        if name in NAMED_FIELDS:
            values[f"{name}_f"] = fol
            values[f"{name}_a"] = acc
    if all_f:
        values["all_f"] = " ".join(all_f)
        values["all_a"] = " ".join(all_a)
    values["pairs"] = pair_hashes(fol for _, fol in pairs.values())
    principals = clean_principals(doc.principals)
    if principals:
        values["principals"] = _LIST_SEP.join(principals)
    values["inventory"] = (doc.digest(), principals)
    keys = facet_keys(doc)
    values["fkeys"] = _LIST_SEP.join(keys)
    display = doc.title[0] if doc.title else ""
    dv = _DV_SEP.join(
        [
            f"{_timestamp(doc):.0f}",
            str(int(doc.downloads or 0)),
            collation_key(display),
            _LIST_SEP.join(keys),
        ]
    )
    values["dv"] = dv.encode("utf-8")
    values["ext"] = doc.external_id
    values["titles"] = [str(t) for t in doc.title]
    values["subjects"] = [str(s) for s in doc.subject]
    body = doc.fulltext or "\n".join(doc.description)
    encoded = body.encode("utf-8")
    values["body"] = zlib.compress(encoded, 1) if len(encoded) > STORE_COMPRESS_OVER else body
    return values


def _stored_doc(stored: dict[str, Any], with_text: bool = True) -> StoredDoc:
    body = stored.get("body") or ""
    if with_text and isinstance(body, bytes):
        body = zlib.decompress(body).decode("utf-8")
    return StoredDoc(
        id=int(stored["id"]),
        external_id=stored.get("ext"),
        titles=list(stored.get("titles") or []),
        subjects=list(stored.get("subjects") or []),
        text=body if with_text and isinstance(body, str) else "",
    )


class _SegmentValues:
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
            parts = raw.decode("utf-8").split(_DV_SEP) if raw else []
            if len(parts) != 4:
                parts = ["0", "0", "", ""]
            self.published.append(float(parts[0] or 0))
            self.downloads.append(int(parts[1] or 0))
            self.title_key.append(parts[2])
            self.keys.append(tuple(k for k in parts[3].split(_LIST_SEP) if k))


class _View:
    """One searcher plus caches valid for its lifetime (doc values, access and filter sets)."""

    def __init__(self, searcher: Any, segment_cache: dict[str, _SegmentValues]) -> None:
        self.searcher = searcher
        self.refs = 0
        self.retired = False
        self._segment_cache = segment_cache
        self._values: tuple[list[float], list[int], list[str], list[tuple[str, ...]]] | None = None
        self._sets: dict[Any, frozenset[int]] = {}
        self._pairs: list[tuple[int, Any]] | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.searcher.close()

    def values(self) -> tuple[list[float], list[int], list[str], list[tuple[str, ...]]]:
        if self._values is None:
            with self._lock:
                if self._values is None:
                    pub: list[float] = []
                    dl: list[int] = []
                    tk: list[str] = []
                    keys: list[tuple[str, ...]] = []
                    for reader, _offset in self.searcher.reader().leaf_readers():
                        segid = _segment_id(reader)
                        seg = self._segment_cache.get(segid) if segid else None
                        if seg is None:
                            seg = _SegmentValues(reader)
                            if segid:
                                self._segment_cache[segid] = seg
                        pub += seg.published
                        dl += seg.downloads
                        tk += seg.title_key
                        keys += seg.keys
                    self._values = (pub, dl, tk, keys)
        return self._values

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

    def docset(self, key: Any, q: wq.Query) -> frozenset[int]:
        """Document numbers matching an unscored query, cached for this searcher."""
        found = self._sets.get(key)
        if found is None:
            found = frozenset(self.searcher.docs_for_query(q))
            if len(self._sets) > 512:
                self._sets.clear()
            self._sets[key] = found
        return found

    def access_set(self, principals: tuple[str, ...]) -> frozenset[int]:
        q = wq.Or([wq.Term("principals", p) for p in principals])
        return self.docset(("access", principals), q)

    def clause_set(self, clause: FilterClause) -> frozenset[int]:
        if not clause.keys:
            return frozenset()
        q = wq.Or([wq.Term("fkeys", k) for k in sorted(clause.keys)])
        return self.docset(("keys", clause.keys), q)


def _segment_id(reader: Any) -> str | None:
    try:
        return str(reader.segment().segment_id())
    except AttributeError:
        return None


class WhooshBackend(SearchBackend):
    name = "whoosh"

    def __init__(
        self,
        index_dir: Path,
        weights: Weights | None = None,
        *,
        lock_timeout: float = 10.0,
        refresh_interval: float = 0.0,
    ) -> None:
        super().__init__(index_dir, weights)
        self.lock_timeout = lock_timeout
        self.refresh_interval = refresh_interval
        self._weighting = scoring.BM25F(B=self.weights.b, K1=self.weights.k1)
        self._lock = threading.RLock()  # guards the view/index swap
        self._write_lock = threading.RLock()  # one writer per process at a time
        self._rebuild_lock = threading.Lock()
        self._pending: list[tuple[str, Any]] | None = None  # writes during a rebuild
        self._segment_cache: dict[str, _SegmentValues] = {}
        self._view: _View | None = None
        self._last_check = 0.0
        self._closed = False
        self._stale = False
        self._gen: str = ""
        self._ix: Any = None
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self._open_current()

    # -- index folders ------------------------------------------------------------------------

    def _read_pointer(self) -> str | None:
        return read_pointer(self.index_dir)

    def _write_pointer(self, name: str) -> None:
        write_pointer(self.index_dir, name)

    def _new_generation(self) -> tuple[str, Any]:
        name = new_generation_name()
        path = self.index_dir / name
        path.mkdir()
        ix = windex.create_in(str(path), make_schema())
        meta = {
            "engine": "whoosh",
            "analyzer_version": ANALYZER_VERSION,
            "schema_version": SCHEMA_VERSION,
            "field_weights": self._field_weights(),
            "created": datetime.now(UTC).isoformat(),
        }
        (path / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
        return name, ix

    def _open_generation(self, name: str) -> tuple[Any, bool] | None:
        """(index, stale) or None when the folder is not a usable index of our schema."""
        path = self.index_dir / name
        try:
            meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
            if meta.get("schema_version") != SCHEMA_VERSION:
                return None
            ix = windex.open_dir(str(path))
        except (OSError, ValueError, EOFError, AttributeError, ImportError,
                pickle.UnpicklingError, windex.IndexError):
            return None
        stale = (
            meta.get("analyzer_version") != ANALYZER_VERSION
            or meta.get("field_weights") != self._field_weights()
        )
        return ix, stale

    def _field_weights(self) -> dict[str, float]:
        """Field weights are applied at index time (token weights in ``all_*``): an index
        built with other weights needs a rebuild."""
        return {name: self.weights.field(name) for name in ALL_FIELDS}

    def _open_current(self) -> None:
        name = self._read_pointer()
        opened = self._open_generation(name) if name else None
        if opened is None:
            name, ix = self._new_generation()
            self._write_pointer(name)
            stale = True  # the index did not exist or was unusable: it must be rebuilt
        else:
            ix, stale = opened
        self._gen, self._ix, self._stale = name, ix, stale

    def _follow_pointer(self) -> None:
        """Switch to the generation named by CURRENT if another process swapped it."""
        name = self._read_pointer()
        if name and name != self._gen:
            opened = self._open_generation(name)
            if opened is not None:
                old = self._ix
                self._gen, (self._ix, self._stale) = name, opened
                self._retire_view()
                old.close()

    # -- searchers ----------------------------------------------------------------------------

    def _retire_view(self) -> None:
        view, self._view = self._view, None
        if view is not None:
            view.retired = True
            if view.refs == 0:
                view.close()

    @contextmanager
    def _use(self) -> Iterator[_View]:
        with self._lock:
            if self._closed:
                raise SearchError("search backend is closed")
            now = time.monotonic()
            if self._view is None or now - self._last_check >= self.refresh_interval:
                self._last_check = now
                self._follow_pointer()
                if self._view is not None and not self._view.searcher.up_to_date():
                    self._retire_view()
                if self._view is None:
                    self._view = _View(
                        self._ix.searcher(weighting=self._weighting), self._segment_cache
                    )
                    self._trim_segment_cache()
            view = self._view
            view.refs += 1
        try:
            yield view
        finally:
            with self._lock:
                view.refs -= 1
                if view.retired and view.refs == 0:
                    view.close()

    def _trim_segment_cache(self) -> None:
        if len(self._segment_cache) > 64:
            live = {_segment_id(r) for r, _ in self._view.searcher.reader().leaf_readers()}
            for key in list(self._segment_cache):
                if key not in live:
                    del self._segment_cache[key]

    # -- writing ------------------------------------------------------------------------------

    def _writer(self, ix: Any) -> Any:
        try:
            return ix.writer(timeout=self.lock_timeout, delay=0.05)
        except LockError as exc:
            raise IndexLocked(f"search index locked for more than {self.lock_timeout}s") from exc

    def _apply(self, ix: Any, op: str, payload: list[Any]) -> None:
        writer = self._writer(ix)
        try:
            if op == "index":
                for values in payload:
                    writer.update_document(**values)
            else:
                for doc_id in payload:
                    writer.delete_by_term("id", doc_id)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def index(self, docs: Iterable[SearchDocument]) -> int:
        payload = [document_fields(d, self.weights) for d in docs]
        if not payload:
            return 0
        with self._write_lock:
            with self._lock:
                self._follow_pointer()
            self._apply(self._ix, "index", payload)
            if self._pending is not None:
                self._pending.append(("index", payload))
        self._last_check = float("-inf")
        return len(payload)

    def remove(self, ids: Iterable[int]) -> int:
        payload = [str(int(i)) for i in ids]
        if not payload:
            return 0
        with self._write_lock:
            with self._lock:
                self._follow_pointer()
            self._apply(self._ix, "remove", payload)
            if self._pending is not None:
                self._pending.append(("remove", payload))
        self._last_check = float("-inf")
        return len(payload)

    def rebuild(
        self, docs: Iterable[SearchDocument], progress: Callable[[int], None] | None = None
    ) -> int:
        with self._rebuild_lock:
            name, ix = self._new_generation()
            with self._write_lock:
                self._pending = []
            count = 0
            try:
                writer = ix.writer(limitmb=256)
                try:
                    for doc in docs:
                        writer.add_document(**document_fields(doc, self.weights))
                        count += 1
                        if progress is not None and count % 500 == 0:
                            progress(count)
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit()
                with self._write_lock:
                    for op, payload in self._pending or []:
                        self._apply(ix, op, payload)
                    self._pending = None
                    self._write_pointer(name)
                    with self._lock:
                        old = self._ix
                        self._gen, self._ix, self._stale = name, ix, False
                        self._retire_view()
                        self._last_check = float("-inf")
                    old.close()
            except BaseException:
                with self._write_lock:
                    self._pending = None
                ix.close()
                shutil.rmtree(self.index_dir / name, ignore_errors=True)
                raise
            self._remove_old_generations()
        if progress is not None:
            progress(count)
        return count

    def _remove_old_generations(self) -> None:
        remove_old_generations(self.index_dir, self._gen)

    # -- state --------------------------------------------------------------------------------

    @property
    def needs_rebuild(self) -> bool:
        with self._lock:
            self._follow_pointer()
            return self._stale

    def doc_count(self) -> int:
        with self._use() as view:
            return int(view.searcher.doc_count())

    def inventory(self) -> Iterator[IndexedEntry]:
        with self._use() as view:
            for stored in view.searcher.all_stored_fields():
                digest, principals = stored.get("inventory") or (None, ())
                yield IndexedEntry(int(stored["id"]), tuple(principals), digest)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._retire_view()
            if self._ix is not None:
                self._ix.close()

    # -- searching ----------------------------------------------------------------------------

    def _execute(self, plan: Plan) -> RawResult:
        with self._use() as view:
            allow = view.access_set(plan.principals)
            if not allow:
                return RawResult(0, [])
            notices: list[Notice] = []
            compiled = _Compiler(self.weights, view.searcher.reader(), notices).compile(plan.parsed)
            if compiled is None:
                return RawResult(0, [])
            clauses = [(c.facet, view.clause_set(c)) for c in plan.include]
            excluded: set[int] = set()
            for c in plan.exclude:
                excluded |= view.clause_set(c)
            k = plan.offset + plan.limit
            pairs = query_pairs([[w.folded for w in r] for r in plan.parsed.runs])
            run = _run(
                view, compiled, allow, excluded, clauses, k, plan.sort, plan.facets,
                pairs, self.weights.phrase,
            )
            hits = [
                RawHit(run.stored.get(g) or _stored_doc(view.searcher.stored_fields(g)), score)
                for score, g in run.top[plan.offset : k]
            ]
            facets = _facet_counts(view, run) if plan.facets else {}
            return RawResult(run.total, hits, facets, notices)

    def _candidates(
        self, q: wq.Query, principals: tuple[str, ...], limit: int, with_text: bool
    ) -> list[StoredDoc]:
        with self._use() as view:
            allow = view.access_set(principals)
            if not allow:
                return []
            run = _run(view, q.normalize(), allow, set(), [], limit, "relevance", False)
            return [
                _stored_doc(view.searcher.stored_fields(g), with_text=with_text)
                for _, g in run.top
            ]

    def _complete_candidates(
        self, complete: list[str], partial: str | None, principals: tuple[str, ...], limit: int
    ) -> list[StoredDoc]:
        parts: list[wq.Query] = [
            wq.Or([wq.Term("title_f", w), wq.Term("subject_f", w)]) for w in complete
        ]
        if partial is not None:
            with self._use() as view:
                reader = view.searcher.reader()
                terms = [
                    wq.Term(f, t)
                    for f in ("title_f", "subject_f")
                    for t in _expand(reader, f, partial)
                ]
            if not terms:
                return []
            parts.append(wq.Or(terms))
        if not parts:
            return []
        return self._candidates(wq.And(parts), principals, limit, with_text=False)

    def _fuzzy_candidates(
        self, folded: list[str], principals: tuple[str, ...], limit: int
    ) -> list[StoredDoc]:
        subs: list[wq.Query] = []
        for w in folded:
            subs.append(wq.Term("all_f", w))
            if len(w) >= 3:
                subs.append(wq.FuzzyTerm("all_f", w, maxdist=1, prefixlength=1))
        if not subs:
            return []
        return self._candidates(wq.Or(subs), principals, limit, with_text=True)


def _expand(reader: Any, fieldname: str, prefix: str, cap: int = PREFIX_EXPANSIONS) -> list[str]:
    field = reader.schema[fieldname]
    return [field.from_bytes(b) for b in islice(reader.expand_prefix(fieldname, prefix), cap)]


class _Compiler:
    """ParsedQuery → (required Whoosh query, optional bonus query)."""

    def __init__(self, weights: Weights, reader: Any, notices: list[Notice]) -> None:
        self.w = weights
        self.reader = reader
        self.notices = notices

    def _names(self, fieldname: str | None) -> tuple[str, str, float]:
        """(folded field, accented field, boost) for a word in ``fieldname`` or anywhere."""
        if fieldname:
            return f"{fieldname}_f", f"{fieldname}_a", self.w.field(fieldname)
        return "all_f", "all_a", 1.0

    def _word(self, word: Word) -> tuple[wq.Query, list[wq.Query]]:
        f_name, a_name, boost = self._names(word.field)
        if word.prefix:
            expanded = _expand(self.reader, f_name, word.folded, PREFIX_EXPANSIONS + 1)
            if len(expanded) > PREFIX_EXPANSIONS:
                expanded = expanded[:PREFIX_EXPANSIONS]
                if not any(n.code == "prefix_limited" for n in self.notices):
                    self.notices.append(Notice("prefix_limited", {"max": PREFIX_EXPANSIONS}))
            if not expanded:
                return wq.NullQuery, []
            return wq.Or([wq.Term(f_name, t, boost=boost) for t in expanded]), []
        req = wq.Term(f_name, word.folded, boost=boost)
        bonus = [wq.Term(a_name, word.accented, boost=boost * self.w.accent)]
        return req, bonus

    def _phrase(self, phrase: Phrase) -> tuple[wq.Query, list[wq.Query]]:
        if len(phrase.words) == 1:
            return self._word(phrase.words[0])
        f_name, _, boost = self._names(phrase.field)
        req = wq.Phrase(f_name, [w.folded for w in phrase.words], slop=1, boost=boost)
        bonus: list[wq.Query] = []
        for w in phrase.words:
            bonus += self._word(w)[1]
        return req, bonus

    def _node(self, node: Node) -> tuple[wq.Query, list[wq.Query]]:
        if isinstance(node, Word):
            return self._word(node)
        if isinstance(node, Phrase):
            return self._phrase(node)
        if isinstance(node, MatchAll):
            return wq.Every(), []
        parts = [self._node(c) for c in node.children]
        reqs = [p[0] for p in parts]
        bonus = [b for p in parts for b in p[1]]
        if isinstance(node, AnyOf):
            return wq.Or(reqs), bonus
        if isinstance(node, AllOf):
            return wq.And(reqs), bonus
        raise TypeError(node)

    def compile(self, parsed: ParsedQuery) -> tuple[wq.Query, wq.Query | None] | None:
        if not parsed.must:
            return None
        parts = [self._node(n) for n in parsed.must]
        req = parts[0][0] if len(parts) == 1 else wq.And([p[0] for p in parts])
        if parsed.must_not:
            negs = [self._node(n)[0] for n in parsed.must_not]
            req = wq.AndNot(req, wq.Or(negs))
        bonus = [b for p in parts for b in p[1]]
        bonus_q = wq.Or(bonus).normalize() if bonus else None
        req = req.normalize()
        if req is wq.NullQuery:
            return None
        return req, bonus_q


class _Run:
    __slots__ = ("near", "passing", "stored", "top", "total")

    def __init__(self) -> None:
        self.total = 0
        self.top: list[tuple[float, int]] = []
        self.passing: list[int] = []
        self.near: dict[str, list[int]] = {}
        self.stored: dict[int, StoredDoc] = {}


def _rescore(
    view: _View,
    out: _Run,
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
    pairs_of = view.pairs_of
    use_pairs = bool(pairs) and phrase_weight > 0
    rescored = []
    for score, g in window:
        score += extra.get(g, 0.0)
        if use_pairs:
            score *= 1.0 + phrase_weight * coverage(pairs, pairs_of(g))
        rescored.append((score, g))
    rescored.sort(key=lambda sg: (-sg[0], sg[1]))
    out.top = rescored + out.top[RESCORE_WINDOW:]


def _run(
    view: _View,
    compiled: tuple[wq.Query, wq.Query | None] | wq.Query,
    allow: frozenset[int],
    excluded: set[int],
    clauses: list[tuple[str, frozenset[int]]],
    k: int,
    sort: str,
    facets: bool,
    pairs: tuple[int, ...] = (),
    phrase_weight: float = 0.0,
) -> _Run:
    """Visit every match once: access filter, exclusions and facet filters are applied to
    doc numbers before scoring; keeps the top ``k``, the exact total and, for facet counts,
    the docs passing all filters or all but one facet's (multi-select counts)."""
    if isinstance(compiled, tuple):
        q, bonus = compiled
    else:
        q, bonus = compiled, None
    searcher = view.searcher
    context = searcher.context(needs_current=True)
    out = _Run()
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
            _rescore(view, out, bonus, pairs, phrase_weight)
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


def _facet_group(facet: str) -> str:
    return "year" if facet in ("year", "decade") else facet


def _facet_counts(view: _View, run: _Run) -> dict[str, Counter[str]]:
    keys = view.values()[3]
    counts: dict[str, Counter[str]] = {f: Counter() for f in FACETS}
    combined = Counter(chain.from_iterable(keys[g] for g in run.passing))
    for near_facet, docs in run.near.items():
        extra = Counter(chain.from_iterable(keys[g] for g in docs))
        for key, n in extra.items():
            facet = key.split(KEY_SEP, 1)[0]
            if _facet_group(facet) == near_facet:
                combined[key] += n
    for key, n in combined.items():
        facet, _, value = key.partition(KEY_SEP)
        if facet in counts:
            counts[facet][value] = n
    return counts
