"""The tantivy backend (``LMS_SEARCH_BACKEND=tantivy``). The only module that imports tantivy.

Same contract as :mod:`lms.search.whoosh`: everything engine-neutral (parsing, filters, paging,
the AND → OR fallback, highlighting, suggestions) lives in :mod:`lms.search.backend`; this
module indexes, compiles the parsed AST to tantivy query objects (never tantivy's query parser
on user text) and runs the primitive searches.

Layout on disk: ``<index_dir>/CURRENT`` names the live generation folder ``<index_dir>/gen-…/``
(a tantivy index plus ``lms-search.json`` with the engine, analyzer and schema versions and the
field weights). :meth:`TantivyBackend.rebuild` builds a new generation beside it and swaps
``CURRENT`` atomically, so searches keep working during a rebuild.

Analysis: all text goes through :mod:`lms.search.analysis` first (NFC, Ð → Đ, one tone
placement, folding, codes); tantivy gets the space-joined tokens and only splits them with its
``whitespace`` tokenizer (no lower-casing, no stemming: tantivy never decides a token).

Fields (mirroring the Whoosh backend's):

* ``all_f`` — every text field's *folded* tokens in one field, with positions (phrases,
  adjacency). Field weights are applied at index time by adding each value of a field
  ``copies`` times (:func:`field_copies`: title 5, subject 3, creator 3, description 2,
  full text 1 by default), so term frequencies are weighted before BM25 saturation and the
  IDF is the combined field's (BM25F; weights rounded to integer ratios). Each value is added
  separately, so tantivy leaves a position gap between values and phrases do not cross them.
  A code's whole token ("4325/kh-bqp") is appended after the value's words, so its parts stay
  adjacent.
* ``all_a`` — the same with *accented* tokens, frequencies only: the exact-accent bonus.
* ``title_*``, ``creator_*``, ``subject_*`` — for ``title:`` … queries and autocomplete.
* ``principals`` (raw, indexed): the access filter, a MUST clause of every search, so totals,
  facet counts, suggestions and autocomplete only ever see visible documents.
* ``fkeys`` (raw, indexed + fast): facet keys "facet<US>value" with hierarchical paths expanded
  (:func:`lms.search.backend.facet_keys`); filters are term-set clauses on it and counts come
  from one tantivy ``terms`` aggregation over the filtered query (plus one per filtered facet,
  for multi-select counts).
* fast fields for sorting: ``published`` (i64), ``downloads`` (u64), ``title_key`` (the
  Vietnamese collation key, raw text); ``id`` (u64, indexed + fast + stored).
* ``store`` (stored bytes): JSON with external id, titles and subject labels; ``body`` (stored
  bytes): the text for snippets, UTF-8 (no JSON escaping to pay for on either side); tantivy
  compresses its doc store itself.

Ranking is two-phase like the Whoosh backend's: BM25 on ``all_f`` for every match (tantivy
counts the exact total in the same pass), then the best
:data:`~lms.search.ranking.RESCORE_WINDOW` hits get the accented-form bonus (one search of
``all_a`` restricted to those ids) and the adjacency boost ``score * (1 + phrase * share of the
query's adjacent pairs present)``, the pairs checked with phrase queries restricted to the same
ids (exact, where the Whoosh backend compares 32-bit pair hashes). tantivy's BM25 has fixed
``k1 = 1.2`` and ``b = 0.75``: ``Weights.k1``/``Weights.b`` are not applied.

Indexing speed: the Python half (reading records, our analysis: a few hundred µs per news
article) is the bottleneck; tantivy's half runs in its own thread. :func:`analyse` looks up
whole whitespace-separated chunks in dictionaries at C level, and
:meth:`TantivyBackend.rebuild_parallel` (``lms reindex``) reads and analyses each shard of the
database in a forked process of its own while the calling process only feeds tantivy.

Freshness: every write commits and reloads this process's reader; before each search the
backend compares ``meta.json`` (tantivy replaces it atomically on commit) with what it last
loaded and reloads when another process committed, so a published record is findable by the
next search. Writers: one at a time per index (tantivy's lock file); in-process writers queue
on a lock, another process's writer is waited for up to ``lock_timeout`` seconds, then
:class:`IndexLocked` is raised so a job can retry.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import multiprocessing.connection
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import filterfalse, pairwise
from operator import itemgetter
from pathlib import Path
from typing import Any

import tantivy

from .analysis import (
    ANALYZER_VERSION,
    collation_key,
    index_forms,
    normalize_text,
)
from .backend import (
    KEY_SEP,
    DocumentSource,
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
from .ranking import MAX_PAIRS, RESCORE_WINDOW

SCHEMA_VERSION = "tantivy-3"  # 3: digest and principals in the stored JSON
META_FILE = "lms-search.json"
PREFIX_EXPANSIONS = 256
#: Text fields in the combined ``all_*`` fields, with their Weights attribute.
ALL_FIELDS = ("title", "subject", "creator", "description", "fulltext")
#: Fields a query may name (``title:`` …), indexed on their own as well.
NAMED_FIELDS = ("title", "creator", "subject")
MAX_COPIES = 20
MAX_FULLTEXT_COPIES = 4
#: Writer memory: tantivy needs at least 15 MB per indexing thread.
WRITER_HEAP = 32_000_000
REBUILD_HEAP = 192_000_000
REBUILD_THREADS = 1
#: Documents' Parts per message from a forked reader to the process that writes the index.
READER_BATCH = 128
FACET_AGG_SIZE = 65_000
_MUST = tantivy.Occur.Must
_SHOULD = tantivy.Occur.Should
_MUST_NOT = tantivy.Occur.MustNot


def make_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    sb.add_text_field("all_f", tokenizer_name="whitespace", index_option="position")
    sb.add_text_field("all_a", tokenizer_name="whitespace", index_option="freq")
    for name in NAMED_FIELDS:
        sb.add_text_field(f"{name}_f", tokenizer_name="whitespace", index_option="position")
        sb.add_text_field(f"{name}_a", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("principals", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("fkeys", tokenizer_name="raw", index_option="basic", fast=True)
    sb.add_text_field("title_key", tokenizer_name="raw", index_option="basic", fast=True)
    sb.add_integer_field("published", fast=True)
    sb.add_unsigned_field("downloads", fast=True)
    sb.add_bytes_field("store", stored=True)
    sb.add_bytes_field("body", stored=True)
    return sb.build()


def field_copies(weights: Weights) -> dict[str, int]:
    """How many times each field's values go into ``all_f``/``all_a``: the field weights as
    small integers relative to the lightest field (title 5, subject 3, creator 3,
    description 2, full text 1 by default). tantivy scores one field with BM25, so repeating
    a value multiplies its term frequencies before saturation, as BM25F's field weights do;
    the full text (the bulk of the index) is repeated at most :data:`MAX_FULLTEXT_COPIES`
    times."""
    ws = {name: max(weights.field(name), 0.0) for name in ALL_FIELDS}
    unit = min((w for w in ws.values() if w > 0), default=1.0)
    copies = {name: max(1, int(w / unit + 0.5)) for name, w in ws.items()}
    copies["fulltext"] = min(copies["fulltext"], MAX_FULLTEXT_COPIES)
    for name in ALL_FIELDS:
        copies[name] = min(copies[name], MAX_COPIES)
    return copies


# --- documents ---------------------------------------------------------------------------------


#: A whitespace-separated chunk of text ("đá,", "(4325/KH-BQP).") → its accented / folded
#: tokens, space-joined ("" for a chunk that analyses to nothing); a chunk holding a code also
#: maps to the code's whole folded form in ``_CODES``. Tokens never contain whitespace, so
#: the tokens of a text are its chunks' tokens in order.
_ACC: dict[str, str] = {}
_FOL: dict[str, str] = {}
_CODES: dict[str, str] = {}
#: Distinct chunks kept (80,712 news articles have about 430,000); cleared when exceeded,
#: and after a rebuild.
_CACHE_MAX = 600_000


def _clear_caches() -> None:
    _ACC.clear()
    _FOL.clear()
    _CODES.clear()
    _ACC[""] = _FOL[""] = ""


_clear_caches()


def _chunk_forms(chunk: str) -> tuple[str, str, str]:
    """(accented tokens, folded tokens, folded whole codes) of one chunk, by
    :func:`lms.search.analysis.index_forms` (the one analysis) rewritten for a plain
    whitespace tokenizer: a code's whole token ("+4325/kh-bqp") is taken out of the words."""
    acc, fol = index_forms(chunk) if chunk else ("", "")
    if "+" not in fol:
        return acc, fol, ""
    tokens = fol.split(" ")
    codes = " ".join(t[1:] for t in tokens if t[:1] == "+" and len(t) > 1)
    fol = " ".join(t for t in tokens if t and t[0] != "+")
    acc = " ".join(t.lstrip("+") for t in acc.split(" ") if t.strip("+"))
    return acc, fol, codes


