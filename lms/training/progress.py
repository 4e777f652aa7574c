"""Learning: opening lessons, completing them, and progress kept up to date incrementally.

Every event is appended to ``learning_statements`` (actor, verb, object, timestamp, result),
the one table reports and a later xAPI export read. Progress per enrolment (counters, status,
last lesson) is updated by the same transaction, with conditional statements, so that two
clicks at the same moment count once and no page recomputes progress from the events.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from lms.accounts.models import User
from lms.db import chunked, utcnow
from lms.errors import NotFound, PermissionDenied
from lms.extensions import db
from lms.labelled import LabelledEnum
from lms.permissions import can
from lms.training import events
from lms.training.models import (
    Course,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    LearningStatement,
    Lesson,
    LessonKind,
    LessonProgress,
    LessonState,
    Track,
    TrackCourse,
    Verb,
)
from lms.uow import unit_of_work

STATUS_LABELS = EnrolmentStatus.labels()
# A heartbeat more than this after the previous one starts a new stretch of reading.
HEARTBEAT_GAP = timedelta(minutes=2)


def write_statements(rows: Sequence[dict[str, Any]]) -> None:
    """Append statements in bulk (each gets its xAPI id here)."""
    if not rows:
        return
    now = utcnow()
    for chunk in chunked(list(rows), 1000):
        db.session.execute(insert(LearningStatement), [
            {"uuid": str(uuid.uuid4()), "timestamp": now, "course_id": None,
             "enrolment_id": None, "context": {}, **row} for row in chunk])


# --- where a learner stands ----------------------------------------------------------------

class LessonStatus(LabelledEnum):
    LOCKED = "locked", _l("Locked")
    AVAILABLE = "available", _l("Available")
    IN_PROGRESS = "in_progress", _l("In progress")
    DONE = "done", _l("Done")


LESSON_STATUS_LABELS = LessonStatus.labels()


@dataclass
class LessonLine:
    lesson: Lesson
    status: str
    locked_by: Lesson | None = None  # the earlier required lesson still to complete
    time_spent_seconds: int = 0


@dataclass
class Outline:
    course: Course
    enrolment: Enrolment | None
    lines: list[LessonLine] = field(default_factory=list)
    opens_at: datetime | None = None  # an assignment's start date still to come

    @property
    def next_line(self) -> LessonLine | None:
        """The lesson to continue with: the first one not done that is open."""
        return next((line for line in self.lines if line.status in
                     (LessonStatus.IN_PROGRESS, LessonStatus.AVAILABLE)), None)

    def line_of(self, lesson: Lesson) -> LessonLine | None:
        return next((line for line in self.lines if line.lesson.id == lesson.id), None)


def current_lessons(course_id: int) -> list[Lesson]:
    return list(db.session.scalars(select(Lesson).where(
        Lesson.course_id == course_id, Lesson.removed_at.is_(None))
        .order_by(Lesson.position, Lesson.id)))


def enrolment_of(user: User, course: Course) -> Enrolment | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id,
                                                     Enrolment.course_id == course.id))


def outline(user: User, course: Course, now: datetime | None = None) -> Outline:
    """Each current lesson of ``course`` with its state for ``user``."""
    now = now or utcnow()
    enrolment = enrolment_of(user, course)
    result = Outline(course, enrolment)
    progress: dict[int, LessonProgress] = {}
    if enrolment is not None:
        progress = {p.lesson_id: p for p in db.session.scalars(select(LessonProgress).where(
            LessonProgress.enrolment_id == enrolment.id))}
        if enrolment.starts_at is not None and enrolment.starts_at > now:
            result.opens_at = enrolment.starts_at
    blocking: Lesson | None = None
    for lesson in current_lessons(course.id):
        row = progress.get(lesson.id)
        done = row is not None and row.state == LessonState.COMPLETED
        if done:
            status = LessonStatus.DONE
        elif enrolment is None or result.opens_at is not None or (
                course.sequential and blocking is not None):
            status = LessonStatus.LOCKED
        else:
            status = LessonStatus.IN_PROGRESS if row is not None else LessonStatus.AVAILABLE
        result.lines.append(LessonLine(lesson, status,
                                       blocking if course.sequential and not done else None,
                                       row.time_spent_seconds if row else 0))
        if lesson.required and not done and blocking is None:
            blocking = lesson
    return result


def find_lesson(user: User, course_id: int, lesson_id: int) -> tuple[Course, Lesson]:
    """The course and lesson a learner asks for. A draft or unknown course is "not found";
    for any other, :func:`check_open` tells them why they cannot open it, if they cannot.

    :raise NotFound: no such course or lesson, or a course still in draft.
    """
    course = db.session.get(Course, course_id)
    if course is None or (not course.is_published and not can(user, "course.edit", course)):
        raise NotFound()
    return course, course_lesson(course, lesson_id)


def track_enrolment(user: User, track: Track) -> Enrolment | None:
    return db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id,
                                                     Enrolment.track_id == track.id))


def course_lesson(course: Course, lesson_id: int) -> Lesson:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.course_id != course.id or lesson.removed_at is not None:
        raise NotFound()
    return lesson


def check_open(user: User, course: Course, lesson: Lesson, now: datetime | None = None
               ) -> Outline:
    """The outline, if ``user`` may open ``lesson`` now.

    :raise PermissionDenied: not enrolled, or the lesson is locked; the message says why and
        what to do.
    """
    if not can(user, "lesson.open", lesson):
        if can(user, "course.enrol_self", course):
            raise PermissionDenied(_("You are not enrolled in this course. Enrol on the course "
                                     "page first, then open its lessons."))
        raise PermissionDenied(_("This lesson belongs to a course you are not enrolled in. "
                                 "Ask your training officer to assign the course to you."))
    result = outline(user, course, now)
    if result.enrolment is None:
        return result  # an owner or an admin looking at the course: nothing is recorded
    line = result.line_of(lesson)
    if result.opens_at is not None:
        raise PermissionDenied(_("This course opens on %(date)s.",
                                 date=result.opens_at.strftime("%Y-%m-%d")))
    if line is not None and line.status == LessonStatus.LOCKED and line.locked_by is not None:
        raise PermissionDenied(_("This lesson is locked: lessons of this course are taken in "
                                 "order, and it opens once you complete “%(previous)s”.",
                                 previous=line.locked_by.title))
    return result


# --- recording -----------------------------------------------------------------------------

def _progress_row(enrolment_id: int, lesson: Lesson, now: datetime) -> tuple[int, bool]:
    """The learner's progress row for ``lesson`` (made on first opening): (id, new)."""
    found = db.session.scalar(select(LessonProgress.id).where(
        LessonProgress.enrolment_id == enrolment_id, LessonProgress.lesson_id == lesson.id))
    if found is not None:
        return found, False
    try:
        with db.session.begin_nested():
            new_id = db.session.scalar(insert(LessonProgress).returning(LessonProgress.id),
                                       [{"enrolment_id": enrolment_id, "lesson_id": lesson.id,
                                         "state": LessonState.IN_PROGRESS,
                                         "first_opened_at": now, "last_seen_at": now,
                                         "time_spent_seconds": 0}])
        return new_id, True
    except IntegrityError:
        # The same lesson opened twice at the same moment: the other request made the row.
        return db.session.scalar(select(LessonProgress.id).where(
            LessonProgress.enrolment_id == enrolment_id,
            LessonProgress.lesson_id == lesson.id)), False


