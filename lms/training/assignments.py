"""Assignments: a course or a track required of audiences and people, with a due date; and
the enrolments they make.

Enrolment is set-based and idempotent: :func:`sync_assignment` works out who the assignment
should reach now, compares it with who it reaches, and inserts or ends the difference in bulk.
Running it twice, or after a crash halfway, enrols no one twice. Large audiences go through the
``training.enrol`` job, in chunks with progress.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, delete, exists, func, insert, select, update

from lms import audit
from lms.accounts.models import Unit, User
from lms.db import chunked, utcnow
from lms.errors import PermissionDenied, ValidationError
from lms.extensions import db
from lms.jobs import JobContext, enqueue, job
from lms.permissions import can, get_permitted, require
from lms.text import escape_like
from lms.training import events
from lms.training.access import managed_assignments
from lms.training.models import (
    Assignment,
    AssignmentLearner,
    Audience,
    AudienceMember,
    Course,
    DueKind,
    Enrolment,
    EnrolmentStatus,
    Lesson,
    LessonProgress,
    Track,
    TrackCourse,
    Verb,
    assignment_people,
)
from lms.training.progress import enrolment_of, recount_tracks, write_statements
from lms.uow import locked_change, unit_of_work

DUE_LABELS = {
    DueKind.NONE: _l("No due date"),
    DueKind.FIXED: _l("On a fixed date"),
    DueKind.AFTER_JOINING: _l("Within N days of joining the audience"),
    DueKind.AFTER_ASSIGNED: _l("Within N days of being assigned"),
}
MAX_DUE_DAYS = 3650
CHUNK = 1000


@dataclass
class DueSpec:
    kind: str = DueKind.NONE
    due_at: datetime | None = None
    days: int | None = None
    starts_at: datetime | None = None


def check_due(spec: DueSpec, now: datetime) -> list[str]:
    """The warnings a due date deserves.

    :raise ValidationError: an incomplete or impossible due date.
    """
    warnings: list[str] = []
    if spec.kind not in set(DueKind):
        raise ValidationError(_("Choose how the due date is set."))
    if spec.kind == DueKind.FIXED:
        if spec.due_at is None:
            raise ValidationError(_("Give the due date."))
        if spec.due_at < now:
            warnings.append(_("The due date is in the past: everyone is overdue at once."))
    if spec.kind in (DueKind.AFTER_JOINING, DueKind.AFTER_ASSIGNED) and (
            spec.days is None or not 1 <= spec.days <= MAX_DUE_DAYS):
        raise ValidationError(_("Give the number of days, from 1 to %(n)d.", n=MAX_DUE_DAYS))
    if spec.starts_at is not None and spec.kind == DueKind.FIXED and spec.due_at is not None \
            and spec.starts_at > spec.due_at:
        raise ValidationError(_("The start date is after the due date."))
    return warnings


@dataclass
class Created:
    assignment: Assignment
    warnings: list[str] = field(default_factory=list)
    job_id: int | None = None
    enrolled: int = 0


def create_assignment(actor: User, *, course: Course | None = None, track: Track | None = None,
                      audiences: Collection[Audience] = (), people: Collection[User] = (),
                      due: DueSpec) -> Created:
    """Assign a course or a track, then enrol whoever it reaches (at once, or by a job when
    they are many).

    :raise PermissionDenied: ``actor`` may not assign the item, use an audience or reach a
        person.
    :raise ValidationError: nothing to assign, no one to assign it to, or a bad due date.
    """
    require(actor, "assignment.create")
    if (course is None) == (track is None):
        raise ValidationError(_("Choose a course or a track to assign."))
    if course is not None:
        require(actor, "course.assign", course)
    else:
        require(actor, "track.assign", track)
    for audience in audiences:
        require(actor, "audience.manage", audience)
    for person in people:
        require(actor, "person.reach", person)
    if not audiences and not people:
        raise ValidationError(_("Choose at least one audience or person."))
    now = utcnow()
    warnings = check_due(due, now)
    empty = [a.name for a in audiences if a.member_count == 0]
    if empty:
        warnings.append(_("%(names)s has no members now: people who join later are enrolled "
                          "when they join.", names=", ".join(empty)))
    with unit_of_work():
        assignment = Assignment(
            course_id=course.id if course else None, track_id=track.id if track else None,
            due_kind=due.kind, due_at=due.due_at if due.kind == DueKind.FIXED else None,
            due_days=due.days if due.kind in (DueKind.AFTER_JOINING, DueKind.AFTER_ASSIGNED)
            else None, starts_at=due.starts_at, created_by_id=actor.id, created_at=now,
            audiences=list({a.id: a for a in audiences}.values()),
            people=list({p.id: p for p in people}.values()))
        audit.record_new("assignment_create", actor=actor, obj=assignment,
                         details={"course": assignment.course_id, "track": assignment.track_id,
                                  "audiences": [a.id for a in assignment.audiences],
                                  "people": [p.id for p in assignment.people],
                                  "due": due.kind})
    result = Created(assignment, warnings)
    reach = len(targets(assignment))
    if reach <= current_app.config["AUDIENCE_INLINE_CHANGES"]:
        with unit_of_work():
            sync_assignment(assignment)
        result.enrolled = reach
    else:
        result.job_id = start_enrol_job(actor, assignment)
    return result


def start_enrol_job(actor: User | None, assignment: Assignment) -> int:
    job_row = enqueue("training.enrol", owner=actor, assignment_id=assignment.id)
    with unit_of_work():
        db.session.execute(update(Assignment).where(Assignment.id == assignment.id)
                           .values(job_id=job_row.id))
    return job_row.id


def of_course(course: Course) -> list[Assignment]:
    return list(db.session.scalars(select(Assignment).where(
        Assignment.course_id == course.id).order_by(Assignment.created_at.desc())))


def get_assignment(actor: User, assignment_id: int) -> Assignment:
    return get_permitted(actor, "assignment.view_progress", Assignment, assignment_id)


def visible_assignments(actor: User) -> Select:
    """Assignments ``actor`` manages, newest first."""
    return select(Assignment).where(managed_assignments(actor)).order_by(
        Assignment.created_at.desc(), Assignment.id.desc())


# --- who an assignment reaches -------------------------------------------------------------

def targets(assignment: Assignment,
            user_ids: Collection[int] | None = None) -> dict[int, datetime]:
    """Person → since when the assignment reaches them (the earliest current stay in one of
    its audiences, or the assignment's creation for people named directly)."""
    if not assignment.active:
        return {}
    found: dict[int, datetime] = {}
    audience_ids = [a.id for a in assignment.audiences]
    if audience_ids:
        stmt = (select(AudienceMember.user_id, func.min(AudienceMember.started_at))
                .where(AudienceMember.audience_id.in_(audience_ids),
                       AudienceMember.ended_at.is_(None))
                .group_by(AudienceMember.user_id))
        for chunk in _chunks(user_ids):
            where = stmt if chunk is None else stmt.where(AudienceMember.user_id.in_(chunk))
            found.update(db.session.execute(where).all())
    people_stmt = select(assignment_people.c.user_id).where(
        assignment_people.c.assignment_id == assignment.id)
    for chunk in _chunks(user_ids):
        where = people_stmt if chunk is None else people_stmt.where(
            assignment_people.c.user_id.in_(chunk))
        for user_id in db.session.scalars(where):
            found[user_id] = min(found.get(user_id, assignment.created_at),
                                 assignment.created_at)
    return found


def _chunks(user_ids: Collection[int] | None) -> Iterable[list[int] | None]:
    if user_ids is None:
        yield None
        return
    yield from (list(chunk) for chunk in chunked(sorted(user_ids), 500))


def _items(assignment: Assignment) -> list[tuple[int | None, int | None, bool]]:
    """(course id, track id, primary) of the enrolments an assignment makes: the course; or
    the track and its required courses."""
    if assignment.course_id is not None:
        return [(assignment.course_id, None, True)]
    courses = db.session.scalars(select(TrackCourse.course_id).where(
        TrackCourse.track_id == assignment.track_id, TrackCourse.required.is_(True))
        .order_by(TrackCourse.position))
    return [(None, assignment.track_id, True)] + [(c, None, False) for c in courses]


def _due(assignment: Assignment, since: datetime, assigned_at: datetime) -> datetime | None:
    if assignment.due_kind == DueKind.FIXED:
        return assignment.due_at
    if assignment.due_kind == DueKind.AFTER_JOINING:
        return since + timedelta(days=assignment.due_days or 0)
    if assignment.due_kind == DueKind.AFTER_ASSIGNED:
        return assigned_at + timedelta(days=assignment.due_days or 0)
    return None


def sync_assignment(assignment: Assignment, user_ids: Collection[int] | None = None,
                    now: datetime | None = None) -> int:
    """Make the assignment's learners match who it reaches (only ``user_ids`` if given):
    enrol newcomers, reactivate returners, release leavers. Returns how many it newly
    reached. Runs inside the caller's transaction."""
    now = now or utcnow()
    want = targets(assignment, user_ids)
    newly = 0
    for course_id, track_id, primary in _items(assignment):
        enrolments = ensure_enrolments(want, course_id=course_id, track_id=track_id,
                                       source="assigned", now=now)
        learners = _learners(assignment.id, user_ids, course_id, track_id)
        considered = set(want) | set(learners) if user_ids is None else set(user_ids)
        new_rows, back, leaving = [], [], []
        for user_id in considered:
            row = learners.get(user_id)
            if user_id in want:
                due = _due(assignment, want[user_id], now)
                if row is None:
                    new_rows.append({"assignment_id": assignment.id, "user_id": user_id,
                                     "enrolment_id": enrolments[user_id], "primary": primary,
                                     "since": want[user_id], "due_at": due, "active": True,
                                     "assigned_at": now})
                elif not row.active:
                    back.append({"id": row.id, "since": want[user_id], "due_at": due,
                                 "active": True, "assigned_at": now, "ended_at": None})
            elif row is not None and row.active:
                leaving.append({"id": row.id, "active": False, "ended_at": now})
        if new_rows:
            db.session.execute(insert(AssignmentLearner), new_rows)
        if back or leaving:
            db.session.execute(update(AssignmentLearner), back + leaving)
        if primary:
            newly += len(new_rows) + len(back)
        enrolment_of_row = {row.id: row.enrolment_id for row in learners.values()}
        recompute_enrolments([r["enrolment_id"] for r in new_rows] +
                             [enrolment_of_row[r["id"]] for r in back + leaving])
    return newly


def _learners(assignment_id: int, user_ids: Collection[int] | None,
              course_id: int | None, track_id: int | None) -> dict[int, AssignmentLearner]:
    """Person → their learner row of this assignment for this course or track."""
    stmt = (select(AssignmentLearner.id, AssignmentLearner.user_id, AssignmentLearner.active,
                   AssignmentLearner.enrolment_id)
            .join(Enrolment, Enrolment.id == AssignmentLearner.enrolment_id)
            .where(AssignmentLearner.assignment_id == assignment_id,
                   Enrolment.course_id == course_id if course_id is not None
                   else Enrolment.track_id == track_id))
    rows: dict[int, AssignmentLearner] = {}
    for chunk in _chunks(user_ids):
        where = stmt if chunk is None else stmt.where(AssignmentLearner.user_id.in_(chunk))
        for row in db.session.execute(where):
            rows[row.user_id] = row  # type: ignore[assignment]
    return rows


def required_total(course_id: int | None, track_id: int | None) -> int:
    if course_id is not None:
        return db.session.scalar(select(func.count(Lesson.id)).where(
            Lesson.course_id == course_id, Lesson.required.is_(True),
            Lesson.removed_at.is_(None))) or 0
    return db.session.scalar(select(func.count(TrackCourse.id)).where(
        TrackCourse.track_id == track_id, TrackCourse.required.is_(True))) or 0


def ensure_enrolments(user_ids: Collection[int], *, course_id: int | None = None,
                      track_id: int | None = None, source: str,
                      now: datetime | None = None) -> dict[int, int]:
    """Person → their enrolment in the course or track, created (with a "registered"
    statement) where missing; existing ones, and their progress, are kept."""
    now = now or utcnow()
    column = Enrolment.course_id if course_id is not None else Enrolment.track_id
    item_id = course_id if course_id is not None else track_id
    found: dict[int, int] = {}
    for chunk in chunked(sorted(user_ids), 500):
        found.update(db.session.execute(select(Enrolment.user_id, Enrolment.id).where(
            column == item_id, Enrolment.user_id.in_(chunk))).all())
    missing = sorted(set(user_ids) - set(found))
    if not missing:
        return found
    total = required_total(course_id, track_id)
    units: dict[int, int | None] = {}
    for chunk in chunked(missing, 500):
        units.update(db.session.execute(select(User.id, User.unit_id).where(
            User.id.in_(chunk))).all())
    rows = [{"user_id": user_id, "course_id": course_id, "track_id": track_id,
             "unit_id": units.get(user_id), "source": source,
             "status": EnrolmentStatus.NOT_STARTED, "required": False, "enrolled_at": now,
             "required_total": total, "required_done": 0, "items_done": 0,
             "time_spent_seconds": 0} for user_id in missing]
    for chunk in chunked(rows, 1000):
        ids = db.session.scalars(insert(Enrolment).returning(
            Enrolment.id, sort_by_parameter_order=True), list(chunk)).all()
        for row, enrolment_id in zip(chunk, ids, strict=True):
            found[row["user_id"]] = enrolment_id
    write_statements([{"actor_id": user_id, "verb": Verb.REGISTERED,
                       "object_type": "course" if course_id is not None else "track",
                       "object_id": item_id, "course_id": course_id,
                       "enrolment_id": found[user_id], "timestamp": now,
                       "context": {"source": source}} for user_id in missing])
    if track_id is not None:
        recount_tracks([found[u] for u in missing], now)
    else:
        events.enrolments_added([found[u] for u in missing])
    return found


def recompute_enrolments(enrolment_ids: Iterable[int]) -> None:
    """``required``, ``due_at`` and ``starts_at`` of enrolments, from their active learners
    (a recertification's own due date, when there is one, wins)."""
    al = AssignmentLearner
    active = and_(al.enrolment_id == Enrolment.id, al.active.is_(True))
    starts = (select(func.min(Assignment.starts_at))
              .join(al, al.assignment_id == Assignment.id).where(active).scalar_subquery())
    for chunk in chunked(sorted(set(enrolment_ids)), 500):
        db.session.execute(
            update(Enrolment).where(Enrolment.id.in_(chunk))
            .values(required=exists().where(active) | Enrolment.renew_due_at.is_not(None),
                    due_at=func.coalesce(Enrolment.renew_due_at, select(func.min(al.due_at))
                                         .where(active).scalar_subquery()),
                    starts_at=starts)
            .execution_options(synchronize_session=False))


def enrol_in_chunks(ctx: JobContext | None, assignment: Assignment) -> int:
    """Sync a whole assignment, a chunk of people per transaction (so progress shows and a
    crash loses at most a chunk, which the next run redoes)."""
    want = targets(assignment)
    reached = set(db.session.scalars(select(AssignmentLearner.user_id).where(
        AssignmentLearner.assignment_id == assignment.id)))
    people = sorted(set(want) | reached)
    newly = 0
    for done, chunk in enumerate(chunked(people, CHUNK), start=1):
        with unit_of_work():
            newly += sync_assignment(assignment, chunk)
        if ctx is not None:
            count = min(done * CHUNK, len(people))
            ctx.progress(count, len(people), _("%(done)d of %(total)d people enrolled.",
                                               done=count, total=len(people)))
    return newly


@job("training.enrol")
def enrol_job(ctx: JobContext, assignment_id: int) -> dict[str, object]:
    """Enrol everyone an assignment reaches (idempotent)."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        return {"missing": True}
    return {"newly_enrolled": enrol_in_chunks(ctx, assignment)}


# --- changing and cancelling ---------------------------------------------------------------

def _stale() -> str:
    return _("This assignment was changed since you opened it. Reload it, then make your "
             "change again.")


def change_due(actor: User, assignment: Assignment, due: DueSpec,
               lock_version: int) -> list[str]:
    """New due date settings, applied to everyone the assignment reaches."""
    require(actor, "assignment.manage", assignment)
    warnings = check_due(due, utcnow())
    with locked_change(assignment, lock_version, _stale()):
        assignment.due_kind = due.kind
        assignment.due_at = due.due_at if due.kind == DueKind.FIXED else None
        assignment.due_days = due.days if due.kind in (DueKind.AFTER_JOINING,
                                                       DueKind.AFTER_ASSIGNED) else None
        assignment.starts_at = due.starts_at
        rows = db.session.execute(select(AssignmentLearner.id, AssignmentLearner.since,
                                         AssignmentLearner.assigned_at,
                                         AssignmentLearner.enrolment_id).where(
            AssignmentLearner.assignment_id == assignment.id)).all()
        if rows:
            db.session.execute(update(AssignmentLearner), [
                {"id": r.id, "due_at": _due(assignment, r.since, r.assigned_at)} for r in rows])
        recompute_enrolments(r.enrolment_id for r in rows)
        audit.record("assignment_due", actor=actor, obj=assignment, details={"due": due.kind})
    return warnings


def cancel_assignment(actor: User, assignment: Assignment) -> None:
    """Nobody is required to do it any more; progress is kept."""
    require(actor, "assignment.manage", assignment)
    with unit_of_work():
        assignment.active = False
        assignment.cancelled_at = utcnow()
        sync_assignment(assignment)
        audit.record("assignment_cancel", actor=actor, obj=assignment)


# --- the trainer's view --------------------------------------------------------------------

STATUS_FILTERS = ("not_started", "in_progress", "completed", "overdue", "left")


def learners(assignment: Assignment, *, status: str = "", query: str = "",
             unit: Unit | None = None) -> Select:
    """The assignment's learners with their enrolment and unit, for a paginated table."""
    al = AssignmentLearner
    stmt = (select(User, Enrolment, al.active, al.due_at, Unit.name)
            .select_from(al)
            .join(Enrolment, Enrolment.id == al.enrolment_id)
            .join(User, User.id == al.user_id)
            .outerjoin(Unit, Unit.id == User.unit_id)
            .where(al.assignment_id == assignment.id, al.primary.is_(True))
            .order_by(User.full_name, User.username, User.id))
    now = utcnow()
    if status == "left":
        stmt = stmt.where(al.active.is_(False))
    elif status == "overdue":
        stmt = stmt.where(al.active.is_(True), al.due_at < now,
                          Enrolment.status != EnrolmentStatus.COMPLETED)
    elif status in STATUS_FILTERS:
        stmt = stmt.where(al.active.is_(True), Enrolment.status == status)
    if query:
        like = f"%{escape_like(query.lower())}%"
        stmt = stmt.where(func.lower(User.username).like(like, escape="\\")
                          | func.lower(User.full_name).like(like, escape="\\"))
    if unit is not None:
        from lms.accounts.services import subtree_ids

        stmt = stmt.where(User.unit_id.in_(sorted(subtree_ids(unit.id))))
    return stmt


def summary(assignment: Assignment) -> dict[str, int]:
    """Counts for the assignment page, in one aggregate query."""
    al = AssignmentLearner
    now = utcnow()
    active = al.active.is_(True)
    row = db.session.execute(
        select(func.count(al.id),
               func.sum(case((active, 1), else_=0)),
               func.sum(case((and_(active, Enrolment.status == EnrolmentStatus.NOT_STARTED),
                              1), else_=0)),
               func.sum(case((and_(active, Enrolment.status == EnrolmentStatus.IN_PROGRESS),
                              1), else_=0)),
               func.sum(case((and_(active, Enrolment.status == EnrolmentStatus.COMPLETED),
                              1), else_=0)),
               func.sum(case((and_(active, al.due_at < now,
                                   Enrolment.status != EnrolmentStatus.COMPLETED), 1),
                             else_=0)))
        .join(Enrolment, Enrolment.id == al.enrolment_id)
        .where(al.assignment_id == assignment.id, al.primary.is_(True))).one()
    keys = ("reached", "active", "not_started", "in_progress", "completed", "overdue")
    return {key: int(value or 0) for key, value in zip(keys, row, strict=True)}


# --- enrolments outside assignments ---------------------------------------------------------

def enrol_self(user: User, course: Course) -> bool:
    """Join an open course; returns False if already enrolled.

    :raise PermissionDenied: the course is not open for self-enrolment.
    """
    if not can(user, "course.enrol_self", course):
        raise PermissionDenied(_("This course is not open for enrolment."))
    with unit_of_work():
        if enrolment_of(user, course) is not None:
            return False
        ensure_enrolments([user.id], course_id=course.id, source="self")
    return True


def restart_enrolments(enrolment_ids: Collection[int], due_at: datetime,
                       now: datetime | None = None) -> list[int]:
    """Learners take these courses or tracks again (a certificate's renewal): progress starts
    over, due on ``due_at`` whatever their assignments say; what they did before stays in the
    statements. A track restarts with its required courses. Returns the enrolments
    restarted, in the caller's transaction."""
    now = now or utcnow()
    ids = set(enrolment_ids)
    tracks = db.session.execute(select(Enrolment.user_id, Enrolment.track_id).where(
        Enrolment.id.in_(sorted(ids)), Enrolment.track_id.is_not(None))).all()
    for user_id, track_id in tracks:
        ids |= set(db.session.scalars(
            select(Enrolment.id).join(TrackCourse, TrackCourse.course_id == Enrolment.course_id)
            .where(TrackCourse.track_id == track_id, TrackCourse.required.is_(True),
                   Enrolment.user_id == user_id)))
    restarted = sorted(ids)
    for chunk in chunked(restarted, 500):
        db.session.execute(delete(LessonProgress).where(LessonProgress.enrolment_id.in_(chunk)))
        db.session.execute(
            update(Enrolment).where(Enrolment.id.in_(chunk))
            .values(status=EnrolmentStatus.NOT_STARTED, required_done=0, items_done=0,
                    started_at=None, completed_at=None, last_lesson_id=None,
                    renew_due_at=due_at)
            .execution_options(synchronize_session=False))
    recompute_enrolments(restarted)
    rows = db.session.execute(select(Enrolment.id, Enrolment.user_id, Enrolment.course_id,
                                     Enrolment.track_id).where(Enrolment.id.in_(restarted)))
    write_statements([{"actor_id": r.user_id, "verb": Verb.REGISTERED,
                       "object_type": "course" if r.course_id else "track",
                       "object_id": r.course_id or r.track_id, "course_id": r.course_id,
                       "enrolment_id": r.id, "timestamp": now,
                       "context": {"source": "renewal"}} for r in rows])
    db.session.expire_all()
    return restarted