def _learn(chunks: set[str]) -> None:
    if len(_ACC) + len(chunks) > _CACHE_MAX:
        _clear_caches()
    for chunk in chunks:
        _ACC[chunk], _FOL[chunk], codes = _chunk_forms(chunk)
        if codes:
            _CODES[chunk] = codes


def analyse(text: str) -> tuple[str, str]:
    """(accented, folded) space-joined tokens of ``text`` for tantivy's whitespace tokenizer:
    the tokens of :func:`lms.search.analysis.index_forms`, with each code's whole token moved
    after the value's words (so the code's parts stay adjacent) instead of sharing a position.
    The text is split at whitespace (in C) and each chunk's tokens are looked up in
    dictionaries at C level (``itemgetter``), which makes indexing about three times as fast
    as analysing token by token. A chunk without tokens leaves two spaces in a row, which the
    whitespace tokenizer skips without a position gap."""
    if not text:
        return "", ""
    chunks = normalize_text(text).split()
    if not chunks:
        return "", ""
    if len(chunks) == 1:
        chunks.append("")  # itemgetter of one key returns the value, not a tuple
    get = itemgetter(*chunks)
    try:
        accs, fols = get(_ACC), get(_FOL)
    except KeyError:
        _learn(set(filterfalse(_FOL.__contains__, chunks)))
        try:
            accs, fols = get(_ACC), get(_FOL)
        except KeyError:  # the caches were cleared meanwhile (this or another thread)
            forms = [_chunk_forms(c) for c in chunks]
            codes = [f[2] for f in forms if f[2]]
            fol = " ".join(f[1] for f in forms)
            return " ".join(f[0] for f in forms), f"{fol} {' '.join(codes)}" if codes else fol
    acc, fol = " ".join(accs), " ".join(fols)
    if _CODES and not _CODES.keys().isdisjoint(chunks):
        codes = map(_CODES.__getitem__, filter(_CODES.__contains__, chunks))
        fol = f"{fol} {' '.join(codes)}"
    return acc, fol


