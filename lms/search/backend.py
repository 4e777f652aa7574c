"""The backend interface and the engine-neutral half of every search.

A backend implements indexing (``index``, ``remove``, ``_prepare``, ``_build``), the engine
state one search works on (``_use``), the query compiler's hooks (``_compiler``, see
:mod:`lms.search.compiler`) and two primitive searches (:meth:`SearchBackend._execute`,
:meth:`SearchBackend._candidates`); this base class does the rest the same way for every
engine: parsing, filter validation, paging limits, the AND → OR fallback, highlighting, "did you
mean" and autocomplete, and the frame of a rebuild (documents prepared one by one, possibly in
forked readers, then built). Engine packages are the only code that imports a search engine.
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from html import escape
from itertools import chain
from typing import TYPE_CHECKING, Any, ClassVar

from . import highlight, suggest
from .analysis import normalize_text, tokenize
from .compiler import QueryCompiler
from .document import (
    FACETS,
    HIERARCHICAL_FACETS,
    MAX_PAGE_SIZE,
    MAX_RESULT_WINDOW,
    FacetValue,
    Hit,
    Notice,
    SearchResult,
    Weights,
)
from .query import MIN_PREFIX, ParsedQuery, highlight_terms, parse
from .readers import can_fork, prepared_in_forks

if TYPE_CHECKING:
    from .document import DocumentSource, IndexedEntry, SearchDocument, SearchQuery

KEY_SEP = "\x1f"
MAX_FILTER_VALUES = 50
MAX_YEAR_SPAN = 1000
MAX_FACET_VALUES = 200
#: Documents between two calls of a rebuild's ``progress``.
PROGRESS_EVERY = 500
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_YEAR_RANGE_RE = re.compile(r"^\s*(\d{1,4})\s*(?:(?:-|–|\.\.)\s*(\d{1,4}))?\s*$")


#: Given the ids of documents about to be shown (hits, or those suggestions come from), the
#: ids that may be shown: the app checks them against the database, so that an index lagging
#: behind an access change shows nothing the database no longer allows.
Admit = Callable[[Sequence[int]], Container[int]]


# --- facet keys, shared by every engine ------------------------------------------------------


def clean_value(value: object) -> str:
    return _CONTROL_RE.sub("", str(value)).strip()[:300]


def _path_prefixes(path: str) -> list[str]:
    parts = [p for p in clean_value(path).split("/") if p]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def decade_of(year: int) -> str:
    lo = year - year % 10
    return f"{lo}-{lo + 9}"


def facet_keys(doc: SearchDocument) -> list[str]:
    """Every "facet<US>value" key a document counts for (hierarchical paths expanded)."""
    keys: dict[str, None] = {}

    def add(facet: str, value: str) -> None:
        if value:
            keys[f"{facet}{KEY_SEP}{value}"] = None

    for v in doc.type:
        add("type", clean_value(v))
    for path in doc.subject_path:
        for p in _path_prefixes(path):
            add("subject", p)
    for path in doc.collection_path:
        for p in _path_prefixes(path):
            add("collection", p)
    for v in doc.audience:
        add("audience", clean_value(v))
    for v in doc.language:
        add("language", clean_value(v))
    for v in doc.format:
        add("format", clean_value(v))
    if doc.year is not None:
        add("year", str(int(doc.year)))
        add("decade", decade_of(int(doc.year)))
    add("has_files", "true" if doc.has_files else "false")
    return list(keys)


def facet_group(facet: str) -> str:
    """The filter clause a facet's values answer to: decades are filtered as years."""
    return "year" if facet in ("year", "decade") else facet


def clean_principals(principals: Iterable[str]) -> list[str]:
    out = {clean_value(p) for p in principals if isinstance(p, str)}
    out.discard("")
    return sorted(out)


