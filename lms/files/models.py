"""Files of records: the stored blobs, file rows, per-version file lists, fixity and downloads.

A **blob** is content in storage, named by its SHA-256 (``lms.files.storage``). A
:class:`RecordFile` is one file of one record: a display name, the sniffed type and a blob
key; many rows (of several records, or re-uploads) may share one blob. Publishing freezes the
record's working files into :data:`record_version_files`, so older versions keep theirs.

:class:`Blob` is the registry of stored blobs that fixity walks: when each was last checked and
how that went. References are the file rows (``blob_key`` and ``thumbnail_key``); garbage
collection deletes blobs (and their registry row) that no file row references.

**Per-file access.** ``RecordFile.access_level`` is ``None`` (the file follows its record) or a
level of its own with its own lists (units, roles, users, groups), exactly like a record's.
The rule applied is the record's rule **and** the file's, so a file can only be stricter than
its record, never looser, whatever later happens to the record's settings; the service also
refuses a file level ranked below the record's, so the form never suggests otherwise.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.catalog.models import HasAccessLists, Record, access_list_schema
from lms.db import TZDateTime, utcnow
from lms.extensions import db


class FixityStatus(enum.StrEnum):
    OK = "ok"
    MISMATCH = "mismatch"
    MISSING = "missing"


class ThumbnailStatus(enum.StrEnum):
    PENDING = "pending"    # a job is queued
    READY = "ready"
    NONE = "none"          # not a type we make thumbnails of
    FAILED = "failed"      # the limited worker refused or failed; ``thumbnail_message`` says why


class TextStatus(enum.StrEnum):
    """Where a file's full-text extraction stands (``lms.files.extraction``)."""

    PENDING = "pending"          # not extracted yet (a job is queued)
    OK = "ok"                    # the text is in ``file_texts``, whole
    EMPTY = "empty"              # readable, but no text: a scan without a text layer?
    FAILED = "failed"            # damaged, refused or crashed; ``text_message`` says why
    TIMEOUT = "timeout"          # stopped by the time limit
    UNSUPPORTED = "unsupported"  # not a type we extract text from (images, video...)


#: Outcomes curators are shown as problems: the file is in search without its text.
TEXT_PROBLEMS = (TextStatus.EMPTY, TextStatus.FAILED, TextStatus.TIMEOUT)

BAD_FIXITY = (FixityStatus.MISMATCH, FixityStatus.MISSING)


class Blob(db.Model):
    """A stored blob and its fixity state (the most recent check)."""

    __tablename__ = "blobs"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(TZDateTime, index=True)
    fixity_status: Mapped[str | None] = mapped_column(String(16), index=True)


FILE_ACCESS = access_list_schema("record_file_access", ("file_id", "record_files.id"),
                                 "RecordFileAccessRole")

# The files of a published version, frozen when it was published (in display order).
record_version_files = Table(
    "record_version_files",
    db.metadata,
    Column("version_id", ForeignKey("record_versions.id", ondelete="CASCADE"),
           primary_key=True),
    Column("file_id", ForeignKey("record_files.id", ondelete="CASCADE"), primary_key=True,
           index=True),
    Column("position", Integer, nullable=False, default=0),
)


class RecordFile(HasAccessLists, db.Model):
    """One file of a record: its display name, sniffed type, blob and thumbnail."""

    __tablename__ = "record_files"
    access_schema = FILE_ACCESS

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"),
                                           index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(255))            # cleaned display name
    blob_key: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(255))      # sniffed from the content
    claimed_type: Mapped[str] = mapped_column(String(255), default="")  # what the client said
    # The content disagrees with the name (or is active content): always an attachment.
    sniff_mismatch: Mapped[bool] = mapped_column(default=False)
    access_level: Mapped[str | None] = mapped_column(String(16))  # None: as the record
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    # Removed from the working copy; kept while a published version still lists it.
    removed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    thumbnail_key: Mapped[str | None] = mapped_column(String(64), index=True)
    thumbnail_status: Mapped[str] = mapped_column(String(16), default=ThumbnailStatus.NONE)
    thumbnail_message: Mapped[str] = mapped_column(Text, default="")
    # Full-text extraction: the outcome here, the text itself (never truncated) in file_texts.
    text_status: Mapped[str] = mapped_column(String(16), default=TextStatus.PENDING,
                                             server_default=TextStatus.PENDING.value, index=True)
    text_message: Mapped[str] = mapped_column(Text, default="", server_default="")
    text_chars: Mapped[int | None] = mapped_column(BigInteger)
    text_pages: Mapped[int | None] = mapped_column(Integer)
    text_extracted_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    record: Mapped[Record] = relationship()
    text_row: Mapped[FileText | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, uselist=False)
    uploaded_by: Mapped[User | None] = relationship()

    @property
    def extension(self) -> str:
        stem, dot, extension = self.name.rpartition(".")
        return extension.lower() if dot and stem else ""

    @property
    def extracted_text(self) -> str:
        """The file's full text ("" until extracted, or when extraction found none)."""
        if self.text_status != TextStatus.OK or self.text_row is None:
            return ""
        return self.text_row.text

    @property
    def text_problem(self) -> bool:
        return self.text_status in TEXT_PROBLEMS


class FileText(db.Model):
    """The extracted text of one file, whole, in a table of its own so that listing files
    never loads it. Deleted with its file row (a purge removes it)."""

    __tablename__ = "file_texts"

    file_id: Mapped[int] = mapped_column(ForeignKey("record_files.id", ondelete="CASCADE"),
                                         primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class FixityCheck(db.Model):
    """One fixity check of one blob (kept as history; :class:`Blob` has the latest)."""

    __tablename__ = "fixity_checks"
    __table_args__ = (Index("ix_fixity_checks_key_checked", "blob_key", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    blob_key: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    actual_sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)


class DownloadEvent(db.Model):
    """One download or in-page view of a file (Range continuations are not new events)."""

    __tablename__ = "download_events"
    __table_args__ = (Index("ix_download_events_record_at", "record_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("record_files.id", ondelete="CASCADE"),
                                         index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"),
                                                index=True)
    kind: Mapped[str] = mapped_column(String(16), default="download")  # or "view"
    at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    # Who (lms.stats.services.visitor_key), for dropping double clicks; None for downloads
    # counted before migration 0012_usage_statistics.
    visitor: Mapped[str | None] = mapped_column(String(32))
