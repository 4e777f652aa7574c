"""Banks, categories, questions and their versions; quizzes, their forms, attempts, results.

A question's content lives in :class:`QuestionVersion` rows. Editing a question that some
attempt has shown adds a version; an attempt keeps the version it showed
(``AttemptQuestion.version_id``), so its review and its grade never change under it, except
when a trainer corrects that version's key on purpose (a regrade).
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
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Unit, User
from lms.db import PUBLISHED_STATUS, Publishable, TZDateTime, utcnow
from lms.extensions import db
from lms.labelled import LabelledEnum

# --- banks ---------------------------------------------------------------------------------


class BankSharing(enum.StrEnum):
    PRIVATE = "private"  # its owner (and admins)
    UNIT = "unit"  # trainers of its unit, above it or inside it
    ACADEMY = "academy"  # every trainer


class QuestionBank(db.Model):
    __tablename__ = "question_banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                 index=True)
    sharing: Mapped[str] = mapped_column(String(16), default=BankSharing.PRIVATE)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"),
                                                index=True)
    lock_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    owner: Mapped[User | None] = relationship()
    unit: Mapped[Unit | None] = relationship()


class QuestionCategory(db.Model):
    """A category of a bank; ``path`` is its names from the top, joined by " / "."""

    __tablename__ = "question_categories"
    __table_args__ = (UniqueConstraint("bank_id", "path", name="bank_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_categories.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(1000))

    bank: Mapped[QuestionBank] = relationship()

    @property
    def depth(self) -> int:
        return self.path.count(" / ")


class QuestionType(LabelledEnum):
    SINGLE = "single", _l("Single choice")  # one correct option
    # one or more correct options, all-or-nothing or partial credit
    MULTIPLE = "multiple", _l("Multiple choice")
    TRUE_FALSE = "truefalse", _l("True / false")
    MATCHING = "matching", _l("Matching")  # pairs: each prompt has its answer


class Difficulty(LabelledEnum):
    EASY = "easy", _l("Easy")
    MEDIUM = "medium", _l("Medium")
    HARD = "hard", _l("Hard")


class Question(db.Model):
    """A question of a bank. What is asked is in its versions; ``current_version`` is the
    number of the one new attempts show. ``difficulty``, ``category`` and ``record`` are tags:
    changing them changes no version."""

    __tablename__ = "questions"
    __table_args__ = (
        Index("ix_questions_bank_category", "bank_id", "category_id"),
        Index("ix_questions_bank_fingerprint", "bank_id", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("question_categories.id"), index=True)
    current_version: Mapped[int] = mapped_column(default=1)
    type: Mapped[str] = mapped_column(String(16))
    difficulty: Mapped[str] = mapped_column(String(16), default=Difficulty.MEDIUM)
    # The text of the current version as plain text, for lists and search.
    summary: Mapped[str] = mapped_column(String(300), default="")
    # Of the type and the folded text: an import skips a question the bank already has.
    fingerprint: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="SET NULL"))
    # Archived questions are no longer drawn nor offered; attempts that showed them keep them.
    archived_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    lock_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    bank: Mapped[QuestionBank] = relationship()
    category: Mapped[QuestionCategory] = relationship()
    record = relationship("Record")


class QuestionVersion(db.Model):
    """What one version of a question asks, and its key.

    ``options`` is a list of ``{"key", "text", "feedback", "correct"}`` (choice questions) or
    ``{"key", "text", "match", "feedback"}`` (a matching pair: prompt ``text``, answer
    ``match``). Keys are short and stable within the version; the browser never sees them.
    """

    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "number", name="question_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(default=1)
    type: Mapped[str] = mapped_column(String(16))
    text_html: Mapped[str] = mapped_column(Text)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Multiple choice and matching: partial credit (True) or all-or-nothing (False).
    partial: Mapped[bool] = mapped_column(default=False)
    points: Mapped[float] = mapped_column(default=1.0)
    explanation_html: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    # When a trainer last corrected this version's key in place (and regraded).
    key_fixed_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    question: Mapped[Question] = relationship()


class QuestionImage(db.Model):
    """An image of a question's text, stored as a blob of the files storage."""

    __tablename__ = "question_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"),
                                         index=True)
    blob_key: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


# --- quizzes -------------------------------------------------------------------------------


class QuizStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    PUBLISHED = PUBLISHED_STATUS, _l("Published")
    CLOSED = "closed", _l("Closed")  # no new attempts; results and reviews stay


class Grading(LabelledEnum):
    BEST = "best", _l("The best attempt counts")
    LAST = "last", _l("The last attempt counts")


class Review(LabelledEnum):
    """What a learner sees of a submitted attempt (each level includes the ones before)."""

    SCORE = "score", _l("The score only")  # the score and the result only
    WRONG = "wrong", _l("The score and which questions were wrong")
    FULL = "full", _l("Everything: answers, correct answers, feedback and explanations")


class Quiz(Publishable, db.Model):
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=QuizStatus.DRAFT)
    # A quiz on its own (no lesson) is a unit's assessment: people of this unit and its
    # sub-units take it (None: the whole academy).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"),
                                                index=True)
    time_limit_minutes: Mapped[int | None] = mapped_column()
    attempts_allowed: Mapped[int | None] = mapped_column()  # None: unlimited
    wait_minutes: Mapped[int] = mapped_column(default=0)  # between two attempts
    pass_percent: Mapped[float] = mapped_column(default=80.0)
    grading: Mapped[str] = mapped_column(String(8), default=Grading.BEST)
    opens_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    shuffle_questions: Mapped[bool] = mapped_column(default=True)
    shuffle_options: Mapped[bool] = mapped_column(default=True)
    review_after_submit: Mapped[str] = mapped_column(String(8), default=Review.WRONG)
    review_after_close: Mapped[str] = mapped_column(String(8), default=Review.FULL)
    preset: Mapped[str | None] = mapped_column(String(32))
    lock_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"),
                                                      index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    slots: Mapped[list[QuizSlot]] = relationship(
        back_populates="quiz", order_by="QuizSlot.position", cascade="all, delete-orphan",
        passive_deletes=True)


