"""Search for the app: one backend per process, indexing after commits, queries per user.

The index follows the database: every committed change of a record reaches it through
``lms.catalog.hooks`` (so an access change takes effect on search at once), and
``lms reindex`` rebuilds it from the database.
"""

from __future__ import annotations

import logging
import os
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.catalog import hooks
from lms.catalog.access import can_view, published_clause, user_principals
from lms.catalog.collections import record_ids_under
from lms.catalog.models import Record
from lms.catalog.summaries import RecordSummary, summarize
from lms.discovery.documents import RECORD_LOADS, documents_for
from lms.extensions import db
from lms.jobs import enqueue
from lms.search import (
    BACKENDS,
    DocumentSource,
    FacetValue,
    Notice,
    SearchBackend,
    SearchDocument,
    SearchError,
    SearchQuery,
    SearchResult,
    Weights,
    create_backend,
)
from lms.search.local import LocalIndexBackend

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
        if found.needs_rebuild:  # new or outdated (search answers from what it has meanwhile)
            _request_rebuild(found)
    return found


def _inline_rebuild() -> bool:
    """Whether there are few enough records to rebuild the index within a request."""
    count = db.session.scalar(select(db.func.count(Record.id)).where(published_clause())) or 0
    return count <= current_app.config["SEARCH_INLINE_REBUILD_MAX"]


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
    """Run a query as ``user``: only what they may see is found, counted and suggested.

    A damaged index never fails the page: the failure is logged, a rebuild from the database
    is started, and the answer is empty with the notice ``search_unavailable`` (or, when the
    index was small enough to rebuild at once, the answer of the rebuilt index). While an
    index is being rebuilt, answers carry the notice ``index_rebuilding``: they may be
    incomplete, never wider than the user's access (the rebuilt documents carry it).
    """
    engine = backend()
    query = SearchQuery(q=q, principals=user_principals(user), filters=dict(filters or {}),
                        sort=sort, page=page, size=size, highlight=highlight, facets=facets)
    result = _query(engine, query)
    # A local index may have been deleted under us (its state is a file, cheap to read); the
    # PostgreSQL backend's state is in the database with the data.
    stale = isinstance(engine, LocalIndexBackend) and engine.needs_rebuild
    if (result is None or stale) and _request_rebuild(engine, failed=result is None):
        result = _query(engine, query)  # rebuilt within this request
        stale = False
    if result is None:
        return SearchResult(0, page, size, [], notices=[Notice("search_unavailable")])
    if stale:
        result.notices.append(Notice("index_rebuilding"))
    return result


def _query(engine: SearchBackend, query: SearchQuery) -> SearchResult | None:
    """The engine's answer, or None when it failed (a deleted or corrupt file...)."""
    try:
        return engine.query(query)
    except Exception:  # whatever the engine raises: the page must not fail with it
        log.exception("search failed: the index is rebuilt from the database")
        return None


#: Seconds between two rebuilds asked for by searches of one process (a queued rebuild takes
#: minutes; a query that keeps failing must not start one each time).
REBUILD_REQUEST_INTERVAL = 300.0
_rebuild_requested: weakref.WeakKeyDictionary[SearchBackend, float] = weakref.WeakKeyDictionary()


def _request_rebuild(engine: SearchBackend, *, failed: bool = False) -> bool:
    """Rebuild the index from the database: at once when it is small (then True), otherwise
    by the worker. A queued rebuild, or one after a failed search (a query that keeps failing
    must not rebuild each time), is asked for at most once per
    :data:`REBUILD_REQUEST_INTERVAL` in this process."""
    try:
        inline = _inline_rebuild()
        if failed or not inline:
            if time.monotonic() - _rebuild_requested.get(engine, float("-inf")) < \
                    REBUILD_REQUEST_INTERVAL:
                return False
            _rebuild_requested[engine] = time.monotonic()
        if inline:
            engine.rebuild(searchable_documents())
            return True
        log.warning("the search index is rebuilt by the worker")
        enqueue("search.rebuild")
    except Exception:  # the database may be what failed: a later search asks again
        log.exception("rebuilding the search index failed")
        _rebuild_requested.pop(engine, None)
    return False


def facet_counts(user) -> dict[str, list[FacetValue]]:
    """How many materials ``user`` may find per facet value (browse pages, home page)."""
    return search(user, "", size=1, highlight=False, facets=True).facets


def library_overview(user) -> tuple[int, dict[str, int]]:
    """How many materials ``user`` may find, and how many per collection path
    ("khoa-hau-can/xang-dau"; sub-collections and mapped records included)."""
    result = search(user, "", size=1, highlight=False, facets=True)
    return result.total, {v.value: v.count for v in result.facets.get("collection", [])}


def collection_counts(user) -> dict[str, int]:
    return library_overview(user)[1]


def hit_summaries(user, result: SearchResult, lang: str) -> dict[int, RecordSummary]:
    """What the results page shows for each hit besides its highlighted title and snippet
    (creators, year, type, collections, formats, thumbnail), read from the database."""
    ids = [hit.id for hit in result.hits]
    if not ids:
        return {}
    records = db.session.scalars(select(Record).where(Record.id.in_(ids))).all()
    # The index may lag a moment behind the database: a record no longer visible is left out.
    visible = [r for r in records if can_view(user, r)]
    return summarize(user, visible, lang)


def autocomplete(user, prefix: str, limit: int = 8) -> list[str]:
    engine = backend()
    try:
        return engine.autocomplete(prefix, user_principals(user), limit=limit)
    except Exception:  # a damaged index: no suggestions, and the rebuild search() asks for
        log.exception("autocomplete failed")
        return []
