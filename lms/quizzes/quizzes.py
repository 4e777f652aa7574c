"""Quizzes: their settings, their form (fixed questions and random draws per category), the
preset of the ministry's digital-skills test, and quiz lessons of courses.

A random draw is checked when it is saved: it may not ask more questions (of a difficulty)
than its category holds, and the refusal gives the numbers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from lms import audit
from lms.accounts.models import Unit, User
from lms.db import utcnow
from lms.errors import NotFound, ValidationError
from lms.extensions import db
from lms.permissions import can, require
from lms.quizzes import banks
from lms.quizzes.access import edited_quizzes, quiz_lessons
from lms.quizzes.models import (
    Difficulty,
    Grading,
    Question,
    QuestionBank,
    QuestionCategory,
    Quiz,
    QuizSlot,
    QuizStatus,
    Review,
)
from lms.text import clean_text
from lms.training.models import Course, LessonKind
from lms.uow import locked_change, unit_of_work

STATUS_LABELS = QuizStatus.labels()
GRADING_LABELS = Grading.labels()
REVIEW_LABELS = Review.labels()
MAX_QUESTIONS = 200


@dataclass(frozen=True)
class Preset:
    key: str
    label: object
    title: object
    questions: int
    minutes: int
    pass_percent: float
    attempts: int | None
    review_after_submit: str
    review_after_close: str


# The army's digital-skills assessment: 30 questions in 45 minutes, passed at 24 (80%).
DIGITAL_SKILLS = Preset(
    key="digital_skills", label=_l("Digital skills test (30 questions / 45 minutes / pass at "
                                   "80%)"),
    title=_l("Digital skills test"), questions=30, minutes=45, pass_percent=80.0, attempts=3,
    review_after_submit=Review.WRONG, review_after_close=Review.FULL)
PRESETS = {DIGITAL_SKILLS.key: DIGITAL_SKILLS}


def _stale() -> str:
    return _("This quiz was changed since you opened it (perhaps by another trainer). Reload "
             "it to see the changes, then make yours again.")


# --- settings ------------------------------------------------------------------------------

@dataclass
class QuizInput:
    title: str
    description: str = ""
    unit_id: int | None = None
    time_limit_minutes: int | None = None
    attempts_allowed: int | None = None
    wait_minutes: int = 0
    pass_percent: float = 80.0
    grading: str = Grading.BEST
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    shuffle_questions: bool = True
    shuffle_options: bool = True
    review_after_submit: str = Review.WRONG
    review_after_close: str = Review.FULL


def _apply(actor: User, quiz: Quiz, data: QuizInput, *, standalone: bool) -> None:
    quiz.title = clean_text(data.title, max_length=300, what=_("Title"))
    quiz.description = (data.description or "").strip()[:20_000]
    if data.time_limit_minutes is not None and not 1 <= data.time_limit_minutes <= 600:
        raise ValidationError(_("The time limit is between 1 and 600 minutes (or none)."))
    if data.attempts_allowed is not None and not 1 <= data.attempts_allowed <= 100:
        raise ValidationError(_("The attempts allowed are between 1 and 100 (or unlimited)."))
    if not 0 <= (data.wait_minutes or 0) <= 60 * 24 * 30:
        raise ValidationError(_("The waiting time is between 0 minutes and 30 days."))
    if not (math.isfinite(data.pass_percent) and 0 < data.pass_percent <= 100):
        raise ValidationError(_("The pass mark is a percentage above 0 and at most 100."))
    if data.grading not in set(Grading) or data.review_after_submit not in set(Review) \
            or data.review_after_close not in set(Review):
        raise ValidationError(_("Choose among the options offered."))
    if data.opens_at and data.closes_at and data.closes_at <= data.opens_at:
        raise ValidationError(_("The quiz must close after it opens."))
    if data.unit_id is not None:
        from lms.training.access import reachable_units

        reach = reachable_units(actor)
        if db.session.get(Unit, data.unit_id) is None or (
                reach is not None and data.unit_id not in reach and data.unit_id != quiz.unit_id):
            raise ValidationError(_("Choose your own unit or one below it."))
    unit_id = data.unit_id
    if unit_id is None and standalone and not can(actor, "quiz.all_units"):
        # A trainer's quiz on its own is for their unit; the whole academy is for admins.
        unit_id = actor.unit_id
    quiz.unit_id = unit_id
    quiz.time_limit_minutes = data.time_limit_minutes
    quiz.attempts_allowed = data.attempts_allowed
    quiz.wait_minutes = data.wait_minutes or 0
    quiz.pass_percent = round(float(data.pass_percent), 2)
    quiz.grading = data.grading
    quiz.opens_at, quiz.closes_at = data.opens_at, data.closes_at
    quiz.shuffle_questions, quiz.shuffle_options = data.shuffle_questions, data.shuffle_options
    quiz.review_after_submit = data.review_after_submit
    quiz.review_after_close = data.review_after_close


def create_quiz(actor: User, data: QuizInput, *, for_lesson: bool = False) -> Quiz:
    require(actor, "quiz.create")
    with unit_of_work():
        quiz = Quiz(created_by_id=actor.id, status=QuizStatus.DRAFT)
        _apply(actor, quiz, data, standalone=not for_lesson)
        audit.record_new("quiz_create", actor=actor, obj=quiz, details={"title": quiz.title})
    return quiz


def update_quiz(actor: User, quiz: Quiz, data: QuizInput, lock_version: int) -> None:
    """Save the settings; attempts already started keep their deadline."""
    require(actor, "quiz.edit", quiz)
    with locked_change(quiz, lock_version, _stale()):
        _apply(actor, quiz, data, standalone=not quiz_lessons(quiz))
        quiz.updated_at = utcnow()
        audit.record("quiz_update", actor=actor, obj=quiz, details={"title": quiz.title})


def set_status(actor: User, quiz: Quiz, status: str, lock_version: int) -> None:
    """:raise ValidationError: publishing a quiz without questions, or whose draws the banks
    cannot fill."""
    require(actor, "quiz.edit", quiz)
    if status not in set(QuizStatus):
        raise ValidationError(_("Unknown status."))
    if status == QuizStatus.PUBLISHED:
        if not quiz.slots:
            raise ValidationError(_("Add questions to the quiz before publishing it."))
        problems = draw_problems(quiz.slots)
        if problems:
            raise ValidationError(" ".join(problems))
    with locked_change(quiz, lock_version, _stale()):
        quiz.status = status
        quiz.updated_at = utcnow()
        audit.record("quiz_status", actor=actor, obj=quiz, details={"status": status})


def get_quiz(actor: User, quiz_id: int, *, for_edit: bool = False) -> Quiz:
    """:raise NotFound: no such quiz, or (``for_edit``) one ``actor`` may not edit."""
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None or (for_edit and not can(actor, "quiz.edit", quiz)):
        raise NotFound()
    return quiz


def editable_quizzes(actor: User) -> Select:
    return select(Quiz).where(edited_quizzes(actor)).order_by(Quiz.updated_at.desc(),
                                                              Quiz.id.desc())


# --- the form ------------------------------------------------------------------------------

@dataclass
class DrawInput:
    category_id: int | None
    count: int
    easy: int = 0
    medium: int = 0
    hard: int = 0
    subcategories: bool = True
    points: float | None = None


def draw_pool(slot: QuizSlot, fixed: set[int]) -> dict[int, str]:
    """The questions a random slot may draw: question id → difficulty."""
    category = slot.category or db.session.get(QuestionCategory, slot.category_id)
    ids = banks.category_ids_under(category, slot.subcategories)
    rows = db.session.execute(select(Question.id, Question.difficulty).where(
        Question.category_id.in_(ids), Question.archived_at.is_(None))).all()
    return {row.id: row.difficulty for row in rows if row.id not in fixed}


def draw_problems(slots: Sequence[QuizSlot]) -> list[str]:
    """What a form asks that its banks cannot give, with the numbers; empty when it can be
    drawn."""
    fixed = {s.question_id for s in slots if s.question_id is not None}
    problems: list[str] = []
    pools: list[tuple[QuizSlot, dict[int, str]]] = []
    for slot in slots:
        if slot.question_id is not None:
            question = slot.question or db.session.get(Question, slot.question_id)
            if question.archived_at is not None:
                problems.append(_("Question #%(id)d is archived: take it out of the quiz.",
                                  id=question.id))
            continue
        pool = draw_pool(slot, fixed)
        pools.append((slot, pool))
        have = Counter(pool.values())
        category = slot.category or db.session.get(QuestionCategory, slot.category_id)
        for difficulty, label in ((Difficulty.EASY, _("easy")), (Difficulty.MEDIUM, _("medium")),
                                  (Difficulty.HARD, _("hard"))):
            wanted = getattr(slot, str(difficulty))
            if wanted > have[difficulty]:
                problems.append(_("“%(category)s” has %(have)d %(difficulty)s questions; the "
                                  "quiz asks for %(wanted)d.", category=category.path,
                                  have=have[difficulty], difficulty=label, wanted=wanted))
        if slot.count > len(pool):
            problems.append(_("“%(category)s” has %(have)d questions; the quiz asks for "
                              "%(wanted)d.", category=category.path, have=len(pool),
                              wanted=slot.count))
    # Draws from overlapping categories share their questions.
    for index, (slot, pool) in enumerate(pools):
        group = [(s, p) for s, p in pools if p.keys() & pool.keys()]
        if len(group) < 2 or group[0][0] is not slot or index != pools.index(group[0]):
            continue
        union: set[int] = set()
        for _s, p in group:
            union |= p.keys()
        wanted = sum(s.count for s, _p in group)
        if wanted > len(union):
            problems.append(_("Draws from overlapping categories ask for %(wanted)d questions; "
                              "together they have %(have)d.", wanted=wanted, have=len(union)))
    return problems


def _check_draw(data: DrawInput) -> None:
    if not 1 <= data.count <= MAX_QUESTIONS:
        raise ValidationError(_("A draw takes between 1 and %(n)d questions.", n=MAX_QUESTIONS))
    mix = (data.easy, data.medium, data.hard)
    if any(n < 0 for n in mix) or sum(mix) > data.count:
        raise ValidationError(_("The easy, medium and hard questions add up to at most the "
                                "number drawn (%(n)d).", n=data.count))
    if data.points is not None and not (math.isfinite(data.points) and 0 < data.points <= 1000):
        raise ValidationError(_("Points are a number above 0 and at most %(max)d.", max=1000))


def _usable_category(actor: User, category_id: int | None) -> QuestionCategory:
    category = db.session.get(QuestionCategory, category_id) if category_id else None
    if category is None or not can(actor, "bank.use", category.bank):
        raise ValidationError(_("Choose a category of a bank you may use."))
    return category


def _question_total(slots: Sequence[QuizSlot]) -> int:
    return sum(1 if s.question_id is not None else s.count for s in slots)


def _save_slots(quiz: Quiz, slots: list[QuizSlot]) -> None:
    """:raise ValidationError: the form would ask too many questions, or more than its banks
    hold."""
    if _question_total(slots) > MAX_QUESTIONS:
        raise ValidationError(_("A quiz has at most %(n)d questions.", n=MAX_QUESTIONS))
    problems = draw_problems(slots)
    if problems:
        raise ValidationError(" ".join(problems))
    for position, slot in enumerate(slots, start=1):
        slot.position = position


def add_draw(actor: User, quiz: Quiz, data: DrawInput, lock_version: int) -> QuizSlot:
    """Add a random draw to the form.

    :raise ValidationError: the category cannot give what is asked (with the numbers).
    """
    require(actor, "quiz.edit", quiz)
    _check_draw(data)
    category = _usable_category(actor, data.category_id)
    with locked_change(quiz, lock_version, _stale()):
        slot = QuizSlot(category_id=category.id, category=category, count=data.count,
                        easy=data.easy, medium=data.medium, hard=data.hard,
                        subcategories=data.subcategories, points=data.points)
        slots = [*quiz.slots, slot]
        _save_slots(quiz, slots)
        quiz.slots.append(slot)
        quiz.updated_at = utcnow()
        audit.record("quiz_form", actor=actor, obj=quiz,
                     details={"add_draw": category.path, "count": data.count,
                              "mix": [data.easy, data.medium, data.hard]})
    return slot


def add_questions(actor: User, quiz: Quiz, questions: Sequence[Question],
                  lock_version: int) -> int:
    """Add fixed questions (those not in the form yet); returns how many were added."""
    require(actor, "quiz.edit", quiz)
    for question in questions:
        if question.archived_at is not None or not can(actor, "bank.use", question.bank):
            raise ValidationError(_("Choose questions of banks you may use."))
    present = {s.question_id for s in quiz.slots}
    new = [q for q in dict.fromkeys(questions) if q.id not in present]
    with locked_change(quiz, lock_version, _stale()):
        added = [QuizSlot(question_id=q.id, question=q) for q in new]
        _save_slots(quiz, [*quiz.slots, *added])
        quiz.slots.extend(added)
        quiz.updated_at = utcnow()
        audit.record("quiz_form", actor=actor, obj=quiz,
                     details={"add_questions": [q.id for q in new]})
    return len(new)


def change_slot(actor: User, quiz: Quiz, slot: QuizSlot, action: str, lock_version: int) -> None:
    """Remove a line of the form, or move it up or down."""
    require(actor, "quiz.edit", quiz)
    if slot.quiz_id != quiz.id or action not in ("remove", "up", "down"):
        raise NotFound()
    with locked_change(quiz, lock_version, _stale()):
        slots = list(quiz.slots)
        index = slots.index(slot)
        if action == "remove":
            quiz.slots.remove(slot)
            slots.remove(slot)
        else:
            target = index + (1 if action == "down" else -1)
            if 0 <= target < len(slots):
                slots[index], slots[target] = slots[target], slots[index]
        for position, item in enumerate(slots, start=1):
            item.position = position
        quiz.updated_at = utcnow()
        audit.record("quiz_form", actor=actor, obj=quiz, details={action: slot.id})


def question_count(quiz: Quiz) -> int:
    return _question_total(quiz.slots)


# --- the preset and quiz lessons -----------------------------------------------------------

def preset_draws(bank: QuestionBank, questions: int) -> list[DrawInput]:
    """Draws of ``questions`` from the whole bank, spread over its top categories in
    proportion to their size (largest remainders first).

    :raise ValidationError: the bank has fewer questions (with the numbers).
    """
    tops = db.session.scalars(select(QuestionCategory).where(
        QuestionCategory.bank_id == bank.id, QuestionCategory.parent_id.is_(None))
        .order_by(QuestionCategory.path)).all()
    sizes = []
    for top in tops:
        ids = banks.category_ids_under(top)
        sizes.append(db.session.scalar(select(func.count(Question.id)).where(
            Question.category_id.in_(ids), Question.archived_at.is_(None))) or 0)
    total = sum(sizes)
    if total < questions:
        raise ValidationError(_("The bank “%(bank)s” has %(have)d questions; the test draws "
                                "%(wanted)d.", bank=bank.name, have=total, wanted=questions))
    shares = [questions * size / total for size in sizes]
    counts = [math.floor(share) for share in shares]
    by_remainder = sorted(range(len(tops)), key=lambda i: (counts[i] - shares[i], -sizes[i]))
    for i in by_remainder[:questions - sum(counts)]:
        counts[i] += 1
    return [DrawInput(top.id, count) for top, count in zip(tops, counts, strict=True) if count]


def create_from_preset(actor: User, preset: Preset, bank: QuestionBank, *,
                       title: str | None = None, unit_id: int | None = None,
                       for_lesson: bool = False) -> Quiz:
    """A published quiz of ``preset`` drawing from ``bank``, in one step."""
    require(actor, "bank.use", bank)
    draws = preset_draws(bank, preset.questions)
    quiz = create_quiz(actor, QuizInput(
        title=title or str(preset.title), time_limit_minutes=preset.minutes,
        attempts_allowed=preset.attempts, pass_percent=preset.pass_percent,
        review_after_submit=preset.review_after_submit,
        review_after_close=preset.review_after_close, unit_id=unit_id), for_lesson=for_lesson)
    try:
        for draw in draws:
            add_draw(actor, quiz, draw, quiz.lock_version)
        quiz.preset = preset.key
        set_status(actor, quiz, QuizStatus.PUBLISHED, quiz.lock_version)
    except ValidationError:
        _discard(quiz)
        raise
    return quiz


def _discard(quiz: Quiz) -> None:
    """Remove a quiz that was never used (its creation did not complete)."""
    with unit_of_work():
        db.session.delete(quiz)


def add_quiz_lesson(actor: User, course: Course, quiz: Quiz, lock_version: int, *,
                    reopen_completed: bool = False, duration_minutes: int | None = None):
    """Add ``quiz`` as the last lesson of ``course`` (required: passing it completes it)."""
    from lms.training import courses

    require(actor, "quiz.edit", quiz)
    return courses.add_lesson(actor, course, courses.LessonInput(
        kind=LessonKind.QUIZ, title=quiz.title, quiz_id=quiz.id, required=True,
        duration_minutes=duration_minutes or quiz.time_limit_minutes), lock_version,
        reopen_completed=reopen_completed)


def create_course_quiz(actor: User, course: Course, lock_version: int, *,
                       preset: Preset | None = None, bank: QuestionBank | None = None,
                       title: str = "", reopen_completed: bool = False) -> Quiz:
    """A quiz lesson at the end of ``course``: from ``preset`` (drawing from ``bank``), or
    an empty draft quiz whose form the trainer then builds."""
    require(actor, "course.edit", course)
    if preset is not None:
        if bank is None:
            raise ValidationError(_("Choose the bank the test draws its questions from."))
        quiz = create_from_preset(actor, preset, bank, title=title or None, for_lesson=True)
    else:
        quiz = create_quiz(actor, QuizInput(title=title or course.title), for_lesson=True)
    try:
        add_quiz_lesson(actor, course, quiz, lock_version, reopen_completed=reopen_completed)
    except Exception:
        _discard(quiz)
        raise
    return quiz
