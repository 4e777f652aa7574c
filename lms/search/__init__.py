"""Search: one interface, engine modules behind it (``whoosh`` is the default).

Usable without a Flask app: configuration is passed in explicitly::

    backend = create_backend("whoosh", Path(data_dir) / "search", Weights())
    backend.index([SearchDocument(...)])
    result = backend.query(SearchQuery("hậu cần", principals=frozenset({"public"})))

Engines: ``whoosh`` (the default, pure Python) and ``tantivy`` (the ``tantivy`` wheel, Rust).
What every engine shares: :mod:`~lms.search.backend` (the query flow), :mod:`~lms.search.compiler`
(the query walk), :mod:`~lms.search.local` (generations of an index folder). Only the engine
modules (:mod:`lms.search.whoosh`, :mod:`lms.search.tantivy`) import a search engine; importing
this package imports none. ``docs/search.md`` describes the engines side by side.
"""

from __future__ import annotations

from pathlib import Path

from .analysis import ANALYZER_VERSION
from .backend import SearchBackend
from .document import (
    FACETS,
    DocumentSource,
    FacetValue,
    Hit,
    Notice,
    SearchDocument,
    SearchError,
    SearchQuery,
    SearchResult,
    Weights,
)

BACKENDS = ("whoosh", "tantivy")

__all__ = [
    "ANALYZER_VERSION",
    "BACKENDS",
    "FACETS",
    "DocumentSource",
    "FacetValue",
    "Hit",
    "Notice",
    "SearchBackend",
    "SearchDocument",
    "SearchError",
    "SearchQuery",
    "SearchResult",
    "Weights",
    "create_backend",
]


def create_backend(name: str, index_dir: Path, weights: Weights | None = None) -> SearchBackend:
    """A backend by name ("whoosh" or "tantivy"), with its index under ``index_dir``."""
    if name == "whoosh":
        from .whoosh import WhooshBackend

        return WhooshBackend(Path(index_dir), weights)
    if name == "tantivy":
        from .tantivy import TantivyBackend

        return TantivyBackend(Path(index_dir), weights)
    raise ValueError(f"unknown search backend {name!r}; known: {', '.join(BACKENDS)}")
