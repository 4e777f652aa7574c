"""Review and publication: submission, the review pool, publishing versions, withdrawal,
restoration, purge, collection mapping, and the record's history.

Every function takes the acting user explicitly, checks the policy on the object, changes the
database in one unit of work, writes the record's history and the audit log in the same
transaction, and leaves side effects (notifications are rows; indexing) to after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from lms import audit
from lms.accounts.models import User
from lms.catalog import hooks
from lms.catalog.models import (
    AccessLevel,
    Collection,
    Record,
    RecordStatus,
    RecordVersion,
    ReviewTask,
    TaskStatus,
    WorkflowEvent,
)
from lms.db import utcnow
from lms.errors import Conflict, NotFound, PermissionDenied, ValidationError
from lms.extensions import db
from lms.files import records as record_files
from lms.notify.services import notify
from lms.permissions import can, require
from lms.uow import AfterCommit, unit_of_work
from metadata import Statement, ValidationResult, validate


class MetadataInvalid(ValidationError):
    """The metadata has errors; ``result`` lists them per field."""

    def __init__(self, result: ValidationResult) -> None:
        super().__init__(_("Please correct the highlighted fields."))
        self.result = result


def check_metadata(statements: Iterable[Statement], *, deposit: bool) -> ValidationResult:
    """Validate with the profile; drafts may still lack deposit-required fields.

    :raise MetadataInvalid: there are errors.
    """
    result = validate(list(statements), mode="deposit" if deposit else "import")
    if not result.ok:
        raise MetadataInvalid(result)
    return result


def check_lock(record: Record, lock_version: int) -> None:
    """:raise Conflict: the form is older than the record (optimistic locking)."""
    if lock_version != record.lock_version:
        raise Conflict(_("This record was changed since you opened it. Reload it to see the "
                         "changes, then make yours again."))


def record_history(record: Record, actor: User | None, action: str, before: str | None,
                   after: str | None, comment: str = "") -> None:
    """Add a step to the record's history, in the caller's transaction."""
    db.session.add(WorkflowEvent(record=record, actor=actor, action=action,
                                 from_status=before, to_status=after, comment=comment))


def mark_public(record: Record) -> None:
    """Remember that the record was once harvestable (OAI-PMH then keeps a deleted header)."""
    if record.is_published and record.access_level == AccessLevel.PUBLIC and record.discoverable:
        record.ever_public = True


def publish(user: User, record: Record) -> int:
    """Freeze the working copy (metadata and file list) as version n+1 unless it equals
    version n; returns n or n+1. In the caller's unit of work, with its checks done."""
    rows = [[s.term, s.value, s.lang, s.scheme] for s in record.dc]
    file_ids = record_files.working_file_ids(record)
    latest = record.latest_version
    if latest is not None and latest.statements == rows and \
            record_files.version_file_ids(latest) == file_ids:
        mark_public(record)
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
    mark_public(record)
    return number


def working_copy_changed(user: User, record: Record, action: str,
                         on_commit: AfterCommit | None = None) -> None:
    """What an edit of the working copy (metadata or files) does to the record, inside the
    caller's unit of work (``on_commit`` is no longer used: the record's change-log row is
    written in that transaction).

    A published record edited by its depositor becomes the draft of its next version (the
    published version stays visible); a curator's correction of a published record publishes
    at once.
    """
    before = record.status
    if record.status == RecordStatus.PUBLISHED and not can(user, "record.curate", record):
        record.status = RecordStatus.DRAFT
    record.updated_at = utcnow()
    record_history(record, user, action, before, record.status)
    if record.status == RecordStatus.PUBLISHED:
        publish(user, record)
    hooks.record_changed(record.id)


def submit(user: User, record: Record, lock_version: int) -> None:
    """Send a draft to its collection's review pool.

    :raise PermissionDenied: only the depositor submits, a draft or returned record.
    :raise MetadataInvalid: deposit-required metadata is missing or wrong.
    """
    require(user, "record.submit", record)
    if not can(user, "collection.deposit", record.collection):
        raise PermissionDenied(_("You may not deposit in this collection."))
    check_lock(record, lock_version)
    check_metadata(record.dc, deposit=True)
    with unit_of_work():
        before = record.status
        record.status = RecordStatus.SUBMITTED
        record.lock_version += 1
        db.session.add(ReviewTask(record=record, step=1))
        record_history(record, user, "submit", before, RecordStatus.SUBMITTED)
        audit.record("record_submit", actor=user, obj=record)
        notify([u.id for u in record.collection.curators], "task_waiting",
                {"title": record.title}, "/review")


def earlier_reviewer_ids(task: ReviewTask) -> set[int]:
    """Who decided the earlier steps of this round of review: for each earlier step, the
    curator of its latest decided task (a returned and resubmitted deposit starts anew at
    step 1, so older rounds are later tasks of the same step)."""
    if task.step <= 1:
        return set()
    rows = db.session.execute(
        select(ReviewTask.step, ReviewTask.claimed_by_id)
        .where(ReviewTask.record_id == task.record_id, ReviewTask.step < task.step,
               ReviewTask.status == TaskStatus.DONE, ReviewTask.id < task.id)
        .order_by(ReviewTask.id)).all()
    latest = {step: user_id for step, user_id in rows}  # the last row of each step wins
    return {user_id for user_id in latest.values() if user_id is not None}


