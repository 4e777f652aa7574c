"""The life cycle of a material: collections, drafts, review, publication, versions, withdrawal.

Every function takes the acting user explicitly, checks the policy on the object, changes the
database in one unit of work, writes the record's history and the audit log in the same
transaction, and leaves side effects (notifications are rows; indexing) to after the commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from lms import audit
from lms.accounts.models import Group, RoleName, Unit, User
from lms.catalog import hooks
from lms.catalog.access import (
    can_view,
    is_curator_of,
    may_deposit_in,
    sees_working_copy,
)
from lms.catalog.models import (
    AccessLevel,
    Collection,
    Notification,
    Record,
    RecordStatus,
    RecordValue,
    RecordVersion,
    ReviewTask,
    TaskStatus,
    WorkflowEvent,
)
from lms.db import utcnow
from lms.errors import Conflict, NotFound, PermissionDenied, ValidationError
from lms.extensions import db
from lms.files import records as record_files
from lms.permissions import require
from lms.text import clean_text
from lms.uow import unit_of_work
from metadata import Metadata, Statement, ValidationResult, validate

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class MetadataInvalid(ValidationError):
    """The metadata has errors; ``result`` lists them per field."""

    def __init__(self, result: ValidationResult) -> None:
        super().__init__(_("Please correct the highlighted fields."))
        self.result = result


# --- collections ---------------------------------------------------------------------------

def check_slug(slug: str) -> str:
    """:raise ValidationError: ``slug`` is not ASCII ``[a-z0-9-]`` (it becomes an OAI setSpec)."""
    slug = (slug or "").strip()
    if not SLUG.match(slug) or len(slug) > 64:
        raise ValidationError(
            _("A collection slug has 1–64 characters: lower-case letters a–z, digits and single "
              "hyphens (e.g. khoa-tai-chinh).")
        )
    return slug


def get_collection(slug: str) -> Collection:
    collection = db.session.scalar(select(Collection).where(Collection.slug == slug))
    if collection is None:
        raise NotFound(_("No collection %(slug)s.", slug=slug))
    return collection


def create_collection(actor: User | None, slug: str, title: str, *,
                      parent: Collection | None = None, title_en: str = "", description: str = "",
                      default_access: str = AccessLevel.INTERNAL, workflow_steps: int = 2,
                      curators: Iterable[User] = ()) -> Collection:
    """Create a collection. ``actor`` None is the command line.

    :raise ValidationError: bad slug, title, access level or number of steps.
    :raise Conflict: the slug is taken.
    """
    if actor is not None:
        require(actor, "manage_collections")
    slug = check_slug(slug)
    if db.session.scalar(select(Collection.id).where(Collection.slug == slug)) is not None:
        raise Conflict(_("The collection slug %(slug)s is already taken.", slug=slug))
    collection = Collection(slug=slug)
    _apply_collection(collection, title=title, title_en=title_en, description=description,
                      parent=parent, default_access=default_access,
                      workflow_steps=workflow_steps, curators=curators)
    with unit_of_work():
        db.session.add(collection)
        db.session.flush()
        audit.record("collection_create", actor=actor, obj=collection,
                     details={"slug": slug, "parent": parent.slug if parent else None})
    return collection


def update_collection(actor: User, collection: Collection, *, title: str, title_en: str,
                      description: str, parent: Collection | None, default_access: str,
                      workflow_steps: int, curators: Iterable[User]) -> None:
    """:raise Conflict: ``parent`` is the collection itself or below it."""
    require(actor, "manage_collections")
    node = parent
    while node is not None:
        if node.id == collection.id:
            raise Conflict(_("A collection cannot be moved under itself or its descendants."))
        node = node.parent
    with unit_of_work() as on_commit:
        _apply_collection(collection, title=title, title_en=title_en, description=description,
                          parent=parent, default_access=default_access,
                          workflow_steps=workflow_steps, curators=curators)
        audit.record("collection_update", actor=actor, obj=collection,
                     details={"curators": sorted(u.username for u in collection.curators)})
        # Curators and the collection path are part of every record's search entry.
        on_commit(lambda: hooks.collection_changed(collection.id))


def _apply_collection(collection: Collection, *, title: str, title_en: str, description: str,
                      parent: Collection | None, default_access: str, workflow_steps: int,
                      curators: Iterable[User]) -> None:
    if default_access not in {str(a) for a in AccessLevel}:
        raise ValidationError(_("Unknown access level."))
    if workflow_steps not in (1, 2):
        raise ValidationError(_("A workflow has one or two steps."))
    collection.title = clean_text(title, max_length=300, what=_("Title"))
    collection.title_en = clean_text(title_en, max_length=300, what=_("Title")) if title_en else ""
    collection.description = (description or "").strip()[:5000]
    collection.parent = parent
    collection.default_access = default_access
    collection.workflow_steps = workflow_steps
    collection.curators = list(curators)


def collection_tree() -> list[tuple[Collection, int]]:
    collections = list(db.session.scalars(select(Collection).order_by(Collection.title)))
    children: dict[int | None, list[Collection]] = {}
    for c in collections:
        children.setdefault(c.parent_id, []).append(c)
    ordered: list[tuple[Collection, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for c in children.get(parent_id, []):
            ordered.append((c, depth))
            walk(c.id, depth + 1)

    walk(None, 0)
    return ordered


def deposit_collections(user: User) -> list[Collection]:
    return [c for c, _depth in collection_tree() if may_deposit_in(user, c)]


# --- access settings -----------------------------------------------------------------------

@dataclass
class AccessSettings:
    level: str = AccessLevel.INTERNAL
    units: Sequence[Unit] = ()
    roles: Sequence[str] = ()
    users: Sequence[User] = ()
    groups: Sequence[Group] = ()
    embargo_until: date | None = None
    embargo_reason: str = ""
    discoverable: bool = True

    def check(self) -> None:
        """:raise ValidationError: the settings contradict each other."""
        if self.level not in {str(a) for a in AccessLevel}:
            raise ValidationError(_("Unknown access level."))
        unknown = set(self.roles) - {str(r) for r in RoleName}
        if unknown:
            raise ValidationError(_("Unknown role: %(roles)s.", roles=", ".join(sorted(unknown))))
        if self.level == AccessLevel.UNIT and not self.units:
            raise ValidationError(_("Choose at least one unit for unit access."))
        if self.level == AccessLevel.ROLE and not self.roles:
            raise ValidationError(_("Choose at least one role for role access."))
        if self.level == AccessLevel.RESTRICTED and not (self.users or self.groups):
            raise ValidationError(_("Name at least one user or group for restricted access."))

    @classmethod
    def of(cls, record: Record) -> AccessSettings:
        return cls(level=record.access_level, units=list(record.access_units),
                   roles=list(record.access_roles), users=list(record.access_users),
                   groups=list(record.access_groups), embargo_until=record.embargo_until,
                   embargo_reason=record.embargo_reason, discoverable=record.discoverable)


def _apply_access(record: Record, settings: AccessSettings) -> None:
    record.access_level = settings.level
    record.access_units = list(settings.units) if settings.level == AccessLevel.UNIT else []
    record.access_roles = list(settings.roles) if settings.level == AccessLevel.ROLE else []
    restricted = settings.level == AccessLevel.RESTRICTED
    record.access_users = list(settings.users) if restricted else []
    record.access_groups = list(settings.groups) if restricted else []
    record.embargo_until = settings.embargo_until
    record.embargo_reason = (settings.embargo_reason or "").strip()[:2000]
    record.discoverable = settings.discoverable
    _mark_public(record)


def _mark_public(record: Record) -> None:
    if record.is_published and record.access_level == AccessLevel.PUBLIC and record.discoverable:
        record.ever_public = True


def access_summary(record: Record) -> dict[str, object]:
    return settings_summary(AccessSettings.of(record))


def settings_summary(s: AccessSettings) -> dict[str, object]:
    """Comparable form of access settings, as :func:`_apply_access` would store them."""
    restricted = s.level == AccessLevel.RESTRICTED
    return {"level": s.level,
            "units": sorted(u.id for u in s.units) if s.level == AccessLevel.UNIT else [],
            "roles": sorted(s.roles) if s.level == AccessLevel.ROLE else [],
            "users": sorted(u.id for u in s.users) if restricted else [],
            "groups": sorted(g.id for g in s.groups) if restricted else [],
            "embargo_until": s.embargo_until.isoformat() if s.embargo_until else None,
            "discoverable": s.discoverable}


def change_access(actor: User, record: Record, settings: AccessSettings) -> None:
    """Change who may see a record; every channel follows after the commit.

    The depositor may set access while the record is theirs to edit; afterwards only its
    curators and admins may.

    :raise PermissionDenied: ``actor`` may not change this record's access.
    """
    if not (is_curator_of(actor, record) or _owner_may_edit(actor, record)):
        raise PermissionDenied()
    settings.check()
    before = access_summary(record)
    with unit_of_work() as on_commit:
        _apply_access(record, settings)
        record.lock_version += 1
        after = access_summary(record)
        if before != after:
            audit.record("record_access_change", actor=actor, obj=record,
                         details={"before": before, "after": after})
            _history(record, actor, "access_change", record.status, record.status)
        on_commit(lambda: hooks.record_changed(record.id))


# --- drafts --------------------------------------------------------------------------------

def _owner_may_edit(user: User, record: Record) -> bool:
    return record.owner_id == user.id and record.status in (
        RecordStatus.DRAFT, RecordStatus.RETURNED, RecordStatus.PUBLISHED)


def can_edit(user: User, record: Record) -> bool:
    if record.status in (RecordStatus.WITHDRAWN, RecordStatus.PURGED):
        return False
    return _owner_may_edit(user, record) or (
        is_curator_of(user, record) and record.status != RecordStatus.DRAFT)


def get_record(user: User, record_id: int, *, for_edit: bool = False) -> Record:
    """The record if ``user`` may see it.

    :raise NotFound: it does not exist or ``user`` may not know it exists.
    :raise PermissionDenied: ``for_edit`` and ``user`` sees it but may not edit it.
    """
    record = db.session.get(Record, record_id)
    if record is None or not (can_view(user, record) or sees_working_copy(user, record)):
        raise NotFound()
    if for_edit and not can_edit(user, record):
        raise PermissionDenied()
    return record


def check_metadata(statements: Iterable[Statement], *, deposit: bool) -> ValidationResult:
    """Validate with the profile; drafts may still lack deposit-required fields.

    :raise MetadataInvalid: there are errors.
    """
    result = validate(list(statements), mode="deposit" if deposit else "import")
    if not result.ok:
        raise MetadataInvalid(result)
    return result


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
    if not may_deposit_in(user, collection):
        raise PermissionDenied(_("You may not deposit in this collection."))
    result = check_metadata(statements, deposit=False)
    access = access or AccessSettings(level=collection.default_access)
    access.check()
    with unit_of_work():
        record = Record(owner=user, collection=collection, status=RecordStatus.DRAFT,
                        current_version=0, lock_version=1, ever_public=False)
        _set_values(record, result.statements)
        record.metadata_incomplete = result.incomplete
        _apply_access(record, access)
        db.session.add(record)
        db.session.flush()
        _history(record, user, "create", None, RecordStatus.DRAFT)
        audit.record("record_create", actor=user, obj=record,
                     details={"collection": collection.slug})
    return record


def save_metadata(user: User, record: Record, statements: Iterable[Statement],
                  lock_version: int) -> bool:
    """Save the working copy's metadata; returns whether anything changed.

    A published record being edited by its depositor becomes a draft of its next version
    (the published version stays visible).

    :raise PermissionDenied: ``user`` may not edit it now.
    :raise Conflict: the form is older than the record (optimistic locking).
    :raise MetadataInvalid: the metadata has errors.
    """
    if not can_edit(user, record):
        raise PermissionDenied()
    _check_lock(record, lock_version)
    in_review = record.status == RecordStatus.SUBMITTED
    result = check_metadata(statements, deposit=in_review)
    if result.statements == record.dc:
        return False
    with unit_of_work() as on_commit:
        before = record.status
        _set_values(record, result.statements)
        record.metadata_incomplete = result.incomplete
        record.lock_version += 1
        record.updated_at = utcnow()
        if record.status == RecordStatus.PUBLISHED and not is_curator_of(user, record):
            record.status = RecordStatus.DRAFT
        _history(record, user, "edit", before, record.status)
        if record.status == RecordStatus.PUBLISHED:
            # A curator's correction of a published record publishes straight away.
            _publish(user, record)
            on_commit(lambda: hooks.record_changed(record.id))
    return True


def _check_lock(record: Record, lock_version: int) -> None:
    if lock_version != record.lock_version:
        raise Conflict(_("This record was changed since you opened it. Reload it to see the "
                         "changes, then make yours again."))


# --- workflow ------------------------------------------------------------------------------

def submit(user: User, record: Record, lock_version: int) -> None:
    """Send a draft to its collection's review pool.

    :raise PermissionDenied: only the depositor submits, a draft or returned record.
    :raise MetadataInvalid: deposit-required metadata is missing or wrong.
    """
    if record.owner_id != user.id or record.status not in (RecordStatus.DRAFT,
                                                          RecordStatus.RETURNED):
        raise PermissionDenied()
    if not may_deposit_in(user, record.collection):
        raise PermissionDenied(_("You may not deposit in this collection."))
    _check_lock(record, lock_version)
    check_metadata(record.dc, deposit=True)
    with unit_of_work():
        before = record.status
        record.status = RecordStatus.SUBMITTED
        record.lock_version += 1
        db.session.add(ReviewTask(record=record, step=1))
        _history(record, user, "submit", before, RecordStatus.SUBMITTED)
        audit.record("record_submit", actor=user, obj=record)
        _notify([u.id for u in record.collection.curators], "task_waiting",
                {"title": record.title}, "/review")


# --- imports -------------------------------------------------------------------------------

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
    audit log. A ``dry_run`` does everything, then rolls back.

    The blobs of ``files`` must already be stored (``lms.files.storage``).

    :raise PermissionDenied: ``actor`` may not import.
    :raise ValidationError: the existing record is withdrawn or purged, or access is invalid.
    """
    if actor is not None:
        require(actor, "import_records")
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
        with unit_of_work() as on_commit:
            action = "updated" if record is not None else "created"
            before = record.status if record is not None else None
            if record is None:
                record = Record(owner=actor, external_id=external_id, status=target,
                                current_version=0, lock_version=1, ever_public=False)
                db.session.add(record)
            record.collection = collection
            _set_values(record, metadata)
            record.metadata_incomplete = incomplete
            _apply_access(record, access)
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
                version = _publish(actor, record)  # type: ignore[arg-type]
            _history(record, actor, "import", before, target,
                     f"line {source.get('line')}" if source.get("line") else "")
            audit.record("record_import", actor=actor, obj=record, details={
                **source, "external_id": external_id, "outcome": action,
                "collection": collection.slug, "status": str(target), "version": version,
                "files": [[f.name, f.key] for f in files][:50]})
            result = ImportResult(action, record.id, version, [f.id for f in added],
                                  [f.id for f in added if f.thumbnail_status == "pending"])
            if dry_run:
                raise _DryRun()
            record_id = record.id
            on_commit(lambda: hooks.record_changed(record_id))
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