def _timestamp(doc: SearchDocument) -> int:
    if doc.published_at is not None:
        dt = doc.published_at
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return int(dt.timestamp())
    return 0


#: What :func:`document_parts` returns: plain picklable values (analysis can run in a worker).
Parts = tuple[int, list[tuple[str, str]], list[str], list[str], str, int, int, bytes, bytes]


def document_parts(doc: SearchDocument, copies: dict[str, int]) -> Parts:
    """All the Python work for one document: (id, [(field, pre-analysed text)], principals,
    facet keys, title collation key, published, downloads, stored JSON, body)."""
    texts: list[tuple[str, str]] = []
    for name, values in (
        ("title", doc.title),
        ("subject", doc.subject),
        ("creator", doc.creator),
        ("description", doc.description),
        ("fulltext", (doc.fulltext,) if doc.fulltext else ()),
    ):
        named = name in NAMED_FIELDS
        n = copies[name]
        for value in values:
            acc, fol = analyse(str(value))
            if not fol.strip():
                continue
            for _ in range(n):  # each value separately: positions do not run across values
                texts.append(("all_f", fol))
                texts.append(("all_a", acc))
            if named:
                texts.append((f"{name}_f", fol))
                texts.append((f"{name}_a", acc))
    display = str(doc.title[0]) if doc.title else ""
    stored = {
        "e": doc.external_id,
        "t": [str(t) for t in doc.title],
        "s": [str(s) for s in doc.subject],
        "d": doc.digest(),  # for lms check, with the principals
        "p": clean_principals(doc.principals),
    }
    body = doc.fulltext or "\n".join(doc.description)
    return (
        int(doc.id),
        texts,
        clean_principals(doc.principals),
        facet_keys(doc),
        collation_key(display),
        _timestamp(doc),
        max(int(doc.downloads or 0), 0),
        json.dumps(stored, ensure_ascii=False).encode("utf-8"),
        body.encode("utf-8"),
    )