def step_refused(user: User, task: ReviewTask) -> str | None:
    """Why ``user`` may not take ``task``, or None: a step of a two-step review needs a
    curator who decided none of the earlier ones, unless the collection allows one."""
    collection = task.record.collection
    if collection is not None and collection.single_reviewer:
        return None
    if user.id in earlier_reviewer_ids(task):
        return _("You decided an earlier step of this deposit: another curator must take "
                 "this one.")
    return None


def claim(user: User, task_id: int) -> ReviewTask:
    """Take a task from the pool. Of two curators claiming at once, exactly one wins.

    :raise NotFound: no such task, or not one ``user`` curates.
    :raise Conflict: someone else claimed it first, or ``user`` decided an earlier step.
    """
    task = db.session.get(ReviewTask, task_id)
    if task is None or not can(user, "review.claim", task):
        raise NotFound()
    if (refused := step_refused(user, task)) is not None:
        raise Conflict(refused)
    with unit_of_work():
        # The guarded UPDATE is the arbiter: only one transaction can move it out of the pool.
        won = db.session.execute(
            update(ReviewTask)
            .where(ReviewTask.id == task_id, ReviewTask.status == TaskStatus.POOL)
            .values(status=TaskStatus.CLAIMED, claimed_by_id=user.id, claimed_at=utcnow())
        ).rowcount == 1
        if won:
            record_history(task.record, user, "claim", task.record.status, task.record.status)
    db.session.refresh(task)
    if not won:
        who = task.claimed_by.display_name if task.claimed_by else "?"
        raise Conflict(_("This task was already claimed by %(name)s.", name=who))
    return task


def _claimed_task(user: User, task_id: int, rule: str) -> ReviewTask:
    """The task ``user`` claimed, if ``rule`` lets them act on it.

    :raise NotFound: no such task, or one ``user`` may not know of.
    :raise Conflict: ``user`` has not claimed it.
    """
    task = db.session.get(ReviewTask, task_id)
    if task is None or not can(user, "record.curate", task.record):
        raise NotFound()
    require(user, rule, task)
    if task.status == TaskStatus.DONE:  # the second of two clicks, after the first committed
        raise _already_decided()
    if task.status != TaskStatus.CLAIMED or task.claimed_by_id != user.id:
        raise Conflict(_("Claim this task before acting on it."))
    return task


def _already_decided() -> Conflict:
    return Conflict(_("This task has already been decided, in another window or by another "
                      "request. Reload the review queue to see where it stands."))


