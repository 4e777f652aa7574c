"""Courses, their lessons, and tracks: what trainers build.

Every change of a course or of its lessons claims the course's ``lock_version`` (one
conditional UPDATE), so that of two trainers editing at once the second is told the course
changed since they opened it. Lessons are never deleted: a removed lesson keeps its row and
learners' progress on it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from lms import audit
from lms.accounts.models import PersonTerm, User
from lms.catalog.access import can_view
from lms.catalog.models import Record, RecordStatus
from lms.db import utcnow
from lms.errors import Conflict, NotFound, ValidationError
from lms.extensions import db
from lms.permissions import can, get_permitted, require
from lms.text import clean_text
from lms.training.access import edited_courses, edited_tracks, trackable_courses
from lms.training.html import sanitize
from lms.training.models import (
    Assignment,
    AudienceMember,
    Course,
    CourseStatus,
    Enrolment,
    Lesson,
    LessonKind,
    Track,
    TrackCourse,
)
from lms.training.progress import current_lessons, recount_course, recount_tracks
from lms.uow import locked_change, unit_of_work

STATUS_LABELS = CourseStatus.labels()
KIND_LABELS = LessonKind.labels()
LANGUAGES = {"vi": _l("Vietnamese"), "en": _l("English")}
# Lesson kinds the lesson form edits; quiz lessons are made and edited by lms.quizzes.
OFFERED_KINDS = (LessonKind.RECORD, LessonKind.PAGE)
ACCESS_CHECK_LIMIT = 1000


def _stale_course() -> str:
    return _("This course was changed since you opened it (perhaps by another trainer). "
             "Reload it to see the changes, then make yours again.")


def _stale_track() -> str:
    return _("This track was changed since you opened it. Reload it to see the changes, then "
             "make yours again.")


# --- courses -------------------------------------------------------------------------------

@dataclass
class CourseInput:
    title: str
    description: str = ""
    language: str = "vi"
    target_group: PersonTerm | None = None
    estimated_hours: float | None = None
    self_enrol: bool = False
    sequential: bool = False
    cover_file_id: int | None = None


def _apply_course(course: Course, data: CourseInput) -> None:
    course.title = clean_text(data.title, max_length=300, what=_("Title"))
    course.description = (data.description or "").strip()[:20_000]
    if data.language not in LANGUAGES:
        raise ValidationError(_("Choose the course's language."))
    course.language = data.language
    if data.target_group is not None and data.target_group.kind != "target_group":
        raise ValidationError(_("Choose a target group from the list."))
    course.target_group_id = data.target_group.id if data.target_group else None
    if data.estimated_hours is not None and not 0 < data.estimated_hours <= 10_000:
        raise ValidationError(_("The estimated hours are a number above 0."))
    course.estimated_hours = data.estimated_hours
    course.self_enrol = data.self_enrol
    course.sequential = data.sequential
    if data.cover_file_id and data.cover_file_id not in {f.id for f in cover_choices(course)}:
        raise ValidationError(_("The cover is chosen among the images of the course's "
                                "materials."))
    course.cover_file_id = data.cover_file_id or None


def get_course(actor: User, course_id: int, *, for_edit: bool = False) -> Course:
    """:raise NotFound: no such course, or one ``actor`` may not see (or edit)."""
    return get_permitted(actor, "course.edit" if for_edit else "course.view", Course, course_id)


def editable_courses(actor: User, query: str = "") -> Select:
    stmt = select(Course).where(edited_courses(actor)).order_by(Course.updated_at.desc(),
                                                                Course.id.desc())
    if query:
        from lms.text import escape_like

        stmt = stmt.where(func.lower(Course.title).like(f"%{escape_like(query.lower())}%",
                                                        escape="\\"))
    return stmt


def create_course(actor: User, data: CourseInput) -> Course:
    require(actor, "course.create")
    with unit_of_work():
        course = Course(created_by_id=actor.id, owners=[actor], status=CourseStatus.DRAFT)
        _apply_course(course, data)
        audit.record_new("course_create", actor=actor, obj=course, details={"title": course.title})
    return course


def update_course(actor: User, course: Course, data: CourseInput, lock_version: int) -> None:
    require(actor, "course.edit", course)
    with locked_change(course, lock_version, _stale_course()):
        _apply_course(course, data)
        course.updated_at = utcnow()
        audit.record("course_update", actor=actor, obj=course, details={"title": course.title})


def set_course_status(actor: User, course: Course, status: str, lock_version: int) -> None:
    """:raise ValidationError: publishing a course without a required lesson."""
    require(actor, "course.edit", course)
    if status not in set(CourseStatus):
        raise ValidationError(_("Unknown status."))
    if status == CourseStatus.PUBLISHED and not any(
            lesson.required for lesson in current_lessons(course.id)):
        raise ValidationError(_("A course needs at least one required lesson before it is "
                                "published."))
    with locked_change(course, lock_version, _stale_course()):
        course.status = status
        course.updated_at = utcnow()
        if status == CourseStatus.PUBLISHED and course.published_at is None:
            course.published_at = utcnow()
        audit.record("course_status", actor=actor, obj=course, details={"status": status})


def set_owners(actor: User, course: Course, owners: Collection[User],
               lock_version: int) -> None:
    """:raise ValidationError: no owner, or an owner who is not a trainer."""
    require(actor, "course.edit", course)
    if not owners:
        raise ValidationError(_("A course needs at least one owner."))
    not_trainers = [u.username for u in owners if not can(u, "course.own")]
    if not_trainers:
        raise ValidationError(_("Only training officers can own a course: %(names)s.",
                                names=", ".join(not_trainers)))
    with locked_change(course, lock_version, _stale_course()):
        course.owners = list({u.id: u for u in owners}.values())
        audit.record("course_owners", actor=actor, obj=course,
                     details={"owners": sorted(u.username for u in course.owners)})


def owner_candidates() -> list[User]:
    """Active people who may own a course (training officers and admins)."""
    from lms.accounts.models import Role
    from lms.training.access import COURSE_OWNER_ROLES

    found = db.session.scalars(select(User).join(User.roles).where(
        Role.name.in_(COURSE_OWNER_ROLES), User.active.is_(True))
        .order_by(User.username)).unique()
    return [user for user in found if can(user, "course.own")]


def cover_choices(course: Course) -> list:
    """Image files (with a thumbnail) of the records the course's lessons show."""
    from lms.files.models import RecordFile

    if course.id is None:
        return []
    record_ids = [lesson.record_id for lesson in current_lessons(course.id) if lesson.record_id]
    if not record_ids:
        return []
    return list(db.session.scalars(select(RecordFile).where(
        RecordFile.record_id.in_(record_ids), RecordFile.thumbnail_key.is_not(None))
        .order_by(RecordFile.record_id, RecordFile.id)))


