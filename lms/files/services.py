"""Files of records: upload, removal, per-file access, serving, thumbnails, fixity, gc.

Like the catalog services, every use case takes the acting user, checks the policy on the
object, changes the database in one unit of work with its audit rows, and leaves side effects
(thumbnail jobs, index refreshes) to after the commit.

Upload order: the blob is written to a temporary file, fsync'd and moved into place by
:meth:`lms.files.storage.Storage.put` **before** the transaction that adds its row. If that
transaction fails, the blob is unreferenced and ``lms files gc`` removes it after the grace
period; a row never points at a blob that was not durably stored.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path

from flask import Request, current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from lms import audit
from lms.accounts.models import User
from lms.catalog import hooks
from lms.catalog.access import Principal, is_curator_of
from lms.catalog.models import ACCESS_RANK, AccessLevel, Record, RecordStatus, RecordVersion
from lms.catalog.services import AccessSettings, _history, _publish, can_edit
from lms.db import utcnow
from lms.errors import NotFound, PermissionDenied, ServiceError, ValidationError
from lms.extensions import db
from lms.files import records as record_files
from lms.files.access import effective_level, in_published_version, is_public, may_read_file
from lms.files.extraction import enqueue_extraction
from lms.files.fixity import FixityResult, check_blob
from lms.files.models import (
    BAD_FIXITY,
    Blob,
    DownloadEvent,
    FixityCheck,
    FixityStatus,
    RecordFile,
    ThumbnailStatus,
)
from lms.files.names import clean_filename
from lms.files.serving import INLINE_TYPES, BlobResponse, send_blob
from lms.files.sniff import has_active_markup, sniff_stream
from lms.files.storage import (
    BlobNotFound,
    FileTooLarge,
    LocalStorage,
    Readable,
    Storage,
    StoredBlob,
    collect_garbage,
    get_storage,
)
from lms.files.thumbnails import THUMBNAIL_TYPES, make_thumbnail
from lms.uow import AfterCommit, unit_of_work

log = logging.getLogger(__name__)

# Crawlers and link checkers do not count as downloads (a simple User-Agent test).
ROBOTS = re.compile(r"bot|crawl|spider|slurp|preview|monitor|check_http", re.IGNORECASE)


class StorageFailed(ServiceError):
    """The disk refused the file (full, read-only, I/O error); nothing was saved."""

    status = 503

    def default_message(self) -> str:
        return _("The file could not be stored: the server's storage failed. Nothing was "
                 "saved. Try again later, or tell the administrator.")


class FileUnavailable(ServiceError):
    """The stored file failed its fixity check: it is never served until repaired."""

    status = 503

    def default_message(self) -> str:
        return _("This file failed its integrity check and cannot be delivered until an "
                 "administrator restores it.")


def human_size(size: int) -> str:
    """``1536`` → ``"1.5 KB"``: for messages and file lists."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" or value >= 10 else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def upload_limit_message(limit: int) -> str:
    return _("The file is larger than the upload limit of %(limit)s.", limit=human_size(limit))


# --- upload, removal, access ---------------------------------------------------------------

@dataclass
class Upload:
    """One uploaded file: its stream and the client's name and type (never trusted)."""

    stream: Readable
    filename: str | None
    claimed_type: str = ""


@dataclass
class _Prepared:
    upload: Upload
    name: str
    key: str
    size: int
    media_type: str
    mismatch: bool


def _store(storage: Storage, upload: Upload, limit: int) -> StoredBlob:
    """Store one upload. If its blob is flagged by fixity, this upload is the same content:
    verify the stored copy and, if damaged (same size, so ``put`` kept it), replace it.

    :raise FileTooLarge, StorageFailed:
    """
    try:
        stored = storage.put(upload.stream, max_size=limit)
        blob = db.session.get(Blob, stored.key)
        if blob is not None and blob.fixity_status in BAD_FIXITY:
            result = check_blob(storage, stored.key)
            if not result.ok and hasattr(upload.stream, "seek"):
                storage.delete(stored.key)
                upload.stream.seek(0)
                stored = storage.put(upload.stream, max_size=limit)
                result = check_blob(storage, stored.key)
            record_fixity(result)
    except FileTooLarge:
        raise FileTooLarge(upload_limit_message(limit)) from None
    except OSError as error:
        log.error("storing an upload failed: %s", error)
        raise StorageFailed() from None
    return stored


