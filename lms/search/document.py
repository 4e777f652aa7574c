"""The engine-neutral contract between the app and a search backend.

The app turns a record into a :class:`SearchDocument` (after the DB commit) and a request into
a :class:`SearchQuery`; a backend answers with a :class:`SearchResult`. Nothing here knows an
engine or Flask.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal

SortOrder = Literal["relevance", "newest", "title", "downloads"]
SORTS: tuple[str, ...] = ("relevance", "newest", "title", "downloads")

#: Facets a caller may filter on and gets counts for. ``subject`` and ``collection`` are
#: hierarchical ("hau-can/xang-dau" counts for "hau-can" too); ``decade`` is derived from year.
FACETS: tuple[str, ...] = (
    "type",
    "subject",
    "audience",
    "language",
    "year",
    "decade",
    "collection",
    "format",
    "has_files",
)
HIERARCHICAL_FACETS = frozenset({"subject", "collection"})

#: Text fields of a document, heaviest first, with the weight each has unless ``Weights``
#: says otherwise. Engines index them all in one combined field (and rank with these weights).
DEFAULT_FIELD_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"title": 5.0, "subject": 2.5, "creator": 2.5, "description": 1.5, "fulltext": 1.0})
TEXT_FIELDS: tuple[str, ...] = tuple(DEFAULT_FIELD_WEIGHTS)
#: Text fields a query may name (``title:`` …): engines can match them on their own.
NAMED_FIELDS: tuple[str, ...] = ("title", "creator", "subject")

MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 64
MAX_PAGE_SIZE = 100
MAX_RESULT_WINDOW = 10_000  # page * size beyond this is clamped


@dataclass(frozen=True)
class SearchDocument:
    """What the search index knows about one record."""

    id: int  # record id
    external_id: str | None
    title: list[str]  # every title value (any language), first = display title
    creator: list[str]
    subject: list[str]  # display labels of subjects (and free keywords)
    description: list[str]  # abstract + description values
    fulltext: str  # extracted text of the record's files (indexed whole, never truncated)
    principals: list[str]  # who may see it (opaque strings)
    type: Sequence[str] = ()  # DCMI types, e.g. "Text", "MovingImage"
    subject_path: Sequence[str] = ()  # hierarchical facet paths "hau-can/xang-dau"
    audience: Sequence[str] = ()
    language: Sequence[str] = ()
    year: int | None = None
    collection_path: Sequence[str] = ()
    format: Sequence[str] = ()  # media types
    has_files: bool = False
    issued: str | None = None  # W3CDTF date, for display
    published_at: datetime | None = None  # for the "newest" sort
    downloads: int = 0

    @property
    def display_title(self) -> str:
        return self.title[0] if self.title else ""

    def text_values(self, name: str) -> Sequence[str]:
        """The values of one of :data:`TEXT_FIELDS`, as strings."""
        if name == "fulltext":
            return (self.fulltext,) if self.fulltext else ()
        return [str(v) for v in getattr(self, name)]

    @property
    def snippet_text(self) -> str:
        """The text snippets are cut from: the full text, or the description."""
        return self.fulltext or "\n".join(self.description)

    @property
    def published_timestamp(self) -> float:
        """Seconds since the epoch (naive datetimes are UTC), 0 when never published."""
        if self.published_at is None:
            return 0.0
        when = self.published_at
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()

    def digest(self) -> str:
        """A fingerprint of what the index holds of this document, except the download count
        (it changes without a re-index). Engines store it; ``lms check`` compares it with the
        digest of the document the database gives now."""
        values: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "downloads":
                continue
            if isinstance(value, datetime):
                value = (value if value.tzinfo else value.replace(tzinfo=UTC)) \
                    .astimezone(UTC).isoformat()
            elif isinstance(value, Sequence) and not isinstance(value, str):
                value = [str(v) for v in value]
            values[f.name] = value
        encoded = json.dumps(values, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()[:32]


@dataclass(frozen=True)
class IndexedEntry:
    """What a backend reports of one indexed document for ``lms check``."""

    id: int
    principals: tuple[str, ...]
    digest: str | None  # None: indexed before digests were kept


@dataclass(frozen=True)
class Weights:
    """Ranking knobs (the app puts them in config, e.g. ``SEARCH_WEIGHTS = {"title": 6}``, read
    by :meth:`from_mapping`).

    ``field_weights`` weight each of :data:`TEXT_FIELDS`' term frequencies in BM25F; they are
    applied when documents are indexed, so changing them makes ``needs_rebuild`` true.
    ``accent`` is the extra weight of a match on the accented (exact) form on top of the folded
    match every hit has, so "cá" ranks documents spelling "cá" above those with only "ca".
    ``phrase`` is the boost when the query's syllables occur adjacent in a document ("chứng
    khoán"): the score is multiplied by ``1 + phrase * share of adjacent pairs found``.
    ``k1``/``b`` are the BM25 parameters. Only the field weights need a rebuild.
    """

    field_weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_FIELD_WEIGHTS)
    accent: float = 0.5
    phrase: float = 1.0
    k1: float = 1.2
    b: float = 0.75

    def field(self, name: str) -> float:
        return self.field_weights[name]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> Weights:
        """Build from a config mapping of text fields' weights and the other knobs, by name;
        unknown keys are ignored, values become floats."""
        values = values or {}
        knobs = {f.name for f in fields(cls)} - {"field_weights"}
        return cls(field_weights=MappingProxyType(
                       {name: float(values.get(name, weight))
                        for name, weight in DEFAULT_FIELD_WEIGHTS.items()}),
                   **{key: float(value) for key, value in values.items() if key in knobs})


@dataclass(frozen=True)
class SearchQuery:
    q: str
    principals: frozenset[str]
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    sort: SortOrder = "relevance"
    page: int = 1
    size: int = 10
    facets: bool = True
    highlight: bool = True


@dataclass(frozen=True)
class Hit:
    id: int
    external_id: str | None
    title: str
    title_html: str  # HTML-escaped; only our <mark> tags are markup
    snippet_html: str  # HTML-escaped; only our <mark> tags are markup
    score: float


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True)
class Notice:
    """Something the user should know about how the query was run; the app translates
    ``code`` (``or_fallback``, ``truncated``, ``too_many_terms``, ``unknown_field``,
    ``unknown_filter``, ``prefix_too_short``, ``prefix_limited``, ``page_clamped``,
    ``no_terms``; from the app: ``search_unavailable``, ``index_rebuilding``)."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class SearchResult:
    total: int
    page: int
    size: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    suggestion: str | None = None


class SearchError(RuntimeError):
    """A backend cannot do what was asked (e.g. the index folder is unusable)."""


class IndexLocked(SearchError):
    """Another writer held the index lock for longer than the timeout."""


#: A callable returning documents to index: one shard of a rebuild (see
#: :meth:`lms.search.backend.SearchBackend.rebuild_parallel`). It may run in a forked process.
DocumentSource = Callable[[], Iterable[SearchDocument]]
