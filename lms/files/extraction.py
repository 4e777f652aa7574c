"""Full text of files: extracted once per file, kept, and shown to curators when it fails.

A file row starts ``pending``; the ``files.extract`` job (queued after the upload or import
committed) runs :func:`lms.extract.extract_text` in a limited child process and records the
outcome on the row (``text_status``, ``text_message``) and the text, whole, in
``file_texts``. Re-indexing reads the kept text and never extracts again; a changed file is a
new blob, so a new row, so a new extraction, except that the text of an identical blob
extracted before (same SHA-256 and type) is copied instead of extracted again.

The outcome and the record's change-log row (``hooks.record_changed``) commit together. A file
whose extraction failed, timed out or found no text is listed for curators
(:func:`problem_files`), never silently indexed as empty.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update

from lms.catalog import hooks
from lms.catalog.access import Principal
from lms.catalog.models import Record, RecordStatus
from lms.db import insert_rows, utcnow
from lms.extensions import db
from lms.extract import Extraction, extract_text, runner
from lms.extract import base as messages
from lms.files.models import (
    BAD_FIXITY,
    TEXT_PROBLEMS,
    Blob,
    FileText,
    RecordFile,
    TextStatus,
)
from lms.files.storage import BlobNotFound
from lms.files.stores import get_storage
from lms.jobs import enqueue
from lms.permissions import can
from lms.uow import batch_of_work

log = logging.getLogger(__name__)

#: Outcomes of an identical blob that are reused as they are; a timeout is tried again.
REUSABLE = (TextStatus.OK, TextStatus.EMPTY, TextStatus.FAILED, TextStatus.UNSUPPORTED)
DAMAGED_SOURCE = "the stored file failed its integrity check"


@dataclass(frozen=True)
class Outcome:
    file_id: int
    status: str
    message: str
    reused: bool = False
    skipped: bool = False


def extract_file(file_id: int) -> Outcome:
    """Extract the text of one pending file and record the outcome; re-index its record.

    A file no longer pending (extracted meanwhile by another run) is left alone.
    """
    [outcome] = extract_files([file_id])
    return outcome


@dataclass(frozen=True)
class _Found:
    file_id: int
    record_id: int
    result: Extraction
    reused: bool


def _extract(files: Sequence[RecordFile]) -> list[_Found]:
    """The texts of these pending files (nothing written): an identical blob's kept outcome
    (one query for all), or an extraction."""
    twins: dict[tuple[str, str], RecordFile] = {}
    for twin in db.session.scalars(
            select(RecordFile).where(RecordFile.blob_key.in_({f.blob_key for f in files}),
                                     RecordFile.id.not_in([f.id for f in files]),
                                     RecordFile.text_status.in_(REUSABLE))
            .order_by(RecordFile.id.desc())):
        twins[twin.blob_key, twin.media_type] = twin  # the oldest wins
    damaged = set(db.session.scalars(select(Blob.key).where(
        Blob.key.in_({f.blob_key for f in files}), Blob.fixity_status.in_(BAD_FIXITY))))
    found = []
    for file in files:
        twin = twins.get((file.blob_key, file.media_type))
        if twin is not None:
            result = Extraction(status=twin.text_status, text=twin.extracted_text,  # type: ignore[arg-type]
                                message=twin.text_message, chars=twin.text_chars or 0,
                                pages=twin.text_pages)
        else:
            result = _run(file.blob_key, file.media_type, file.blob_key in damaged)
            if result.status == TextStatus.UNSUPPORTED and file.extension in TEXT_EXTENSIONS:
                # libmagic sometimes names prose something else (Vietnamese news as
                # "audio/x-mp4a-latm"); a .txt file is tried as text, which the text reader
                # refuses if the bytes are not text in a known encoding.
                as_text = _run(file.blob_key, "text/plain", file.blob_key in damaged)
                if as_text.status == TextStatus.OK:
                    result = as_text
        found.append(_Found(file.id, file.record_id, result, twin is not None))
    return found


def _record(found: Sequence[_Found]) -> list[Outcome]:
    """Write the outcomes in one transaction: each file's row, its text, its record's
    change-log row."""
    outcomes, texts, changed, rows = [], [], [], []
    now = utcnow()
    with batch_of_work():
        # Of two runs racing on one file, one writes: the rows still pending are locked
        # (PostgreSQL; SQLite's batch holds the database's write lock) and only they change.
        pending = set(db.session.scalars(
            select(RecordFile.id).where(RecordFile.id.in_([item.file_id for item in found]),
                                        RecordFile.text_status == TextStatus.PENDING)
            .with_for_update()))
        for item in found:
            result = item.result
            won = item.file_id in pending
            if won:
                rows.append({"file_id": item.file_id, "status": result.status,
                             "message": result.message[:2000],
                             "chars": result.chars if result.status == TextStatus.OK else None,
                             "pages": result.pages})
            if won and result.status == TextStatus.OK:
                texts.append({"file_id": item.file_id, "text": result.text})
            if won:
                changed.append(item.record_id)
            if result.status in TEXT_PROBLEMS:
                log.info("text extraction of file %s: %s (%s)", item.file_id, result.status,
                         result.message)
            outcomes.append(Outcome(item.file_id, result.status, result.message,
                                    reused=item.reused, skipped=not won))
        if rows:
            db.session.connection().execute(
                update(RecordFile.__table__)
                .where(RecordFile.id == bindparam("file_id"))
                .values(text_status=bindparam("status"), text_message=bindparam("message"),
                        text_chars=bindparam("chars"), text_pages=bindparam("pages"),
                        text_extracted_at=now), rows)
        insert_rows(db.session, FileText, texts)
        hooks.records_changed(sorted(set(changed)))
    return outcomes


def _extracted_twin(file: RecordFile) -> RecordFile | None:
    return db.session.scalar(
        select(RecordFile).where(RecordFile.blob_key == file.blob_key,
                                 RecordFile.media_type == file.media_type,
                                 RecordFile.id != file.id,
                                 RecordFile.text_status.in_(REUSABLE))
        .order_by(RecordFile.id).limit(1))


#: Text the sniffer names more precisely than we extract it: read as plain text. (libmagic
#: calls prose with many commas ``text/csv``.)
AS_PLAIN_TEXT = frozenset({"text/csv", "text/tab-separated-values", "text/markdown",
                           "text/x-markdown", "text/x-log"})


#: A name announcing plain text, tried as such when the content was sniffed as unsupported.
TEXT_EXTENSIONS = frozenset({"txt", "text", "csv", "tsv", "md"})


def _run(key: str, media_type: str, damaged: bool) -> Extraction:
    """Extract the blob's text; ``damaged``: its fixity check failed (never read)."""
    if media_type.split(";", 1)[0].strip().lower() in AS_PLAIN_TEXT:
        media_type = "text/plain"
    storage = get_storage()
    if damaged:
        return Extraction.without_text("failed", DAMAGED_SOURCE)
    config = current_app.config
    # The extractor reads the blob by its path (built from the validated key; on object
    # storage, a local copy for the time of the extraction).
    try:
        with storage.local_copy(key) as path:
            return extract_text(path, media_type,
                                timeout=float(config["EXTRACT_TIMEOUT_SECONDS"]),
                                memory_mb=int(config["EXTRACT_MEMORY_MB"]),
                                text_in_process_bytes=int(
                                    config["EXTRACT_TEXT_IN_PROCESS_BYTES"]))
    except BlobNotFound:
        return Extraction.without_text("failed", messages.NOT_FOUND)


