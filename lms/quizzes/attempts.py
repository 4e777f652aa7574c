"""Attempts: who may start one and when, the draw, saving answers, submitting, and the close
of attempts whose time ran out.

The server owns the clock: an attempt's deadline is fixed when it starts (the time limit, the
close date, a person's extra time) and a save after it is refused. Each question of an
attempt shows its options under tokens made for that attempt, in its own order; the keys of
the options and anything from which the key could be derived stay on the server. A save is
idempotent: it carries the client's sequence number, and a save whose number is not above the
last one kept changes nothing.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import SystemRandom
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from lms import audit
from lms.accounts.models import User
from lms.db import utcnow
from lms.errors import Conflict, NotFound, PermissionDenied, ValidationError
from lms.extensions import db
from lms.permissions import can, require
from lms.quizzes import grading, kinds
from lms.quizzes.access import quiz_lessons
from lms.quizzes.models import (
    AttemptQuestion,
    AttemptState,
    Difficulty,
    Question,
    QuestionType,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizGrade,
    QuizOverride,
    QuizSlot,
    QuizStatus,
    Review,
)
from lms.quizzes.quizzes import draw_pool
from lms.training.models import Lesson
from lms.uow import unit_of_work

TOKEN_BYTES = 6
# A client sequence number is a positive integer below this (JavaScript's safe integers).
MAX_SEQ = 2**53
_random = SystemRandom()


class AttemptClosed(Conflict):
    """The attempt is closed (submitted, or its time ran out): nothing more is saved."""


def _when(value: datetime) -> str:
    return format_datetime(value, "short")


# --- where a person stands -----------------------------------------------------------------

@dataclass
class Standing:
    quiz: Quiz
    lesson: Lesson | None
    attempts: list[QuizAttempt] = field(default_factory=list)  # newest first
    grade: QuizGrade | None = None
    override: QuizOverride | None = None
    refusal: str | None = None  # why no attempt may start now
    next_start_at: datetime | None = None

    @property
    def open_attempt(self) -> QuizAttempt | None:
        return next((a for a in self.attempts if a.is_open), None)

    @property
    def allowed(self) -> int | None:
        if self.quiz.attempts_allowed is None:
            return None
        return self.quiz.attempts_allowed + (self.override.extra_attempts if self.override
                                             else 0)

    @property
    def may_start(self) -> bool:
        return self.refusal is None and self.open_attempt is None

    @property
    def extra_minutes(self) -> int:
        return self.override.extra_minutes if self.override else 0


def lesson_of(user: User, quiz: Quiz) -> Lesson | None:
    """The lesson through which ``user`` takes ``quiz``: one of a course they are enrolled in
    (else the first), or None for a quiz on its own."""
    lessons = quiz_lessons(quiz)
    return next((lesson for lesson in lessons if can(user, "lesson.open", lesson)),
                lessons[0] if lessons else None)


def standing(user: User, quiz: Quiz, now: datetime | None = None) -> Standing:
    """``user``'s attempts and grade in ``quiz``, and whether (else why not) they may start
    one now. Lesson locks and enrolment are checked by :func:`check_access`."""
    now = now or utcnow()
    result = Standing(quiz, lesson_of(user, quiz))
    result.attempts = list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id)
        .order_by(QuizAttempt.number.desc())))
    result.grade = db.session.scalar(select(QuizGrade).where(
        QuizGrade.quiz_id == quiz.id, QuizGrade.user_id == user.id))
    result.override = db.session.scalar(select(QuizOverride).where(
        QuizOverride.quiz_id == quiz.id, QuizOverride.user_id == user.id))
    if quiz.status != QuizStatus.PUBLISHED:
        result.refusal = _("This quiz is not open for attempts.")
    elif quiz.opens_at is not None and now < quiz.opens_at:
        result.refusal = _("This quiz opens on %(when)s.", when=_when(quiz.opens_at))
        result.next_start_at = quiz.opens_at
    elif quiz.closes_at is not None and now >= quiz.closes_at:
        result.refusal = _("This quiz closed on %(when)s.", when=_when(quiz.closes_at))
    elif result.allowed is not None and len(result.attempts) >= result.allowed:
        result.refusal = _("You have used the %(n)d attempts allowed.", n=result.allowed)
    elif quiz.wait_minutes and result.attempts and result.attempts[0].submitted_at:
        ready = result.attempts[0].submitted_at + timedelta(minutes=quiz.wait_minutes)
        if now < ready:
            result.refusal = _("You may start another attempt on %(when)s.", when=_when(ready))
            result.next_start_at = ready
    return result


def has_attempts(user: User, quiz: Quiz) -> bool:
    return bool(db.session.scalar(select(func.count(QuizAttempt.id)).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id)))


def check_access(user: User, quiz: Quiz, lesson: Lesson | None) -> None:
    """:raise PermissionDenied: ``user`` may not take ``quiz``; the message says why (not
    enrolled, a lesson still locked, a unit's assessment of another unit)."""
    if lesson is not None:
        from lms.training.progress import check_open

        outline = check_open(user, lesson.course, lesson)
        if outline.enrolment is None:
            raise PermissionDenied(_("Only learners enrolled in the course take its quiz."))
    if not can(user, "quiz.attempt", quiz):
        if lesson is None and quiz.is_published:
            raise PermissionDenied(_("This quiz is an assessment of another unit."))
        raise NotFound()


# --- starting ------------------------------------------------------------------------------

def _tokens(keys: Sequence[str], shuffle: bool) -> list[list[str]]:
    order = list(keys)
    if shuffle:
        _random.shuffle(order)
    used: set[str] = set()
    pairs = []
    for key in order:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        while token in used:
            token = secrets.token_urlsafe(TOKEN_BYTES)
        used.add(token)
        pairs.append([token, key])
    return pairs


def _choices(version: QuestionVersion, shuffle: bool) -> Any:
    keys = [o["key"] for o in version.options]
    if version.type == QuestionType.MATCHING:
        return {"prompts": _tokens(keys, shuffle), "answers": _tokens(keys, True)}
    if version.type == QuestionType.TRUE_FALSE:
        return _tokens(keys, False)  # true, then false: an order, not a hint
    return _tokens(keys, shuffle)


def _draw(quiz: Quiz) -> list[tuple[int, QuizSlot]]:
    """The questions of a new attempt, in the form's order: (question id, its slot).

    :raise Conflict: a bank no longer holds what a random draw asks (with the numbers).
    """
    fixed = {s.question_id for s in quiz.slots if s.question_id is not None}
    taken = set(fixed)
    drawn: dict[int, list[int]] = {}
    randoms = [s for s in quiz.slots if s.is_random]
    pools = {s.id: draw_pool(s, fixed) for s in randoms}
    # The narrowest draws first, so that a broad one cannot empty them.
    for slot in sorted(randoms, key=lambda s: (len(pools[s.id]), s.position)):
        pool = {qid: d for qid, d in pools[slot.id].items() if qid not in taken}
        chosen: list[int] = []
        for difficulty in Difficulty:
            wanted = getattr(slot, str(difficulty))
            candidates = [qid for qid, d in pool.items() if d == difficulty]
            if wanted > len(candidates):
                raise Conflict(_("The quiz cannot draw its questions: “%(category)s” has "
                                 "%(have)d %(difficulty)s questions left for %(wanted)d. Tell "
                                 "the trainer.", category=slot.category.path,
                                 have=len(candidates), difficulty=difficulty, wanted=wanted))
            chosen += _random.sample(candidates, wanted)
        rest = [qid for qid in pool if qid not in set(chosen)]
        wanted = slot.count - len(chosen)
        if wanted > len(rest):
            raise Conflict(_("The quiz cannot draw its questions: “%(category)s” has %(have)d "
                             "questions left for %(wanted)d. Tell the trainer.",
                             category=slot.category.path, have=len(rest) + len(chosen),
                             wanted=slot.count))
        chosen += _random.sample(rest, wanted)
        taken.update(chosen)
        drawn[slot.id] = chosen
    ordered: list[tuple[int, QuizSlot]] = []
    for slot in quiz.slots:
        ids = [slot.question_id] if slot.question_id is not None else drawn[slot.id]
        ordered += [(qid, slot) for qid in ids]
    if quiz.shuffle_questions:
        _random.shuffle(ordered)
    return ordered


def deadline_for(quiz: Quiz, started: datetime, extra_minutes: int) -> datetime | None:
    """The time limit and the close date, whichever comes first, plus the person's extra."""
    limits = []
    if quiz.time_limit_minutes:
        limits.append(started + timedelta(minutes=quiz.time_limit_minutes))
    if quiz.closes_at is not None:
        limits.append(quiz.closes_at)
    if not limits:
        return None
    return min(limits) + timedelta(minutes=extra_minutes)


def start_attempt(user: User, quiz: Quiz, now: datetime | None = None) -> QuizAttempt:
    """Start an attempt (or return the one already open).

    :raise PermissionDenied: not allowed now (the message says why). :raise Conflict: the
        banks no longer hold what the form asks.
    """
    now = now or utcnow()
    found = standing(user, quiz, now)
    check_access(user, quiz, found.lesson)
    if found.open_attempt is not None:
        return found.open_attempt
    if found.refusal is not None:
        raise PermissionDenied(found.refusal)
    questions = _draw(quiz)
    versions = {v.question_id: v for v in db.session.scalars(
        select(QuestionVersion).join(Question, Question.id == QuestionVersion.question_id)
        .where(Question.id.in_([qid for qid, _slot in questions]),
               QuestionVersion.number == Question.current_version))}
    try:
        with unit_of_work():
            number = (db.session.scalar(select(func.max(QuizAttempt.number)).where(
                QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id)) or 0) + 1
            attempt = QuizAttempt(quiz_id=quiz.id, user_id=user.id, number=number,
                                  lesson_id=found.lesson.id if found.lesson else None,
                                  state=AttemptState.OPEN, started_at=now,
                                  deadline_at=deadline_for(quiz, now, found.extra_minutes))
            db.session.add(attempt)
            db.session.flush()
            db.session.execute(insert(AttemptQuestion), [
                {"attempt_id": attempt.id, "slot": position, "question_id": qid,
                 "version_id": versions[qid].id,
                 "points": slot.points if slot.points is not None else versions[qid].points,
                 "choices": _choices(versions[qid], quiz.shuffle_options), "answer": None,
                 "answer_seq": 0} for position, (qid, slot) in enumerate(questions, start=1)])
    except IntegrityError:
        # Started twice at the same moment (two tabs, a double click): the other one won.
        db.session.rollback()
        existing = db.session.scalar(select(QuizAttempt).where(
            QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id,
            QuizAttempt.state == AttemptState.OPEN))
        if existing is None:
            raise
        return existing
    return attempt


# --- an attempt as its learner sees it -----------------------------------------------------

def own_attempt(user: User, attempt_id: int, now: datetime | None = None) -> QuizAttempt:
    """``user``'s attempt, closed and graded first if its time ran out.

    :raise NotFound: no such attempt, or someone else's (its existence is not theirs to know).
    """
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or not can(user, "attempt.view", attempt):
        raise NotFound()
    close_if_expired(attempt, now)
    return attempt


def close_if_expired(attempt: QuizAttempt, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if not attempt.is_open or attempt.deadline_at is None or now < attempt.deadline_at:
        return False
    with unit_of_work():
        closed = grading.close_attempts([attempt.id], now, expired_only=True)
    db.session.refresh(attempt)
    return bool(closed)


def remaining_seconds(attempt: QuizAttempt, now: datetime | None = None) -> int | None:
    if attempt.deadline_at is None:
        return None
    left = (attempt.deadline_at - (now or utcnow())).total_seconds()
    return max(0, math.ceil(left))


@dataclass
class Choice:
    token: str
    text: str


@dataclass
class ShownQuestion:
    """A question of an attempt as its page shows it: tokens, texts, the learner's answer.
    Nothing here tells which option is correct."""

    slot: int
    type: str
    text_html: str
    points: float
    options: list[Choice] = field(default_factory=list)  # choice questions
    prompts: list[Choice] = field(default_factory=list)  # matching
    answers: list[Choice] = field(default_factory=list)  # matching, in their own order
    chosen: list[str] = field(default_factory=list)  # tokens chosen
    matched: dict[str, str] = field(default_factory=dict)  # prompt token → answer token

    @property
    def answered(self) -> bool:
        return bool(self.chosen or self.matched)


def _option_text(version_type: str, option: dict[str, Any]) -> str:
    if version_type == QuestionType.TRUE_FALSE:
        return _("True") if option["key"] == kinds.TRUE_KEY else _("False")
    return option["text"]


def show(row: AttemptQuestion, version: QuestionVersion) -> ShownQuestion:
    options = {o["key"]: o for o in version.options}
    shown = ShownQuestion(row.slot, version.type, version.text_html, row.points)
    if version.type == QuestionType.MATCHING:
        shown.prompts = [Choice(t, options[k]["text"]) for t, k in row.choices["prompts"]]
        shown.answers = [Choice(t, options[k]["match"]) for t, k in row.choices["answers"]]
        prompt_token = {k: t for t, k in row.choices["prompts"]}
        answer_token = {k: t for t, k in row.choices["answers"]}
        shown.matched = {prompt_token[p]: answer_token[a]
                         for p, a in (row.answer or {}).items()}
    else:
        shown.options = [Choice(t, _option_text(version.type, options[k]))
                         for t, k in row.choices]
        token = {k: t for t, k in row.choices}
        shown.chosen = [token[k] for k in (row.answer or [])]
    return shown


def attempt_questions(attempt: QuizAttempt, slot: int | None = None
                      ) -> list[tuple[AttemptQuestion, QuestionVersion]]:
    stmt = select(AttemptQuestion, QuestionVersion).join(
        QuestionVersion, QuestionVersion.id == AttemptQuestion.version_id).where(
        AttemptQuestion.attempt_id == attempt.id).order_by(AttemptQuestion.slot)
    if slot is not None:
        stmt = stmt.where(AttemptQuestion.slot == slot)
    return [(row, version) for row, version in db.session.execute(stmt)]


def answered_slots(attempt: QuizAttempt) -> dict[int, bool]:
    """Slot → whether it has an answer (the question list of the attempt page)."""
    return {slot: answer is not None for slot, answer in db.session.execute(
        select(AttemptQuestion.slot, AttemptQuestion.answer).where(
            AttemptQuestion.attempt_id == attempt.id).order_by(AttemptQuestion.slot))}


# --- saving --------------------------------------------------------------------------------

def _answer_keys(version_type: str, choices: Any, raw: Any) -> Any:
    """The option keys behind the tokens of ``raw``; None clears the answer.

    :raise ValidationError: a token that is not one of this question's, or an answer of the
        wrong shape.
    """
    if version_type == QuestionType.MATCHING:
        if not isinstance(raw, dict):
            raise ValidationError(_("A matching answer pairs each prompt with an answer."))
        prompts = dict(choices["prompts"])
        answers = dict(choices["answers"])
        matched = {}
        for prompt, answer in raw.items():
            if prompt not in prompts or (answer and answer not in answers):
                raise ValidationError(_("This answer is not one of the question's options."))
            if answer:
                matched[prompts[prompt]] = answers[answer]
        return matched or None
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        raise ValidationError(_("An answer is a list of the options chosen."))
    tokens = dict(choices)
    if any(t not in tokens for t in raw):
        raise ValidationError(_("This answer is not one of the question's options."))
    keys = list(dict.fromkeys(tokens[t] for t in raw))
    if version_type != QuestionType.MULTIPLE and len(keys) > 1:
        raise ValidationError(_("Choose one option only."))
    return keys or None


@dataclass
class Saved:
    saved: bool  # False: a save with this or a later sequence number was kept already
    remaining_seconds: int | None


def save_answer(user: User, attempt_id: int, slot: Any, raw: Any, seq: Any,
                now: datetime | None = None) -> Saved:
    """Save the answer to one question of ``user``'s open attempt.

    :raise NotFound: not ``user``'s attempt. :raise AttemptClosed: submitted, or the time ran
        out. :raise ValidationError: no such question in the attempt, an option of another
        question, a bad sequence number.
    """
    now = now or utcnow()
    if not (isinstance(seq, int) and not isinstance(seq, bool) and 0 < seq < MAX_SEQ):
        raise ValidationError(_("A save needs its sequence number (a positive integer)."))
    if not (isinstance(slot, int) and not isinstance(slot, bool)):
        raise ValidationError(_("This attempt has no such question."))
    with unit_of_work():
        # One statement reads the attempt and the question. FOR SHARE of the attempt
        # (PostgreSQL): a submission waits for this save, or this save sees it submitted.
        row = db.session.execute(
            select(QuizAttempt.user_id, QuizAttempt.state, QuizAttempt.deadline_at,
                   AttemptQuestion.id, AttemptQuestion.choices, QuestionVersion.type)
            .select_from(QuizAttempt)
            .outerjoin(AttemptQuestion, (AttemptQuestion.attempt_id == QuizAttempt.id)
                       & (AttemptQuestion.slot == slot))
            .outerjoin(QuestionVersion, QuestionVersion.id == AttemptQuestion.version_id)
            .where(QuizAttempt.id == attempt_id)
            .with_for_update(read=True, of=QuizAttempt)).first()
        if row is None or row.user_id != user.id:
            raise NotFound()
        if row.state != AttemptState.OPEN:
            raise AttemptClosed(_("This attempt is closed; nothing more is saved."))
        if row.deadline_at is not None and now >= row.deadline_at:
            raise AttemptClosed(_("The time ran out at %(when)s; answers sent after it are not "
                                  "saved.", when=_when(row.deadline_at)))
        if row.id is None:
            raise ValidationError(_("This attempt has no such question."))
        answer = _answer_keys(row.type, row.choices, raw)
        written = db.session.execute(
            update(AttemptQuestion)
            .where(AttemptQuestion.id == row.id, AttemptQuestion.answer_seq < seq)
            .values(answer=answer, answer_seq=seq, answered_at=now)
            .execution_options(synchronize_session=False)).rowcount
    left = None if row.deadline_at is None else max(0, math.ceil(
        (row.deadline_at - now).total_seconds()))
    return Saved(written == 1, left)


def submit(user: User, attempt_id: int, now: datetime | None = None) -> QuizAttempt:
    """Submit ``user``'s attempt and grade it; submitting again changes nothing.

    :raise NotFound: not ``user``'s attempt.
    """
    now = now or utcnow()
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or not can(user, "attempt.view", attempt):
        raise NotFound()
    with unit_of_work():
        grading.close_attempts([attempt.id], now)
    db.session.refresh(attempt)
    return attempt


def close_expired(now: datetime | None = None, batch: int = 1000) -> int:
    """Close and grade every open attempt whose deadline has passed (the worker, each
    minute); returns how many were closed."""
    now = now or utcnow()
    closed = 0
    while True:
        ids = grading.expired_attempts(now, batch)
        if not ids:
            return closed
        with unit_of_work():
            closed += len(grading.close_attempts(ids, now, expired_only=True))


# --- the result page -----------------------------------------------------------------------

def review_level(attempt: QuizAttempt, now: datetime | None = None) -> str | None:
    """How much of a graded attempt its learner sees now (None: nothing yet)."""
    if attempt.is_open:
        return None
    quiz = attempt.quiz
    order = list(Review)
    level = quiz.review_after_submit
    if quiz.closes_at is not None and (now or utcnow()) >= quiz.closes_at and \
            order.index(quiz.review_after_close) > order.index(level):
        level = quiz.review_after_close
    return level


@dataclass
class Reviewed:
    shown: ShownQuestion
    score: float | None
    fraction: float | None
    correct_tokens: list[str] = field(default_factory=list)
    correct_matches: dict[str, str] = field(default_factory=dict)  # prompt → answer token
    feedback: list[tuple[str, str]] = field(default_factory=list)  # (option text, feedback)
    explanation_html: str = ""

    @property
    def is_correct(self) -> bool:
        return self.fraction is not None and self.fraction >= 1.0

    @property
    def is_partial(self) -> bool:
        return self.fraction is not None and 0 < self.fraction < 1.0


def review(attempt: QuizAttempt, level: str) -> list[Reviewed]:
    """The graded attempt's questions with what ``level`` lets its learner see (``score``:
    nothing; ``wrong``: which were right; ``full``: the key, feedback and explanation)."""
    if level == Review.SCORE:
        return []
    reviewed = []
    for row, version in attempt_questions(attempt):
        shown = show(row, version)
        item = Reviewed(shown, row.score, row.fraction)
        if level == Review.FULL:
            options = {o["key"]: o for o in version.options}
            if version.type == QuestionType.MATCHING:
                answer_token = {k: t for t, k in row.choices["answers"]}
                item.correct_matches = {t: answer_token[k] for t, k in row.choices["prompts"]}
            else:
                item.correct_tokens = [t for t, k in row.choices if options[k].get("correct")]
            chosen = set(row.answer or []) if isinstance(row.answer, list) else set()
            item.feedback = [(_option_text(version.type, options[k]), options[k]["feedback"])
                             for k in ([k for _t, k in row.choices]
                                       if version.type != QuestionType.MATCHING else [])
                             if options[k].get("feedback") and k in chosen]
            item.explanation_html = version.explanation_html
        reviewed.append(item)
    return reviewed


# --- trainers ------------------------------------------------------------------------------

def grant(actor: User, quiz: Quiz, person: User, *, extra_attempts: int, extra_minutes: int,
          reason: str) -> QuizOverride:
    """Give one person extra attempts and/or extra time in ``quiz``; an attempt of theirs
    that is open gets the extra time at once.

    :raise ValidationError: numbers out of range, no reason, or someone who cannot take the
        quiz.
    """
    require(actor, "attempt.grant", quiz)
    if not (0 <= extra_attempts <= 20 and 0 <= extra_minutes <= 600):
        raise ValidationError(_("Up to 20 extra attempts and 600 extra minutes."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why (the reason is kept in the audit log)."))
    if not can(person, "quiz.attempt", quiz):
        raise ValidationError(_("%(name)s cannot take this quiz.", name=person.display_name))
    with unit_of_work():
        override = db.session.scalar(select(QuizOverride).where(
            QuizOverride.quiz_id == quiz.id, QuizOverride.user_id == person.id))
        if override is None:
            override = QuizOverride(quiz_id=quiz.id, user_id=person.id, extra_attempts=0,
                                    extra_minutes=0)
            db.session.add(override)
        added = extra_minutes - override.extra_minutes
        override.extra_attempts, override.extra_minutes = extra_attempts, extra_minutes
        override.reason, override.granted_by_id = reason[:2000], actor.id
        override.updated_at = utcnow()
        open_attempt = db.session.scalar(select(QuizAttempt).where(
            QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == person.id,
            QuizAttempt.state == AttemptState.OPEN))
        if added and open_attempt is not None and open_attempt.deadline_at is not None:
            open_attempt.deadline_at += timedelta(minutes=added)
        audit.record("quiz_grant", actor=actor, obj=quiz,
                     details={"user": person.username, "extra_attempts": extra_attempts,
                              "extra_minutes": extra_minutes, "reason": reason[:500]})
    return override


def reviewable_attempt(actor: User, attempt_id: int) -> QuizAttempt:
    """An attempt for its quiz's editors (closed first if its time ran out).

    :raise NotFound: no such attempt, or not theirs to review.
    """
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or not can(actor, "attempt.review", attempt):
        raise NotFound()
    close_if_expired(attempt)
    return attempt


def overrides_of(quiz: Quiz) -> list[QuizOverride]:
    return list(db.session.scalars(select(QuizOverride).where(
        QuizOverride.quiz_id == quiz.id).order_by(QuizOverride.updated_at.desc())))


def attempts_of(quiz: Quiz, *, query: str = "", state: str = ""):
    """A quiz's attempts with their learner, newest first (the trainers' list)."""
    from lms.text import escape_like

    stmt = select(QuizAttempt, User).join(User, User.id == QuizAttempt.user_id).where(
        QuizAttempt.quiz_id == quiz.id)
    if state in set(AttemptState):
        stmt = stmt.where(QuizAttempt.state == state)
    if query:
        like = f"%{escape_like(query.lower())}%"
        stmt = stmt.where(func.lower(User.username).like(like, escape="\\")
                          | func.lower(User.full_name).like(like, escape="\\"))
    return stmt.order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())


def summary(quiz: Quiz) -> dict[str, Any]:
    """Counts of the quiz's results: people graded, passed, average percent, open attempts."""
    graded = db.session.execute(select(
        func.count(QuizGrade.id), func.sum(case((QuizGrade.passed.is_(True), 1), else_=0)),
        func.avg(QuizGrade.percent)).where(QuizGrade.quiz_id == quiz.id)).one()
    open_count = db.session.scalar(select(func.count(QuizAttempt.id)).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.state == AttemptState.OPEN)) or 0
    return {"people": graded[0] or 0, "passed": int(graded[1] or 0),
            "average": float(graded[2]) if graded[2] is not None else None,
            "open": open_count}


def regrade_quiz(actor: User, quiz: Quiz) -> grading.RegradeOutcome:
    """Recompute every graded attempt of ``quiz`` with its versions' current keys and the
    quiz's pass mark; learners whose result changes are notified."""
    require(actor, "attempt.regrade", quiz)
    with unit_of_work() as on_commit:
        audit.record("quiz_regrade", actor=actor, obj=quiz)
        outcome = grading.regrade_attempts(grading.graded_attempts_of_quiz(quiz), on_commit)
    return outcome
