"""Who may do what in training: named rules, joined to the policy by ``lms.permissions``.

Trainers manage the courses and tracks they own, and the audiences whose scope lies within
their own unit (with its sub-units); admins manage everything; learners see the courses they
are enrolled in and the open ones. Whether a lesson is unlocked is not a permission but a
state of the learner's progress: ``lms.training.progress`` explains it when it refuses.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context
from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from lms.accounts.models import RoleName, User
from lms.extensions import db
from lms.permissions import Principal, Rule, is_user
from lms.training.models import (
    Assignment,
    Audience,
    Course,
    Enrolment,
    Lesson,
    Track,
    course_owners,
    track_owners,
)

#: The roles whose holders may own courses (a first filter; ``course.own`` decides).
COURSE_OWNER_ROLES = (RoleName.TRAINER, RoleName.ADMIN)


def _admin(user: Principal) -> bool:
    return is_user(user) and user.is_admin


def _trainer(user: Principal) -> bool:
    return is_user(user) and (user.is_admin or user.has_role(RoleName.TRAINER))


def any_trainer(user: Principal, obj: object = None) -> bool:
    """The policy rule of what every trainer (and admin) may do, whatever ``obj``."""
    return _trainer(user)


def admin_only(user: Principal, obj: object = None) -> bool:
    """The policy rule of what only admins may do, whatever ``obj``."""
    return _admin(user)


def trainer_scope(user: User) -> set[int]:
    """The units a trainer's audiences and assignments may reach: their unit and below."""
    from lms.accounts.services import subtree_ids

    if user.unit_id is None:
        return set()
    if not has_request_context():
        return subtree_ids(user.unit_id)
    cache = g.setdefault("trainer_scope", {})
    if user.id not in cache:
        cache[user.id] = subtree_ids(user.unit_id)
    return cache[user.id]


def _owns_course(user: Principal, course: Course) -> bool:
    return bool(db.session.scalar(select(exists().where(
        course_owners.c.course_id == course.id, course_owners.c.user_id == user.id))))


def _owns_track(user: Principal, track: Track) -> bool:
    return bool(db.session.scalar(select(exists().where(
        track_owners.c.track_id == track.id, track_owners.c.user_id == user.id))))


def _edit_course(user: Principal, course: Any) -> bool:
    if not isinstance(course, Course) or not _trainer(user):
        return False
    return user.is_admin or _owns_course(user, course)


def _edit_track(user: Principal, track: Any) -> bool:
    if not isinstance(track, Track) or not _trainer(user):
        return False
    return user.is_admin or _owns_track(user, track)


def is_enrolled(user: Principal, course: Course) -> bool:
    return is_user(user) and bool(db.session.scalar(select(exists().where(
        Enrolment.user_id == user.id, Enrolment.course_id == course.id))))


def _view_course(user: Principal, course: Any) -> bool:
    if not isinstance(course, Course) or not is_user(user):
        return False
    if _edit_course(user, course):
        return True
    # An archived course stays readable to those enrolled in it (their record of it).
    return (course.is_published and course.self_enrol) or (
        course.status != "draft" and is_enrolled(user, course))


def _view_track(user: Principal, track: Any) -> bool:
    if not isinstance(track, Track) or not is_user(user):
        return False
    if _edit_track(user, track):
        return True
    return track.is_published and bool(db.session.scalar(select(exists().where(
        Enrolment.user_id == user.id, Enrolment.track_id == track.id))))


def _open_lesson(user: Principal, lesson: Any) -> bool:
    if not isinstance(lesson, Lesson) or lesson.removed_at is not None:
        return False
    course = lesson.course
    return _edit_course(user, course) or (course.is_published and is_enrolled(user, course))


def _manage_audience(user: Principal, audience: Any) -> bool:
    if not isinstance(audience, Audience) or not _trainer(user):
        return False
    if user.is_admin:
        return True
    return audience.scope_unit_id is not None and audience.scope_unit_id in trainer_scope(user)


def _reach_person(user: Principal, person: Any) -> bool:
    if not isinstance(person, User) or not _trainer(user):
        return False
    return user.is_admin or (person.unit_id is not None and
                             person.unit_id in trainer_scope(user))


def _item_of(assignment: Assignment) -> Course | Track | None:
    return assignment.course if assignment.course_id else assignment.track


def _manage_assignment(user: Principal, assignment: Any) -> bool:
    if not isinstance(assignment, Assignment) or not _trainer(user):
        return False
    if user.is_admin or assignment.created_by_id == user.id:
        return True
    item = _item_of(assignment)
    return _edit_course(user, item) or _edit_track(user, item)


# --- the same rules as SQL filters, for lists (pages and counts stay right) ----------------

def reachable_units(user: Principal) -> set[int] | None:
    """Units whose people ``user`` may put in audiences and assignments; None: all of them."""
    if _admin(user):
        return None
    return trainer_scope(user) if _trainer(user) else set()


def managed_audiences(user: Principal) -> ColumnElement[bool]:
    """The SQL twin of ``audience.manage``."""
    units = reachable_units(user)
    if units is None:
        return true()
    return Audience.scope_unit_id.in_(sorted(units)) if units else false()


def edited_courses(user: Principal) -> ColumnElement[bool]:
    """The SQL twin of ``course.edit``."""
    if _admin(user):
        return true()
    if not _trainer(user):
        return false()
    return exists().where(course_owners.c.course_id == Course.id,
                          course_owners.c.user_id == user.id)


def edited_tracks(user: Principal) -> ColumnElement[bool]:
    """The SQL twin of ``track.edit``."""
    if _admin(user):
        return true()
    if not _trainer(user):
        return false()
    return exists().where(track_owners.c.track_id == Track.id,
                          track_owners.c.user_id == user.id)


def managed_assignments(user: Principal) -> ColumnElement[bool]:
    """The SQL twin of ``assignment.manage``."""
    if _admin(user):
        return true()
    if not _trainer(user):
        return false()
    return or_(Assignment.created_by_id == user.id,
               exists().where(course_owners.c.course_id == Assignment.course_id,
                              course_owners.c.user_id == user.id),
               exists().where(track_owners.c.track_id == Assignment.track_id,
                              track_owners.c.user_id == user.id))


def trackable_courses(user: Principal) -> ColumnElement[bool]:
    """Published courses ``user`` may put in a track: open ones and those they edit."""
    return and_(Course.status == "published", or_(Course.self_enrol.is_(True),
                                                  edited_courses(user)))


RULES: dict[str, Rule] = {
    "training.area": any_trainer,
    "course.create": any_trainer,
    "course.edit": _edit_course,
    "course.assign": lambda user, obj: _edit_course(user, obj) and obj.is_published,
    "course.view": _view_course,
    "course.enrol_self": lambda user, obj: is_user(user) and isinstance(obj, Course)
    and obj.is_published and obj.self_enrol,
    "lesson.open": _open_lesson,
    "track.create": any_trainer,
    "track.edit": _edit_track,
    "track.assign": lambda user, obj: _edit_track(user, obj) and obj.is_published,
    "track.view": _view_track,
    "audience.create": any_trainer,
    # Admins may make audiences of the whole academy (no scope unit); trainers within theirs.
    "audience.scope_all": admin_only,
    # Who may own courses and tracks (be named an owner by someone else).
    "course.own": any_trainer,
    "audience.manage": _manage_audience,
    "person.reach": _reach_person,
    "assignment.create": any_trainer,
    "assignment.manage": _manage_assignment,
    "assignment.view_progress": _manage_assignment,
}
