"""The PostgreSQL backend (``LMS_SEARCH_BACKEND=postgres``): the index is two tables in the app's
own PostgreSQL database, so several app servers share one search with no local index.

What is PostgreSQL's own: the layout (:mod:`.schema`: tsvector literals of our tokens, labels
for fields), the compiler's hooks (:mod:`.conditions`), and here the statements: matching with
the GIN indexes, ranking with ``ts_rank`` plus the shared second phase, facet counts with
``GROUP BY``, the access filter as an array overlap (``principals && :principals``, GIN), and
rebuilds as generations of rows. ``docs/search.md`` describes the design and the README lists
how its ranking differs from the other engines'.
"""

from __future__ import annotations

import logging
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, ClassVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    not_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, TSVECTOR, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import Integer, Text

from .. import analysis
from ..analysis import ChunkAnalyser
from ..backend import KEY_SEP, Counted, Plan, RawHit, RawResult, SearchBackend, StoredDoc
from ..document import FACETS, IndexedEntry, Notice, SearchDocument, SearchError, Weights
from ..ranking import RESCORE_WINDOW, query_word_pairs, rescore
from .conditions import (
    ALL,
    NONE,
    Compiler,
    Cond,
    rank,
    rank_weights,
    render,
    resolve_fuzzy,
    ts_rank,
    tsquery,
)
from .schema import LABELS, SCHEMA_VERSION, document_row, quote, search_documents, search_state

log = logging.getLogger(__name__)

#: Rows per INSERT batch (and per commit) of a rebuild.
REBUILD_BATCH = 500
#: No search statement runs longer (a pathological query fails instead of holding a backend).
STATEMENT_TIMEOUT_MS = 30_000
#: The advisory lock that lets one rebuild run at a time across every app server.
REBUILD_LOCK = zlib.crc32(b"lms.search.postgres.rebuild")

d = search_documents
_VECTORS = ("all_f", "all_a", "meta_f")
_ROW = {
    c.name: cast(bindparam(c.name), TSVECTOR) if c.name in _VECTORS else bindparam(c.name)
    for c in d.c
}
_UPSERT = insert(d).values(_ROW)
_UPSERT = _UPSERT.on_conflict_do_update(
    index_elements=[d.c.generation, d.c.record_id],
    set_={c.name: _UPSERT.excluded[c.name] for c in d.c if not c.primary_key},
)
_INSERT_NEW = insert(d).values(_ROW).on_conflict_do_nothing()
_SORTS = {
    "newest": (d.c.published.desc(), d.c.record_id),
    "downloads": (d.c.downloads.desc(), d.c.record_id),
    "title": (d.c.title_key, d.c.record_id),
}


_LIVE = select(search_state.c.live_generation).where(search_state.c.id == 1).scalar_subquery()
#: Settings of a search's transaction. The planner does not see what testing ``@@`` row by row
#: costs (each tsvector is read from TOAST and decompressed): it would scan the whole table
#: rather than ask the GIN index for the matches (67 ms against 2 ms at 10,000 articles).
_SEARCH_SETTINGS = (
    func.set_config("statement_timeout", str(STATEMENT_TIMEOUT_MS), True),
    func.set_config("enable_seqscan", "off", True),
)


@contextmanager
def _sql_errors(action: str) -> Iterator[None]:
    """Database errors as the search error callers handle (a missing table: the migrations
    have not run)."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise SearchError(f"{action} failed (has `lms db upgrade` run?): {exc}") from exc


@dataclass
class _Search:
    """One search's connection (a read-only snapshot) and the live generation."""

    conn: Connection
    generation: int


