"""Mirrors and how they consume the change log.

A mirror (the search index, the OAI-PMH projection, any later one) is wired into the app by
the app factory (:func:`init_app`). It consumes change-log rows in three steps, holding its
lock (:mod:`lms.changelog.locks`) throughout, so that two processes never apply one mirror at
the same time:

1. pick pending rows (those without a ``change_log_applied`` row for this mirror), then every
   pending row of the same records and collections;
2. read those records' current state and write it into the mirror (idempotent: applying a
   state twice leaves the mirror as applying it once);
3. mark the rows applied for this mirror and commit.

A row is committed before anyone can pick it, and the state is read after the rows were
picked, so the state applied is at least as new as every row marked: a change can be applied
late, never lost. An applier killed between 2 and 3 leaves its rows pending; whoever comes
next applies them again.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from flask import Flask, current_app
from sqlalchemy import and_, delete, exists, false, func, insert, or_, select
from sqlalchemy.orm import Session

from lms.changelog.locks import mirror_lock
from lms.changelog.models import ChangeApplied, ChangeEntry, ChangeKind
from lms.db import utcnow
from lms.extensions import db

log = logging.getLogger(__name__)

#: Rows picked per round; also the largest list of ids put in one IN (...).
BATCH = 200
#: A use case's own rows applied at once (a bulk import's batch: about two per record).
INLINE_BATCH = 1000


@dataclass(frozen=True, order=True)
class Difference:
    """One way a mirror disagrees with the database about a record (``lms check``)."""

    mirror: str
    record_id: int
    kind: str  # "missing", "extra", "visibility" or "content"
    detail: str = ""


Progress = Callable[[int], None]


class Mirror(ABC):
    """A copy of part of the database that readers query instead of it."""

    #: Names the mirror in ``change_log_applied`` (at most 32 characters) and in reports.
    name: str = ""

    @abstractmethod
    def apply(self, session: Session, record_ids: Sequence[int],
              collection_ids: Sequence[int]) -> None:
        """Write the current state of these records, and of every record filed under these
        collections, into the mirror; read the state through ``session``, which the caller
        commits after marking the rows applied. Idempotent."""

    @abstractmethod
    def compare(self, session: Session, progress: Progress | None = None) -> list[Difference]:
        """Every record whose presence, visibility or content in the mirror differs from
        what the database says it should be."""

    @abstractmethod
    def repair(self, session: Session, differences: Sequence[Difference]) -> None:
        """Make the mirror agree with the database for these records."""


class MirrorBusy(RuntimeError):
    """Another thread or process holds the mirror's lock."""


def init_app(app: Flask, mirrors: Iterable[Mirror]) -> None:
    """Give ``app`` these mirrors (the app factory names them)."""
    wired = list(mirrors)
    names = [m.name for m in wired]
    if len(set(names)) != len(names) or not all(0 < len(n) <= 32 for n in names):
        raise ValueError(f"mirror names must be unique and 1-32 characters: {names}")
    app.extensions["mirrors"] = wired


def mirrors() -> list[Mirror]:
    return current_app.extensions["mirrors"]


def pending_clause(name: str):
    """SQL on ``ChangeEntry``: the row is not applied by mirror ``name`` yet."""
    return ~exists().where(ChangeApplied.change_id == ChangeEntry.id,
                           ChangeApplied.mirror == name)


def _targets_clause(records: set[int], collections: set[int]):
    clauses = []
    if records:
        clauses.append(and_(ChangeEntry.kind == ChangeKind.RECORD,
                            ChangeEntry.target_id.in_(sorted(records))))
    if collections:
        clauses.append(and_(ChangeEntry.kind == ChangeKind.COLLECTION,
                            ChangeEntry.target_id.in_(sorted(collections))))
    return or_(*clauses) if clauses else false()


