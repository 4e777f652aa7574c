"""Grading: each question's score from its version's key, the attempt's percent and result,
the person's grade in the quiz (best or last attempt), learning statements, and the lesson's
completion on a pass.

Everything here runs in the caller's transaction and works on many attempts at once (the
worker closes a thousand expired attempts in one go): rows are read and written in bulk, never
one ORM object per answer. Closing is a conditional UPDATE on the attempt's state, so that of
two submissions at the same moment exactly one grades.

A regrade (after a key was corrected) recomputes the attempts that showed the version;
learners whose result in the quiz changes are notified in the app. A course completed by an
earlier pass stays complete (certificates may have been issued on it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, case, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from lms.db import chunked, utcnow
from lms.extensions import db
from lms.quizzes import figures
from lms.quizzes.kinds import score_answer
from lms.quizzes.models import (
    AttemptQuestion,
    AttemptState,
    ClosedBy,
    Grading,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizGrade,
)
from lms.training.models import Lesson, Verb
from lms.uow import AfterCommit

CHUNK = 500
# Percentages are compared rounded, so that 24 of 30 is exactly 80%.
PRECISION = 6


@dataclass(frozen=True)
class Result:
    percent: float
    passed: bool


@dataclass
class RegradeOutcome:
    attempts: int  # attempts recomputed
    changed: int  # of which the score or the result changed
    queued: bool = False  # a large regrade runs in the worker, after the commit


# --- closing -------------------------------------------------------------------------------

def close_attempts(attempt_ids: Sequence[int], now: datetime | None = None, *,
                   expired_only: bool = False) -> list[int]:
    """Close the open ones of ``attempt_ids`` and grade them; returns those this call closed
    (another transaction may have closed the rest).

    Submitted before the deadline: closed by the learner, now. Submitted after it, or
    ``expired_only`` (the worker): closed at the deadline with what was saved by then.
    """
    now = now or utcnow()
    late = (QuizAttempt.deadline_at.is_not(None)) & (QuizAttempt.deadline_at <= now)
    claimed: list[int] = []
    for chunk in chunked(sorted(set(attempt_ids)), CHUNK):
        stmt = update(QuizAttempt).where(QuizAttempt.id.in_(chunk),
                                         QuizAttempt.state == AttemptState.OPEN)
        if expired_only:
            stmt = stmt.where(late)
        stmt = stmt.values(
            state=AttemptState.GRADED,
            submitted_at=case((late, QuizAttempt.deadline_at), else_=now),
            closed_by=case((late, ClosedBy.DEADLINE.value), else_=ClosedBy.LEARNER.value))
        claimed += db.session.scalars(stmt.returning(QuizAttempt.id)
                                      .execution_options(synchronize_session=False)).all()
    if claimed:
        grade(claimed, now)
    return claimed


def expired_attempts(now: datetime, limit: int) -> list[int]:
    return list(db.session.scalars(select(QuizAttempt.id).where(
        QuizAttempt.state == AttemptState.OPEN, QuizAttempt.deadline_at <= now)
        .order_by(QuizAttempt.deadline_at).limit(limit)))


# --- grading -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Graded:
    """One attempt as grading left it (what the statements and grades need)."""

    id: int
    quiz_id: int
    user_id: int
    lesson_id: int | None
    course_id: int | None
    started_at: datetime
    submitted_at: datetime | None
    before: Result | None
    after: Result

    @property
    def changed(self) -> bool:
        return self.before != self.after


def grade(attempt_ids: Sequence[int], now: datetime | None = None, *,
          regrade: bool = False) -> dict[int, tuple[Result | None, Result]]:
    """Score closed attempts from their versions' keys, then the grades, statements and
    lesson completions that follow. Returns attempt id → (result before, result after)."""
    now = now or utcnow()
    graded: list[Graded] = []
    for chunk in chunked(sorted(set(attempt_ids)), CHUNK):
        graded += _grade_chunk(chunk, now)
    _statements([g for g in graded if g.changed or not regrade], now, regrade)
    refresh_grades({(g.quiz_id, g.user_id) for g in graded}, now, notify=regrade)
    return {g.id: (g.before, g.after) for g in graded}


# Core statements written once: grading runs them for every attempt the worker closes.
_questions_table = AttemptQuestion.__table__
_attempts_table = QuizAttempt.__table__
_SCORE_QUESTION = update(_questions_table).where(
    _questions_table.c.id == bindparam("question_row")).values(
    score=bindparam("score"), fraction=bindparam("fraction"))
_SCORE_ATTEMPT = update(_attempts_table).where(
    _attempts_table.c.id == bindparam("attempt_row")).values(
    score=bindparam("score"), max_score=bindparam("max_score"), percent=bindparam("percent"),
    passed=bindparam("passed"), graded_at=bindparam("graded_at"))


def _grade_chunk(attempt_ids: Sequence[int], now: datetime) -> list[Graded]:
    questions = db.session.execute(select(
        AttemptQuestion.id, AttemptQuestion.attempt_id, AttemptQuestion.points,
        AttemptQuestion.answer, QuestionVersion.type, QuestionVersion.options,
        QuestionVersion.partial)
        .join(QuestionVersion, QuestionVersion.id == AttemptQuestion.version_id)
        .where(AttemptQuestion.attempt_id.in_(attempt_ids))).all()
    scores: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    question_rows = []
    for row in questions:
        fraction = round(score_answer(row.type, row.options, row.partial, row.answer),
                         PRECISION)
        score = round(fraction * row.points, PRECISION)
        question_rows.append({"question_row": row.id, "fraction": fraction, "score": score})
        total = scores[row.attempt_id]
        total[0] += score
        total[1] += row.points
    if question_rows:
        db.session.execute(_SCORE_QUESTION, question_rows)
    attempts = db.session.execute(select(
        QuizAttempt.id, QuizAttempt.quiz_id, QuizAttempt.user_id, QuizAttempt.lesson_id,
        QuizAttempt.started_at, QuizAttempt.submitted_at, QuizAttempt.percent,
        QuizAttempt.passed, Quiz.pass_percent, Lesson.course_id)
        .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
        .outerjoin(Lesson, Lesson.id == QuizAttempt.lesson_id)
        .where(QuizAttempt.id.in_(attempt_ids))).all()
    attempt_rows = []
    graded = []
    for row in attempts:
        score, maximum = scores[row.id]
        percent = round(100 * score / maximum, PRECISION) if maximum else 0.0
        passed = percent >= round(row.pass_percent, PRECISION)
        attempt_rows.append({"attempt_row": row.id, "score": round(score, PRECISION),
                             "max_score": round(maximum, PRECISION), "percent": percent,
                             "passed": passed, "graded_at": now})
        before = Result(row.percent, bool(row.passed)) if row.percent is not None else None
        graded.append(Graded(row.id, row.quiz_id, row.user_id, row.lesson_id, row.course_id,
                             row.started_at, row.submitted_at, before, Result(percent, passed)))
    if attempt_rows:
        db.session.execute(_SCORE_ATTEMPT, attempt_rows)
    return graded


def _statements(graded: Sequence[Graded], now: datetime, regrade: bool) -> None:
    from lms.training.progress import write_statements

    rows = []
    for g in graded:
        duration = int((g.submitted_at - g.started_at).total_seconds()) \
            if g.submitted_at else None
        context: dict[str, Any] = {"attempt": g.id, "lesson": g.lesson_id}
        if regrade:
            context["regrade"] = True
        rows.append({"actor_id": g.user_id, "verb": Verb.PASSED if g.after.passed
                     else Verb.FAILED, "object_type": "quiz", "object_id": g.quiz_id,
                     "course_id": g.course_id, "timestamp": now, "result_completion": True,
                     "result_success": g.after.passed,
                     "result_score": round(g.after.percent / 100, PRECISION),
                     "result_duration_seconds": duration, "context": context})
    write_statements(rows)


# --- a person's grade in a quiz ------------------------------------------------------------

def _counting(attempts: Sequence[Any], grading: str) -> Any:
    if grading == Grading.LAST:
        return max(attempts, key=lambda a: (a.number, a.id))
    return max(attempts, key=lambda a: (a.percent, -a.number))


def refresh_grades(pairs: Iterable[tuple[int, int]], now: datetime, *,
                   notify: bool = False) -> dict[tuple[int, int], tuple[Result | None, Result]]:
    """Recompute the grade of each (quiz, person) from their graded attempts; complete the
    quiz's lessons for those who now pass; with ``notify``, tell those whose result changed.
    Returns the changed grades: (quiz, person) → (before, after)."""
    changes: dict[tuple[int, int], tuple[Result | None, Result]] = {}
    for chunk in chunked(sorted(set(pairs)), CHUNK):
        changes.update(_refresh_chunk(chunk, now))
    passed = [pair for pair, (before, after) in changes.items()
              if after.passed and not (before and before.passed)]
    _complete_lessons(passed, now)
    if notify:
        _notify(changes)
    return changes


def _refresh_chunk(pairs: Sequence[tuple[int, int]], now: datetime
                   ) -> dict[tuple[int, int], tuple[Result | None, Result]]:
    match = tuple_(QuizAttempt.quiz_id, QuizAttempt.user_id).in_(pairs)
    attempts: dict[tuple[int, int], list] = defaultdict(list)
    for row in db.session.execute(select(
            QuizAttempt.id, QuizAttempt.quiz_id, QuizAttempt.user_id, QuizAttempt.number,
            QuizAttempt.score, QuizAttempt.max_score, QuizAttempt.percent, QuizAttempt.passed,
            QuizAttempt.submitted_at, Quiz.grading)
            .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
            .where(match, QuizAttempt.state == AttemptState.GRADED)):
        attempts[(row.quiz_id, row.user_id)].append(row)
    existing = {(g.quiz_id, g.user_id): g for g in db.session.execute(select(
        QuizGrade.quiz_id, QuizGrade.user_id, QuizGrade.percent, QuizGrade.passed,
        QuizGrade.first_passed_at).where(tuple_(QuizGrade.quiz_id, QuizGrade.user_id)
                                         .in_(pairs)))}
    rows, changes = [], {}
    for pair, graded in attempts.items():
        counting = _counting(graded, graded[0].grading)
        old = existing.get(pair)
        before = Result(old.percent, old.passed) if old else None
        after = Result(counting.percent, bool(counting.passed))
        first_passed = old.first_passed_at if old and old.first_passed_at else None
        if first_passed is None and any(a.passed for a in graded):
            first_passed = min(a.submitted_at for a in graded if a.passed)
        rows.append({"quiz_id": pair[0], "user_id": pair[1], "attempt_id": counting.id,
                     "attempts": len(graded), "score": counting.score,
                     "max_score": counting.max_score, "percent": counting.percent,
                     "passed": after.passed, "first_passed_at": first_passed,
                     "updated_at": now})
        if before != after:
            changes[pair] = (before, after)
    if rows:
        _upsert_grades(rows)
        figures.grades_changed(attempts)
    return changes


def _upsert_grades(rows: list[dict[str, Any]]) -> None:
    """Insert or update grade rows in one statement (two gradings of one person at once
    cannot both insert)."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(QuizGrade)
    columns = ("attempt_id", "attempts", "score", "max_score", "percent", "passed",
               "first_passed_at", "updated_at")
    stmt = stmt.on_conflict_do_update(index_elements=["quiz_id", "user_id"],
                                      set_={c: stmt.excluded[c] for c in columns})
    db.session.execute(stmt, rows)