class PostgresBackend(SearchBackend):
    name = "postgres"
    parallel_readers = True
    weights_at_index_time: ClassVar[bool] = False

    def __init__(self, engine: Engine, weights: Weights | None = None) -> None:
        if engine.dialect.name != "postgresql":
            raise SearchError("the postgres search backend needs a PostgreSQL database")
        super().__init__(weights)
        self.engine = engine
        self._analyser = ChunkAnalyser(codes_last=False)
        self._weights = rank_weights(self.weights)
        self._closed = False

    # -- state ----------------------------------------------------------------------------------

    @staticmethod
    def _state(conn: Connection, lock: str | None = None) -> Any:
        """The state row (made if missing): live and building generation, analyzer and
        schema versions of the live one; ``lock``: "share" or "update"."""
        conn.execute(insert(search_state).values(id=1, live_generation=0).on_conflict_do_nothing())
        query = select(search_state).where(search_state.c.id == 1)
        if lock:
            query = query.with_for_update(read=lock == "share")
        return conn.execute(query).one()

    @property
    def needs_rebuild(self) -> bool:
        with _sql_errors("reading the search state"), self.engine.begin() as conn:
            state = self._state(conn)
        return (state.analyzer_version != analysis.ANALYZER_VERSION
                or state.schema_version != SCHEMA_VERSION)

    def doc_count(self) -> int:
        with self._use() as s:
            return int(s.conn.execute(
                select(func.count()).where(d.c.generation == s.generation, not_(d.c.removed))
            ).scalar_one())

    def inventory(self) -> Iterator[IndexedEntry]:
        with self._use() as s:
            rows = s.conn.execute(
                select(d.c.record_id, d.c.principals, d.c.digest)
                .where(d.c.generation == s.generation, not_(d.c.removed)))
            for record_id, principals, digest in rows:
                yield IndexedEntry(int(record_id), tuple(principals), digest)

    def close(self) -> None:
        self._closed = True  # the engine (its connections) belongs to the caller

    # -- writing --------------------------------------------------------------------------------

    def _prepare(self, doc: SearchDocument) -> dict[str, Any]:
        return document_row(doc, self._analyser)

    def index(self, docs: Iterable[SearchDocument]) -> int:
        # In id order, so that two writers never wait for each other's rows in a cycle.
        rows = sorted((self._prepare(doc) for doc in docs), key=lambda r: r["record_id"])

        def upsert(conn: Connection, generation: int, live: bool) -> None:
            conn.execute(_UPSERT, [{**row, "generation": generation, "removed": False}
                                   for row in rows])

        if rows:
            self._write(upsert)
        return len(rows)

    def remove(self, ids: Iterable[int]) -> int:
        payload = [int(i) for i in ids]
        unique = sorted(set(payload))

        def delete_rows(conn: Connection, generation: int, live: bool) -> None:
            if live:
                conn.execute(delete(d).where(d.c.generation == generation,
                                             d.c.record_id.in_(unique)))
            else:  # a row the rebuild's own (older) copy of the record cannot overwrite
                conn.execute(_UPSERT, [_tombstone(generation, i) for i in unique])

        if unique:
            self._write(delete_rows)
        return len(payload)

    def _write(self, apply: Callable[[Connection, int, bool], None]) -> None:
        """``apply(conn, generation, live)`` to the live generation and, during a rebuild, to
        the one being built, in one transaction. The state row is read FOR SHARE: a rebuild
        starting or swapping waits for the writes in flight, and every later write sees it."""
        with _sql_errors("writing to the search tables"), self.engine.begin() as conn:
            state = self._state(conn, "share")
            apply(conn, state.live_generation, True)
            if state.building_generation is not None:
                apply(conn, state.building_generation, False)

    def _rebuilding(self) -> AbstractContextManager[None]:
        return self._analyser.rebuilding()

    def _build(self, prepared: Counted, progress: Callable[[int], None] | None) -> int:
        """Rows of a new generation, committed in batches while searches read the live one,
        then swapped in at once; the old generation's rows are deleted afterwards. One
        rebuild at a time across all servers (an advisory lock)."""
        with _sql_errors("rebuilding the search tables"), self.engine.connect() as conn:
            conn.execute(select(func.pg_advisory_lock(REBUILD_LOCK)))
            conn.commit()
            try:
                return self._build_locked(conn, prepared, progress)
            finally:
                conn.rollback()
                conn.execute(select(func.pg_advisory_unlock(REBUILD_LOCK)))
                conn.commit()

    def _build_locked(
        self, conn: Connection, prepared: Counted, progress: Callable[[int], None] | None
    ) -> int:
        with conn.begin():
            live = self._state(conn, "update").live_generation
            new = live + 1
            # The rows of a rebuild that died half-way; then the mark for writes meanwhile.
            conn.execute(delete(d).where(d.c.generation != live))
            conn.execute(update(search_state).values(building_generation=new))
        try:
            items = iter(prepared)
            while batch := list(islice(items, REBUILD_BATCH)):
                with conn.begin():
                    conn.execute(_INSERT_NEW, [{**row, "generation": new, "removed": False}
                                               for row in batch])
            with conn.begin():
                self._state(conn, "update")
                conn.execute(update(search_state).values(
                    live_generation=new, building_generation=None,
                    analyzer_version=analysis.ANALYZER_VERSION, schema_version=SCHEMA_VERSION,
                    built_at=datetime.now(UTC)))
        except BaseException:
            try:
                conn.rollback()
                with conn.begin():
                    conn.execute(update(search_state).values(building_generation=None))
                    conn.execute(delete(d).where(d.c.generation == new))
            except SQLAlchemyError:  # e.g. the connection died: the next rebuild cleans up
                log.warning("could not remove the rows of a failed search rebuild",
                            exc_info=True)
            raise
        with conn.begin():
            conn.execute(delete(d).where((d.c.generation != new) | d.c.removed))
            # Every row was replaced: the planner's statistics are refreshed now rather than
            # when autovacuum next passes.
            conn.execute(text("ANALYZE search_documents"))
        if progress is not None:
            progress(prepared.count)
        return prepared.count

    # -- searching ------------------------------------------------------------------------------

    @contextmanager
    def _use(self) -> Iterator[_Search]:
        """A connection of its own for this search, in a read-only snapshot: every statement
        of the search sees the same rows, even across a rebuild's swap."""
        if self._closed:
            raise SearchError("search backend is closed")
        with _sql_errors("searching the search tables"), self.engine.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                live = conn.execute(select(*_SEARCH_SETTINGS, _LIVE)).one()[-1]
                yield _Search(conn, int(live or 0))

    def _compiler(self, state: _Search, notices: list[Notice]) -> Compiler:
        return Compiler(self.weights, notices)

    def _present(self, s: _Search, principals: Sequence[str], words: list[str]) -> list[str]:
        """Which of ``words`` occur in documents ``principals`` may see (one GIN lookup
        each)."""
        pairs = func.unnest(
            cast(literal(words), ARRAY(Text)),
            cast(literal([quote(w) for w in words]), ARRAY(Text)),
        ).table_valued("w", "q").render_derived()
        found = select(d.c.record_id).where(
            self._visible(s, principals, with_words=True),
            d.c.all_f.bool_op("@@")(cast(pairs.c.q, TSQUERY)),
        )
        return list(s.conn.execute(select(pairs.c.w).where(found.exists())).scalars())

    @staticmethod
    def _visible(
        s: _Search, principals: Sequence[str], *, with_words: bool
    ) -> ColumnElement[bool]:
        """Rows of the live generation ``principals`` may see. ``with_words``: the rows also
        match a text condition; then the GIN index of the text finds them and the access test
        runs on each. The planner would otherwise take the (far less selective) principals
        index and test ``@@`` row by row, which it wrongly thinks cheap (297 ms against 75 ms
        for ``th*`` at 10,000 articles); ``coalesce`` of the NOT NULL column keeps that index
        out of it."""
        principals_array = cast(literal(list(principals)), ARRAY(Text))
        if not with_words:
            access = d.c.principals.overlap(principals_array)
        else:
            access = func.coalesce(d.c.principals, cast(literal([]), ARRAY(Text))).op("&&")(
                principals_array)
        return and_(d.c.generation == s.generation, not_(d.c.removed), access)

    def _execute(self, plan: Plan) -> RawResult:
        with self._use() as s:
            notices: list[Notice] = []
            compiled = self._compiler(s, notices).compile(plan.parsed)
            if compiled is None or compiled[0] == NONE:
                return RawResult(0, [])
            required, bonus = compiled
            base = [self._visible(s, plan.principals, with_words=required != ALL),
                    render(required, d)]
            base += [not_(_has_any(c.keys)) for c in plan.exclude]
            where = [*base, *(_has_any(c.keys) for c in plan.include)]
            k = plan.offset + plan.limit
            if plan.sort == "relevance":
                top, total = self._ranked(s, plan, bonus, where, k)
            else:
                rows = s.conn.execute(
                    select(d.c.record_id, func.count().over()).where(*where)
                    .order_by(*_SORTS[plan.sort]).limit(plan.limit).offset(plan.offset)).all()
                top = [(0.0, r[0]) for r in rows]
                total = rows[0][1] if rows else s.conn.execute(
                    select(func.count()).where(*where)).scalar_one()
            hits = self._stored(s, top, with_text=plan.with_text)
            facets = self._facets(s, base, plan) if plan.facets else {}
            return RawResult(int(total), hits, facets, notices)

    def _ranked(
        self, s: _Search, plan: Plan, bonus: Cond | None, where: list[ColumnElement[bool]], k: int
    ) -> tuple[list[tuple[float, int]], int]:
        """Phase one, ``ts_rank`` of every match (its positive words, any of them, with the
        field labels' weights), then the shared second phase over the best
        :data:`RESCORE_WINDOW`."""
        words = _rank_query(plan)
        score = ts_rank(self._weights, d.c.all_f, words) if words else literal(0.0)
        pairs = []
        if self.weights.phrase > 0:
            pairs = query_word_pairs([[w.folded for w in r] for r in plan.parsed.runs])
        second = words is not None and (bonus is not None or bool(pairs))
        fetch = max(k, RESCORE_WINDOW) if second else k
        score = score.label("score")
        rows = s.conn.execute(
            select(d.c.record_id, score, func.count().over()).where(*where)
            .order_by(score.desc(), d.c.record_id).limit(fetch)).all()
        if not rows:
            return [], 0
        top = [(float(r[1]), int(r[0])) for r in rows]
        if second:
            top = self._rescore(s, top, bonus, pairs)
        return top[plan.offset : k], int(rows[0][2])

    def _rescore(
        self, s: _Search, top: list[tuple[float, int]], bonus: Cond | None,
        pairs: list[tuple[str, str]],
    ) -> list[tuple[float, int]]:
        """The accented-form bonus (``ts_rank`` on ``all_a``) and the adjacency pairs present
        (phrase matches on ``all_f``) of the window's rows, then :func:`rescore`."""
        window = top[:RESCORE_WINDOW]
        extra_sql = rank(bonus, d, self._weights) if bonus is not None else literal(0.0)
        found_sql = sum(
            (cast(d.c.all_f.bool_op("@@")(tsquery(f"{quote(a)} <-> {quote(b)}")), Integer)
             for a, b in pairs), literal(0))
        rows = s.conn.execute(select(d.c.record_id, extra_sql, found_sql).where(
            d.c.generation == s.generation, d.c.record_id.in_([i for _, i in window]))).all()
        extra = {r[0]: float(r[1]) * self.weights.accent for r in rows}
        found = {r[0]: int(r[2]) for r in rows}
        share = (lambda i: found.get(i, 0) / len(pairs)) if pairs else None
        return rescore(window, extra, share, self.weights.phrase) + top[RESCORE_WINDOW:]

    def _stored(self, s: _Search, top: list[tuple[float, int]], with_text: bool) -> list[RawHit]:
        if not top:
            return []
        columns = [d.c.record_id, d.c.external_id, d.c.titles, d.c.subjects]
        rows = s.conn.execute(select(*columns, d.c.body if with_text else literal("")).where(
            d.c.generation == s.generation, d.c.record_id.in_([i for _, i in top]))).all()
        docs = {r[0]: StoredDoc(int(r[0]), r[1], list(r[2]), list(r[3]), r[4]) for r in rows}
        return [RawHit(docs[i], score) for score, i in top if i in docs]

    def _facets(
        self, s: _Search, base: list[ColumnElement[bool]], plan: Plan
    ) -> dict[str, Counter[str]]:
        """Counts over the visible matches with GROUP BY. A document failing exactly one
        facet's filter still counts for that facet (multi-select, as the other engines)."""
        failed: ColumnElement[str] = literal("")
        if plan.include:
            fails = [not_(_has_any(c.keys)) for c in plan.include]
            failures = sum((cast(f, Integer) for f in fails[1:]), cast(fails[0], Integer))
            which = case(*((f, literal(c.facet)) for f, c in zip(fails, plan.include,
                                                                 strict=True)))
            failed = case((failures == 0, literal("")), (failures == 1, which))
        matches = select(d.c.fkeys, failed.label("failed")).where(*base).subquery("m")
        keys = func.unnest(matches.c.fkeys).table_valued("k").render_derived()
        facet = func.split_part(keys.c.k, KEY_SEP, 1)
        group = case((facet == "decade", literal("year")), else_=facet)
        query: Select[Any] = (
            select(keys.c.k, func.count()).select_from(matches.join(keys, true()))
            .where((matches.c.failed == "") | (matches.c.failed == group)).group_by(keys.c.k))
        counts: dict[str, Counter[str]] = {f: Counter() for f in FACETS}
        for key, n in s.conn.execute(query):
            name, _, value = key.partition(KEY_SEP)
            if name in counts:
                counts[name][value] = int(n)
        return counts

    def _candidates(
        self, state: _Search, query: Cond, principals: tuple[str, ...], limit: int,
        with_text: bool,
    ) -> list[StoredDoc]:
        query = resolve_fuzzy(query, lambda words: self._present(state, principals, words))
        if query == NONE:
            return []
        score = (literal(0.0) if query == ALL else rank(query, d, self._weights)).label("score")
        rows = state.conn.execute(
            select(d.c.record_id, score)
            .where(self._visible(state, principals, with_words=query != ALL), render(query, d))
            .order_by(score.desc(), d.c.record_id).limit(limit)).all()
        return [h.doc for h in self._stored(state, [(0.0, r[0]) for r in rows], with_text)]


def _has_any(keys: frozenset[str]) -> ColumnElement[bool]:
    """Rows with any of these facet keys (a filter clause; none: no row)."""
    if not keys:
        return literal(False)
    return d.c.fkeys.overlap(cast(literal(sorted(keys)), ARRAY(Text)))


def _rank_query(plan: Plan) -> str | None:
    """The positive words (folded; prefixes and field labels kept) as one OR query: for an
    OR, ``ts_rank`` sums each word's saturating, label-weighted frequency."""
    items = []
    for w in plan.parsed.positive_words():
        label = LABELS[w.field] if w.field else ""
        if w.prefix:
            items.append(f"{quote(w.folded)}:*{label}")
        else:
            items.append(quote(w.folded) + (f":{label}" if label else ""))
    return " | ".join(dict.fromkeys(items)) or None


def _tombstone(generation: int, record_id: int) -> dict[str, Any]:
    return {"generation": generation, "record_id": record_id, "removed": True,
            "principals": [], "fkeys": [], "all_f": "", "all_a": "", "meta_f": "",
            "published": 0.0, "downloads": 0, "title_key": "", "external_id": None,
            "titles": [], "subjects": [], "body": "", "digest": None}
