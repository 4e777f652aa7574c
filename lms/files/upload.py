"""Changing a record's files: upload, removal, per-file access, and files of import packages.

Like the catalog services, every use case takes the acting user, checks the policy on the
object, changes the database in one unit of work with its audit rows, and leaves side effects
(thumbnail and extraction jobs, index refreshes) to after the commit.

Upload order: the blob is written to a temporary file, fsync'd and moved into place by
:meth:`lms.files.storage.Storage.put` **before** the transaction that adds its row. If that
transaction fails, the blob is unreferenced and ``lms files gc`` removes it after the grace
period; a row never points at a blob that was not durably stored.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from lms import audit
from lms.accounts.models import User
from lms.catalog import hooks
from lms.catalog.access_settings import (
    AccessSettings,
    access_summary,
    audience,
    level_summary,
    open_request,
    supersede_requests,
    unit_chain,
)
from lms.catalog.audience import file_widens
from lms.catalog.models import ACCESS_RANK, AccessLevel, AccessRequest, Record
from lms.catalog.workflow import working_copy_changed
from lms.db import utcnow
from lms.errors import NotFound, ServiceError, ValidationError
from lms.extensions import db
from lms.files import records as record_files
from lms.files.access import in_published_version
from lms.files.derivatives import enqueue_thumbnail
from lms.files.extraction import enqueue_extraction
from lms.files.fixity import check_blob
from lms.files.maintenance import record_fixity
from lms.files.models import BAD_FIXITY, Blob, RecordFile, ThumbnailStatus
from lms.files.names import clean_filename
from lms.files.serving import INLINE_TYPES
from lms.files.sniff import has_active_markup, sniff_stream
from lms.files.storage import FileTooLarge, Readable, Storage, StoredBlob
from lms.files.stores import get_storage
from lms.files.thumbnails import THUMBNAIL_TYPES
from lms.permissions import can, require
from lms.uow import unit_of_work

log = logging.getLogger(__name__)


class StorageFailed(ServiceError):
    """The disk refused the file (full, read-only, I/O error); nothing was saved."""

    status = 503

    def default_message(self) -> str:
        return _("The file could not be stored: the server's storage failed. Nothing was "
                 "saved. Try again later, or tell the administrator.")


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


def _store(storage: Storage, upload: Upload, limit: int, *, deferred_sync: bool = False,
           flagged: Container[str] | None = None) -> StoredBlob:
    """Store one upload. If its blob is flagged by fixity, this upload is the same content:
    verify the stored copy and, if damaged (same size, so ``put`` kept it), replace it.
    ``flagged``: the keys of the blobs flagged, when the caller knows them (else one query).

    :raise FileTooLarge, StorageFailed:
    """
    try:
        stored = storage.put(upload.stream, max_size=limit, deferred_sync=deferred_sync)
        if flagged is None:
            blob = db.session.get(Blob, stored.key)
            bad = blob is not None and blob.fixity_status in BAD_FIXITY
        else:
            bad = stored.key in flagged
        if bad:
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
    require(user, "record.edit", record)
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
                on_commit(partial(enqueue_thumbnail, file.id, user))
            on_commit(partial(enqueue_extraction, file.id, user))
        working_copy_changed(user, record, "files_add", on_commit)
    return files


def _sniff(fh, name: str) -> tuple[str, bool]:
    """The sniffed media type, and whether the file may never be shown inline."""
    sniffed = sniff_stream(fh, name)
    # A polyglot (a PDF or image also holding HTML or script) is never shown inline.
    mismatch = sniffed.mismatch or (sniffed.media_type in INLINE_TYPES
                                    and has_active_markup(fh))
    return sniffed.media_type, mismatch


def flagged_blobs() -> set[str]:
    """The keys of the blobs fixity flagged (few: damaged or missing ones)."""
    return set(db.session.scalars(select(Blob.key).where(Blob.fixity_status.in_(BAD_FIXITY))))


def store_import_file(path: Path, *, dry_run: bool = False, deferred_sync: bool = False,
                      flagged: Container[str] | None = None) -> record_files.NewFile:
    """Check and store one file of an import package (already resolved inside it).

    The same rules as an upload: the size limit, no empty file, the type sniffed from the
    content and compared with the name. A ``dry_run`` hashes and sniffs the file where it
    is and stores nothing. With ``deferred_sync`` the caller makes the blob durable
    (``Storage.sync``) before any row references it. ``flagged``: see :func:`_store`.

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
            stored = _store(get_storage(), Upload(source, name), limit,
                            deferred_sync=deferred_sync, flagged=flagged)
            key, size = stored.key, stored.size
            with get_storage().open(key) as fh:
                media_type, mismatch = _sniff(fh, name)
    return record_files.NewFile(
        name=name, key=key, size=size, media_type=media_type, sniff_mismatch=mismatch,
        thumbnail_pending=media_type in THUMBNAIL_TYPES and not mismatch)


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
    require(user, "record.edit", record)
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
        working_copy_changed(user, record, "files_remove", on_commit)


def file_access_summary(file: RecordFile) -> dict[str, object]:
    return level_summary(file.access_level, file.access_units, file.access_roles,
                         file.access_users, file.access_groups)


def apply_file_access(file: RecordFile, settings: AccessSettings | None) -> None:
    """Give ``file`` its own level (``settings``), or ``None`` to follow its record."""
    level = settings.level if settings is not None else None
    file.access_level = level
    file.access_units = list(settings.units) if level == AccessLevel.UNIT else []
    file.access_roles = list(settings.roles) if level == AccessLevel.ROLE else []
    restricted = level == AccessLevel.RESTRICTED
    file.access_users = list(settings.users) if restricted and settings else []
    file.access_groups = list(settings.groups) if restricted and settings else []


def check_file_level(record: Record, settings: AccessSettings | None) -> None:
    """:raise ValidationError: the level is looser than the record's, or its lists are
    missing."""
    if settings is None:
        return
    settings.check()
    if ACCESS_RANK[AccessLevel(settings.level)] < ACCESS_RANK[AccessLevel(record.access_level)]:
        raise ValidationError(_("A file may be stricter than its record, never looser."))


def change_file_access(user: User, record: Record, file: RecordFile,
                       settings: AccessSettings | None) -> AccessRequest | None:
    """Give ``file`` a level of its own (``settings``), or ``None`` to follow the record.

    A depositor's change that lets more of the record's readers get a file of a published
    version waits for a curator (``lms.catalog.access_settings``): it is returned as the
    pending request, and nothing changes until then.

    :raise PermissionDenied: ``user`` may not edit the record now.
    :raise ValidationError: the level is looser than the record's, or its lists are missing.
    """
    require(user, "record.edit", record)
    if file.record_id != record.id:
        raise NotFound()
    check_file_level(record, settings)
    before = file_access_summary(file)
    wanted = level_summary(settings.level, settings.units, settings.roles, settings.users,
                           settings.groups) if settings is not None else level_summary(
        None, (), (), (), ())
    widens = not can(user, "record.widen_access", record) and in_published_version(file) \
        and file_widens(audience(access_summary(record)),
                        audience(before) if before["level"] else None,
                        audience(wanted) if wanted["level"] else None, unit_chain)
    request = None
    with unit_of_work():
        supersede_requests(record, file.id)
        if widens:
            request = open_request(user, record, file.id, before, wanted)
        else:
            apply_file_access(file, settings)
            after = file_access_summary(file)
            if before != after:
                audit.record("file_access_change", actor=user, obj=file,
                             details={"record": record.id, "before": before, "after": after})
            hooks.record_changed(record.id)
    return request