def upload_files(user: User, record: Record, uploads: Sequence[Upload]) -> list[RecordFile]:
    """Attach ``uploads`` to the working copy of ``record``; all of them or none.

    The media type is sniffed from the content; a name that disagrees with it is recorded
    (``sniff_mismatch``, audit ``file_type_mismatch``) and the file is only ever served as an
    attachment. Thumbnail jobs are queued once the rows are committed. A published record
    edited by its depositor becomes the draft of its next version; a curator's change to a
    published record publishes at once (as with metadata).

    :raise PermissionDenied: ``user`` may not edit the record now.
    :raise ValidationError: no file, too many files, or an empty file.
    :raise FileTooLarge: a file is larger than ``MAX_UPLOAD_BYTES`` (413).
    :raise StorageFailed: the disk failed (503); no row was created.
    """
    if not can_edit(user, record):
        raise PermissionDenied()
    uploads = [u for u in uploads if u.filename or u.claimed_type]
    if not uploads:
        raise ValidationError(_("Choose at least one file to upload."))
    config = current_app.config
    existing = len(record_files.working_files(record))
    if existing + len(uploads) > config["MAX_FILES_PER_RECORD"]:
        raise ValidationError(_("A record may have at most %(n)d files.",
                                n=config["MAX_FILES_PER_RECORD"]))
    storage = get_storage()
    prepared: list[_Prepared] = []
    for upload in uploads:
        name = clean_filename(upload.filename)
        stored = _store(storage, upload, config["MAX_UPLOAD_BYTES"])
        key, size = stored.key, stored.size
        if size == 0:
            if not stored.reused:
                storage.delete(key)  # nothing references the empty blob
            raise ValidationError(_("%(name)s is empty (0 bytes). Choose the file again; it may "
                                    "not have been saved completely.", name=name))
        with storage.open(key) as fh:
            media_type, mismatch = _sniff(fh, name)
        prepared.append(_Prepared(upload, name, key, size, media_type, mismatch))

    with unit_of_work() as on_commit:
        files = []
        for offset, item in enumerate(prepared):
            record_files.register_blob(item.key, item.size)
            wants_thumbnail = item.media_type in THUMBNAIL_TYPES and not item.mismatch
            file = RecordFile(
                record_id=record.id, position=existing + offset, name=item.name,
                blob_key=item.key, size=item.size, media_type=item.media_type,
                claimed_type=(item.upload.claimed_type or "")[:255],
                sniff_mismatch=item.mismatch, uploaded_by_id=user.id,
                thumbnail_status=ThumbnailStatus.PENDING if wants_thumbnail
                else ThumbnailStatus.NONE,
            )
            db.session.add(file)
            db.session.flush()
            files.append(file)
            details = {"record": record.id, "name": item.name, "sha256": item.key,
                       "size": item.size, "media_type": item.media_type,
                       "claimed_type": file.claimed_type}
            audit.record("file_upload", actor=user, obj=file, details=details)
            if item.mismatch:
                audit.record("file_type_mismatch", actor=user, obj=file, outcome="flagged",
                             details={**details, "original_name": (item.upload.filename
                                                                   or "")[:300]})
            if wants_thumbnail:
                on_commit(partial(_enqueue_thumbnail, file.id, user))
            on_commit(partial(enqueue_extraction, file.id, user))
        _after_file_change(user, record, "files_add", on_commit)
    return files