# --- lessons -------------------------------------------------------------------------------

@dataclass
class LessonInput:
    kind: str
    title: str = ""
    record_id: int | None = None
    body: str = ""
    required: bool = True
    duration_minutes: int | None = None
    quiz_id: int | None = None


def _readable_record(actor: User, record_id: int | None) -> Record:
    record = db.session.get(Record, record_id) if record_id else None
    if record is None or not record.is_published or not can_view(actor, record):
        raise ValidationError(_("Choose a published repository record you can read."))
    return record


def _apply_lesson(actor: User, lesson: Lesson, data: LessonInput) -> None:
    if data.kind not in set(LessonKind):
        raise ValidationError(_("This kind of lesson cannot be added yet."))
    lesson.kind = data.kind
    if data.kind == LessonKind.QUIZ:
        from lms.quizzes.models import Quiz

        quiz = db.session.get(Quiz, data.quiz_id) if data.quiz_id else None
        if quiz is None or not can(actor, "quiz.edit", quiz):
            raise ValidationError(_("Choose a quiz you may edit."))
        lesson.quiz_id, lesson.record_id, lesson.body_html = quiz.id, None, ""
        title = data.title.strip() or quiz.title
    elif data.kind == LessonKind.RECORD:
        if lesson.record_id != data.record_id or lesson.id is None:
            lesson.record_id = _readable_record(actor, data.record_id).id
        title = data.title.strip() or db.session.get(Record, lesson.record_id).title
        lesson.body_html = ""
    else:
        lesson.record_id = None
        lesson.body_html = sanitize(data.body)
        if not lesson.body_html:
            raise ValidationError(_("A page needs some text."))
        title = data.title
    lesson.title = clean_text(title, max_length=300, what=_("Title"))
    lesson.required = data.required
    if data.duration_minutes is not None and not 0 < data.duration_minutes <= 10_000:
        raise ValidationError(_("The duration is a number of minutes above 0."))
    lesson.duration_minutes = data.duration_minutes
    lesson.updated_at = utcnow()


