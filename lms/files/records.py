"""The files of a record's working copy and of its versions, and the blob registry.

Small helpers shared by the catalog services (publishing freezes the file list, purging
removes files) and the file services; nothing here checks permissions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from flask import current_app
from sqlalchemy import delete, exists, or_, select, union

from lms.catalog.models import Record, RecordVersion
from lms.db import insert_rows, utcnow
from lms.extensions import db
from lms.files.models import Blob, RecordFile, record_version_files
from lms.files.storage import BlobNotFound
from lms.files.stores import get_storage
from lms.uow import AfterCommit

log = logging.getLogger(__name__)

# A purge deletes unreferenced blobs at once, except one an upload touched this recently: its
# row may be about to commit (``LocalStorage.put`` refreshes a reused blob's time). Those are
# left to ``lms files gc``.
PURGE_INFLIGHT = timedelta(minutes=10)

# Modules of other features whose ``BLOB_COLUMNS`` hold blob keys too (kept by gc and purge).
BLOB_REFERENCE_MODULES: tuple[str, ...] = ("lms.certificates.models", "lms.quizzes.models")


def working_files(record: Record) -> list[RecordFile]:
    """The files of the working copy, in display order."""
    return list(db.session.scalars(
        select(RecordFile)
        .where(RecordFile.record_id == record.id, RecordFile.removed_at.is_(None))
        .order_by(RecordFile.position, RecordFile.id)
    ))


def version_files(version: RecordVersion) -> list[RecordFile]:
    """The files frozen into a published version, in display order."""
    return list(db.session.scalars(
        select(RecordFile)
        .join(record_version_files, record_version_files.c.file_id == RecordFile.id)
        .where(record_version_files.c.version_id == version.id)
        .order_by(record_version_files.c.position, RecordFile.id)
    ))


def version_file_ids(version: RecordVersion) -> list[int]:
    return [f.id for f in version_files(version)]


def working_file_ids(record: Record) -> list[int]:
    return [f.id for f in working_files(record)]


def freeze_files(version: RecordVersion, file_ids: Iterable[int]) -> None:
    """Record ``file_ids`` as the files of ``version`` (flushed, so it has an id)."""
    rows = [{"version_id": version.id, "file_id": file_id, "position": position}
            for position, file_id in enumerate(file_ids)]
    if rows:
        db.session.execute(record_version_files.insert(), rows)


@dataclass(frozen=True)
class NewFile:
    """A file for a record's working copy whose blob is already stored (imports)."""

    name: str
    key: str
    size: int
    media_type: str
    sniff_mismatch: bool = False
    thumbnail_pending: bool = False


def replace_working_files(record: Record, files: Sequence[NewFile],
                          uploaded_by_id: int | None) -> list[RecordFile]:
    """Make ``files`` the working copy's files, in this order; return the rows added.

    A current file whose blob is among ``files`` keeps its row (renamed, re-ordered); one
    that is not leaves the working copy (kept while a published version lists it); a blob
    not there yet gets a new row. Runs inside the caller's transaction.
    """
    current = {f.blob_key: f for f in working_files(record)}
    wanted = {f.key for f in files}
    for key, row in current.items():
        if key in wanted:
            continue
        published = db.session.scalar(select(exists().where(
            record_version_files.c.file_id == row.id)))
        if published:
            row.removed_at = utcnow()
        else:
            db.session.delete(row)
    added = []
    for position, item in enumerate(files):
        row = current.get(item.key)
        if row is not None:
            row.position, row.name = position, item.name
            continue
        register_blobs([item])
        row = RecordFile(**new_file_values(record.id, position, item, uploaded_by_id))
        db.session.add(row)
        added.append(row)
    db.session.flush()
    return added


def new_file_values(record_id: int, position: int, item: NewFile,
                    uploaded_by_id: int | None) -> dict[str, object]:
    """The columns of a working-copy file row for ``item`` (text extraction pending)."""
    from lms.files.models import TextStatus, ThumbnailStatus

    return {"record_id": record_id, "position": position, "name": item.name,
            "blob_key": item.key, "size": item.size, "media_type": item.media_type,
            "sniff_mismatch": item.sniff_mismatch, "uploaded_by_id": uploaded_by_id,
            "text_status": TextStatus.PENDING,
            "thumbnail_status": ThumbnailStatus.PENDING if item.thumbnail_pending
            else ThumbnailStatus.NONE}


def register_blob(key: str, size: int) -> None:
    """Add ``key`` to the blob registry unless it is there (two uploads may race to add it)."""
    register_blobs([NewFile(name="", key=key, size=size, media_type="")])


def register_blobs(files: Iterable[NewFile]) -> None:
    """:func:`register_blob` for each of ``files``' blobs, in one statement."""
    now = utcnow()
    rows = [{"key": key, "size": size, "created_at": now}
            for key, size in dict((f.key, f.size) for f in files).items()]
    if not rows:
        return
    # Sorted: two imports registering the same blobs lock them in the same order.
    insert_rows(db.session, Blob, sorted(rows, key=lambda row: row["key"]),
                ignore_conflicts_on=["key"])


def blob_columns() -> list:
    """Every column holding blob keys: files and thumbnails here, and those other features
    name in ``BLOB_COLUMNS`` (certificates and their templates' images, question images)."""
    columns = [RecordFile.blob_key, RecordFile.thumbnail_key]
    for name in BLOB_REFERENCE_MODULES:
        columns += import_module(name).BLOB_COLUMNS
    return columns


def referenced_keys_query():
    """The query of :func:`referenced_keys`, to run on any connection (a backup snapshot)."""
    return union(*(select(column).where(column.is_not(None)) for column in blob_columns()))


def referenced_keys() -> set[str]:
    """Every blob key a row points at: files' content and thumbnails, and the others'."""
    return set(db.session.scalars(referenced_keys_query()))


def _referencing(key: str):
    return or_(*(exists().where(column == key) for column in blob_columns()))


def is_referenced(key: str) -> bool:
    return bool(db.session.scalar(select(_referencing(key))))


def forget_blobs(keys: Iterable[str]) -> None:
    """Drop registry rows of ``keys`` that no row references (in the current transaction)."""
    for key in keys:
        db.session.execute(delete(Blob).where(Blob.key == key, ~_referencing(key)))


def purge_files(record: Record, on_commit: AfterCommit) -> list[str]:
    """Delete the record's file rows; once committed, delete blobs nothing else uses.

    A blob shared with another record (or a re-upload) stays: the reference is checked again
    after the commit, just before deleting. Returns the candidate keys.
    """
    files = list(db.session.scalars(select(RecordFile).where(RecordFile.record_id == record.id)))
    keys = sorted({f.blob_key for f in files} | {f.thumbnail_key for f in files
                                                  if f.thumbnail_key})
    for file in files:
        db.session.delete(file)
    on_commit(lambda: discard_unreferenced(keys))
    return keys


def discard_unreferenced(keys: Iterable[str]) -> list[str]:
    """Delete the blobs of ``keys`` that no file row references; return those deleted."""
    storage = get_storage(current_app._get_current_object())  # type: ignore[attr-defined]
    deleted, gone = [], []
    cutoff = utcnow() - PURGE_INFLIGHT
    for key in keys:
        if is_referenced(key):
            continue
        try:
            if storage.modified(key) >= cutoff:
                continue  # possibly an upload in flight: gc will take it after the grace period
        except BlobNotFound:
            gone.append(key)
            continue
        if storage.delete(key):
            deleted.append(key)
    forget_blobs(deleted + gone)
    db.session.commit()
    if deleted:
        log.info("deleted %d unreferenced blobs", len(deleted))
    return deleted
