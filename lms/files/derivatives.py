"""Derivatives of stored files: thumbnails, made by the worker in a limited child process and
stored as blobs of their own."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from lms.accounts.models import User
from lms.extensions import db
from lms.files import records as record_files
from lms.files.models import BAD_FIXITY, Blob, RecordFile, ThumbnailStatus
from lms.files.storage import BlobNotFound
from lms.files.stores import get_storage
from lms.files.thumbnails import make_thumbnail
from lms.jobs import enqueue
from lms.uow import unit_of_work


def enqueue_thumbnail(file_id: int, owner: User | None) -> None:
    """Queue the ``files.thumbnail`` job for one file (call after the commit)."""
    enqueue("files.thumbnail", owner=owner, file_id=file_id)


def make_file_thumbnail(file_id: int) -> dict[str, object]:
    """Make the thumbnail of one file in the limited worker and store it as a derived blob."""
    file = db.session.get(RecordFile, file_id)
    if file is None:
        return {"skipped": "file gone"}
    if file.thumbnail_key:
        return {"skipped": "already made"}
    # The same content attached elsewhere may already have one.
    twin = db.session.scalar(select(RecordFile.thumbnail_key).where(
        RecordFile.blob_key == file.blob_key, RecordFile.thumbnail_key.is_not(None)).limit(1))
    if twin:
        with unit_of_work():
            file.thumbnail_key, file.thumbnail_status = twin, ThumbnailStatus.READY
        return {"thumbnail": twin, "reused": True}
    storage = get_storage()
    blob = db.session.get(Blob, file.blob_key)
    if blob and blob.fixity_status in BAD_FIXITY:
        return _thumbnail_failed(file, "source unavailable")
    config = current_app.config
    work = Path(config["DATA_DIR"]) / "tmp" / "thumbs"
    work.mkdir(parents=True, exist_ok=True)
    out = work / f"{file.id}-{secrets.token_hex(6)}.png"
    try:
        # On object storage the source is first copied to local disk (the limited child
        # process reads a path).
        with storage.local_copy(file.blob_key) as source:
            result = make_thumbnail(source, file.media_type, out,
                                    max_px=config["THUMBNAIL_MAX_PX"],
                                    timeout=config["THUMBNAIL_TIMEOUT_SECONDS"],
                                    memory_bytes=config["THUMBNAIL_MEMORY_BYTES"])
        if not result.ok:
            return _thumbnail_failed(file, result.message)
        with out.open("rb") as fh:
            stored = storage.put(fh)
    except BlobNotFound:
        return _thumbnail_failed(file, "source unavailable")
    finally:
        out.unlink(missing_ok=True)
    with unit_of_work():
        record_files.register_blob(stored.key, stored.size)
        file.thumbnail_key, file.thumbnail_status = stored.key, ThumbnailStatus.READY
        file.thumbnail_message = result.message[:500]
    return {"thumbnail": stored.key, "message": result.message}


def _thumbnail_failed(file: RecordFile, message: str) -> dict[str, object]:
    with unit_of_work():
        file.thumbnail_status = ThumbnailStatus.FAILED
        file.thumbnail_message = message[:500]
    return {"failed": message}