def record_open(user: User, enrolment: Enrolment, lesson: Lesson, *, completes: bool,
                now: datetime | None = None) -> None:
    """The learner opened ``lesson``'s material in the course: "experienced" is recorded the
    first time, and the lesson completes if opening is what completes it."""
    now = now or utcnow()
    with unit_of_work():
        progress_id, new = _progress_row(enrolment.id, lesson, now)
        if new:
            write_statements([{"actor_id": user.id, "verb": Verb.EXPERIENCED,
                               "object_type": "lesson", "object_id": lesson.id,
                               "course_id": lesson.course_id, "enrolment_id": enrolment.id,
                               "timestamp": now, "context": {"kind": lesson.kind}}])
        _touch(enrolment.id, lesson.id, now)
        if completes:
            _complete(user.id, enrolment.id, lesson, progress_id, now)


def mark_done(user: User, course: Course, lesson: Lesson) -> bool:
    """A page lesson marked read; returns False if it was done already.

    :raise PermissionDenied: as :func:`check_open`, or a lesson that completes otherwise.
    """
    result = check_open(user, course, lesson)
    if result.enrolment is None:
        raise PermissionDenied(_("Only enrolled learners record progress."))
    if lesson.kind != LessonKind.PAGE:
        raise PermissionDenied(_("This lesson completes when its material is opened."))
    now = utcnow()
    with unit_of_work():
        progress_id, _new = _progress_row(result.enrolment.id, lesson, now)
        _touch(result.enrolment.id, lesson.id, now)
        return _complete(user.id, result.enrolment.id, lesson, progress_id, now)


