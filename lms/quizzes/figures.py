"""Each course enrolment's quiz figures, kept on the enrolment for the reports.

``enrolments.quiz_graded``, ``quiz_passed`` and ``quiz_percent`` sum the person's grades
(``quiz_grades``: the attempt that counts) in the quizzes of the course's current lessons.
Reports add them up per unit from the enrolments' own index instead of joining every
enrolment to its lessons and grades (200,000 index probes for an academy). They are renewed
in the transaction of whatever changes them: a grade (grading, regrading), the course's
lessons, a new enrolment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

from flask import Flask
from sqlalchemy import ColumnElement, case, func, select, update

from lms.db import chunked
from lms.extensions import db
from lms.quizzes.models import QuizGrade
from lms.training import events
from lms.training.models import Enrolment, Lesson

CHUNK = 500


def _grades(column: ColumnElement):
    """A correlated subquery: ``column`` summed over the enrolment's grades in its course's
    current quiz lessons."""
    return (select(func.coalesce(func.sum(column), 0))
            .select_from(Lesson)
            .join(QuizGrade, (QuizGrade.quiz_id == Lesson.quiz_id)
                  & (QuizGrade.user_id == Enrolment.user_id))
            .where(Lesson.course_id == Enrolment.course_id, Lesson.quiz_id.is_not(None),
                   Lesson.removed_at.is_(None))
            .correlate(Enrolment).scalar_subquery())


def refresh(*conditions: ColumnElement[bool]) -> None:
    """Recompute the figures of the course enrolments ``conditions`` select."""
    db.session.execute(
        update(Enrolment).where(Enrolment.course_id.is_not(None), *conditions)
        .values(quiz_graded=_grades(1),
                quiz_passed=_grades(case((QuizGrade.passed.is_(True), 1), else_=0)),
                quiz_percent=_grades(QuizGrade.percent))
        .execution_options(synchronize_session=False))


def grades_changed(pairs: Iterable[tuple[int, int]]) -> None:
    """The grades of these (quiz, person) pairs changed."""
    people: dict[int, set[int]] = defaultdict(set)
    for quiz_id, user_id in pairs:
        people[quiz_id].add(user_id)
    for quiz_id, user_ids in people.items():
        courses = select(Lesson.course_id).where(Lesson.quiz_id == quiz_id)
        for chunk in chunked(sorted(user_ids), CHUNK):
            refresh(Enrolment.user_id.in_(chunk), Enrolment.course_id.in_(courses))


def _lessons_changed(course_id: int) -> None:
    refresh(Enrolment.course_id == course_id)


def _enrolments_added(enrolment_ids: Collection[int]) -> None:
    for chunk in chunked(sorted(enrolment_ids), CHUNK):
        refresh(Enrolment.id.in_(chunk))


def connect(app: Flask) -> None:
    events.connect(app, lessons_changed=_lessons_changed, enrolments_added=_enrolments_added)