def claim(user: User, task_id: int) -> ReviewTask:
    """Take a task from the pool. Of two curators claiming at once, exactly one wins.

    :raise NotFound: no such task, or not one ``user`` curates.
    :raise Conflict: someone else claimed it first.
    """
    task = db.session.get(ReviewTask, task_id)
    if task is None or not is_curator_of(user, task.record):
        raise NotFound()
    with unit_of_work():
        # The guarded UPDATE is the arbiter: only one transaction can move it out of the pool.
        won = db.session.execute(
            update(ReviewTask)
            .where(ReviewTask.id == task_id, ReviewTask.status == TaskStatus.POOL)
            .values(status=TaskStatus.CLAIMED, claimed_by_id=user.id, claimed_at=utcnow())
        ).rowcount == 1
        if won:
            _history(task.record, user, "claim", task.record.status, task.record.status)
    db.session.refresh(task)
    if not won:
        who = task.claimed_by.display_name if task.claimed_by else "?"
        raise Conflict(_("This task was already claimed by %(name)s.", name=who))
    return task


def _claimed_task(user: User, task_id: int) -> ReviewTask:
    task = db.session.get(ReviewTask, task_id)
    if task is None or not is_curator_of(user, task.record):
        raise NotFound()
    if task.status != TaskStatus.CLAIMED or task.claimed_by_id != user.id:
        raise Conflict(_("Claim this task before acting on it."))
    return task