def build_document(parts: Parts) -> tantivy.Document:
    doc_id, texts, principals, keys, title_key, published, downloads, stored, body = parts
    d = tantivy.Document()
    d.add_unsigned("id", doc_id)
    for field, text in texts:
        d.add_text(field, text)
    for p in principals:
        d.add_text("principals", p)
    for key in keys:
        d.add_text("fkeys", key)
    d.add_text("title_key", title_key)
    d.add_integer("published", published)
    d.add_unsigned("downloads", downloads)
    d.add_bytes("store", stored)
    d.add_bytes("body", body)
    return d


def make_document(doc: SearchDocument, copies: dict[str, int]) -> tantivy.Document:
    """The tantivy document of one SearchDocument (all text analysed by our analysis)."""
    return build_document(document_parts(doc, copies))


def _read_source(source: DocumentSource, copies: dict[str, int], conn: Any) -> None:
    """In a forked reader: the Parts of ``source``'s documents, sent in batches; then None, or
    an error message (a str) if reading failed."""
    gc.disable()  # see _gc_paused; this process ends with the source
    try:
        batch: list[Parts] = []
        for doc in source():
            batch.append(document_parts(doc, copies))
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


@contextmanager
def _gc_paused() -> Iterator[None]:
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


def parts_from_readers(
    sources: Sequence[DocumentSource], copies: dict[str, int]
) -> Iterator[Parts]:
    """The Parts of every source's documents, each source read and analysed by a forked
    process of its own (in any order). The readers are started at once, before the caller
    opens tantivy's writer (whose threads a fork would not copy), and stopped when the
    iterator is closed."""
    context = multiprocessing.get_context("fork")
    readers, conns = [], []
    for source in sources:
        receiver, sender = context.Pipe(duplex=False)
        reader = context.Process(target=_read_source, args=(source, copies, sender), daemon=True)
        reader.start()
        sender.close()
        readers.append(reader)
        conns.append(receiver)

    def receive() -> Iterator[Parts]:
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


def _stored_doc(doc_id: int, raw: bytes | None, body: bytes | None) -> StoredDoc:
    data = json.loads(raw) if raw else {}
    return StoredDoc(
        id=int(doc_id),
        external_id=data.get("e"),
        titles=list(data.get("t") or []),
        subjects=list(data.get("s") or []),
        text=body.decode("utf-8") if body else "",
    )


# --- query building ------------------------------------------------------------------------------


def _boost(q: tantivy.Query, boost: float) -> tantivy.Query:
    return q if boost == 1.0 else tantivy.Query.boost_query(q, boost)


def _any(queries: list[tantivy.Query]) -> tantivy.Query:
    if not queries:
        return tantivy.Query.empty_query()
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(_SHOULD, q) for q in queries])


def _all(queries: list[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(_MUST, q) for q in queries])


def _filter(q: tantivy.Query) -> tantivy.Query:
    """A clause that filters without adding to the score."""
    return tantivy.Query.const_score_query(q, 0.0)


