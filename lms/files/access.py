"""Who may read a record's file: the record rule of ``lms.catalog.access``, then the file's own.

Every file channel (download, in-page preview, thumbnail, the record page's file list, listing
thumbnails) asks :func:`may_read_file`; nothing else decides.

- A purged record has no files; a withdrawn record's files are for its curators (and admins)
  only, as its page is.
- Otherwise :func:`lms.catalog.access.can_read_files` must admit the user (the record is
  readable and, unless they are its depositor or curator, not under embargo).
- Those who see the working copy (the depositor, admins, curators once submitted) read every
  file of the record. Everyone else reads only files of a **published version**, and only if
  the file's own access level (if it has one) admits them too; the record's curators are
  exempt from the file level, as they are from the record level.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select

from lms.catalog.access import (
    Principal,
    can_read_files,
    embargo_active,
    is_curator_of,
    level_allows,
    reviews_anything,
    sees_working_copy,
)
from lms.catalog.models import ACCESS_RANK, AccessLevel, Record, RecordStatus
from lms.extensions import db
from lms.files.models import RecordFile, record_version_files
from lms.permissions import admin_only


def in_published_version(file: RecordFile) -> bool:
    return bool(db.session.scalar(select(exists().where(
        record_version_files.c.file_id == file.id))))


def file_level_allows(user: Principal, file: RecordFile) -> bool:
    """The file's own level, if it has one (``None``: it follows its record)."""
    return file.access_level is None or level_allows(user, file)


def may_read_file(user: Principal, record: Record | None, file: RecordFile | None) -> bool:
    """May ``user`` download, preview or see the thumbnail of ``file`` of ``record``?"""
    if record is None or file is None or file.record_id != record.id:
        return False
    if record.status == RecordStatus.PURGED:
        return False
    if record.status == RecordStatus.WITHDRAWN and not is_curator_of(user, record):
        return False
    if not can_read_files(user, record):
        return False
    if sees_working_copy(user, record):
        return True
    if not in_published_version(file):
        return False
    return is_curator_of(user, record) or file_level_allows(user, file)


def effective_level(record: Record, file: RecordFile) -> str:
    """The stricter of the record's level and the file's own (for auditing and caching)."""
    level = AccessLevel(record.access_level)
    if file.access_level is not None and \
            ACCESS_RANK[AccessLevel(file.access_level)] > ACCESS_RANK[level]:
        return file.access_level
    return str(level)


def is_public(record: Record, file: RecordFile) -> bool:
    """Readable by anyone, no embargo: a shared cache may keep the response (revalidated)."""
    return (record.is_published and effective_level(record, file) == AccessLevel.PUBLIC
            and not embargo_active(record))


def _file(obj: Any) -> RecordFile | None:
    return obj if isinstance(obj, RecordFile) else None


#: The named rules of files. ``obj`` is the file (its record is ``file.record``).
RULES = {
    "file.download": lambda user, obj: (f := _file(obj)) is not None
    and may_read_file(user, f.record, f),
    # Fixity reports and storage maintenance.
    "file.maintain": admin_only,
    # The files whose text could not be extracted, of the collections one curates.
    "extraction.view_report": lambda user, obj: reviews_anything(user),
}