def pending_file_ids(record_ids: Iterable[int] | None = None) -> list[int]:
    """Files waiting for extraction (of ``record_ids``, or all), oldest first."""
    stmt = select(RecordFile.id).where(RecordFile.text_status == TextStatus.PENDING)
    if record_ids is not None:
        ids = list(record_ids)
        if not ids:
            return []
        stmt = stmt.where(RecordFile.record_id.in_(ids))
    return list(db.session.scalars(stmt.order_by(RecordFile.id)))


#: Extractions written per transaction by :func:`extract_files`.
EXTRACT_BATCH = 100


#: Files extracted, then their outcomes written in one transaction, by :func:`extract_files`.
EXTRACT_BATCH = 100


def extract_files(file_ids: Sequence[int],
                  progress: Callable[[int], None] | None = None) -> list[Outcome]:
    """Extract the text of each pending file and record the outcomes; re-index their records
    (``lms demo``, ``lms import``, the ``files.extract`` job): the texts of up to
    :data:`EXTRACT_BATCH` files, then their outcomes in one transaction. A file no longer
    pending (extracted meanwhile by another run) is left alone."""
    outcomes = []
    for start in range(0, len(file_ids), EXTRACT_BATCH):
        chunk = file_ids[start:start + EXTRACT_BATCH]
        files = {f.id: f for f in db.session.scalars(
            select(RecordFile).where(RecordFile.id.in_(chunk)))}
        pending = []
        for file_id in chunk:
            file = files.get(file_id)
            if file is None:
                outcomes.append(Outcome(file_id, "gone", "", skipped=True))
            elif file.text_status != TextStatus.PENDING:
                outcomes.append(Outcome(file_id, file.text_status, file.text_message,
                                        skipped=True))
            else:
                pending.append(file)
        if pending:
            found = _extract(pending)
            for file in files.values():
                db.session.expire(file)
            outcomes.extend(_record(found))
        if progress is not None:
            progress(len(chunk))
    return outcomes