def filter_keys(facet: str, value: str) -> frozenset[str] | None:
    """The facet keys satisfying one filter value (any of them), or None if invalid."""
    value = clean_value(value)
    if not value:
        return None
    if facet in ("year", "decade"):
        m = _YEAR_RANGE_RE.match(value)
        if not m:
            return None
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        lo, hi = min(lo, hi), max(lo, hi)
        hi = min(hi, lo + MAX_YEAR_SPAN)
        return frozenset(f"year{KEY_SEP}{y}" for y in range(lo, hi + 1))
    if facet == "has_files":
        truth = value.lower() in ("true", "1", "yes", "co", "có")
        return frozenset({f"has_files{KEY_SEP}{'true' if truth else 'false'}"})
    if facet in HIERARCHICAL_FACETS:
        value = "/".join(p for p in value.split("/") if p)
        if not value:
            return None
    return frozenset({f"{facet}{KEY_SEP}{value}"})


@dataclass(frozen=True)
class FilterClause:
    """A document passes if it has any of ``keys``; ``facet`` names the facet whose counts
    ignore this clause (multi-select facets)."""

    facet: str
    keys: frozenset[str]


def build_filters(
    requested: Mapping[str, Sequence[str]] | None, parsed: ParsedQuery
) -> tuple[list[FilterClause], list[FilterClause], list[Notice]]:
    """(include clauses, exclude clauses, notices): same facet = OR, facets ANDed."""
    notices: list[Notice] = []
    merged: dict[str, list[str]] = {}
    for source in (requested or {}), parsed.filters:
        for facet, values in source.items():
            if facet not in FACETS:
                notices.append(Notice("unknown_filter", {"facet": clean_value(facet)[:40]}))
                continue
            if isinstance(values, str):
                values = [values]
            merged.setdefault(facet, []).extend(str(v) for v in list(values)[:MAX_FILTER_VALUES])
    include: list[FilterClause] = []
    for facet, values in merged.items():
        keys: set[str] = set()
        for v in values:
            ks = filter_keys(facet, v)
            if ks is None:
                notices.append(Notice("bad_filter", {"facet": facet}))
                continue
            keys |= ks
        if keys:
            include.append(FilterClause(facet_group(facet), frozenset(keys)))
        else:
            include.append(FilterClause(facet, frozenset()))  # nothing can match
    exclude: list[FilterClause] = []
    for facet, values in parsed.exclude_filters.items():
        keys = set()
        for v in values:
            keys |= filter_keys(facet, v) or set()
        if keys:
            exclude.append(FilterClause(facet, frozenset(keys)))
    return include, exclude, notices


# --- what backends exchange with this base class ---------------------------------------------


@dataclass
class StoredDoc:
    id: int
    external_id: str | None
    titles: list[str]
    subjects: list[str] = field(default_factory=list)
    text: str = ""  # full text, or the description when there is none

    @property
    def title(self) -> str:
        return self.titles[0] if self.titles else ""


@dataclass
class RawHit:
    doc: StoredDoc
    score: float


@dataclass
class RawResult:
    total: int
    hits: list[RawHit]
    facets: dict[str, Counter[str]] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    parsed: ParsedQuery
    principals: tuple[str, ...]
    include: tuple[FilterClause, ...]
    exclude: tuple[FilterClause, ...]
    sort: str
    offset: int
    limit: int
    facets: bool
    #: Whether the hits need their text (for snippets): reading it costs per hit.
    with_text: bool = True


class Counted:
    """Prepared documents of a rebuild, counted as the engine consumes them, with
    ``progress(count)`` every :data:`PROGRESS_EVERY` documents."""

    def __init__(self, items: Iterable[Any], progress: Callable[[int], None] | None) -> None:
        self.count = 0
        self._items = items
        self._progress = progress

    def __iter__(self) -> Iterator[Any]:
        for item in self._items:
            yield item
            self.count += 1
            if self._progress is not None and self.count % PROGRESS_EVERY == 0:
                self._progress(self.count)