def release(user: User, task_id: int) -> None:
    """Put a claimed task back into the pool."""
    task = _claimed_task(user, task_id)
    with unit_of_work():
        task.status, task.claimed_by_id, task.claimed_at = TaskStatus.POOL, None, None
        _history(task.record, user, "release", task.record.status, task.record.status)


def accept(user: User, task_id: int, comment: str = "") -> Record:
    """Approve this step: on to the next step, or publish after the last one.

    :raise MetadataInvalid: deposit-required metadata is missing (a curator may fix it first).
    """
    task = _claimed_task(user, task_id)
    record = task.record
    check_metadata(record.dc, deposit=True)
    steps = record.collection.workflow_steps if record.collection else 1
    with unit_of_work() as on_commit:
        task.status = TaskStatus.DONE
        if task.step < steps:
            db.session.add(ReviewTask(record=record, step=task.step + 1))
            _history(record, user, "accept", record.status, record.status, comment)
        else:
            before = record.status
            record.status = RecordStatus.PUBLISHED
            record.lock_version += 1
            number = _publish(user, record)
            _history(record, user, "publish", before, RecordStatus.PUBLISHED, comment)
            audit.record("record_publish", actor=user, obj=record, details={"version": number})
            if record.owner_id:
                _notify([record.owner_id], "published", {"title": record.title},
                        f"/records/{record.id}")
            on_commit(lambda: hooks.record_changed(record.id))
    return record