def enqueue_extraction(file_id: int, owner=None) -> None:
    """Queue the ``files.extract`` job for one file (call after the commit)."""
    enqueue("files.extract", owner=owner, file_id=file_id)


# --- what curators see ---------------------------------------------------------------------

_KNOWN = {
    messages.SCANNED: _l("No text layer: scanned document?"),
    messages.NO_TEXT: _l("No text found in the document."),
    messages.NO_PAGES: _l("The PDF has no pages."),
    messages.OUT_OF_MEMORY: _l("The extractor ran out of memory."),
    messages.ZIP_BOMB: _l("Refused: too large when uncompressed (a zip bomb?)."),
    messages.TOO_MANY_ENTRIES: _l("Refused: the document has too many parts."),
    messages.UNSAFE_XML: _l("Refused: the document contains unsafe XML (DTD or entities)."),
    messages.ENCRYPTED: _l("Encrypted or password-protected: the text cannot be read."),
    messages.UNKNOWN_ENCODING: _l("Unknown text encoding, or not a text file."),
    messages.UNSUPPORTED: _l("No text extraction for this file type."),
    messages.NOT_FOUND: _l("The stored file could not be read."),
    runner.CRASHED: _l("The extractor stopped unexpectedly."),
    runner.KILLED: _l("The extractor was stopped by a resource limit."),
    runner.CPU_LIMIT: _l("The extractor used too much processor time."),
    runner.TOO_MUCH_TEXT: _l("The extracted text is too large."),
    runner.NOT_STARTED: _l("The extractor could not be started."),
    DAMAGED_SOURCE: _l("The stored file failed its integrity check."),
}
_DAMAGED = re.compile(r"could not read (\w+): damaged or invalid file")
_TIMED_OUT = re.compile(r"extraction timed out after ([0-9.]+) s")


def describe(status: str, message: str) -> str:
    """The outcome of an extraction in the reader's language (messages are fixed English
    wordings from :mod:`lms.extract`; an unknown one is shown as it is)."""
    if status == TextStatus.PENDING:
        return _("Text extraction pending.")
    if message in _KNOWN:
        return str(_KNOWN[message])
    if match := _DAMAGED.fullmatch(message):
        return _("Could not read the %(format)s file: damaged or invalid.",
                 format=match.group(1))
    if match := _TIMED_OUT.fullmatch(message):
        return _("Extraction stopped after %(seconds)s seconds (time limit).",
                 seconds=match.group(1))
    if status == TextStatus.FAILED and not message:
        return _("Text extraction failed.")
    return message


def problem_files(user: Principal, limit: int = 500) -> list[RecordFile]:
    """Files of records ``user`` curates whose extraction failed, timed out or found no text
    (working copies and published versions; withdrawn and purged records left out)."""
    files = db.session.scalars(
        select(RecordFile).join(Record, Record.id == RecordFile.record_id)
        .where(RecordFile.text_status.in_(TEXT_PROBLEMS),
               Record.status.not_in((RecordStatus.PURGED, RecordStatus.WITHDRAWN)))
        .order_by(RecordFile.record_id.desc(), RecordFile.id))
    shown = []
    for file in files:
        if can(user, "record.curate", file.record):
            shown.append(file)
            if len(shown) >= limit:
                break
    return shown


def problem_count(user: Principal) -> int:
    return len(problem_files(user))
