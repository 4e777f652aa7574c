"""Search: one interface, engine modules behind it (``whoosh`` is the default).

Usable without a Flask app: configuration is passed in explicitly::

    backend = create_backend("whoosh", Path(data_dir) / "search", Weights())
    backend.index([SearchDocument(...)])
    result = backend.query(SearchQuery("hậu cần", principals=frozenset({"public"})))

Engines: ``whoosh`` (the default, pure Python) and ``tantivy`` (the ``tantivy`` wheel, Rust);
Only the engine modules
(:mod:`lms.search.whoosh`, :mod:`lms.search.tantivy`) import a search engine; importing this
package imports none.
"""

from __future__ import annotations

from pathlib import Path

from .analysis import ANALYZER_VERSION
from .backend import Admit, DocumentSource, SearchBackend, SearchError
from .document import (
    FACETS,
    FacetValue,
    Hit,
    IndexedEntry,
    Notice,
    SearchDocument,
    SearchQuery,
    SearchResult,
    Weights,
)

BACKENDS = ("whoosh", "tantivy")

__all__ = [
    "ANALYZER_VERSION",
    "BACKENDS",
    "FACETS",
    "Admit",
    "DocumentSource",
    "FacetValue",
    "Hit",
    "IndexedEntry",
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
