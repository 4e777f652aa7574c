"""Deposit: drafts, edits of the working copy, imports, and the depositor's dashboard."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from lms import audit
from lms.accounts.models import User
from lms.catalog import hooks
from lms.catalog.access_settings import (
    AccessSettings,
    access_summary,
    apply_access,
    settings_summary,
)
from lms.catalog.models import (
    AccessLevel,
    Collection,
    Record,
    RecordStatus,
    RecordValue,
    ReviewTask,
    TaskStatus,
)
from lms.catalog.workflow import (
    check_lock,
    check_metadata,
    publish,
    record_history,
    working_copy_changed,
)
from lms.db import utcnow
from lms.errors import PermissionDenied, ValidationError
from lms.extensions import db
from lms.files import records as record_files
from lms.permissions import can, require
from lms.uow import unit_of_work
from metadata import Metadata, Problem, Statement, validate


def _set_values(record: Record, metadata: Metadata) -> None:
    record.values = [RecordValue(position=i, term=s.term, value=s.value, lang=s.lang,
                                 scheme=s.scheme) for i, s in enumerate(metadata)]
    record.title = display_title(metadata)


def display_title(metadata: Metadata) -> str:
    return (metadata.first("title", "vi") or metadata.first("title") or "")[:500]


def create_draft(user: User, collection: Collection, statements: Iterable[Statement],
                 access: AccessSettings | None = None) -> Record:
    """Start a deposit in ``collection``; a draft needs a title, the rest may come later.

    :raise PermissionDenied: ``user`` may not deposit in ``collection``.
    :raise MetadataInvalid: the metadata has errors.
    """
    if not can(user, "collection.deposit", collection):
        raise PermissionDenied(_("You may not deposit in this collection."))
    result = check_metadata(statements, deposit=False)
    access = access or AccessSettings(level=collection.default_access)
    access.check()
    with unit_of_work():
        record = Record(owner=user, collection=collection, status=RecordStatus.DRAFT,
                        current_version=0, lock_version=1, ever_public=False)
        _set_values(record, result.statements)
        record.metadata_incomplete = result.incomplete
        apply_access(record, access)
        db.session.add(record)
        db.session.flush()
        record_history(record, user, "create", None, RecordStatus.DRAFT)
        audit.record("record_create", actor=user, obj=record,
                     details={"collection": collection.slug})
    return record


def save_metadata(user: User, record: Record, statements: Iterable[Statement],
                  lock_version: int) -> bool:
    """Save the working copy's metadata; returns whether anything changed.

    A published record being edited by its depositor becomes a draft of its next version
    (the published version stays visible); see :func:`working_copy_changed`.

    :raise PermissionDenied: ``user`` may not edit it now.
    :raise Conflict: the form is older than the record (optimistic locking).
    :raise MetadataInvalid: the metadata has errors.
    """
    require(user, "record.edit", record)
    check_lock(record, lock_version)
    in_review = record.status == RecordStatus.SUBMITTED
    result = check_metadata(statements, deposit=in_review)
    if result.statements == record.dc:
        return False
    with unit_of_work() as on_commit:
        _set_values(record, result.statements)
        record.metadata_incomplete = result.incomplete
        record.lock_version += 1
        working_copy_changed(user, record, "edit", on_commit)
    return True


@dataclass
class ImportResult:
    """What :func:`import_record` did: ``created``, ``updated`` or ``unchanged``."""

    action: str
    record_id: int | None
    version: int | None = None
    new_file_ids: list[int] = field(default_factory=list)
    thumbnail_file_ids: list[int] = field(default_factory=list)


class _DryRun(Exception):
    """Raised inside the unit of work of a dry run, so that it rolls back."""


def import_record(actor: User | None, *, external_id: str | None, collection: Collection,
                  metadata: Metadata, incomplete: bool, access: AccessSettings,
                  files: Sequence[record_files.NewFile], review: bool,
                  source: dict[str, object], dry_run: bool = False,
                  in_transaction: Callable[[str, int], None] | None = None) -> ImportResult:
    """Create or update the record of one import line: all of it or nothing, one transaction.

    The record with ``external_id`` is updated when there is one, created otherwise. Unless
    ``review``, it is published at once (a new version only if metadata or files changed);
    with ``review`` it goes to its collection's review pool. When metadata, access, collection
    and the set of file blobs equal the record's, and its status is already the one asked
    for, nothing is written ("unchanged"). ``actor`` None is the command line (operator);
    the record's owner is ``actor``. ``source`` (import file hash, line number) goes to the
    audit log. A ``dry_run`` does everything, then rolls back. ``in_transaction(action,
    record_id)`` is called last inside the transaction (a resumable import records its place
    there, so that it commits with the record).

    The blobs of ``files`` must already be stored (``lms.files.storage``).

    :raise PermissionDenied: ``actor`` may not import.
    :raise ValidationError: the existing record is withdrawn or purged, or access is invalid.
    """
    if actor is not None:
        require(actor, "record.import")
    access.check()
    record = None
    if external_id is not None:
        record = db.session.scalar(select(Record).where(Record.external_id == external_id))
    if record is not None and record.status in (RecordStatus.WITHDRAWN, RecordStatus.PURGED):
        raise ValidationError(_("Record %(id)s is withdrawn or purged; an import does not "
                                "bring it back.", id=external_id))
    target = RecordStatus.SUBMITTED if review else RecordStatus.PUBLISHED
    if record is not None and _import_unchanged(record, collection, metadata, access, files,
                                                target):
        return ImportResult("unchanged", record.id, record.current_version or None)
    try:
        with unit_of_work():
            action = "updated" if record is not None else "created"
            before = record.status if record is not None else None
            if record is None:
                record = Record(owner=actor, external_id=external_id, status=target,
                                current_version=0, lock_version=1, ever_public=False)
                db.session.add(record)
            record.collection = collection
            _set_values(record, metadata)
            record.metadata_incomplete = incomplete
            apply_access(record, access)
            if action == "updated":
                record.lock_version += 1
            record.updated_at = utcnow()
            db.session.flush()
            added = record_files.replace_working_files(
                record, files, actor.id if actor is not None else None)
            record.status = target
            version = None
            if review:
                waiting = db.session.scalar(select(ReviewTask.id).where(
                    ReviewTask.record_id == record.id, ReviewTask.status != TaskStatus.DONE))
                if waiting is None:
                    db.session.add(ReviewTask(record=record, step=1))
            else:
                version = publish(actor, record)  # type: ignore[arg-type]
            record_history(record, actor, "import", before, target,
                     f"line {source.get('line')}" if source.get("line") else "")
            audit.record("record_import", actor=actor, obj=record, details={
                **source, "external_id": external_id, "outcome": action,
                "collection": collection.slug, "status": str(target), "version": version,
                "files": [[f.name, f.key] for f in files][:50]})
            result = ImportResult(action, record.id, version, [f.id for f in added],
                                  [f.id for f in added if f.thumbnail_status == "pending"])
            hooks.record_changed(record.id)
            if dry_run:
                raise _DryRun()
            if in_transaction is not None:
                in_transaction(action, record.id)
    except _DryRun:
        result.record_id = result.record_id if action == "updated" else None
        result.new_file_ids, result.thumbnail_file_ids = [], []
    return result


def _import_unchanged(record: Record, collection: Collection, metadata: Metadata,
                      access: AccessSettings, files: Sequence[record_files.NewFile],
                      target: str) -> bool:
    if record.collection_id != collection.id or record.dc != metadata:
        return False
    if access_summary(record) != settings_summary(access):
        return False
    if sorted(f.blob_key for f in record_files.working_files(record)) != \
            sorted(f.key for f in files):
        return False
    if target == RecordStatus.PUBLISHED:
        return record.status == RecordStatus.PUBLISHED
    # --review: a record waiting in the pool, or published and unchanged, has nothing new.
    return record.status in (RecordStatus.SUBMITTED, RecordStatus.PUBLISHED)


def my_deposits(user: User, status: str | None = None):
    stmt = select(Record).where(Record.owner_id == user.id,
                                Record.status != RecordStatus.PURGED)
    if status:
        stmt = stmt.where(Record.status == status)
    return stmt.order_by(Record.updated_at.desc(), Record.id.desc())


def deposit_counts(user: User) -> dict[str, int]:
    rows = db.session.execute(
        select(Record.status, func.count(Record.id))
        .where(Record.owner_id == user.id, Record.status != RecordStatus.PURGED)
        .group_by(Record.status)
    ).all()
    return {status: count for status, count in rows}


# --- the deposit wizard --------------------------------------------------------------------

def in_wizard(user: User, record: Record | None) -> bool:
    """Whether ``user`` is depositing ``record`` (a draft or a returned record of theirs):
    its pages then lead from one step to the next, up to submitting it."""
    return record is not None and record.owner_id == user.id and record.status in (
        RecordStatus.DRAFT, RecordStatus.RETURNED)


@dataclass
class SubmissionCheck:
    """What a depositor (or a curator) should know before a record goes on: the metadata
    problems that keep it from review, its files, and whether the public will see it."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: list = field(default_factory=list)
    public: bool = True

    @property
    def ready(self) -> bool:
        return not self.problems


def submission_check(record: Record) -> SubmissionCheck:
    result = validate(list(record.dc), mode="deposit")
    return SubmissionCheck(
        problems=list(result.errors), warnings=list(result.warnings),
        files=record_files.working_files(record),
        public=record.access_level == AccessLevel.PUBLIC and record.discoverable)