def _decide(user: User, task: ReviewTask) -> None:
    """Take a claimed task out of play as the first write of the caller's unit of work.

    The guarded UPDATE is the arbiter between two decisions on one task at the same moment
    (a double click, two tabs): the second waits for the first to commit, then matches no row.

    :raise Conflict: the task was decided meanwhile.
    """
    won = db.session.execute(
        update(ReviewTask)
        .where(ReviewTask.id == task.id, ReviewTask.status == TaskStatus.CLAIMED,
               ReviewTask.claimed_by_id == user.id)
        .values(status=TaskStatus.DONE)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not won:
        raise _already_decided()


def release(user: User, task_id: int) -> None:
    """Put a claimed task back into the pool."""
    task = _claimed_task(user, task_id, "review.release")
    with unit_of_work():
        task.status, task.claimed_by_id, task.claimed_at = TaskStatus.POOL, None, None
        record_history(task.record, user, "release", task.record.status, task.record.status)


def accept(user: User, task_id: int, comment: str = "") -> Record:
    """Approve this step: on to the next step, or publish after the last one.

    :raise MetadataInvalid: deposit-required metadata is missing (a curator may fix it first).
    """
    task = _claimed_task(user, task_id, "review.accept")
    if (refused := step_refused(user, task)) is not None:
        raise Conflict(refused)  # claimed before the collection's rule changed
    record = task.record
    check_metadata(record.dc, deposit=True)
    steps = record.collection.workflow_steps if record.collection else 1
    with unit_of_work():
        _decide(user, task)
        if task.step < steps:
            db.session.add(ReviewTask(record=record, step=task.step + 1))
            record_history(record, user, "accept", record.status, record.status, comment)
        else:
            before = record.status
            record.status = RecordStatus.PUBLISHED
            record.lock_version += 1
            number = publish(user, record)
            record_history(record, user, "publish", before, RecordStatus.PUBLISHED, comment)
            audit.record("record_publish", actor=user, obj=record, details={"version": number})
            if record.owner_id:
                notify([record.owner_id], "published", {"title": record.title},
                        f"/records/{record.id}")
            hooks.record_changed(record.id)
    return record


def return_to_depositor(user: User, task_id: int, comment: str) -> None:
    """:raise ValidationError: a return needs a comment telling the depositor what to fix."""
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError(_("Tell the depositor what to change."))
    task = _claimed_task(user, task_id, "review.return")
    record = task.record
    with unit_of_work():
        _decide(user, task)
        before = record.status
        record.status = RecordStatus.RETURNED
        record.lock_version += 1
        record_history(record, user, "return", before, RecordStatus.RETURNED, comment[:5000])
        audit.record("record_return", actor=user, obj=record)
        if record.owner_id:
            notify([record.owner_id], "returned", {"title": record.title, "comment": comment},
                    f"/records/{record.id}/edit")


def withdraw(user: User, record: Record, reason: str) -> None:
    """:raise PermissionDenied: only curators of its collections and admins withdraw."""
    require(user, "record.withdraw", record)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason for the withdrawal."))
    with unit_of_work():
        before = record.status
        record.status = RecordStatus.WITHDRAWN
        record.withdrawn_at = utcnow()
        record.withdrawal_reason = reason[:2000]
        record.lock_version += 1
        record_history(record, user, "withdraw", before, RecordStatus.WITHDRAWN, reason)
        audit.record("record_withdraw", actor=user, obj=record, details={"reason": reason})
        hooks.record_changed(record.id)


def restore(user: User, record: Record) -> None:
    require(user, "record.restore", record)
    with unit_of_work():
        record.status = RecordStatus.PUBLISHED
        record.withdrawn_at = None
        record.lock_version += 1
        record_history(record, user, "restore", RecordStatus.WITHDRAWN, RecordStatus.PUBLISHED)
        audit.record("record_restore", actor=user, obj=record)
        hooks.record_changed(record.id)


def purge(user: User, record: Record, reason: str) -> None:
    """Legal removal: metadata and versions go, a tombstone row stays. Admins only."""
    require(user, "record.purge", record)
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
        record_history(record, user, "purge", None, RecordStatus.PURGED, reason)
        hooks.record_changed(record.id)


def map_record(actor: User, record: Record, collections: Iterable[Collection]) -> None:
    """Show ``record`` in these collections too (besides its owning one).

    Curators may map records of their collections into collections they also curate;
    admins anywhere. Mapping changes who curates the record, set membership in OAI-PMH and
    the collection facet, so every channel is refreshed after the commit.

    :raise PermissionDenied: ``actor`` does not curate the record, or one of the targets.
    """
    require(actor, "record.map", record)
    targets = [c for c in dict.fromkeys(collections) if c.id != record.collection_id]
    current = {c.id for c in record.mapped_collections}
    for collection in targets:
        if collection.id not in current and not can(actor, "collection.curate", collection):
            raise PermissionDenied(_("You may map records only into collections you curate."))
    before = sorted(c.slug for c in record.mapped_collections)
    with unit_of_work():
        record.mapped_collections = targets
        after = sorted(c.slug for c in targets)
        if before != after:
            record.lock_version += 1
            audit.record("record_mapping", actor=actor, obj=record,
                         details={"before": before, "after": after})
            record_history(record, actor, "mapping", record.status, record.status,
                     ", ".join(after))
        hooks.record_changed(record.id)


@dataclass
class ReviewQueue:
    pool: list[ReviewTask] = field(default_factory=list)
    mine: list[ReviewTask] = field(default_factory=list)
    others: list[ReviewTask] = field(default_factory=list)
    # Tasks of the pool the user may not take (why), and when each record was submitted.
    refused: dict[int, str] = field(default_factory=dict)
    submitted: dict[int, datetime] = field(default_factory=dict)


def review_queue(user: User) -> ReviewQueue:
    """The open tasks of the collections ``user`` curates, oldest first."""
    tasks = db.session.scalars(
        select(ReviewTask).where(ReviewTask.status != TaskStatus.DONE)
        .order_by(ReviewTask.created_at, ReviewTask.id)
    )
    queue = ReviewQueue()
    for task in tasks:
        if not can(user, "record.curate", task.record):
            continue
        if task.status == TaskStatus.POOL:
            queue.pool.append(task)
            if (refused := step_refused(user, task)) is not None:
                queue.refused[task.id] = refused
        elif task.claimed_by_id == user.id:
            queue.mine.append(task)
        else:
            queue.others.append(task)
    record_ids = {t.record_id for t in [*queue.pool, *queue.mine, *queue.others]}
    if record_ids:
        queue.submitted = dict(db.session.execute(
            select(WorkflowEvent.record_id, func.max(WorkflowEvent.at))
            .where(WorkflowEvent.record_id.in_(record_ids), WorkflowEvent.action == "submit")
            .group_by(WorkflowEvent.record_id)).all())
    return queue


def get_task(user: User, task_id: int) -> ReviewTask:
    """A task of a collection ``user`` curates (open or decided).

    :raise NotFound: no such task, or not one ``user`` curates.
    """
    task = db.session.get(ReviewTask, task_id)
    if task is None or not can(user, "record.curate", task.record):
        raise NotFound()
    return task


def history(record: Record) -> list[WorkflowEvent]:
    return list(db.session.scalars(
        select(WorkflowEvent).where(WorkflowEvent.record_id == record.id)
        .order_by(WorkflowEvent.at, WorkflowEvent.id)
    ))