def _sniff(fh, name: str) -> tuple[str, bool]:
    """The sniffed media type, and whether the file may never be shown inline."""
    sniffed = sniff_stream(fh, name)
    # A polyglot (a PDF or image also holding HTML or script) is never shown inline.
    mismatch = sniffed.mismatch or (sniffed.media_type in INLINE_TYPES
                                    and has_active_markup(fh))
    return sniffed.media_type, mismatch


def store_import_file(path: Path, *, dry_run: bool = False) -> record_files.NewFile:
    """Check and store one file of an import package (already resolved inside it).

    The same rules as an upload: the size limit, no empty file, the type sniffed from the
    content and compared with the name. A ``dry_run`` hashes and sniffs the file where it
    is and stores nothing.

    :raise ValidationError: the file is empty.
    :raise FileTooLarge: it is larger than ``MAX_UPLOAD_BYTES``.
    :raise StorageFailed: the disk failed.
    """
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    name = clean_filename(path.name)
    with path.open("rb") as source:
        size = os.fstat(source.fileno()).st_size
        if size > limit:
            raise FileTooLarge(upload_limit_message(limit))
        if size == 0:
            raise ValidationError(_("%(name)s is empty (0 bytes).", name=name))
        if dry_run:
            digest = hashlib.sha256()
            while chunk := source.read(1024 * 1024):
                digest.update(chunk)
            key = digest.hexdigest()
            media_type, mismatch = _sniff(source, name)
        else:
            stored = _store(get_storage(), Upload(source, name), limit)
            key, size = stored.key, stored.size
            with get_storage().open(key) as fh:
                media_type, mismatch = _sniff(fh, name)
    return record_files.NewFile(
        name=name, key=key, size=size, media_type=media_type, sniff_mismatch=mismatch,
        thumbnail_pending=media_type in THUMBNAIL_TYPES and not mismatch)


def _enqueue_thumbnail(file_id: int, owner: User | None) -> None:
    from lms.jobs import enqueue

    enqueue("files.thumbnail", owner=owner, file_id=file_id)


def _after_file_change(user: User, record: Record, action: str, on_commit: AfterCommit) -> None:
    """What a change of the working files does to the record (inside the unit of work)."""
    before = record.status
    if record.status == RecordStatus.PUBLISHED and not is_curator_of(user, record):
        record.status = RecordStatus.DRAFT  # the published version stays visible
    record.updated_at = utcnow()
    _history(record, user, action, before, record.status)
    if record.status == RecordStatus.PUBLISHED:
        _publish(user, record)
    on_commit(lambda: hooks.record_changed(record.id))


def get_working_file(user: User, record: Record, file_id: int) -> RecordFile:
    """:raise NotFound: no such file in the record's working copy."""
    file = db.session.get(RecordFile, file_id)
    if file is None or file.record_id != record.id or file.removed_at is not None:
        raise NotFound()
    return file


def remove_file(user: User, record: Record, file: RecordFile) -> None:
    """Take ``file`` out of the working copy. A published version listing it keeps it.

    :raise PermissionDenied: ``user`` may not edit the record now.
    """
    if not can_edit(user, record):
        raise PermissionDenied()
    if file.record_id != record.id or file.removed_at is not None:
        raise NotFound()
    with unit_of_work() as on_commit:
        audit.record("file_remove", actor=user, obj=file,
                     details={"record": record.id, "name": file.name, "sha256": file.blob_key})
        if in_published_version(file):
            file.removed_at = utcnow()
        else:
            # Never published: the row goes; its blob is collected by `lms files gc` unless
            # another row uses it.
            db.session.delete(file)
        db.session.flush()
        _after_file_change(user, record, "files_remove", on_commit)


def file_access_summary(file: RecordFile) -> dict[str, object]:
    return {"level": file.access_level, "units": sorted(u.id for u in file.access_units),
            "roles": sorted(file.access_roles), "users": sorted(u.id for u in file.access_users),
            "groups": sorted(g.id for g in file.access_groups)}