def return_to_depositor(user: User, task_id: int, comment: str) -> None:
    """:raise ValidationError: a return needs a comment telling the depositor what to fix."""
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError(_("Tell the depositor what to change."))
    task = _claimed_task(user, task_id)
    record = task.record
    with unit_of_work():
        task.status = TaskStatus.DONE
        before = record.status
        record.status = RecordStatus.RETURNED
        record.lock_version += 1
        _history(record, user, "return", before, RecordStatus.RETURNED, comment[:5000])
        audit.record("record_return", actor=user, obj=record)
        if record.owner_id:
            _notify([record.owner_id], "returned", {"title": record.title, "comment": comment},
                    f"/records/{record.id}/edit")


def _publish(user: User, record: Record) -> int:
    """Freeze the working copy (metadata and file list) as version n+1 unless it equals
    version n; returns n or n+1."""
    rows = [[s.term, s.value, s.lang, s.scheme] for s in record.dc]
    file_ids = record_files.working_file_ids(record)
    latest = record.latest_version
    if latest is not None and latest.statements == rows and \
            record_files.version_file_ids(latest) == file_ids:
        _mark_public(record)
        return latest.number
    number = record.current_version + 1
    version = RecordVersion(number=number, title=record.title, statements=rows,
                            published_by=user)
    record.versions.append(version)
    db.session.flush()
    record_files.freeze_files(version, file_ids)
    record.current_version = number
    record.published_at = utcnow()
    record.updated_at = record.published_at
    _mark_public(record)
    return number