class QuizSlot(db.Model):
    """One line of a quiz's form: a fixed question, or ``count`` questions drawn at random
    from a category (with its sub-categories), of which ``easy``/``medium``/``hard`` of that
    difficulty and the rest of any."""

    __tablename__ = "quiz_slots"
    __table_args__ = (
        CheckConstraint("(question_id IS NULL) <> (category_id IS NULL)", name="one_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"),
                                         index=True)
    position: Mapped[int] = mapped_column(default=0)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("question_categories.id"),
                                                    index=True)
    subcategories: Mapped[bool] = mapped_column(default=True)
    count: Mapped[int] = mapped_column(default=1)
    easy: Mapped[int] = mapped_column(default=0)
    medium: Mapped[int] = mapped_column(default=0)
    hard: Mapped[int] = mapped_column(default=0)
    points: Mapped[float | None] = mapped_column()  # None: each question's own points

    quiz: Mapped[Quiz] = relationship(back_populates="slots")
    question: Mapped[Question | None] = relationship()
    category: Mapped[QuestionCategory | None] = relationship()

    @property
    def is_random(self) -> bool:
        return self.category_id is not None


# --- attempts ------------------------------------------------------------------------------


class AttemptState(enum.StrEnum):
    OPEN = "open"
    GRADED = "graded"


class ClosedBy(enum.StrEnum):
    LEARNER = "learner"  # submitted
    DEADLINE = "deadline"  # the time ran out: closed by the worker or on the next visit


class QuizAttempt(db.Model):
    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", "number", name="quiz_user_number"),
        # At most one open attempt per person and quiz, whatever races.
        Index("ix_quiz_attempts_open", "quiz_id", "user_id", unique=True,
              sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
        Index("ix_quiz_attempts_state_deadline", "state", "deadline_at"),
        Index("ix_quiz_attempts_user", "user_id", "quiz_id"),
        Index("ix_quiz_attempts_quiz_state", "quiz_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The lesson it was started from (a quiz of a course), whose completion it may bring.
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id",
                                                             ondelete="SET NULL"))
    number: Mapped[int] = mapped_column(default=1)
    state: Mapped[str] = mapped_column(String(16), default=AttemptState.OPEN)
    started_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    # Fixed by the server when the attempt starts (time limit, close date, extra time).
    deadline_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column()
    max_score: Mapped[float] = mapped_column(default=0.0)
    percent: Mapped[float | None] = mapped_column()
    passed: Mapped[bool | None] = mapped_column()
    graded_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    quiz: Mapped[Quiz] = relationship()
    user: Mapped[User] = relationship()

    @property
    def is_open(self) -> bool:
        return self.state == AttemptState.OPEN


class AttemptQuestion(db.Model):
    """A question as one attempt shows it: the version, the order of its options under
    tokens made for this attempt, the learner's latest answer and, once graded, its score.

    ``choices`` is ``[[token, option key], ...]`` in the order shown (matching questions:
    ``{"prompts": [...], "answers": [...]}``); ``answer`` holds option keys (matching:
    ``{prompt key: answer key}``); ``answer_seq`` is the client's sequence number of the
    save that wrote it: a save with a number not above it changes nothing.
    """

    __tablename__ = "attempt_questions"
    __table_args__ = (
        UniqueConstraint("attempt_id", "slot", name="attempt_slot"),
        Index("ix_attempt_questions_version", "version_id"),
        Index("ix_attempt_questions_question", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column()
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("question_versions.id"))
    points: Mapped[float] = mapped_column(default=1.0)
    choices: Mapped[Any] = mapped_column(JSON)
    # No answer is SQL NULL (not JSON null), so that SQL counts the answered.
    answer: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    answer_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    answered_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    score: Mapped[float | None] = mapped_column()
    fraction: Mapped[float | None] = mapped_column()

    version: Mapped[QuestionVersion] = relationship()


class QuizGrade(db.Model):
    """A person's result in a quiz: the attempt that counts (best or last), kept up to date
    as attempts are graded and regraded; reports read this table."""

    __tablename__ = "quiz_grades"
    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", name="quiz_grade_user"),
        Index("ix_quiz_grades_quiz_passed", "quiz_id", "passed"),
        Index("ix_quiz_grades_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("quiz_attempts.id",
                                                              ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(default=0)
    score: Mapped[float] = mapped_column(default=0.0)
    max_score: Mapped[float] = mapped_column(default=0.0)
    percent: Mapped[float] = mapped_column(default=0.0)
    passed: Mapped[bool] = mapped_column(default=False)
    first_passed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class QuizOverride(db.Model):
    """Extra attempts or extra time a trainer granted one person in one quiz."""

    __tablename__ = "quiz_overrides"
    __table_args__ = (UniqueConstraint("quiz_id", "user_id", name="quiz_override_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    extra_attempts: Mapped[int] = mapped_column(default=0)
    extra_minutes: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


# The blobs question banks keep (``lms.files.records`` never collects them).
BLOB_COLUMNS = [QuestionImage.blob_key]