def change_file_access(user: User, record: Record, file: RecordFile,
                       settings: AccessSettings | None) -> None:
    """Give ``file`` a level of its own (``settings``), or ``None`` to follow the record.

    :raise PermissionDenied: ``user`` may not edit the record now.
    :raise ValidationError: the level is looser than the record's, or its lists are missing.
    """
    if not can_edit(user, record):
        raise PermissionDenied()
    if file.record_id != record.id:
        raise NotFound()
    if settings is not None:
        settings.check()
        if ACCESS_RANK[AccessLevel(settings.level)] < \
                ACCESS_RANK[AccessLevel(record.access_level)]:
            raise ValidationError(_("A file may be stricter than its record, never looser."))
    before = file_access_summary(file)
    with unit_of_work() as on_commit:
        level = settings.level if settings is not None else None
        file.access_level = level
        file.access_units = list(settings.units) if level == AccessLevel.UNIT else []
        file.access_roles = list(settings.roles) if level == AccessLevel.ROLE else []
        restricted = level == AccessLevel.RESTRICTED
        file.access_users = list(settings.users) if restricted and settings else []
        file.access_groups = list(settings.groups) if restricted and settings else []
        after = file_access_summary(file)
        if before != after:
            audit.record("file_access_change", actor=user, obj=file,
                         details={"record": record.id, "before": before, "after": after})
        on_commit(lambda: hooks.record_changed(record.id))


# --- reading -------------------------------------------------------------------------------

def get_readable_file(user: Principal, record_id: int, file_id: int) -> tuple[Record, RecordFile]:
    """The record and file if ``user`` may read the file (any channel).

    :raise NotFound: it does not exist, or ``user`` may not know it does (logged).
    """
    record = db.session.get(Record, record_id)
    file = db.session.get(RecordFile, file_id)
    if not may_read_file(user, record, file):
        if record is not None and file is not None and file.record_id == record.id:
            audit.record("file_access_denied", outcome="denied", obj=file,
                         actor=user if isinstance(user, User) else None,
                         details={"record": record.id}, standalone=True)
        raise NotFound()
    return record, file


def _refuse_if_damaged(key: str) -> None:
    blob = db.session.get(Blob, key)
    if blob is not None and blob.fixity_status in BAD_FIXITY:
        raise FileUnavailable()


def _send(storage: Storage, key: str, request: Request, **kwargs) -> BlobResponse:
    try:
        return send_blob(storage, key, request=request, **kwargs)
    except BlobNotFound:
        # Referenced but gone: a fixity failure, recorded and alerted like one.
        record_fixity(FixityResult(key, FixityStatus.MISSING, None))
        raise FileUnavailable() from None


def serve_file(user: Principal, record: Record, file: RecordFile, request: Request, *,
               download: bool) -> BlobResponse:
    """Serve ``file`` (access already checked by :func:`get_readable_file`).

    ``download`` forces an attachment; otherwise the inline allowlist decides (the in-page
    viewers). A full download, or a Range request from byte 0, is counted once and, above
    the public level, audit-logged; Range continuations and conditional hits are not.

    :raise FileUnavailable: the blob failed fixity or is missing (503).
    """
    _refuse_if_damaged(file.blob_key)
    response = _send(get_storage(), file.blob_key, request, media_type=file.media_type,
                     sniff_mismatch=file.sniff_mismatch, display_name=file.name,
                     is_public=is_public(record, file), last_modified=file.created_at,
                     force_attachment=download)
    if response.is_download_start and response.status_code in (200, 206):
        _count(user, record, file, "download" if download else "view",
               request.headers.get("User-Agent", ""))
    return response


def serve_thumbnail(user: Principal, record: Record, file: RecordFile,
                    request: Request) -> BlobResponse:
    """:raise NotFound: the file has no thumbnail (yet)."""
    key = file.thumbnail_key
    if key is None:
        raise NotFound()
    _refuse_if_damaged(key)
    stem = file.name.rsplit(".", 1)[0] if "." in file.name else file.name
    return _send(get_storage(), key, request, media_type="image/png", sniff_mismatch=False,
                 display_name=f"{stem}-thumbnail.png", is_public=is_public(record, file))


