"""Deposit: drafts, edits of the working copy, imports, and the depositor's dashboard."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, insert, select

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
    RecordAccessRole,
    RecordStatus,
    RecordValue,
    RecordVersion,
    ReviewTask,
    TaskStatus,
    WorkflowEvent,
    record_access_groups,
    record_access_units,
    record_access_users,
)
from lms.catalog.sortkeys import version_keys
from lms.catalog.workflow import (
    check_lock,
    check_metadata,
    publish,
    record_history,
    working_copy_changed,
)
from lms.db import insert_rows, utcnow
from lms.errors import PermissionDenied, ValidationError
from lms.extensions import db
from lms.files import records as record_files
from lms.files.models import RecordFile, record_version_files
from lms.models import AuditEvent
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
                  source: dict[str, object], dry_run: bool = False) -> ImportResult:
    """Create or update the record of one import line: all of it or nothing, one transaction.

    The record with ``external_id`` is updated when there is one, created otherwise. Unless
    ``review``, it is published at once (a new version only if metadata or files changed);
    with ``review`` it goes to its collection's review pool. When metadata, access, collection
    and the set of file blobs equal the record's, and its status is already the one asked
    for, nothing is written ("unchanged"). ``actor`` None is the command line (operator);
    the record's owner is ``actor``. ``source`` (import file hash, line number) goes to the
    audit log. A ``dry_run`` does everything, then rolls back. Inside a batch of work
    (``lms.uow.batch_of_work``) its transaction is a savepoint of the batch's.

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
    except _DryRun:
        result.record_id = result.record_id if action == "updated" else None
        result.new_file_ids, result.thumbnail_file_ids = [], []
    return result


@dataclass
class NewImport:
    """An import line that creates a record: checked, its blobs durably stored."""

    external_id: str | None
    collection: Collection
    metadata: Metadata
    incomplete: bool
    access: AccessSettings
    files: Sequence[record_files.NewFile]
    source: dict[str, object]


def create_imported_records(actor: User | None,
                            lines: Sequence[NewImport]) -> list[ImportResult]:
    """Create and publish the records of these import lines: what :func:`import_record`
    writes for a new record (not for review, not a dry run), in one multi-row statement per
    table for all of them, inside the caller's unit of work (a savepoint of a bulk import:
    if the database refuses any row, the caller rolls back and imports the lines one by one).

    The ``external_id`` of each line must not be taken (the database refuses it otherwise).
    """
    now = utcnow()
    actor_id = actor.id if actor is not None else None
    target = RecordStatus.PUBLISHED
    record_ids = list(db.session.scalars(
        insert(Record).returning(Record.id, sort_by_parameter_order=True),
        [_new_record_values(line, actor_id, now) for line in lines]))
    values, versions, events, audits = [], [], [], []
    links: dict[object, list[dict[str, object]]] = {}
    file_rows: list[dict[str, object]] = []
    for record_id, line in zip(record_ids, lines, strict=True):
        values += [{"record_id": record_id, "position": i, "term": s.term, "value": s.value,
                    "lang": s.lang, "scheme": s.scheme} for i, s in enumerate(line.metadata)]
        for table, column, items in _access_links(line.access):
            links.setdefault(table, []).extend({"record_id": record_id, column: item}
                                               for item in dict.fromkeys(items))
        file_rows += [record_files.new_file_values(record_id, position, item, actor_id)
                      for position, item in enumerate(line.files)]
        title = display_title(line.metadata)
        statements = [[s.term, s.value, s.lang, s.scheme] for s in line.metadata]
        keys = version_keys(title, statements)
        versions.append({"record_id": record_id, "number": 1, "title": title,
                         "statements": statements, "published_at": now,
                         "published_by_id": actor_id, "sort_title": keys.sort_title,
                         "sort_creator": keys.sort_creator, "issued": keys.issued,
                         "type": keys.type})
        line_number = line.source.get("line")
        events.append({"record_id": record_id, "at": now, "actor_id": actor_id,
                       "action": "import", "from_status": None, "to_status": target,
                       "comment": f"line {line_number}" if line_number else ""})
        audits.append(audit.event_row("record_import", actor=actor, object_type="records",
                                      object_id=record_id, details={
            **line.source, "external_id": line.external_id, "outcome": "created",
            "collection": line.collection.slug, "status": str(target), "version": 1,
            "files": [[f.name, f.key] for f in line.files][:50]}))
    insert_rows(db.session, RecordValue, values)
    for table, rows in links.items():
        insert_rows(db.session, table, rows)
    record_files.register_blobs(f for line in lines for f in line.files)
    file_ids = list(db.session.scalars(
        insert(RecordFile).returning(RecordFile.id, sort_by_parameter_order=True),
        file_rows)) if file_rows else []
    version_ids = list(db.session.scalars(
        insert(RecordVersion).returning(RecordVersion.id, sort_by_parameter_order=True),
        versions))
    if file_rows:
        version_of = dict(zip(record_ids, version_ids, strict=True))
        insert_rows(db.session, record_version_files, [
            {"version_id": version_of[row["record_id"]], "file_id": file_id,
             "position": row["position"]} for row, file_id in zip(file_rows, file_ids,
                                                                 strict=True)])
    insert_rows(db.session, WorkflowEvent, events)
    insert_rows(db.session, AuditEvent, audits)
    hooks.records_changed(record_ids)
    results = {record_id: ImportResult("created", record_id, 1) for record_id in record_ids}
    for row, file_id in zip(file_rows, file_ids, strict=True):
        result = results[row["record_id"]]  # type: ignore[index]
        result.new_file_ids.append(file_id)
        if row["thumbnail_status"] == "pending":
            result.thumbnail_file_ids.append(file_id)
    return list(results.values())


def _new_record_values(line: NewImport, owner_id: int | None, now) -> dict[str, object]:
    access = line.access
    return {"owner_id": owner_id, "external_id": line.external_id,
            "collection_id": line.collection.id, "status": RecordStatus.PUBLISHED,
            "title": display_title(line.metadata), "metadata_incomplete": line.incomplete,
            "access_level": access.level, "embargo_until": access.embargo_until,
            "embargo_reason": access.clean_reason, "discoverable": access.discoverable,
            "current_version": 1, "lock_version": 1,
            # mark_public: published, so once harvestable if public and discoverable.
            "ever_public": access.level == AccessLevel.PUBLIC and access.discoverable,
            "created_at": now, "updated_at": now, "published_at": now}


def _access_links(access: AccessSettings) -> list[tuple[object, str, list]]:
    """The link rows :func:`apply_access` makes: (table, column, values)."""
    level = access.level
    if level == AccessLevel.UNIT:
        return [(record_access_units, "unit_id", [u.id for u in access.units])]
    if level == AccessLevel.ROLE:
        return [(RecordAccessRole, "role", list(access.roles))]
    if level == AccessLevel.RESTRICTED:
        return [(record_access_users, "user_id", [u.id for u in access.users]),
                (record_access_groups, "group_id", [g.id for g in access.groups])]
    return []


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
