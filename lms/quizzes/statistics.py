"""Item statistics of a quiz: per question, how many attempts showed and answered it, its
facility (the mean share of its points earned) and its discrimination (the correlation of its
score with the rest of the attempt's score), so trainers find questions that are too easy,
too hard, or whose key is probably wrong.

Computed by the database in one grouped query over the graded attempts (sums of x, x², y, y²
and xy per question), never by loading attempts into Python: 10,000 attempts of 30 questions
are 300,000 rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Float, case, cast, func, select

from lms.extensions import db
from lms.quizzes.models import AttemptQuestion, AttemptState, Question, Quiz, QuizAttempt

# Thresholds trainers are pointed at (common classical test theory rules of thumb).
TOO_HARD, TOO_EASY, WEAK_DISCRIMINATION = 0.2, 0.95, 0.1


@dataclass
class ItemStatistics:
    question_id: int
    summary: str
    difficulty: str
    shown: int
    answered: int
    facility: float | None
    discrimination: float | None

    @property
    def flags(self) -> list[str]:
        found = []
        if self.facility is not None and self.facility < TOO_HARD:
            found.append("hard")
        if self.facility is not None and self.facility > TOO_EASY:
            found.append("easy")
        if self.discrimination is not None and self.discrimination < WEAK_DISCRIMINATION:
            found.append("weak")
        return found


def _correlation(n: int, sx: float, sy: float, sxx: float, syy: float, sxy: float
                 ) -> float | None:
    spread = (n * sxx - sx * sx) * (n * syy - sy * sy)
    if n < 2 or spread <= 1e-12:
        return None  # everyone scored alike: no correlation to speak of
    return max(-1.0, min(1.0, (n * sxy - sx * sy) / math.sqrt(spread)))


def item_statistics(quiz: Quiz) -> list[ItemStatistics]:
    """One line per question the quiz's graded attempts showed, weakest discrimination
    first."""
    x = cast(AttemptQuestion.fraction, Float)
    others = QuizAttempt.max_score - AttemptQuestion.points
    y = case((others > 0, (QuizAttempt.score - AttemptQuestion.score) / others), else_=0.0)
    rows = db.session.execute(
        select(AttemptQuestion.question_id, func.count(), func.count(AttemptQuestion.answer),
               func.sum(x), func.sum(x * x), func.sum(y), func.sum(y * y), func.sum(x * y))
        .join(QuizAttempt, QuizAttempt.id == AttemptQuestion.attempt_id)
        .where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.state == AttemptState.GRADED)
        .group_by(AttemptQuestion.question_id)).all()
    about = {q.id: q for q in db.session.execute(select(
        Question.id, Question.summary, Question.difficulty).where(
        Question.id.in_([row[0] for row in rows])))} if rows else {}
    found = []
    for question_id, n, answered, sx, sxx, sy, syy, sxy in rows:
        sx, sxx, sy, syy, sxy = (float(v or 0) for v in (sx, sxx, sy, syy, sxy))
        question = about[question_id]
        found.append(ItemStatistics(
            question_id, question.summary, question.difficulty, n, answered,
            sx / n if n else None, _correlation(n, sx, sy, sxx, syy, sxy)))
    return sorted(found, key=lambda s: (s.discrimination is None,
                                        s.discrimination if s.discrimination is not None
                                        else 0.0, s.question_id))
