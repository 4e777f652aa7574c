"""Search for the app: one backend per process, the index as a mirror, queries per user.

The index follows the database as a mirror of the change log (:mod:`lms.discovery.mirror`):
a committed change reaches it right after the commit, or through the worker. What it returns
is checked against the database on the way out (:func:`shown_to`), so an index lagging
behind an access change shows nothing the database no longer allows. ``lms reindex``
rebuilds it from the database.
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

from lms.catalog.access import can_view, published_clause, user_principals, visible_records
from lms.catalog.models import Record
from lms.catalog.summaries import RecordSummary, summarize
from lms.changelog import (
    ChangeEntry,
    MirrorBusy,
    apply_pending,
    mirror_lock,
    mirrors,
    pending_records_clause,
)
from lms.changelog.mirrors import pending_clause
from lms.discovery.documents import RECORD_LOADS, documents_for
from lms.extensions import db
from lms.jobs import enqueue
from lms.search import (
    BACKENDS,
    Admit,
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
#: The search index's name among the change log's mirrors.
MIRROR = "search"


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


#: How long a rebuild waits for the applier holding the index (one batch at most), and a
#: small rebuild in a request before leaving it to the worker.
REBUILD_LOCK_WAIT = 600.0
INLINE_REBUILD_LOCK_WAIT = 10.0


def rebuild_index(progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the search index from the database (``lms reindex``, the rebuild job), the
    records read in parallel shards when the engine can use them. ``progress(n)`` gets the
    number of records indexed so far.

    The index's change-log lock is held throughout: an update applied by another process
    meanwhile would go to the index being replaced. Changes committed during the rebuild stay
    pending and are applied once it is swapped in.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    shards = int(app.config["SEARCH_REBUILD_PROCESSES"]) or min(os.cpu_count() or 1, 4)
    sources = [_shard_source(app, k, shards) for k in range(max(shards, 1))]
    with mirror_lock(MIRROR, wait=REBUILD_LOCK_WAIT) as held:
        if not held:
            raise SearchError("the search index stayed busy; try the rebuild again later")
        return backend().rebuild_parallel(sources, progress)


def index_records(record_ids: Sequence[int], session: Session | None = None) -> None:
    """Put these records' current state, read through ``session`` (default: the app's), into
    the index, or take them out of it."""
    engine = backend()
    session = session or db.session
    ids = list(dict.fromkeys(record_ids))
    records = session.scalars(
        select(Record).where(Record.id.in_(ids)).options(*RECORD_LOADS)).all()
    documents = documents_for(records)
    gone = [record_id for record_id in ids if record_id not in documents]
    if gone:
        engine.remove(gone)
    if documents:
        engine.index([documents[i] for i in ids if i in documents])


def shown_to(user) -> Admit:
    """The database's answer to "may ``user`` be shown these hits?", for a page of ids in one
    query: the records are published, discoverable and visible to ``user`` now (the SQL form
    of ``can_view``), and the index holds their latest state (no change of theirs is still
    pending for it: a file made stricter must not show its old text in a snippet)."""

    def admit(ids: Sequence[int]) -> set[int]:
        stmt = visible_records(user, listing=True).with_only_columns(Record.id).where(
            Record.id.in_(list(ids)), published_clause(), Record.discoverable.is_(True),
            ~pending_records_clause(MIRROR, Record.id))
        return set(db.session.scalars(stmt))

    return admit


def search(user, q: str, *, filters: Mapping[str, Sequence[str]] | None = None,
           sort: str = "relevance", page: int = 1, size: int = 10,
           highlight: bool = True, facets: bool = True) -> SearchResult:
    """Run a query as ``user``: only what they may see is found, counted and suggested, and
    the hits and suggestions shown are checked against the database (:func:`shown_to`).
    Totals and facet counts come from the index: changes left pending (by a process killed
    before it applied them, with the worker down too) are applied first, so they never count
    a record that is no longer the user's to find (:func:`_catch_up`).

    A damaged index never fails the page: the failure is logged, a rebuild from the database
    is started, and the answer is empty with the notice ``search_unavailable`` (or, when the
    index was small enough to rebuild at once, the answer of the rebuilt index). While an
    index is being rebuilt, answers carry the notice ``index_rebuilding``: they may be
    incomplete, never wider than the user's access (the rebuilt documents carry it).
    """
    engine = backend()
    _catch_up()
    query = SearchQuery(q=q, principals=user_principals(user), filters=dict(filters or {}),
                        sort=sort, page=page, size=size, highlight=highlight, facets=facets)
    admit = shown_to(user)
    result = _query(engine, query, admit)
    # A local index may have been deleted under us (its state is a file, cheap to read); the
    # PostgreSQL backend's state is in the database with the data.
    stale = isinstance(engine, LocalIndexBackend) and engine.needs_rebuild
    if (result is None or stale) and _request_rebuild(engine, failed=result is None):
        result = _query(engine, query, admit)  # rebuilt within this request
        stale = False
    if result is None:
        return SearchResult(0, page, size, [], notices=[Notice("search_unavailable")])
    if stale:
        result.notices.append(Notice("index_rebuilding"))
    return result


#: Batches of pending changes a search applies before answering (a larger backlog, say after
#: an import killed midway, is the worker's; the hits shown stay fail-closed meanwhile).
CATCH_UP_BATCHES = 2


def _catch_up() -> None:
    """Apply the index's pending changes, unless another process is applying them."""
    if not db.session.scalar(select(select(ChangeEntry.id).where(pending_clause(MIRROR))
                                    .exists())):
        return
    mirror = next(m for m in mirrors() if m.name == MIRROR)
    try:
        for _ in range(CATCH_UP_BATCHES):
            if not apply_pending(mirror, wait=0.0):
                break
    except MirrorBusy:
        pass  # being applied right now by the process that holds the lock
    except Exception:  # a busy database: the search answers anyway, its hits fail closed
        log.exception("applying pending changes before a search failed")


def _query(engine: SearchBackend, query: SearchQuery, admit: Admit) -> SearchResult | None:
    """The engine's answer, or None when it failed (a deleted or corrupt file...)."""
    try:
        return engine.query(query, admit=admit)
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
            with mirror_lock(MIRROR, wait=INLINE_REBUILD_LOCK_WAIT) as held:  # see rebuild_index
                if held:
                    engine.rebuild(searchable_documents())  # in this process: it may be serving
                    return True
            return False
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
    # The hits were admitted by the database already (shown_to); checked again, as they are
    # read here anyway, in case the record changed in between.
    visible = [r for r in records if can_view(user, r)]
    return summarize(user, visible, lang)


def autocomplete(user, prefix: str, limit: int = 8) -> list[str]:
    engine = backend()
    try:
        return engine.autocomplete(prefix, user_principals(user), limit=limit,
                                   admit=shown_to(user))
    except Exception:  # a damaged index: no suggestions, and the rebuild search() asks for
        log.exception("autocomplete failed")
        return []
