"""Keeping stored files sound: scheduled fixity checks and their report, the blob registry,
and garbage collection of blobs nothing references."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from lms import audit
from lms.db import utcnow
from lms.extensions import db
from lms.files import records as record_files
from lms.files.fixity import FixityResult, check_blob
from lms.files.models import BAD_FIXITY, Blob, FixityCheck, RecordFile
from lms.files.storage import BlobNotFound, collect_garbage
from lms.files.stores import get_storage
from lms.uow import unit_of_work

log = logging.getLogger(__name__)


@dataclass
class FixitySummary:
    checked: int = 0
    ok: int = 0
    problems: list[FixityResult] = field(default_factory=list)


def record_fixity(result: FixityResult) -> None:
    """Record one check (history row, the blob's latest state); audit-log a failure."""
    with unit_of_work():
        db.session.add(FixityCheck(blob_key=result.key, status=str(result.status),
                                   actual_sha256=result.actual_sha256, size=result.size))
        blob = db.session.get(Blob, result.key)
        if blob is None:
            blob = Blob(key=result.key, size=result.size or 0)
            db.session.add(blob)
        previous = blob.fixity_status
        blob.checked_at, blob.fixity_status = utcnow(), str(result.status)
        if not result.ok:
            audit.record("fixity_failure", outcome="failure", object_type="blob",
                         object_id=result.key,
                         details={"status": str(result.status), "actual": result.actual_sha256,
                                  "previous": previous})
        elif previous in BAD_FIXITY:
            audit.record("fixity_restored", object_type="blob", object_id=result.key,
                         details={"previous": previous})


def reconcile_registry() -> int:
    """Add registry rows for referenced blobs that lack one (a row lost to a race); returns
    how many were added."""
    known = set(db.session.scalars(select(Blob.key)))
    missing = sorted(record_files.referenced_keys() - known)
    storage = get_storage()
    for key in missing:
        try:
            size = storage.size(key)
        except BlobNotFound:
            size = 0
        record_files.register_blob(key, size)
    db.session.commit()
    return len(missing)


def fixity_batch_size(total: int) -> int:
    """Blobs to check per hourly run so that each is checked within the interval."""
    config = current_app.config
    runs = max(1, int(config["FIXITY_INTERVAL_DAYS"]) * 24)
    return max(int(config["FIXITY_MIN_BATCH"]), math.ceil(total / runs))


def due_blobs(limit: int | None = None, *, overdue_only: bool = False) -> list[str]:
    """Blob keys, least recently checked first (never checked before all)."""
    stmt = select(Blob.key).order_by(Blob.checked_at.asc().nulls_first(), Blob.key)
    if overdue_only:
        cutoff = utcnow() - timedelta(days=current_app.config["FIXITY_INTERVAL_DAYS"])
        stmt = stmt.where((Blob.checked_at.is_(None)) | (Blob.checked_at < cutoff))
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def check_blobs(keys: Sequence[str],
                progress: Callable[[int], None] | None = None) -> FixitySummary:
    """Re-hash ``keys`` and record each result. An unreadable blob (I/O error) is logged and
    skipped: it is no verdict."""
    storage = get_storage()
    summary = FixitySummary()
    for key in keys:
        try:
            result = check_blob(storage, key)
        except OSError as error:
            log.error("fixity: cannot read blob %s: %s", key, error)
        else:
            record_fixity(result)
            summary.checked += 1
            if result.ok:
                summary.ok += 1
            else:
                summary.problems.append(result)
        if progress is not None:
            progress(1)
    return summary


def scheduled_fixity() -> FixitySummary:
    """One hourly run: the least recently checked share of the blobs (at least N)."""
    reconcile_registry()
    total = db.session.scalar(select(func.count()).select_from(Blob)) or 0
    return check_blobs(due_blobs(fixity_batch_size(total)))


def fixity_problems() -> list[tuple[Blob, list[RecordFile]]]:
    """Blobs whose last check failed, with the files that use them (the admin page)."""
    blobs = list(db.session.scalars(select(Blob).where(Blob.fixity_status.in_(BAD_FIXITY))
                                    .order_by(Blob.checked_at.desc())))
    result = []
    for blob in blobs:
        files = list(db.session.scalars(select(RecordFile).where(
            (RecordFile.blob_key == blob.key) | (RecordFile.thumbnail_key == blob.key))
            .order_by(RecordFile.id)))
        result.append((blob, files))
    return result


def recent_fixity_checks(limit: int = 50) -> list[FixityCheck]:
    return list(db.session.scalars(select(FixityCheck).order_by(FixityCheck.id.desc())
                                   .limit(limit)))


def count_fixity_problems() -> int:
    return db.session.scalar(select(func.count()).select_from(Blob).where(
        Blob.fixity_status.in_(BAD_FIXITY))) or 0


def collect_unreferenced(*, dry_run: bool = False) -> list[str]:
    """Delete blobs no file row references and older than ``FILES_GC_GRACE_HOURS``; return
    their keys (with ``dry_run``, those that would be deleted)."""
    storage = get_storage()
    grace = timedelta(hours=float(current_app.config["FILES_GC_GRACE_HOURS"]))
    deleted = collect_garbage(storage, record_files.referenced_keys(), grace, dry_run=dry_run)
    if not dry_run:
        unreferenced = set(db.session.scalars(select(Blob.key))) - record_files.referenced_keys()
        record_files.forget_blobs(sorted(set(deleted) | {k for k in unreferenced
                                                         if not storage.exists(k)}))
        db.session.commit()
    return deleted