def apply_pending(mirror: Mirror, *, only: Sequence[int] | None = None, wait: float = 0.0,
                  limit: int = BATCH) -> int:
    """Apply pending rows to ``mirror``: the rows ``only`` names (a request's own), or the
    oldest ``limit``; with them every pending row of the same targets. Returns how many rows
    were marked applied (0: none pending).

    :raise MirrorBusy: the mirror's lock was not free within ``wait`` seconds.
    """
    with mirror_lock(mirror.name, wait) as held:
        if not held:
            raise MirrorBusy(mirror.name)
        with Session(db.engine) as session:
            picked = select(ChangeEntry.kind, ChangeEntry.target_id).where(
                pending_clause(mirror.name))
            if only is not None:
                picked = picked.where(ChangeEntry.id.in_(list(only)))
            else:
                picked = picked.order_by(ChangeEntry.id).limit(limit)
            targets = session.execute(picked).all()
            if not targets:
                return 0
            records = {t for k, t in targets if k == ChangeKind.RECORD}
            collections = {t for k, t in targets if k == ChangeKind.COLLECTION}
            ids = list(session.scalars(select(ChangeEntry.id).where(
                pending_clause(mirror.name), _targets_clause(records, collections))))
            # Read and written only now, after the rows were picked: see the module docstring.
            mirror.apply(session, sorted(records), sorted(collections))
            now = utcnow()
            session.execute(insert(ChangeApplied), [
                {"change_id": i, "mirror": mirror.name, "applied_at": now} for i in ids])
            session.commit()
            _prune(session, ids)
            session.commit()
            return len(ids)


def _chunks(values: Sequence[int], size: int = BATCH) -> Iterator[list[int]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _prune(session: Session, ids: Sequence[int]) -> None:
    """Delete these rows where every mirror has applied them (their marks go with them)."""
    names = [m.name for m in mirrors()]
    marks = select(func.count()).select_from(ChangeApplied).where(
        ChangeApplied.change_id == ChangeEntry.id,
        ChangeApplied.mirror.in_(names)).scalar_subquery()
    for chunk in _chunks(ids):
        session.execute(delete(ChangeEntry).where(ChangeEntry.id.in_(chunk), marks >= len(names))
                        .execution_options(synchronize_session=False))


def prune_applied() -> int:
    """Delete every row all mirrors have applied; two mirrors marking one row at the same
    moment may each leave it to the other (the worker calls this now and then)."""
    names = [m.name for m in mirrors()]
    done = select(ChangeApplied.change_id).where(ChangeApplied.mirror.in_(names)) \
        .group_by(ChangeApplied.change_id).having(func.count() >= len(names))
    with Session(db.engine) as session, session.begin():
        result = session.execute(delete(ChangeEntry).where(ChangeEntry.id.in_(done))
                                 .execution_options(synchronize_session=False))
    return result.rowcount


def apply_inline(entry_ids: Sequence[int]) -> None:
    """Apply a use case's own rows right after its commit, so that its change shows at once.

    Whatever cannot be applied now (another process holds a mirror, or a mirror fails) stays
    pending for the worker: the change itself is committed and must not fail the request.
    """
    wait = float(current_app.config["CHANGE_LOG_INLINE_WAIT_SECONDS"])
    for mirror in mirrors():
        try:
            for chunk in _chunks(entry_ids, INLINE_BATCH):
                apply_pending(mirror, only=chunk, wait=wait)
        except MirrorBusy:
            log.info("%s busy: %d change(s) left to the worker", mirror.name, len(entry_ids))
        except Exception:
            # A mirror's own failure (index locked, disk full, database busy...): the rows are
            # committed and stay pending, the worker retries them.
            log.warning("applying changes to %s failed; left to the worker", mirror.name,
                        exc_info=True)


def drain(wait: float = 0.0) -> dict[str, int]:
    """Apply every pending row to every mirror; returns the rows applied per mirror. A mirror
    that another process is applying is skipped (it is being drained already).

    Errors of a mirror propagate (the worker logs them and tries again later).
    """
    applied: dict[str, int] = {}
    for mirror in mirrors():
        total = 0
        try:
            while count := apply_pending(
                    mirror, wait=wait, limit=int(current_app.config["CHANGE_LOG_APPLY_BATCH"])):
                total += count
        except MirrorBusy:
            pass
        applied[mirror.name] = total
    return applied


def pending_counts() -> dict[str, int]:
    """Rows each mirror has not applied yet."""
    with Session(db.engine) as session:
        return {m.name: session.scalar(select(func.count()).select_from(ChangeEntry)
                                       .where(pending_clause(m.name))) or 0
                for m in mirrors()}


def pending_records_clause(mirror_name: str, record_id):
    """SQL: record ``record_id`` (a column) has a change ``mirror_name`` has not applied yet,
    so what the mirror holds of it may be stale."""
    return exists().where(ChangeEntry.kind == ChangeKind.RECORD,
                          ChangeEntry.target_id == record_id, pending_clause(mirror_name))
