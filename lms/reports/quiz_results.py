"""Quiz pass rate and average score per unit, for the reports.

The quizzes counted are those that are lessons of the report's courses; each person's grade
in a quiz (``quiz_grades``: the attempt that counts, best or last, kept up to date by
regrades) counts once per required enrolment the report selects, grouped by the enrolment's
unit in SQL like the other figures (:mod:`lms.reports.queries`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select

from lms.extensions import db
from lms.quizzes.models import QuizGrade
from lms.training.models import Enrolment, Lesson

if TYPE_CHECKING:
    from lms.reports.queries import Filters


@dataclass
class QuizCounts:
    graded: int = 0  # people × quizzes with a grade
    passed: int = 0
    percent_sum: float = 0.0

    def plus(self, other: QuizCounts) -> QuizCounts:
        return QuizCounts(self.graded + other.graded, self.passed + other.passed,
                          self.percent_sum + other.percent_sum)

    @property
    def pass_rate(self) -> float | None:
        return round(100 * self.passed / self.graded, 1) if self.graded else None

    @property
    def average(self) -> float | None:
        return round(self.percent_sum / self.graded, 1) if self.graded else None


def by_unit(filters: Filters, unit_ids: Sequence[int]) -> dict[int, QuizCounts]:
    """Unit → the quiz results of its people in the quizzes of the report's courses."""
    from lms.reports.queries import enrolment_conditions

    stmt = (select(Enrolment.unit_id, func.count(QuizGrade.id),
                   func.sum(case((QuizGrade.passed.is_(True), 1), else_=0)),
                   func.sum(QuizGrade.percent))
            .join(Lesson, Lesson.course_id == Enrolment.course_id)
            .join(QuizGrade, (QuizGrade.quiz_id == Lesson.quiz_id)
                  & (QuizGrade.user_id == Enrolment.user_id))
            .where(*enrolment_conditions(filters, unit_ids), Lesson.quiz_id.is_not(None),
                   Lesson.removed_at.is_(None))
            .group_by(Enrolment.unit_id))
    return {unit_id: QuizCounts(int(graded), int(passed or 0), float(percent_sum or 0.0))
            for unit_id, graded, passed, percent_sum in db.session.execute(stmt)}