def _count(user: Principal, record: Record, file: RecordFile, kind: str, agent: str) -> None:
    if ROBOTS.search(agent):
        return
    account = user if isinstance(user, User) and user.is_authenticated else None
    level = effective_level(record, file)
    with unit_of_work():
        db.session.add(DownloadEvent(file_id=file.id, record_id=record.id,
                                     user_id=account.id if account else None,
                                     unit_id=account.unit_id if account else None, kind=kind))
        if level != AccessLevel.PUBLIC:
            audit.record("file_download" if kind == "download" else "file_view", actor=account,
                         obj=file, details={"record": record.id, "level": level,
                                            "name": file.name})


def download_count(file: RecordFile) -> int:
    return db.session.scalar(select(func.count(DownloadEvent.id)).where(
        DownloadEvent.file_id == file.id)) or 0


# --- what the record page and listings show ------------------------------------------------

VIEWERS = {"application/pdf": "pdf", "image/png": "image", "image/jpeg": "image",
           "image/gif": "image", "image/webp": "image", "video/mp4": "video",
           "video/webm": "video", "audio/mpeg": "audio", "audio/ogg": "audio"}


@dataclass
class FileView:
    file: RecordFile
    viewer: str | None          # pdf, image, video, audio: shown in the page
    thumbnail: bool
    damaged: bool


@dataclass
class FileList:
    shown: list[FileView] = field(default_factory=list)
    hidden: int = 0             # files this user may not read (names are not shown)


def files_for_display(user: Principal, record: Record,
                      version: RecordVersion | None) -> FileList:
    """The files of the displayed version (``None``: the working copy) ``user`` may read."""
    files = record_files.working_files(record) if version is None \
        else record_files.version_files(version)
    result = FileList()
    damaged = set(db.session.scalars(select(Blob.key).where(
        Blob.key.in_({f.blob_key for f in files}), Blob.fixity_status.in_(BAD_FIXITY)))) \
        if files else set()
    for file in files:
        if not may_read_file(user, record, file):
            result.hidden += 1
            continue
        inline = file.media_type in INLINE_TYPES and not file.sniff_mismatch
        result.shown.append(FileView(
            file, VIEWERS.get(file.media_type) if inline else None,
            thumbnail=file.thumbnail_key is not None, damaged=file.blob_key in damaged))
    return result


def listing_thumbnails(user: Principal, records: Sequence[Record]) -> dict[int, int]:
    """For a page of records: record id → id of the first file whose thumbnail ``user`` may see
    (in the latest published version)."""
    shown: dict[int, int] = {}
    for record in records:
        version = record.latest_version
        if version is None:
            continue
        for file in record_files.version_files(version):
            if file.thumbnail_key and may_read_file(user, record, file):
                shown[record.id] = file.id
                break
    return shown


# --- thumbnails ----------------------------------------------------------------------------

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
    if not isinstance(storage, LocalStorage) or (blob and blob.fixity_status in BAD_FIXITY):
        return _thumbnail_failed(file, "source unavailable")
    config = current_app.config
    work = Path(config["DATA_DIR"]) / "tmp" / "thumbs"
    work.mkdir(parents=True, exist_ok=True)
    out = work / f"{file.id}-{secrets.token_hex(6)}.png"
    try:
        result = make_thumbnail(storage.path(file.blob_key), file.media_type, out,
                                max_px=config["THUMBNAIL_MAX_PX"],
                                timeout=config["THUMBNAIL_TIMEOUT_SECONDS"],
                                memory_bytes=config["THUMBNAIL_MEMORY_BYTES"])
        if not result.ok:
            return _thumbnail_failed(file, result.message)
        with out.open("rb") as fh:
            stored = storage.put(fh)
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


# --- fixity --------------------------------------------------------------------------------

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


# --- garbage collection --------------------------------------------------------------------

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