class _Compiler:
    """ParsedQuery → (required tantivy query, accented bonus query or None)."""

    def __init__(
        self,
        schema: tantivy.Schema,
        searcher: tantivy.Searcher,
        weights: Weights,
        notices: list[Notice],
    ) -> None:
        self.schema = schema
        self.searcher = searcher
        self.w = weights
        self.notices = notices

    def _names(self, fieldname: str | None) -> tuple[str, str, float]:
        """(folded field, accented field, boost) for a word in ``fieldname`` or anywhere."""
        if fieldname:
            return f"{fieldname}_f", f"{fieldname}_a", self.w.field(fieldname)
        return "all_f", "all_a", 1.0

    def _term(self, field: str, text: str, boost: float) -> tantivy.Query:
        return _boost(tantivy.Query.term_query(self.schema, field, text), boost)

    def _word(self, word: Word) -> tuple[tantivy.Query, list[tantivy.Query]]:
        f_name, a_name, boost = self._names(word.field)
        if word.prefix:
            terms = self.searcher.terms_with_prefix(
                f_name, word.folded, limit=PREFIX_EXPANSIONS + 1
            )
            if len(terms) > PREFIX_EXPANSIONS:
                terms = terms[:PREFIX_EXPANSIONS]
                if not any(n.code == "prefix_limited" for n in self.notices):
                    self.notices.append(Notice("prefix_limited", {"max": PREFIX_EXPANSIONS}))
            return _any([self._term(f_name, t, boost) for t, _ in terms]), []
        req = self._term(f_name, word.folded, boost)
        bonus = [self._term(a_name, word.accented, boost * self.w.accent)]
        return req, bonus

    def _phrase(self, phrase: Phrase) -> tuple[tantivy.Query, list[tantivy.Query]]:
        if len(phrase.words) == 1:
            return self._word(phrase.words[0])
        f_name, _, boost = self._names(phrase.field)
        folded = [w.folded for w in phrase.words]
        req = _boost(tantivy.Query.phrase_query(self.schema, f_name, folded), boost)
        bonus: list[tantivy.Query] = []
        for w in phrase.words:
            bonus += self._word(w)[1]
        return req, bonus

    def _node(self, node: Node) -> tuple[tantivy.Query, list[tantivy.Query]]:
        if isinstance(node, Word):
            return self._word(node)
        if isinstance(node, Phrase):
            return self._phrase(node)
        if isinstance(node, MatchAll):
            return tantivy.Query.all_query(), []
        parts = [self._node(c) for c in node.children]
        reqs = [p[0] for p in parts]
        bonus = [b for p in parts for b in p[1]]
        if isinstance(node, AnyOf):
            return _any(reqs), bonus
        if isinstance(node, AllOf):
            return _all(reqs), bonus
        raise TypeError(node)

    def compile(self, parsed: ParsedQuery) -> tuple[tantivy.Query, tantivy.Query | None] | None:
        if not parsed.must:
            return None
        parts = [self._node(n) for n in parsed.must]
        req = _all([p[0] for p in parts])
        if parsed.must_not:
            negs = [self._node(n)[0] for n in parsed.must_not]
            req = tantivy.Query.boolean_query([(_MUST, req), *((_MUST_NOT, q) for q in negs)])
        bonus = [b for p in parts for b in p[1]]
        return req, (_any(bonus) if bonus else None)


def _query_pairs(parsed: ParsedQuery) -> list[tuple[str, str]]:
    """The query's adjacent folded word pairs (as :func:`lms.search.ranking.query_pairs`)."""
    pairs: list[tuple[str, str]] = []
    for run in parsed.runs:
        for a, b in pairwise([w.folded for w in run]):
            if (a, b) not in pairs:
                pairs.append((a, b))
    return pairs[:MAX_PAIRS]


def _facet_group(facet: str) -> str:
    return "year" if facet in ("year", "decade") else facet


# --- the backend ---------------------------------------------------------------------------------


class _View:
    """One searcher (a consistent set of segments) and its schema."""

    __slots__ = ("schema", "searcher")

    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema) -> None:
        self.searcher = searcher
        self.schema = schema