def withdraw(user: User, record: Record, reason: str) -> None:
    """:raise PermissionDenied: only curators of its collections and admins withdraw."""
    if not is_curator_of(user, record) or not record.is_published:
        raise PermissionDenied()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason for the withdrawal."))
    with unit_of_work() as on_commit:
        before = record.status
        record.status = RecordStatus.WITHDRAWN
        record.withdrawn_at = utcnow()
        record.withdrawal_reason = reason[:2000]
        record.lock_version += 1
        _history(record, user, "withdraw", before, RecordStatus.WITHDRAWN, reason)
        audit.record("record_withdraw", actor=user, obj=record, details={"reason": reason})
        on_commit(lambda: hooks.record_changed(record.id))


def restore(user: User, record: Record) -> None:
    if not is_curator_of(user, record) or record.status != RecordStatus.WITHDRAWN:
        raise PermissionDenied()
    with unit_of_work() as on_commit:
        record.status = RecordStatus.PUBLISHED
        record.withdrawn_at = None
        record.lock_version += 1
        _history(record, user, "restore", RecordStatus.WITHDRAWN, RecordStatus.PUBLISHED)
        audit.record("record_restore", actor=user, obj=record)
        on_commit(lambda: hooks.record_changed(record.id))


def purge(user: User, record: Record, reason: str) -> None:
    """Legal removal: metadata and versions go, a tombstone row stays. Admins only."""
    require(user, "purge_records")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the legal reason for the purge."))
    with unit_of_work() as on_commit:
        audit.record("record_purge", actor=user, obj=record,
                     details={"reason": reason, "title": record.title})
        record.values = []
        record.versions = []
        record_files.purge_files(record, on_commit)
        record.status = RecordStatus.PURGED
        record.withdrawal_reason = reason[:2000]
        record.withdrawn_at = record.withdrawn_at or utcnow()
        record.lock_version += 1
        _history(record, user, "purge", None, RecordStatus.PURGED, reason)
        on_commit(lambda: hooks.record_changed(record.id))


