"""Who may do what with banks, quizzes and attempts: named rules joined to the policy by
``lms.permissions``, with their SQL twins for lists.

- A bank is managed by its owner (and admins); trainers *use* it (see its questions, draw
  from it) when it is shared with the academy, or with a unit they belong to or oversee.
- A quiz is edited by whoever created it, the owners of a course with a lesson of it, and
  admins; they also see its attempts, regrade them and grant extra attempts or time.
- A learner attempts a published quiz of a course they are enrolled in (the lesson rules of
  ``lms.training`` decide, locks included), or a quiz on its own of their unit (or of the
  whole academy). An attempt is seen by its learner, and reviewed by the quiz's editors.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, select, true

from lms.accounts.models import User
from lms.extensions import db
from lms.permissions import Principal, Rule, is_user
from lms.quizzes.models import BankSharing, QuestionBank, Quiz, QuizAttempt
from lms.training.access import admin_only, any_trainer, trainer_scope
from lms.training.models import Lesson, course_owners


def _admin(user: Principal) -> bool:
    return is_user(user) and user.is_admin


def _trainer(user: Principal) -> bool:
    from lms.permissions import can

    return can(user, "training.area")


def _units_above(user: User) -> set[int]:
    """The user's unit and every unit above it."""
    from lms.accounts.models import Unit

    found: set[int] = set()
    unit_id = user.unit_id
    while unit_id is not None and unit_id not in found:
        found.add(unit_id)
        unit_id = db.session.scalar(select(Unit.parent_id).where(Unit.id == unit_id))
    return found


def _use_bank(user: Principal, bank: Any) -> bool:
    if not isinstance(bank, QuestionBank) or not _trainer(user):
        return False
    if user.is_admin or bank.owner_id == user.id or bank.sharing == BankSharing.ACADEMY:
        return True
    return bank.sharing == BankSharing.UNIT and bank.unit_id is not None and (
        bank.unit_id in trainer_scope(user) or bank.unit_id in _units_above(user))


def _manage_bank(user: Principal, bank: Any) -> bool:
    if not isinstance(bank, QuestionBank) or not _trainer(user):
        return False
    return user.is_admin or bank.owner_id == user.id


def quiz_lessons(quiz: Quiz) -> list[Lesson]:
    """The current lessons that show ``quiz``."""
    return list(db.session.scalars(select(Lesson).where(
        Lesson.quiz_id == quiz.id, Lesson.removed_at.is_(None)).order_by(Lesson.id)))


def _edit_quiz(user: Principal, quiz: Any) -> bool:
    if not isinstance(quiz, Quiz) or not _trainer(user):
        return False
    if user.is_admin or quiz.created_by_id == user.id:
        return True
    return bool(db.session.scalar(select(exists().where(
        Lesson.quiz_id == quiz.id, course_owners.c.course_id == Lesson.course_id,
        course_owners.c.user_id == user.id))))


def _attempt_quiz(user: Principal, quiz: Any) -> bool:
    """May ``user`` take ``quiz`` (setting aside dates, attempts left and lesson locks,
    which the attempt service explains)?"""
    from lms.permissions import can

    if not isinstance(quiz, Quiz) or not is_user(user) or not quiz.is_published:
        return False
    lessons = quiz_lessons(quiz)
    if lessons:
        return any(can(user, "lesson.open", lesson) for lesson in lessons)
    if quiz.unit_id is None:
        return True
    return user.unit_id is not None and quiz.unit_id in _units_above(user)


def _view_attempt(user: Principal, attempt: Any) -> bool:
    return isinstance(attempt, QuizAttempt) and is_user(user) and attempt.user_id == user.id


def _review_attempt(user: Principal, attempt: Any) -> bool:
    return isinstance(attempt, QuizAttempt) and _edit_quiz(user, attempt.quiz)


# --- the same rules as SQL filters, for lists ----------------------------------------------

def used_banks(user: Principal) -> ColumnElement[bool]:
    """The SQL twin of ``bank.use``."""
    if _admin(user):
        return true()
    if not _trainer(user):
        return false()
    units = sorted(trainer_scope(user) | _units_above(user))
    return or_(QuestionBank.owner_id == user.id, QuestionBank.sharing == BankSharing.ACADEMY,
               (QuestionBank.sharing == BankSharing.UNIT) & QuestionBank.unit_id.in_(units))


def edited_quizzes(user: Principal) -> ColumnElement[bool]:
    """The SQL twin of ``quiz.edit``."""
    if _admin(user):
        return true()
    if not _trainer(user):
        return false()
    return or_(Quiz.created_by_id == user.id, exists().where(
        Lesson.quiz_id == Quiz.id, course_owners.c.course_id == Lesson.course_id,
        course_owners.c.user_id == user.id))


RULES: dict[str, Rule] = {
    "bank.create": any_trainer,
    "bank.use": _use_bank,
    "bank.manage": _manage_bank,
    # Sharing a bank with the whole academy: admins only (trainers share within units).
    "bank.share_all": admin_only,
    "quiz.create": any_trainer,
    # A quiz on its own for the whole academy (not one unit's assessment): admins only.
    "quiz.all_units": admin_only,
    "quiz.edit": _edit_quiz,
    "quiz.attempt": _attempt_quiz,
    "attempt.view": _view_attempt,
    "attempt.review": _review_attempt,
    # Of a quiz: regrade its attempts, grant one person an extra attempt or extra time.
    "attempt.regrade": _edit_quiz,
    "attempt.grant": _edit_quiz,
}