def _meta_stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path / "meta.json")
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class TantivyBackend(SearchBackend):
    name = "tantivy"

    def __init__(
        self,
        index_dir: Path,
        weights: Weights | None = None,
        *,
        lock_timeout: float = 10.0,
    ) -> None:
        super().__init__(index_dir, weights)
        self.lock_timeout = lock_timeout
        self._schema = make_schema()
        self._copies = field_copies(self.weights)
        self._lock = threading.RLock()  # guards the index swap and reloads
        self._write_lock = threading.RLock()  # one writer per process at a time
        self._rebuild_lock = threading.Lock()
        self._pending: list[tuple[str, list[Any]]] | None = None  # writes during a rebuild
        self._closed = False
        self._stale = False
        self._gen = ""
        self._ix: tantivy.Index | None = None
        self._stamp: tuple[int, int, int] | None = None
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self._open_current()

    # -- index folders ------------------------------------------------------------------------

    def _read_pointer(self) -> str | None:
        return read_pointer(self.index_dir)

    def _write_pointer(self, name: str) -> None:
        write_pointer(self.index_dir, name)

    def _field_weights(self) -> dict[str, float]:
        """Field weights are applied at index time (value copies in ``all_*``): an index
        built with other weights needs a rebuild."""
        return {name: self.weights.field(name) for name in ALL_FIELDS}

    def _new_generation(self) -> tuple[str, tantivy.Index]:
        name = new_generation_name()
        path = self.index_dir / name
        path.mkdir()
        ix = tantivy.Index(self._schema, path=str(path), reuse=False)
        ix.config_reader(reload_policy="Manual")
        meta = {
            "engine": "tantivy",
            "tantivy": getattr(tantivy, "__version__", ""),
            "analyzer_version": ANALYZER_VERSION,
            "schema_version": SCHEMA_VERSION,
            "field_weights": self._field_weights(),
            "created": datetime.now(UTC).isoformat(),
        }
        (path / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
        return name, ix

    def _open_generation(self, name: str) -> tuple[tantivy.Index, bool] | None:
        """(index, stale) or None when the folder is not a usable index of our schema."""
        path = self.index_dir / name
        try:
            meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
            if meta.get("engine") != "tantivy" or meta.get("schema_version") != SCHEMA_VERSION:
                return None
            ix = tantivy.Index.open(str(path))
            ix.config_reader(reload_policy="Manual")
        except (OSError, ValueError, RuntimeError):
            return None
        stale = (
            meta.get("analyzer_version") != ANALYZER_VERSION
            or meta.get("field_weights") != self._field_weights()
        )
        return ix, stale

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
        self._stamp = _meta_stamp(self.index_dir / name)

    def _follow_pointer(self) -> None:
        """Switch to the generation named by CURRENT if another process swapped it."""
        name = self._read_pointer()
        if name and name != self._gen:
            opened = self._open_generation(name)
            if opened is not None:
                self._gen, (self._ix, self._stale) = name, opened
                self._stamp = _meta_stamp(self.index_dir / name)

    # -- searchers ----------------------------------------------------------------------------

    @contextmanager
    def _use(self) -> Iterator[_View]:
        with self._lock:
            if self._closed:
                raise SearchError("search backend is closed")
            self._follow_pointer()
            stamp = _meta_stamp(self.index_dir / self._gen)
            if stamp != self._stamp:
                self._stamp = stamp
                self._ix.reload()
            view = _View(self._ix.searcher(), self._schema)
        yield view

    # -- writing ------------------------------------------------------------------------------

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

    def _apply(self, ix: tantivy.Index, op: str, payload: list[Any]) -> None:
        writer = self._writer(ix)
        try:
            if op == "index":
                for doc_id, doc in payload:
                    writer.delete_documents_by_query(self._id_query(doc_id))
                    writer.add_document(doc)
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

    def _after_write(self, ix: tantivy.Index) -> None:
        with self._lock:
            if ix is self._ix:
                self._stamp = _meta_stamp(self.index_dir / self._gen)

    def index(self, docs: Iterable[SearchDocument]) -> int:
        payload = [(int(d.id), make_document(d, self._copies)) for d in docs]
        if not payload:
            return 0
        with self._write_lock:
            with self._lock:
                self._follow_pointer()
                ix = self._ix
            self._apply(ix, "index", payload)
            self._after_write(ix)
            if self._pending is not None:
                self._pending.append(("index", payload))
        return len(payload)

    def remove(self, ids: Iterable[int]) -> int:
        payload = [int(i) for i in ids]
        if not payload:
            return 0
        with self._write_lock:
            with self._lock:
                self._follow_pointer()
                ix = self._ix
            self._apply(ix, "remove", payload)
            self._after_write(ix)
            if self._pending is not None:
                self._pending.append(("remove", payload))
        return len(payload)

    def rebuild(
        self, docs: Iterable[SearchDocument], progress: Callable[[int], None] | None = None
    ) -> int:
        copies = self._copies
        with self._rebuild_lock:
            return self._build_generation((document_parts(d, copies) for d in docs), progress)

    def rebuild_parallel(
        self, sources: Sequence[DocumentSource], progress: Callable[[int], None] | None = None
    ) -> int:
        """:meth:`rebuild` with each source read and analysed in a forked process of its own
        while this one feeds tantivy: the Python half (database reads, our analysis) is the
        bottleneck of a rebuild, and it then runs on every core."""
        if len(sources) < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return super().rebuild_parallel(sources, progress)
        with self._rebuild_lock:
            parts = parts_from_readers(sources, self._copies)
            try:
                return self._build_generation(parts, progress)
            finally:
                parts.close()

    def _build_generation(
        self,
        parts: Iterable[Parts],
        progress: Callable[[int], None] | None,
    ) -> int:
        """Write ``parts`` into a new generation, replay the writes that arrived meanwhile and
        swap it in; on any failure the new generation is removed and the old one stays. The
        caller holds ``_rebuild_lock``."""
        name, ix = self._new_generation()
        with self._write_lock:
            self._pending = []
        count = 0
        try:
            writer = self._writer(ix, REBUILD_HEAP, REBUILD_THREADS)
            try:
                with _gc_paused():
                    for document in parts:
                        writer.add_document(build_document(document))
                        count += 1
                        if progress is not None and count % 500 == 0:
                            progress(count)
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()
                del writer
            with self._write_lock:
                for op, payload in self._pending or []:
                    self._apply(ix, op, payload)
                self._pending = None
                ix.reload()
                self._write_pointer(name)
                with self._lock:
                    self._gen, self._ix, self._stale = name, ix, False
                    self._stamp = _meta_stamp(self.index_dir / name)
        except BaseException:
            with self._write_lock:
                self._pending = None
            shutil.rmtree(self.index_dir / name, ignore_errors=True)
            raise
        finally:
            _clear_caches()  # up to _CACHE_MAX chunks: not kept for the odd update
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
            return int(view.searcher.num_docs)

    def inventory(self) -> Iterator[IndexedEntry]:
        with self._use() as view:
            s = view.searcher
            total = int(s.num_docs)
            if not total:
                return
            for _score, addr in s.search(tantivy.Query.all_query(), total).hits:
                doc = s.doc(addr)
                data = json.loads(doc.get_first("store") or b"{}")
                yield IndexedEntry(int(doc.get_first("id")), tuple(data.get("p") or ()),
                                   data.get("d"))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._ix = None

    # -- searching ----------------------------------------------------------------------------

    def _access(self, principals: tuple[str, ...]) -> tantivy.Query:
        """The access filter: a document is visible if it has any of ``principals``."""
        terms = [tantivy.Query.term_query(self._schema, "principals", p) for p in principals]
        return _filter(_any(terms))

    def _clause(self, clause: FilterClause) -> tantivy.Query:
        if not clause.keys:
            return tantivy.Query.empty_query()
        return _filter(tantivy.Query.term_set_query(self._schema, "fkeys", sorted(clause.keys)))

    def _execute(self, plan: Plan) -> RawResult:
        with self._use() as view:
            s = view.searcher
            notices: list[Notice] = []
            compiled = _Compiler(self._schema, s, self.weights, notices).compile(plan.parsed)
            if compiled is None:
                return RawResult(0, [])
            text_q, bonus = compiled
            base = [(_MUST, text_q), (_MUST, self._access(plan.principals))]
            base += [(_MUST_NOT, self._clause(c)) for c in plan.exclude if c.keys]
            clauses = [(c.facet, self._clause(c)) for c in plan.include]
            query = tantivy.Query.boolean_query(base + [(_MUST, q) for _, q in clauses])
            k = plan.offset + plan.limit
            if plan.sort == "relevance":
                pairs = _query_pairs(plan.parsed) if self.weights.phrase > 0 else []
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
                    query,
                    plan.limit,
                    count=True,
                    order_by_field=field,
                    offset=plan.offset,
                    order=order,
                )
                top = [(0.0, addr) for _, addr in res.hits]
            hits = self._raw_hits(s, top)
            facets = self._facets(s, base, clauses) if plan.facets else {}
            return RawResult(int(res.count or 0), hits, facets, notices)

    def _raw_hits(
        self, s: tantivy.Searcher, top: list[tuple[float, Any]], with_text: bool = True
    ) -> list[RawHit]:
        out = []
        for score, addr in top:
            doc = s.doc(addr)
            body = doc.get_first("body") if with_text else None
            stored = _stored_doc(doc.get_first("id"), doc.get_first("store"), body)
            out.append(RawHit(stored, score))
        return out

    def _rescore(
        self,
        s: tantivy.Searcher,
        top: list[tuple[float, Any]],
        bonus: tantivy.Query | None,
        pairs: list[tuple[str, str]],
    ) -> list[tuple[float, Any]]:
        """Second phase over the first RESCORE_WINDOW hits: add the accented-form bonus and
        apply the adjacency boost. Each is a search intersected with the window's ids, so
        tantivy only seeks to those documents: one for the bonus, one per query pair (a
        phrase query as a MUST clause; as SHOULD clauses of one query, tantivy's union would
        scan the phrases over the whole index)."""
        window = top[:RESCORE_WINDOW]
        ids = s.fast_field_values("id", [a for _, a in window])
        in_window = _filter(
            _any([tantivy.Query.term_query(self._schema, "id", i) for i in ids if i is not None])
        )
        n = len(window)
        extra: dict[tuple[int, int], float] = {}
        if bonus is not None:
            q = tantivy.Query.boolean_query([(_MUST, in_window), (_SHOULD, bonus)])
            for score, addr in s.search(q, n, count=False).hits:
                extra[(addr.segment_ord, addr.doc)] = float(score)
        found: Counter[tuple[int, int]] = Counter()
        for a, b in pairs:
            phrase = tantivy.Query.phrase_query(self._schema, "all_f", [a, b])
            q = tantivy.Query.boolean_query([(_MUST, in_window), (_MUST, phrase)])
            found.update(
                (addr.segment_ord, addr.doc) for _, addr in s.search(q, n, count=False).hits
            )
        phrase_weight = self.weights.phrase
        rescored = []
        for rank, (score, addr) in enumerate(window):
            key = (addr.segment_ord, addr.doc)
            score += extra.get(key, 0.0)
            if pairs:
                score *= 1.0 + phrase_weight * found[key] / len(pairs)
            rescored.append((score, rank, addr))
        rescored.sort(key=lambda x: (-x[0], x[1]))
        return [(score, addr) for score, _, addr in rescored] + top[RESCORE_WINDOW:]

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
            if facet in counts and _facet_group(facet) not in filtered:
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
                if facet in counts and _facet_group(facet) == group:
                    counts[facet][value] = n
        return counts

    def _aggregate(self, s: tantivy.Searcher, query: tantivy.Query) -> list[tuple[str, int]]:
        agg = {"k": {"terms": {"field": "fkeys", "size": FACET_AGG_SIZE}}}
        result = s.aggregate(query, agg)
        return [(b["key"], int(b["doc_count"])) for b in result["k"]["buckets"]]

    def _candidates(
        self, q: tantivy.Query, principals: tuple[str, ...], limit: int, with_text: bool
    ) -> list[StoredDoc]:
        with self._use() as view:
            s = view.searcher
            query = tantivy.Query.boolean_query([(_MUST, q), (_MUST, self._access(principals))])
            res = s.search(query, limit, count=False)
            return [h.doc for h in self._raw_hits(s, list(res.hits), with_text)]

    def _complete_candidates(
        self, complete: list[str], partial: str | None, principals: tuple[str, ...], limit: int
    ) -> list[StoredDoc]:
        schema = self._schema
        parts = [
            _any([tantivy.Query.term_query(schema, f, w) for f in ("title_f", "subject_f")])
            for w in complete
        ]
        if partial is not None:
            with self._use() as view:
                terms = [
                    tantivy.Query.term_query(schema, f, t)
                    for f in ("title_f", "subject_f")
                    for t, _ in view.searcher.terms_with_prefix(f, partial, limit=PREFIX_EXPANSIONS)
                ]
            if not terms:
                return []
            parts.append(_any(terms))
        if not parts:
            return []
        return self._candidates(_all(parts), principals, limit, with_text=False)

    def _fuzzy_candidates(
        self, folded: list[str], principals: tuple[str, ...], limit: int
    ) -> list[StoredDoc]:
        schema = self._schema
        subs: list[tantivy.Query] = []
        for w in folded:
            subs.append(tantivy.Query.term_query(schema, "all_f", w))
            if len(w) >= 3:
                subs.append(tantivy.Query.fuzzy_term_query(schema, "all_f", w, 1))
        if not subs:
            return []
        return self._candidates(_any(subs), principals, limit, with_text=True)
