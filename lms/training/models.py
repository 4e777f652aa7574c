"""Training: audiences, courses and their lessons, tracks, assignments, enrolments, progress and
the append-only learning statements.

Reports and reminders read enrolments (per unit, course or track, status and due date) and
statements; both are indexed for that.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Unit, User
from lms.db import PUBLISHED_STATUS, Publishable, TZDateTime, link_table, utcnow
from lms.extensions import db
from lms.labelled import LabelledEnum

# --- audiences -----------------------------------------------------------------------------


class AudienceKind(enum.StrEnum):
    STATIC = "static"  # members added by hand, by search or from a list of usernames
    RULE = "rule"  # members are whoever the rule selects, kept up to date automatically


class AudienceState(enum.StrEnum):
    ACTIVE = "active"
    # The rule names something that no longer exists (a deleted unit): membership stays as it
    # was until someone fixes the rule, instead of everyone silently leaving.
    FROZEN = "frozen"


class Audience(db.Model):
    __tablename__ = "audiences"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default=AudienceKind.STATIC)
    # Members are always people of this unit and its sub-units (None: the whole academy); a
    # trainer manages the audiences whose scope lies within their own unit.
    scope_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="SET NULL"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=AudienceState.ACTIVE)
    frozen_reason: Mapped[str] = mapped_column(Text, default="")
    member_count: Mapped[int] = mapped_column(default=0)
    lock_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    synced_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    scope_unit: Mapped[Unit | None] = relationship()
    owner: Mapped[User | None] = relationship()

    @property
    def is_rule_based(self) -> bool:
        return self.kind == AudienceKind.RULE

    @property
    def is_frozen(self) -> bool:
        return self.state == AudienceState.FROZEN


class AudienceMember(db.Model):
    """One stay of a person in an audience: rows are ended, never deleted, because relative
    due dates count from when someone joined."""

    __tablename__ = "audience_members"
    __table_args__ = (
        # At most one current stay per person and audience.
        Index("ix_audience_members_current", "audience_id", "user_id", unique=True,
              sqlite_where=text("ended_at IS NULL"),
              postgresql_where=text("ended_at IS NULL")),
        Index("ix_audience_members_user", "user_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    source: Mapped[str] = mapped_column(String(16), default="manual")  # manual | rule

    user: Mapped[User] = relationship()


# --- courses, lessons, tracks --------------------------------------------------------------


class CourseStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    PUBLISHED = PUBLISHED_STATUS, _l("Published")
    ARCHIVED = "archived", _l("Archived")


course_owners = link_table("course_owners", ("course_id", "courses.id"), ("user_id", "users.id"))
track_owners = link_table("track_owners", ("track_id", "tracks.id"), ("user_id", "users.id"))


class Course(Publishable, db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="vi")
    target_group_id: Mapped[int | None] = mapped_column(ForeignKey("person_terms.id"))
    estimated_hours: Mapped[float | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=CourseStatus.DRAFT, index=True)
    # Open: any logged-in person may enrol themselves.
    self_enrol: Mapped[bool] = mapped_column(default=False)
    # Lessons in order: a lesson unlocks once every required lesson before it is complete.
    sequential: Mapped[bool] = mapped_column(default=False)
    # An image of one of the course's materials (its thumbnail is shown, access permitting).
    cover_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("record_files.id", ondelete="SET NULL"))
    lock_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    owners: Mapped[list[User]] = relationship(secondary=course_owners,
                                              order_by="User.username")
    target_group = relationship("PersonTerm")
    cover_file = relationship("RecordFile")


class LessonKind(LabelledEnum):
    RECORD = "record", _l("Repository material")  # a record, shown with its files and viewer
    PAGE = "page", _l("Page")  # sanitised rich text
    QUIZ = "quiz", _l("Quiz")  # a quiz (quiz_id) of lms.quizzes, complete when passed


class Lesson(db.Model):
    __tablename__ = "lessons"
    __table_args__ = (
        Index("ix_lessons_course_position", "course_id", "position"),
        # The quizzes of a course, looked up once per enrolment by the reports' quiz figures.
        Index("ix_lessons_course_quiz", "course_id", "quiz_id", "removed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), index=True)
    body_html: Mapped[str] = mapped_column(Text, default="")
    # The quiz of a quiz lesson (lms.quizzes). No foreign key: adding one to this table on
    # SQLite means copying it, and dropping the old copy would cascade to lesson_progress.
    # Quizzes are never deleted (lms.quizzes.quizzes).
    quiz_id: Mapped[int | None] = mapped_column(Integer, index=True)
    required: Mapped[bool] = mapped_column(default=True)
    duration_minutes: Mapped[int | None] = mapped_column()
    # A removed lesson keeps its row, and learners' progress on it keeps its records.
    removed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    course: Mapped[Course] = relationship()
    record = relationship("Record")


class Track(Publishable, db.Model):
    """A lộ trình: an ordered set of courses, complete when its required courses are."""

    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=CourseStatus.DRAFT, index=True)
    lock_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    owners: Mapped[list[User]] = relationship(secondary=track_owners, order_by="User.username")
    items: Mapped[list[TrackCourse]] = relationship(
        back_populates="track", order_by="TrackCourse.position", cascade="all, delete-orphan",
        passive_deletes=True)


class TrackCourse(db.Model):
    __tablename__ = "track_courses"
    __table_args__ = (UniqueConstraint("track_id", "course_id", name="track_course"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    required: Mapped[bool] = mapped_column(default=True)

    track: Mapped[Track] = relationship(back_populates="items")
    course: Mapped[Course] = relationship()


# --- assignments and enrolments ------------------------------------------------------------


class DueKind(enum.StrEnum):
    NONE = "none"
    FIXED = "fixed"  # one date for everyone
    AFTER_JOINING = "after_joining"  # N days after the person joined the audience
    AFTER_ASSIGNED = "after_assigned"  # N days after the item reached the person


assignment_audiences = link_table("assignment_audiences", ("assignment_id", "assignments.id"),
                                  ("audience_id", "audiences.id"))
assignment_people = link_table("assignment_people", ("assignment_id", "assignments.id"),
                               ("user_id", "users.id"))


class Assignment(db.Model):
    """A course or a track required of audiences and/or people, with a due date."""

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint("(course_id IS NULL) <> (track_id IS NULL)", name="one_item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id"), index=True)
    due_kind: Mapped[str] = mapped_column(String(16), default=DueKind.NONE)
    due_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    due_days: Mapped[int | None] = mapped_column()
    starts_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    active: Mapped[bool] = mapped_column(default=True, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    # The latest enrolment job, whose progress the assignment page shows.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    lock_version: Mapped[int] = mapped_column(default=1)

    course: Mapped[Course | None] = relationship()
    track: Mapped[Track | None] = relationship()
    audiences: Mapped[list[Audience]] = relationship(secondary=assignment_audiences,
                                                     order_by=Audience.name)
    people: Mapped[list[User]] = relationship(secondary=assignment_people,
                                              order_by="User.username")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    job = relationship("Job")

    @property
    def item(self) -> Course | Track:
        return self.course if self.course is not None else self.track  # type: ignore[return-value]


class EnrolmentStatus(LabelledEnum):
    NOT_STARTED = "not_started", _l("Not started")
    IN_PROGRESS = "in_progress", _l("In progress")
    COMPLETED = "completed", _l("Completed")


class Enrolment(db.Model):
    """A person in a course or a track, with their progress kept up to date incrementally.

    ``required``, ``due_at`` and ``starts_at`` follow from the assignments that reach the
    person (``assignment_learners``); someone who leaves keeps the row and its progress.
    ``unit_id`` is the person's current unit, copied here for reports per unit.
    """

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", name="user_course"),
        UniqueConstraint("user_id", "track_id", name="user_track"),
        CheckConstraint("(course_id IS NULL) <> (track_id IS NULL)", name="one_item"),
        Index("ix_enrolments_unit_course_status", "unit_id", "course_id", "status"),
        Index("ix_enrolments_unit_track_status", "unit_id", "track_id", "status"),
        Index("ix_enrolments_course_status", "course_id", "status"),
        Index("ix_enrolments_due", "required", "due_at"),
        # Reminders of completions (lms.notify) and reports per unit (lms.reports): the
        # report's columns in the index, so that counting (and the chart of completions over
        # time) reads the index alone.
        Index("ix_enrolments_completed_at", "completed_at"),
        Index("ix_enrolments_report", "unit_id", "required", "course_id", "track_id",
              "status", "due_at", "enrolled_at", "completed_at", "quiz_graded", "quiz_passed",
              "quiz_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16), default="assigned")  # assigned | self
    status: Mapped[str] = mapped_column(String(16), default=EnrolmentStatus.NOT_STARTED)
    required: Mapped[bool] = mapped_column(default=False)
    due_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    starts_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    # Set when a certificate's course is assigned again before it expires (lms.certificates):
    # the recertification's own due date, which wins over the assignments'.
    renew_due_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    enrolled_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(TZDateTime, index=True)
    last_lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL"))
    # The person's grades in the quizzes of the course's current lessons, summed (kept by
    # lms.quizzes.figures for the reports).
    quiz_graded: Mapped[int] = mapped_column(default=0, server_default="0")
    quiz_passed: Mapped[int] = mapped_column(default=0, server_default="0")
    quiz_percent: Mapped[float] = mapped_column(default=0.0, server_default="0")
    required_total: Mapped[int] = mapped_column(default=0)
    required_done: Mapped[int] = mapped_column(default=0)
    items_done: Mapped[int] = mapped_column(default=0)
    time_spent_seconds: Mapped[int] = mapped_column(default=0)

    user: Mapped[User] = relationship()
    course: Mapped[Course | None] = relationship()
    track: Mapped[Track | None] = relationship()

    @property
    def percent(self) -> int:
        if self.status == EnrolmentStatus.COMPLETED:
            return 100
        if not self.required_total:
            return 0
        return min(100, round(100 * self.required_done / self.required_total))

    def is_overdue(self, now: datetime) -> bool:
        return (self.required and self.due_at is not None and self.due_at < now
                and self.status != EnrolmentStatus.COMPLETED)


class AssignmentLearner(db.Model):
    """One enrolment an assignment reaches: since when (the basis of a relative due date),
    its due date, and whether it still applies (``active``)."""

    __tablename__ = "assignment_learners"
    __table_args__ = (
        UniqueConstraint("assignment_id", "enrolment_id", name="assignment_enrolment"),
        Index("ix_assignment_learners_enrolment", "enrolment_id", "active"),
        Index("ix_assignment_learners_assignment_user", "assignment_id", "user_id"),
        Index("ix_assignment_learners_assigned_at", "assigned_at"),  # reminders
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    # The enrolment in the assigned item itself (not one of a track's courses): listed on
    # the assignment page.
    primary: Mapped[bool] = mapped_column(default=True)
    since: Mapped[datetime] = mapped_column(TZDateTime)
    due_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    assigned_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class LessonState(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class LessonProgress(db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("enrolment_id", "lesson_id", name="enrolment_lesson"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"),
                                           index=True)
    state: Mapped[str] = mapped_column(String(16), default=LessonState.IN_PROGRESS)
    first_opened_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    time_spent_seconds: Mapped[int] = mapped_column(default=0)


# --- learning statements -------------------------------------------------------------------


class Verb(enum.StrEnum):
    """xAPI verbs (ADL vocabulary) our statements use; the IRI is ``VERB_IRIS[verb]``."""

    REGISTERED = "registered"  # enrolled in a course or track
    EXPERIENCED = "experienced"  # opened a lesson's material in the course
    COMPLETED = "completed"  # a lesson, a course or a track
    PASSED = "passed"  # a quiz (the quizzes write these)
    FAILED = "failed"


VERB_IRIS = {verb: f"http://adlnet.gov/expapi/verbs/{verb}" for verb in Verb}


class LearningStatement(db.Model):
    """One learning event, xAPI-shaped (actor, verb, object, timestamp, result, context).

    Append-only (database triggers refuse UPDATE and DELETE). No foreign keys: a statement
    outlives what it names, like a log line.
    """

    __tablename__ = "learning_statements"
    __table_args__ = (
        Index("ix_learning_statements_actor_at", "actor_id", "timestamp"),
        Index("ix_learning_statements_course_verb", "course_id", "verb"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # the xAPI statement id
    timestamp: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    actor_id: Mapped[int] = mapped_column(Integer)
    verb: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(16))  # course | lesson | track
    object_id: Mapped[int] = mapped_column(Integer)
    course_id: Mapped[int | None] = mapped_column(Integer)
    enrolment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    result_completion: Mapped[bool | None] = mapped_column()
    result_success: Mapped[bool | None] = mapped_column()
    result_score: Mapped[float | None] = mapped_column()
    result_duration_seconds: Mapped[int | None] = mapped_column(Integer)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