class SearchBackend(ABC):
    """Index, remove, query, rebuild. Implementations must be usable without a Flask app and
    from several threads at once."""

    name: ClassVar[str] = ""
    #: Whether :meth:`rebuild_parallel` prepares documents in forked readers (engines whose
    #: writing runs outside the GIL gain from it).
    parallel_readers: ClassVar[bool] = False
    #: Whether field weights are applied when documents are indexed (then other weights need
    #: a rebuild) or when a query runs.
    weights_at_index_time: ClassVar[bool] = True

    def __init__(self, weights: Weights | None = None) -> None:
        self.weights = weights or Weights()
        self._rebuild_lock = threading.Lock()

    # -- engine primitives --------------------------------------------------------------------

    @abstractmethod
    def index(self, docs: Iterable[SearchDocument]) -> int:
        """Add or replace documents (by id); returns how many were written."""

    @abstractmethod
    def remove(self, ids: Iterable[int]) -> int:
        """Remove documents by record id."""

    @abstractmethod
    def _prepare(self, doc: SearchDocument) -> Any:
        """All the Python work of indexing one document, as picklable values (it may run in
        a forked reader)."""

    def _rebuilding(self) -> AbstractContextManager[Any]:
        """Entered around a whole rebuild, its forked readers included (a backend's analysis
        caches may grow for it)."""
        return nullcontext()

    @abstractmethod
    def _build(self, prepared: Counted, progress: Callable[[int], None] | None) -> int:
        """Build a fresh index from prepared documents and swap it in atomically, keeping the
        writes made meanwhile. The caller holds the rebuild lock."""

    @abstractmethod
    def doc_count(self) -> int: ...

    def inventory(self) -> Iterator[IndexedEntry]:
        """Every indexed document's id, access principals and :meth:`SearchDocument.digest`,
        in no particular order (``lms check`` compares them with the database)."""
        raise NotImplementedError(f"the {self.name} backend cannot list its documents")

    @property
    @abstractmethod
    def needs_rebuild(self) -> bool: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _execute(self, plan: Plan) -> RawResult:
        """Run a parsed query with the access filter (``plan.principals``) inside the engine."""

    @abstractmethod
    def _use(self) -> AbstractContextManager[Any]:
        """The engine state one search works on (a searcher, a connection), for this thread."""

    @abstractmethod
    def _compiler(self, state: Any, notices: list[Notice]) -> QueryCompiler[Any]:
        """The query compiler's hooks for this engine, on ``state`` from :meth:`_use`."""

    @abstractmethod
    def _candidates(
        self, state: Any, query: Any, principals: tuple[str, ...], limit: int, with_text: bool
    ) -> list[StoredDoc]:
        """The best ``limit`` documents ``principals`` may see among those matching
        ``query`` (compiled by :meth:`_compiler`), by relevance; ``with_text``: with the text
        for snippets."""

    def _complete_candidates(
        self, complete: list[str], partial: str | None, principals: tuple[str, ...], limit: int
    ) -> list[StoredDoc]:
        """Visible documents whose title or subject has the folded ``complete`` words and a
        word starting with ``partial``."""
        with self._use() as state:
            c = self._compiler(state, [])
            parts = [c.any_of([c.term(f, w, 1.0) for f in ("title", "subject")]) for w in complete]
            if partial is not None:
                parts.append(c.any_of([c.prefix(f, partial, 1.0) for f in ("title", "subject")]))
            if not parts:
                return []
            return self._candidates(state, c.match_every(parts), principals, limit, False)

    def _fuzzy_candidates(
        self, folded: list[str], principals: tuple[str, ...], limit: int
    ) -> list[StoredDoc]:
        """Visible documents holding the folded words or words one edit away (from three
        letters on)."""
        with self._use() as state:
            c = self._compiler(state, [])
            queries = []
            for w in folded:
                queries.append(c.term(None, w, 1.0))
                if len(w) >= 3:
                    queries.append(c.fuzzy(w))
            if not queries:
                return []
            return self._candidates(state, c.match_any(queries), principals, limit, True)

    # -- rebuilding ---------------------------------------------------------------------------

    def rebuild(
        self, docs: Iterable[SearchDocument], progress: Callable[[int], None] | None = None
    ) -> int:
        """Build a fresh index from ``docs`` and swap it in atomically; ``progress(n)`` gets
        the number of documents written so far."""
        with self._rebuild_lock, self._rebuilding():
            return self._build(Counted(map(self._prepare, docs), progress), progress)

    def rebuild_parallel(
        self, sources: Sequence[DocumentSource], progress: Callable[[int], None] | None = None
    ) -> int:
        """:meth:`rebuild` from several sources (shards of the database). With
        :attr:`parallel_readers`, each source is read and prepared in a forked process of its
        own while this one writes; otherwise they are read one after the other."""
        if not self.parallel_readers or len(sources) < 2 or not can_fork():
            return self.rebuild(chain.from_iterable(source() for source in sources), progress)
        with self._rebuild_lock, self._rebuilding():
            prepared = prepared_in_forks(sources, self._prepare)
            try:
                return self._build(Counted(prepared, progress), progress)
            finally:
                prepared.close()

    # -- shared behaviour ---------------------------------------------------------------------

    def __enter__(self) -> SearchBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, q: SearchQuery, *, admit: Admit | None = None) -> SearchResult:
        notices: list[Notice] = []
        size = min(max(int(q.size or 10), 1), MAX_PAGE_SIZE)
        page = max(int(q.page or 1), 1)
        max_page = max(MAX_RESULT_WINDOW // size, 1)
        if page > max_page:
            page = max_page
            notices.append(Notice("page_clamped", {"max_page": max_page}))
        parsed = parse(q.q if isinstance(q.q, str) else "")
        notices.extend(parsed.notices)
        include, exclude, filter_notices = build_filters(q.filters, parsed)
        notices.extend(filter_notices)
        principals = tuple(clean_principals(q.principals or ()))
        result = SearchResult(total=0, page=page, size=size, hits=[], notices=notices)
        if q.facets:
            result.facets = _format_facets({})
        if not principals or not parsed.searchable:
            return result
        sort = q.sort if q.sort in ("relevance", "newest", "title", "downloads") else "relevance"
        plan = Plan(
            parsed=parsed,
            principals=principals,
            include=tuple(include),
            exclude=tuple(exclude),
            sort=sort,
            offset=(page - 1) * size,
            limit=size,
            facets=bool(q.facets),
            with_text=bool(q.highlight),
        )
        raw = self._execute(plan)
        fell_back = False
        if raw.total == 0:
            fallback = parsed.or_fallback()
            if fallback is not None:
                raw_or = self._execute(replace(plan, parsed=fallback))
                if raw_or.total:
                    raw, fell_back = raw_or, True
                    notices.append(Notice("or_fallback", {}))
        if admit is not None:
            raw.hits = _admitted(raw.hits, admit, lambda h: h.doc.id)
        result.total = raw.total
        notices.extend(raw.notices)
        words, prefixes = highlight_terms(parsed)
        result.hits = [self._hit(h, words, prefixes, q.highlight) for h in raw.hits]
        if q.facets:
            result.facets = _format_facets(raw.facets)
        else:
            result.facets = {}
        result.suggestion = self._suggestion(q.q, parsed, raw, principals, fell_back, plan,
                                             admit)
        return result

    def _hit(
        self, raw: RawHit, words: frozenset[str], prefixes: tuple[str, ...], marked: bool
    ) -> Hit:
        doc = raw.doc
        title = normalize_text(doc.title)
        if marked:
            title_html = highlight.highlight_title(title, words, prefixes)
            snippet_html = highlight.snippet(doc.text, words, prefixes)
        else:
            title_html, snippet_html = escape(title), ""
        return Hit(
            id=doc.id,
            external_id=doc.external_id,
            title=title,
            title_html=title_html,
            snippet_html=snippet_html,
            score=float(raw.score),
        )

    def _suggestion(
        self,
        q: str,
        parsed: ParsedQuery,
        raw: RawResult,
        principals: tuple[str, ...],
        fell_back: bool,
        plan: Plan,
        admit: Admit | None,
    ) -> str | None:
        # Records holding every word were found: nothing to suggest (not even the accented
        # spelling of an unaccented query, which matched it already).
        if raw.total and not fell_back:
            return None
        return self._did_you_mean(q, parsed, principals, plan, admit)

    def suggest(self, q: str, principals: Iterable[str], *,
                admit: Admit | None = None) -> str | None:
        """"Did you mean": a respelling of ``q`` from documents ``principals`` may see."""
        pr = tuple(clean_principals(principals or ()))
        if not pr or not isinstance(q, str):
            return None
        parsed = parse(q)
        if not parsed.searchable:
            return None
        plan = Plan(parsed=parsed, principals=pr, include=(), exclude=(), sort="relevance",
                    offset=0, limit=1, facets=False)
        if self._execute(plan).total:
            return None
        return self._did_you_mean(q, parsed, pr, plan, admit)

    def _did_you_mean(
        self, q: str, parsed: ParsedQuery, principals: tuple[str, ...], plan: Plan,
        admit: Admit | None = None,
    ) -> str | None:
        """A respelling built from words of visible documents (those ``admit`` lets through),
        offered only if it finds records holding all its words (which ``q`` did not)."""
        words = parsed.plain_words()[:8]
        if not words:
            return None
        docs = self._fuzzy_candidates([w.folded for w in words], principals, limit=40)
        if admit is not None:
            docs = _admitted(docs, admit, lambda d: d.id)
        if not docs:
            return None
        texts = [t for d in docs for t in (*d.titles, *d.subjects, d.text)]
        replacements = suggest.respell(
            [(w.accented, w.folded) for w in words], texts,
            indexed=lambda folded: self._word_visible(folded, principals))
        candidate = _changed(q, suggest.rewrite(q, replacements))
        if candidate is None:
            return None
        check = replace(plan, parsed=parse(candidate), offset=0, limit=1, facets=False)
        return candidate if self._execute(check).total else None

    def _word_visible(self, folded: str, principals: tuple[str, ...]) -> bool:
        """Whether a visible document holds this word (in any spelling)."""
        plan = Plan(parsed=parse(folded), principals=principals, include=(), exclude=(),
                    sort="relevance", offset=0, limit=1, facets=False)
        return plan.parsed.searchable and self._execute(plan).total > 0

    def autocomplete(self, prefix: str, principals: Iterable[str], limit: int = 8, *,
                     admit: Admit | None = None) -> list[str]:
        """Completions of ``prefix`` from titles and subjects of visible documents."""
        pr = tuple(clean_principals(principals or ()))
        if not pr or not isinstance(prefix, str) or not prefix.strip():
            return []
        text = normalize_text(prefix[:200])
        toks = [t for t in tokenize(text, normalized=True) if not t.compound]
        if not toks:
            return []
        if text[-1].isspace():
            complete, partial, partial_acc = toks[-4:], None, None
        else:
            complete, partial, partial_acc = toks[:-1][-3:], toks[-1].folded, toks[-1].accented
        if partial is not None and not complete and len(partial) < MIN_PREFIX:
            return []
        folded = [t.folded for t in complete]
        docs = self._complete_candidates(folded, partial, pr, limit=60)
        if admit is not None:
            docs = _admitted(docs, admit, lambda d: d.id)
        values = [[*d.titles, *d.subjects] for d in docs]
        return suggest.completions(folded, partial, partial_acc, values, max(1, min(limit, 50)))


def _admitted(items: list, admit: Admit, id_of: Callable[[Any], int]) -> list:
    if not items:
        return items
    allowed = admit([id_of(item) for item in items])
    return [item for item in items if id_of(item) in allowed]


def _changed(q: str, rewritten: str) -> str | None:
    original = normalize_text(q)
    rewritten = " ".join(rewritten.split())
    return rewritten if rewritten and rewritten != " ".join(original.split()) else None


def _format_facets(counts: Mapping[str, Counter[str]]) -> dict[str, list[FacetValue]]:
    out: dict[str, list[FacetValue]] = {}
    for facet in FACETS:
        c = counts.get(facet)
        if not c:
            out[facet] = []
            continue
        items = [(v, n) for v, n in c.items() if n > 0]
        if facet in ("year", "decade"):
            items.sort(key=lambda vn: vn[0], reverse=True)
        else:
            items.sort(key=lambda vn: (-vn[1], vn[0]))
        out[facet] = [FacetValue(v, n) for v, n in items[:MAX_FACET_VALUES]]
    return out
