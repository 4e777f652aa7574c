"""Search: one interface, engine modules behind it (``whoosh`` is the default).

Usable without a Flask app: configuration is passed in explicitly::

    backend = create_backend("whoosh", Path(data_dir) / "search", Weights())
    backend.index([SearchDocument(...)])
    result = backend.query(SearchQuery("hậu cần", principals=frozenset({"public"})))

Engines: ``whoosh`` (the default, pure Python), ``tantivy`` (the ``tantivy`` wheel, Rust), both
with an index folder, and ``postgres`` (tables in the app's PostgreSQL database, shared by every
app server).
What every engine shares: :mod:`~lms.search.backend` (the query flow), :mod:`~lms.search.compiler`
(the query walk), :mod:`~lms.search.local` (generations of an index folder). Only the engine
packages (:mod:`lms.search.whoosh`, :mod:`lms.search.tantivy`, :mod:`lms.search.postgres`)
import a search engine or write SQL; importing this package imports none. ``docs/search.md``
describes the engines side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .analysis import ANALYZER_VERSION
from .backend import Admit, SearchBackend
from .document import (
    FACETS,
    DocumentSource,
    FacetValue,
    Hit,
    IndexedEntry,
    Notice,
    SearchDocument,
    SearchError,
    SearchQuery,
    SearchResult,
    Weights,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

BACKENDS = ("whoosh", "tantivy", "postgres")

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


def create_backend(
    name: str, index_dir: Path, weights: Weights | None = None, *, database: Engine | None = None
) -> SearchBackend:
    """A backend by name: "whoosh" or "tantivy" with its index under ``index_dir``, or
    "postgres" with its index in the PostgreSQL ``database``."""
    if name == "whoosh":
        from .whoosh import WhooshBackend

        return WhooshBackend(Path(index_dir), weights)
    if name == "tantivy":
        from .tantivy import TantivyBackend

        return TantivyBackend(Path(index_dir), weights)
    if name == "postgres":
        if database is None:
            raise ValueError("the postgres search backend needs a database")
        from .postgres import PostgresBackend

        return PostgresBackend(database, weights)
    raise ValueError(f"unknown search backend {name!r}; known: {', '.join(BACKENDS)}")