def add_lesson(actor: User, course: Course, data: LessonInput, lock_version: int, *,
               reopen_completed: bool = False) -> Lesson:
    """Add a lesson at the end. A required lesson added to a course people completed leaves
    them complete unless ``reopen_completed``."""
    require(actor, "course.edit", course)
    with locked_change(course, lock_version, _stale_course()):
        last = db.session.scalar(select(func.max(Lesson.position)).where(
            Lesson.course_id == course.id)) or 0
        lesson = Lesson(course_id=course.id, position=last + 1)
        _apply_lesson(actor, lesson, data)
        db.session.add(lesson)
        db.session.flush()
        course.updated_at = utcnow()
        audit.record("lesson_add", actor=actor, obj=lesson,
                     details={"course": course.id, "kind": lesson.kind, "title": lesson.title,
                              "record": lesson.record_id, "reopen": reopen_completed})
        recount_course(course.id, reopen=reopen_completed)
    return lesson


def update_lesson(actor: User, lesson: Lesson, data: LessonInput, lock_version: int, *,
                  reopen_completed: bool = False) -> None:
    course = lesson.course
    require(actor, "course.edit", course)
    with locked_change(course, lock_version, _stale_course()):
        was_required = lesson.required
        _apply_lesson(actor, lesson, data)
        course.updated_at = utcnow()
        audit.record("lesson_update", actor=actor, obj=lesson,
                     details={"course": course.id, "title": lesson.title})
        if was_required != lesson.required:
            db.session.flush()
            recount_course(course.id, reopen=reopen_completed)


def remove_lesson(actor: User, lesson: Lesson, lock_version: int) -> None:
    """Take a lesson out of the course; learners' records of it are kept."""
    course = lesson.course
    require(actor, "course.edit", course)
    if course.is_published and lesson.required and sum(
            1 for other in current_lessons(course.id) if other.required) == 1:
        raise ValidationError(_("A published course keeps at least one required lesson."))
    with locked_change(course, lock_version, _stale_course()):
        lesson.removed_at = utcnow()
        course.updated_at = utcnow()
        audit.record("lesson_remove", actor=actor, obj=lesson,
                     details={"course": course.id, "title": lesson.title})
        db.session.flush()
        recount_course(course.id)


def move_lesson(actor: User, lesson: Lesson, delta: int, lock_version: int) -> None:
    """Move a lesson up (-1) or down (+1)."""
    course = lesson.course
    require(actor, "course.edit", course)
    lessons = current_lessons(course.id)
    index = next(i for i, other in enumerate(lessons) if other.id == lesson.id)
    target = index + (1 if delta > 0 else -1)
    if not 0 <= target < len(lessons):
        return
    with locked_change(course, lock_version, _stale_course()):
        lessons[index], lessons[target] = lessons[target], lessons[index]
        for position, other in enumerate(lessons, start=1):
            other.position = position
        course.updated_at = utcnow()
        audit.record("lesson_move", actor=actor, obj=lesson, details={"course": course.id})


def find_records(actor: User, query: str, limit: int = 20) -> list[Record]:
    """Published records ``actor`` can read matching ``query`` (a search, or a record id)."""
    from lms.discovery.services import search

    query = query.strip()[:200]
    if not query:
        return []
    found: list[Record] = []
    number = query.lstrip("#")
    if number.isdigit():
        record = db.session.get(Record, int(number))
        if record is not None and record.is_published and can_view(actor, record):
            found.append(record)
    result = search(actor, query, size=limit, highlight=False, facets=False)
    ids = [hit.id for hit in result.hits]
    rows = {r.id: r for r in db.session.scalars(select(Record).where(Record.id.in_(ids)))}
    for record_id in ids:
        record = rows.get(record_id)
        # The index may lag behind the database: the database rule decides.
        if record is not None and record.is_published and can_view(actor, record) \
                and record not in found:
            found.append(record)
    return found[:limit]


@dataclass
class MaterialWarning:
    lesson: Lesson
    audience_name: str
    unreadable: int
    checked: int
    withdrawn: bool = False


def material_warnings(course: Course) -> list[MaterialWarning]:
    """For each material, the assigned audiences with members who may not read it.

    The repository's own rule decides, person by person, for up to ``ACCESS_CHECK_LIMIT``
    members of each audience (the page says how many were checked).
    """
    lessons = [lesson for lesson in current_lessons(course.id) if lesson.record_id]
    warnings: list[MaterialWarning] = []
    for lesson in lessons:
        if lesson.record.status in (RecordStatus.WITHDRAWN, RecordStatus.PURGED):
            warnings.append(MaterialWarning(lesson, "", 0, 0, withdrawn=True))
    assignments = db.session.scalars(select(Assignment).where(
        Assignment.course_id == course.id, Assignment.active.is_(True))).all()
    audiences = {a.id: a for assignment in assignments for a in assignment.audiences}
    for audience in audiences.values():
        people = list(db.session.scalars(
            select(User).join(AudienceMember, AudienceMember.user_id == User.id)
            .where(AudienceMember.audience_id == audience.id, AudienceMember.ended_at.is_(None))
            .order_by(User.id).limit(ACCESS_CHECK_LIMIT)))
        for lesson in lessons:
            if lesson.record.status != RecordStatus.PUBLISHED:
                continue
            unreadable = sum(1 for person in people if not can_view(person, lesson.record))
            if unreadable:
                warnings.append(MaterialWarning(lesson, audience.name, unreadable, len(people)))
    return warnings