def _complete_lessons(pairs: Sequence[tuple[int, int]], now: datetime) -> None:
    from lms.training.progress import complete_quiz_lesson

    lessons: dict[int, list[Lesson]] = {}
    for quiz_id, user_id in pairs:
        if quiz_id not in lessons:
            lessons[quiz_id] = list(db.session.scalars(select(Lesson).where(
                Lesson.quiz_id == quiz_id, Lesson.removed_at.is_(None))))
        for lesson in lessons[quiz_id]:
            complete_quiz_lesson(user_id, lesson, now)


def _notify(changes: dict[tuple[int, int], tuple[Result | None, Result]]) -> None:
    from lms.notify.services import notify

    titles: dict[int, str] = {}
    for (quiz_id, user_id), (before, after) in changes.items():
        if before is None:
            continue
        if quiz_id not in titles:
            titles[quiz_id] = db.session.scalar(select(Quiz.title).where(Quiz.id == quiz_id))
        notify([user_id], "quiz_regraded",
               {"title": titles[quiz_id], "before": round(before.percent, 1),
                "after": round(after.percent, 1), "passed": after.passed},
               f"/quizzes/{quiz_id}")


# --- regrading -----------------------------------------------------------------------------

def regrade_attempts(attempt_ids: Sequence[int], on_commit: AfterCommit | None = None,
                     now: datetime | None = None) -> RegradeOutcome:
    """Recompute graded attempts (in the caller's transaction, or in the worker once it
    commits if there are more than ``QUIZ_REGRADE_INLINE``)."""
    from lms import jobs

    ids = sorted(set(attempt_ids))
    if len(ids) > current_app.config["QUIZ_REGRADE_INLINE"] and on_commit is not None:
        on_commit(lambda: jobs.enqueue("quizzes.regrade", attempt_ids=ids))
        return RegradeOutcome(len(ids), 0, queued=True)
    outcome = grade(ids, now, regrade=True)
    return RegradeOutcome(len(ids), sum(1 for before, after in outcome.values()
                                        if before != after))


def graded_attempts_of_versions(version_ids: Sequence[int]) -> list[int]:
    return list(db.session.scalars(select(AttemptQuestion.attempt_id).distinct()
                                   .join(QuizAttempt, QuizAttempt.id == AttemptQuestion.attempt_id)
                                   .where(AttemptQuestion.version_id.in_(version_ids),
                                          QuizAttempt.state == AttemptState.GRADED)))


def regrade_versions(version_ids: Sequence[int], on_commit: AfterCommit | None = None
                     ) -> RegradeOutcome:
    """Regrade every graded attempt that showed one of ``version_ids`` (a corrected key)."""
    return regrade_attempts(graded_attempts_of_versions(version_ids), on_commit)


def graded_attempts_of_quiz(quiz: Quiz) -> list[int]:
    return list(db.session.scalars(select(QuizAttempt.id).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.state == AttemptState.GRADED)))