def map_record(actor: User, record: Record, collections: Iterable[Collection]) -> None:
    """Show ``record`` in these collections too (besides its owning one).

    Curators may map records of their collections into collections they also curate;
    admins anywhere. Mapping changes who curates the record, set membership in OAI-PMH and
    the collection facet, so every channel is refreshed after the commit.

    :raise PermissionDenied: ``actor`` does not curate the record, or one of the targets.
    """
    if not is_curator_of(actor, record):
        raise PermissionDenied()
    targets = [c for c in dict.fromkeys(collections) if c.id != record.collection_id]
    current = {c.id for c in record.mapped_collections}
    for collection in targets:
        if collection.id not in current and not (
                actor.is_admin or actor in collection.curators):
            raise PermissionDenied(_("You may map records only into collections you curate."))
    before = sorted(c.slug for c in record.mapped_collections)
    with unit_of_work() as on_commit:
        record.mapped_collections = targets
        after = sorted(c.slug for c in targets)
        if before != after:
            record.lock_version += 1
            audit.record("record_mapping", actor=actor, obj=record,
                         details={"before": before, "after": after})
            _history(record, actor, "mapping", record.status, record.status,
                     ", ".join(after))
        on_commit(lambda: hooks.record_changed(record.id))


# --- dashboards ----------------------------------------------------------------------------

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


@dataclass
class ReviewQueue:
    pool: list[ReviewTask] = field(default_factory=list)
    mine: list[ReviewTask] = field(default_factory=list)
    others: list[ReviewTask] = field(default_factory=list)


def review_queue(user: User) -> ReviewQueue:
    tasks = db.session.scalars(
        select(ReviewTask).where(ReviewTask.status != TaskStatus.DONE)
        .order_by(ReviewTask.created_at, ReviewTask.id)
    )
    queue = ReviewQueue()
    for task in tasks:
        if not is_curator_of(user, task.record):
            continue
        if task.status == TaskStatus.POOL:
            queue.pool.append(task)
        elif task.claimed_by_id == user.id:
            queue.mine.append(task)
        else:
            queue.others.append(task)
    return queue


def history(record: Record) -> list[WorkflowEvent]:
    return list(db.session.scalars(
        select(WorkflowEvent).where(WorkflowEvent.record_id == record.id)
        .order_by(WorkflowEvent.at, WorkflowEvent.id)
    ))


# --- notifications -------------------------------------------------------------------------

def _notify(user_ids: Iterable[int], kind: str, params: dict[str, object], link: str) -> None:
    for user_id in set(user_ids):
        db.session.add(Notification(user_id=user_id, kind=kind, params=params, link=link))


def notifications_for(user: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.id.desc()).limit(limit)
    ))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_notifications_read(user: User) -> None:
    with unit_of_work():
        db.session.execute(
            update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )


def _history(record: Record, actor: User | None, action: str, before: str | None,
             after: str | None, comment: str = "") -> None:
    db.session.add(WorkflowEvent(record=record, actor=actor, action=action,
                                 from_status=before, to_status=after, comment=comment))