# --- tracks --------------------------------------------------------------------------------

def get_track(actor: User, track_id: int, *, for_edit: bool = False) -> Track:
    track = db.session.get(Track, track_id)
    if track is None or not can(actor, "track.edit" if for_edit else "track.view", track):
        raise NotFound()
    return track


def editable_tracks(actor: User) -> Select:
    return select(Track).where(edited_tracks(actor)).order_by(Track.updated_at.desc(),
                                                              Track.id.desc())


def create_track(actor: User, title: str, description: str) -> Track:
    require(actor, "track.create")
    with unit_of_work():
        track = Track(title=clean_text(title, max_length=300, what=_("Title")),
                      description=(description or "").strip()[:20_000],
                      created_by_id=actor.id, owners=[actor])
        audit.record_new("track_create", actor=actor, obj=track, details={"title": track.title})
    return track


def update_track(actor: User, track: Track, *, title: str, description: str, status: str,
                 lock_version: int) -> None:
    require(actor, "track.edit", track)
    if status not in set(CourseStatus):
        raise ValidationError(_("Unknown status."))
    if status == CourseStatus.PUBLISHED and not any(item.required for item in track.items):
        raise ValidationError(_("A track needs at least one required course before it is "
                                "published."))
    with locked_change(track, lock_version, _stale_track()):
        track.title = clean_text(title, max_length=300, what=_("Title"))
        track.description = (description or "").strip()[:20_000]
        track.status = status
        track.updated_at = utcnow()
        audit.record("track_update", actor=actor, obj=track,
                     details={"title": track.title, "status": status})


def change_track_courses(actor: User, track: Track, *, add: Course | None = None,
                         remove: TrackCourse | None = None, toggle: TrackCourse | None = None,
                         move: tuple[TrackCourse, int] | None = None,
                         lock_version: int) -> None:
    """Add, remove, reorder a track's courses or toggle one's "required"; the track's learners
    are recounted, and enrolled in added required courses."""
    require(actor, "track.edit", track)
    if add is not None:
        if not can(actor, "course.view", add) or add.status == CourseStatus.DRAFT:
            raise ValidationError(_("Choose a published course."))
        if any(item.course_id == add.id for item in track.items):
            raise Conflict(_("%(title)s is in the track already.", title=add.title))
    with locked_change(track, lock_version, _stale_track()):
        items = list(track.items)
        if add is not None:
            # SQLAlchemy 2 no longer cascades a backref assignment into the session.
            new_item = TrackCourse(track=track, course_id=add.id, required=True)
            db.session.add(new_item)
            items.append(new_item)
        if remove is not None and remove in items:
            items.remove(remove)
            db.session.delete(remove)
        if toggle is not None:
            toggle.required = not toggle.required
        if move is not None:
            item, delta = move
            index = items.index(item)
            target = index + (1 if delta > 0 else -1)
            if 0 <= target < len(items):
                items[index], items[target] = items[target], items[index]
        for position, item in enumerate(items, start=1):
            item.position = position
        track.updated_at = utcnow()
        db.session.flush()
        audit.record("track_courses", actor=actor, obj=track,
                     details={"courses": [(i.course_id, i.required) for i in items]})
        recount_tracks(db.session.scalars(select(Enrolment.id).where(
            Enrolment.track_id == track.id)).all(), utcnow())
    _reach_track_courses(actor, track)


def _reach_track_courses(actor: User, track: Track) -> None:
    """Learners of the track's assignments get enrolled in its required courses."""
    from lms.training.assignments import start_enrol_job, sync_assignment, targets

    for assignment in db.session.scalars(select(Assignment).where(
            Assignment.track_id == track.id, Assignment.active.is_(True))):
        if len(targets(assignment)) <= current_app.config["AUDIENCE_INLINE_CHANGES"]:
            with unit_of_work():
                sync_assignment(assignment)
        else:
            start_enrol_job(actor, assignment)


def published_courses(actor: User) -> Sequence[Course]:
    """Courses a track may hold: published ones ``actor`` may see."""
    return db.session.scalars(select(Course).where(trackable_courses(actor))
                              .order_by(Course.title)).all()