def complete_quiz_lesson(user_id: int, lesson: Lesson, now: datetime) -> bool:
    """The learner passed the quiz of ``lesson``: the lesson completes (and perhaps its
    course and tracks), in the caller's transaction. Returns False if it was complete
    already or the learner is not enrolled in its course."""
    enrolment_id = db.session.scalar(select(Enrolment.id).where(
        Enrolment.user_id == user_id, Enrolment.course_id == lesson.course_id))
    if enrolment_id is None:
        return False
    progress_id, _new = _progress_row(enrolment_id, lesson, now)
    _touch(enrolment_id, lesson.id, now)
    return _complete(user_id, enrolment_id, lesson, progress_id, now)


def _touch(enrolment_id: int, lesson_id: int, now: datetime) -> None:
    db.session.execute(
        update(Enrolment).where(Enrolment.id == enrolment_id)
        .values(last_activity_at=now, last_lesson_id=lesson_id,
                started_at=func.coalesce(Enrolment.started_at, now),
                status=case((Enrolment.status == EnrolmentStatus.NOT_STARTED,
                             EnrolmentStatus.IN_PROGRESS.value), else_=Enrolment.status))
        .execution_options(synchronize_session=False))


def _complete(user_id: int, enrolment_id: int, lesson: Lesson, progress_id: int,
              now: datetime) -> bool:
    """Complete a lesson once (a conditional update decides), then its course and tracks."""
    claimed = db.session.execute(
        update(LessonProgress)
        .where(LessonProgress.id == progress_id, LessonProgress.state != LessonState.COMPLETED)
        .values(state=LessonState.COMPLETED, completed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return False
    spent = db.session.scalar(select(LessonProgress.time_spent_seconds).where(
        LessonProgress.id == progress_id))
    statements = [{"actor_id": user_id, "verb": Verb.COMPLETED, "object_type": "lesson",
                   "object_id": lesson.id, "course_id": lesson.course_id,
                   "enrolment_id": enrolment_id, "timestamp": now, "result_completion": True,
                   "result_duration_seconds": spent}]
    db.session.execute(
        update(Enrolment).where(Enrolment.id == enrolment_id)
        .values(items_done=Enrolment.items_done + 1,
                required_done=Enrolment.required_done + (1 if lesson.required else 0))
        .execution_options(synchronize_session=False))
    write_statements(statements)
    completed = _complete_courses([enrolment_id], now)
    if completed:
        _follow_tracks(completed, now)
    db.session.expire_all()
    return True


def _complete_courses(enrolment_ids: Iterable[int], now: datetime) -> list[int]:
    """Enrolments (of ``enrolment_ids``) whose required lessons are all done become complete;
    returns those that just did."""
    done: list[int] = []
    for chunk in chunked(sorted(set(enrolment_ids)), 500):
        ready = db.session.execute(select(Enrolment.id, Enrolment.user_id, Enrolment.course_id,
                                          Enrolment.track_id, Enrolment.time_spent_seconds)
                                   .where(Enrolment.id.in_(chunk),
                                          Enrolment.status != EnrolmentStatus.COMPLETED,
                                          Enrolment.required_total > 0,
                                          Enrolment.required_done >= Enrolment.required_total)
                                   ).all()
        if not ready:
            continue
        ids = [r.id for r in ready]
        db.session.execute(update(Enrolment).where(
            Enrolment.id.in_(ids), Enrolment.status != EnrolmentStatus.COMPLETED)
            .values(status=EnrolmentStatus.COMPLETED, completed_at=now,
                    started_at=func.coalesce(Enrolment.started_at, now))
            .execution_options(synchronize_session=False))
        write_statements([{"actor_id": r.user_id, "verb": Verb.COMPLETED,
                           "object_type": "course" if r.course_id else "track",
                           "object_id": r.course_id or r.track_id, "course_id": r.course_id,
                           "enrolment_id": r.id, "timestamp": now, "result_completion": True,
                           "result_duration_seconds": r.time_spent_seconds} for r in ready])
        done += ids
    events.enrolments_completed(done)
    return done


def _follow_tracks(course_enrolment_ids: Sequence[int], now: datetime) -> None:
    """Courses completed: the tracks their learners follow recount."""
    completed = aliased(Enrolment)
    track_enrolments = db.session.scalars(
        select(Enrolment.id).distinct()
        .join(TrackCourse, TrackCourse.track_id == Enrolment.track_id)
        .join(completed, and_(completed.course_id == TrackCourse.course_id,
                              completed.user_id == Enrolment.user_id))
        .where(completed.id.in_(course_enrolment_ids))).all()
    if track_enrolments:
        recount_tracks(track_enrolments, now)


def recount_tracks(track_enrolment_ids: Iterable[int], now: datetime,
                   reopen: bool = False) -> None:
    """Track enrolments recount their required courses done (and complete, or with
    ``reopen``, fall back to in progress)."""
    course = aliased(Enrolment)
    done = (select(func.count(TrackCourse.id))
            .join(course, and_(course.course_id == TrackCourse.course_id,
                               course.user_id == Enrolment.user_id))
            .where(TrackCourse.track_id == Enrolment.track_id, TrackCourse.required.is_(True),
                   course.status == EnrolmentStatus.COMPLETED).scalar_subquery())
    total = (select(func.count(TrackCourse.id))
             .where(TrackCourse.track_id == Enrolment.track_id, TrackCourse.required.is_(True))
             .scalar_subquery())
    ids = sorted(set(track_enrolment_ids))
    for chunk in chunked(ids, 500):
        db.session.execute(update(Enrolment).where(Enrolment.id.in_(chunk))
                           .values(required_done=done, required_total=total, items_done=done)
                           .execution_options(synchronize_session=False))
        db.session.execute(update(Enrolment).where(
            Enrolment.id.in_(chunk), Enrolment.status == EnrolmentStatus.NOT_STARTED,
            Enrolment.required_done > 0).values(status=EnrolmentStatus.IN_PROGRESS,
                                                started_at=now)
            .execution_options(synchronize_session=False))
        if reopen:
            _reopen(chunk)
    _complete_courses(ids, now)


def _reopen(enrolment_ids: Sequence[int]) -> None:
    db.session.execute(update(Enrolment).where(
        Enrolment.id.in_(enrolment_ids), Enrolment.status == EnrolmentStatus.COMPLETED,
        Enrolment.required_done < Enrolment.required_total)
        .values(status=EnrolmentStatus.IN_PROGRESS, completed_at=None)
        .execution_options(synchronize_session=False))


def recount_course(course_id: int, *, reopen: bool = False,
                   now: datetime | None = None) -> None:
    """After the lessons changed: every enrolment recounts what it has done of the current
    lessons. Completed learners stay complete unless ``reopen`` (the trainer's choice when
    adding required lessons); progress on removed lessons keeps its rows."""
    now = now or utcnow()
    required_lessons = and_(LessonProgress.enrolment_id == Enrolment.id,
                            LessonProgress.state == LessonState.COMPLETED,
                            Lesson.removed_at.is_(None))
    done_required = (select(func.count(LessonProgress.id))
                     .join(Lesson, Lesson.id == LessonProgress.lesson_id)
                     .where(required_lessons, Lesson.required.is_(True)).scalar_subquery())
    done_any = (select(func.count(LessonProgress.id))
                .join(Lesson, Lesson.id == LessonProgress.lesson_id)
                .where(required_lessons).scalar_subquery())
    total = db.session.scalar(select(func.count(Lesson.id)).where(
        Lesson.course_id == course_id, Lesson.required.is_(True),
        Lesson.removed_at.is_(None))) or 0
    db.session.execute(update(Enrolment).where(Enrolment.course_id == course_id)
                       .values(required_total=total, required_done=done_required,
                               items_done=done_any)
                       .execution_options(synchronize_session=False))
    events.lessons_changed(course_id)
    ids = db.session.scalars(select(Enrolment.id).where(Enrolment.course_id == course_id)).all()
    completed = _complete_courses(ids, now)
    if completed:
        _follow_tracks(completed, now)
    if reopen:
        reopened = db.session.scalars(select(Enrolment.id).where(
            Enrolment.course_id == course_id, Enrolment.status == EnrolmentStatus.COMPLETED,
            Enrolment.required_done < Enrolment.required_total)).all()
        for chunk in chunked(reopened, 500):
            _reopen(chunk)
        if reopened:
            track_ids = db.session.scalars(
                select(Enrolment.id).join(TrackCourse, TrackCourse.track_id == Enrolment.track_id)
                .where(TrackCourse.course_id == course_id, Enrolment.user_id.in_(
                    select(Enrolment.user_id).where(Enrolment.id.in_(reopened))))).all()
            recount_tracks(track_ids, now, reopen=True)
    db.session.expire_all()


def add_time(user: User, course: Course, lesson: Lesson, now: datetime | None = None) -> int:
    """A heartbeat from an open lesson page: the time since the previous one (if recent) is
    added to the lesson and the enrolment. Returns the seconds added."""
    now = now or utcnow()
    enrolment = enrolment_of(user, course)
    if enrolment is None:
        return 0
    row = db.session.scalar(select(LessonProgress).where(
        LessonProgress.enrolment_id == enrolment.id, LessonProgress.lesson_id == lesson.id))
    if row is None:
        return 0
    seconds = 0
    if row.last_seen_at is not None and timedelta(0) < now - row.last_seen_at <= HEARTBEAT_GAP:
        seconds = int((now - row.last_seen_at).total_seconds())
    with unit_of_work():
        db.session.execute(update(LessonProgress).where(LessonProgress.id == row.id).values(
            last_seen_at=now, time_spent_seconds=LessonProgress.time_spent_seconds + seconds))
        if seconds:
            db.session.execute(update(Enrolment).where(Enrolment.id == enrolment.id).values(
                time_spent_seconds=Enrolment.time_spent_seconds + seconds))
    return seconds


# --- the learner's dashboard ---------------------------------------------------------------

@dataclass
class Dashboard:
    courses: list[Enrolment]
    tracks: list[Enrolment]
    resume: Enrolment | None
    open_courses: list[Course]
    now: datetime


def _order(now: datetime):
    """Overdue first, then by due date, then the rest by last activity."""
    def key(enrolment: Enrolment) -> tuple:
        overdue = enrolment.is_overdue(now)
        due = enrolment.due_at if enrolment.required and enrolment.due_at else None
        return (not overdue, enrolment.status == EnrolmentStatus.COMPLETED, due is None,
                due or now, not enrolment.required,
                -(enrolment.last_activity_at or enrolment.enrolled_at).timestamp())
    return key


def dashboard(user: User, now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    from sqlalchemy.orm import joinedload

    rows = db.session.scalars(
        select(Enrolment).where(Enrolment.user_id == user.id)
        .options(joinedload(Enrolment.course), joinedload(Enrolment.track))).all()
    visible = [e for e in rows if (e.course or e.track).status != CourseStatus.DRAFT]
    courses = sorted((e for e in visible if e.course_id), key=_order(now))
    tracks = sorted((e for e in visible if e.track_id), key=_order(now))
    started = [e for e in courses if e.status == EnrolmentStatus.IN_PROGRESS
               and e.last_activity_at is not None]
    resume = max(started, key=lambda e: e.last_activity_at) if started else None
    enrolled = {e.course_id for e in courses}
    open_courses = [c for c in db.session.scalars(
        select(Course).where(Course.status == CourseStatus.PUBLISHED,
                             Course.self_enrol.is_(True))
        .order_by(Course.published_at.desc(), Course.id.desc()).limit(20))
        if c.id not in enrolled][:8]
    return Dashboard(courses, tracks, resume, open_courses, now)


def track_courses(user: User, track: Track) -> list[tuple[TrackCourse, Enrolment | None]]:
    enrolments = {e.course_id: e for e in db.session.scalars(select(Enrolment).where(
        Enrolment.user_id == user.id, Enrolment.course_id.in_(
            [item.course_id for item in track.items])))}
    return [(item, enrolments.get(item.course_id)) for item in track.items]
