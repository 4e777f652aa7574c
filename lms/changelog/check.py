"""``lms check``: compare every mirror with the database, and repair what differs.

Changes still pending are applied first, and each mirror is compared while its lock is held,
so that what is reported is drift (a lost update, a restored or damaged index, a hand-edited
table), not changes on their way. A record changed while the check ran is left to the change
log and counted as pending, not reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lms.catalog.models import Record
from lms.changelog.locks import mirror_lock
from lms.changelog.mirrors import (
    Difference,
    Mirror,
    MirrorBusy,
    drain,
    mirrors,
    pending_clause,
    pending_counts,
    pending_records_clause,
)
from lms.changelog.models import ChangeEntry
from lms.db import utcnow
from lms.extensions import db
from lms.models import Job, JobStatus

#: How long the check waits for another applier of a mirror to finish its batch.
LOCK_WAIT = 600.0
#: The daily job that runs the check with repair (lms.changelog.jobs).
CHECK_JOB = "mirrors.check"
#: Differences kept in a report (all are printed by the command; the job keeps these).
SAMPLE = 50


@dataclass
class CheckReport:
    differences: list[Difference] = field(default_factory=list)
    repaired: list[Difference] = field(default_factory=list)
    pending: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """For the job's result and the admin page."""
        counts: dict[str, Counter[str]] = {}
        for d in self.differences:
            counts.setdefault(d.mirror, Counter())[d.kind] += 1
        return {
            "differences": len(self.differences),
            "repaired": len(self.repaired),
            "by_mirror": {name: dict(kinds) for name, kinds in sorted(counts.items())},
            "sample": [{"mirror": d.mirror, "record_id": d.record_id, "kind": d.kind,
                        "detail": d.detail} for d in (self.repaired or self.differences)[:SAMPLE]],
            "pending": self.pending,
        }


def last_check() -> Job | None:
    """The most recent run of the daily check (``mirrors.check``) that has ended."""
    return db.session.scalar(
        select(Job).where(Job.name == CHECK_JOB, Job.status.in_([JobStatus.DONE,
                                                                 JobStatus.FAILED]))
        .order_by(Job.finished_at.desc(), Job.id.desc()).limit(1))


def oldest_pending_age() -> float | None:
    """Seconds since the oldest change some mirror has not applied yet (None: none)."""
    oldest = db.session.scalar(select(func.min(ChangeEntry.created_at)).where(
        or_(*(pending_clause(m.name) for m in mirrors()))))
    return (utcnow() - oldest).total_seconds() if oldest is not None else None


def check_mirrors(*, repair: bool = False,
                  progress: Callable[[str], Callable[[int], None] | None] | None = None
                  ) -> CheckReport:
    """Compare each mirror with the database; with ``repair``, repair it and compare again
    (``differences`` are then those left, ``repaired`` those found first).

    ``progress(mirror_name)`` may return a per-record progress callback.

    :raise MirrorBusy: another process held a mirror for longer than :data:`LOCK_WAIT`.
    """
    drain()
    report = CheckReport()
    for mirror in mirrors():
        step = progress(mirror.name) if progress is not None else None
        with mirror_lock(mirror.name, LOCK_WAIT) as held:
            if not held:
                raise MirrorBusy(mirror.name)
            found = _compare(mirror, step)
            if repair and found:
                with Session(db.engine) as session:
                    mirror.repair(session, found)
                    session.commit()
                report.repaired.extend(found)
                found = _compare(mirror, None)
            report.differences.extend(found)
    report.pending = pending_counts()
    return report


def _compare(mirror: Mirror, progress: Callable[[int], None] | None) -> list[Difference]:
    with Session(db.engine) as session:
        found = mirror.compare(session, progress)
        if not found:
            return found
        # Changed while the check ran (committed, not yet applied: the lock is ours): lag,
        # which the change log resolves, not drift.
        ids = sorted({d.record_id for d in found})
        pending = set(session.scalars(select(Record.id).where(
            Record.id.in_(ids), pending_records_clause(mirror.name, Record.id))))
    return [d for d in found if d.record_id not in pending]
