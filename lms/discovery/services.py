"""Search for the app: one backend per process, indexing after commits, queries per user.

The index follows the database: every committed change of a record reaches it through
``lms.catalog.hooks`` (so an access change takes effect on search at once), and
``lms reindex`` rebuilds it from the database.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.catalog import hooks
from lms.catalog.access import published_clause, user_principals
from lms.catalog.collections import record_ids_under
from lms.catalog.models import Record
from lms.discovery.documents import RECORD_LOADS, documents_for
from lms.extensions import db
from lms.jobs import enqueue
from lms.search import (
    BACKENDS,
    DocumentSource,
    SearchBackend,
    SearchDocument,
    SearchError,
    SearchQuery,
    SearchResult,
    Weights,
    create_backend,
)

log = logging.getLogger(__name__)
BATCH = 500


def backend() -> SearchBackend:
    """This process's backend for the current app, created on first use."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("search")
    if found is None:
        name = app.config["SEARCH_BACKEND"]
        if name not in BACKENDS:
            raise ValueError(f"LMS_SEARCH_BACKEND must be one of {', '.join(BACKENDS)}")
        found = create_backend(name, Path(app.config["DATA_DIR"]) / "search" / name,
                               Weights.from_mapping(app.config.get("SEARCH_WEIGHTS")),
                               database=db.engine)
        app.extensions["search"] = found
        _ensure_built(found)
    return found


def _ensure_built(engine: SearchBackend) -> None:
    """A new or outdated index is rebuilt: at once when there is little to index, otherwise
    by the worker (search keeps answering from what it has meanwhile)."""
    if not engine.needs_rebuild:
        return
    count = db.session.scalar(select(db.func.count(Record.id)).where(published_clause())) or 0
    if count <= current_app.config["SEARCH_INLINE_REBUILD_MAX"]:
        engine.rebuild(searchable_documents())  # in this process: it may be serving requests
    else:
        log.warning("search index is outdated; a rebuild of %d records was queued", count)
        enqueue("search.rebuild")


def searchable_documents(progress: Callable[[int], None] | None = None,
                         shard: tuple[int, int] | None = None) -> Iterator[SearchDocument]:
    """Every searchable record as a document, read from the database in batches; with
    ``shard=(k, n)`` only the records whose id is k modulo n.

    A session of its own, emptied after each batch: memory stays flat, and the caller's
    session (in a request: the logged-in user, the record being saved) is left alone.
    """
    last_id = 0
    where = [published_clause()]
    if shard is not None:
        where.append(Record.id % shard[1] == shard[0])
    with Session(db.engine) as session:
        while True:
            batch = session.scalars(
                select(Record).where(*where, Record.id > last_id)
                .options(*RECORD_LOADS).order_by(Record.id).limit(BATCH)
            ).all()
            if not batch:
                return
            documents = documents_for(batch)
            for record in batch:
                document = documents.get(record.id)
                if document is not None:
                    yield document
                if progress is not None:
                    progress(1)
            last_id = batch[-1].id
            session.expunge_all()


def _shard_source(app: Flask, shard: int, shards: int) -> DocumentSource:
    parent = os.getpid()

    def documents() -> Iterator[SearchDocument]:
        with app.app_context():
            if os.getpid() != parent:
                # A forked reader: the parent's pooled connections are not ours to use.
                db.engine.dispose(close=False)
            yield from searchable_documents(shard=(shard, shards))

    return documents


def rebuild_index(progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the search index from the database (``lms reindex``, the rebuild job), the
    records read in parallel shards when the engine can use them. ``progress(n)`` gets the
    number of records indexed so far."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    shards = int(app.config["SEARCH_REBUILD_PROCESSES"]) or min(os.cpu_count() or 1, 4)
    sources = [_shard_source(app, k, shards) for k in range(max(shards, 1))]
    return backend().rebuild_parallel(sources, progress)


def index_records(record_ids: Sequence[int]) -> None:
    """Put these records' current state into the index (or take them out)."""
    engine = backend()
    ids = list(dict.fromkeys(record_ids))
    records = db.session.scalars(
        select(Record).where(Record.id.in_(ids)).options(*RECORD_LOADS)).all()
    documents = documents_for(records)
    gone = [record_id for record_id in ids if record_id not in documents]
    if gone:
        engine.remove(gone)
    if documents:
        engine.index([documents[i] for i in ids if i in documents])


def _index_after_commit(record_ids: Sequence[int]) -> None:
    try:
        index_records(record_ids)
    except SearchError:
        # The index is busy (another writer held the lock too long): the worker retries.
        log.warning("indexing records %s deferred to the worker", record_ids, exc_info=True)
        enqueue("search.index", record_ids=list(record_ids))


def _reindex_collection(collection_id: int) -> None:
    # A collection's path is in the entry of every record filed under it, deep or mapped.
    ids = record_ids_under(collection_id, published_clause())
    for start in range(0, len(ids), BATCH):
        index_records(ids[start:start + BATCH])


hooks.on_records_changed(_index_after_commit)
hooks.on_collection_changed(_reindex_collection)


def search(user, q: str, *, filters: Mapping[str, Sequence[str]] | None = None,
           sort: str = "relevance", page: int = 1, size: int = 10,
           highlight: bool = True, facets: bool = True) -> SearchResult:
    """Run a query as ``user``: only what they may see is found, counted and suggested."""
    return backend().query(SearchQuery(
        q=q, principals=user_principals(user), filters=dict(filters or {}), sort=sort,
        page=page, size=size, highlight=highlight, facets=facets))


def autocomplete(user, prefix: str, limit: int = 8) -> list[str]:
    return backend().autocomplete(prefix, user_principals(user), limit=limit)
