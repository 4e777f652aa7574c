"""Quiz pass rate and average score per unit, for the reports.

The quizzes (``lms.quizzes``) are not part of this code base yet: until they are,
:func:`by_unit` answers None and the reports show the quiz columns as not available. Once
they are, it reads their per-person grades (the attempt that counts) of the quizzes in the
report's courses, with the report's own filters, grouped by unit in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

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


def available() -> bool:
    return False


def by_unit(filters: Filters, unit_ids: Sequence[int]) -> dict[int, QuizCounts] | None:
    """Unit → quiz results of its people; None while there are no quizzes to report on."""
    return None
