"""The figures of a report, computed by the database: never by loading enrolments.

A report is about the **required** enrolments (what people are assigned now) of a course, a
track, or — with no item chosen — every course, of the people in a unit and its sub-units,
optionally only those in an audience or a target group and those assigned in a period. Each
query groups by the enrolment's unit (``ix_enrolments_report``), and the few rows that come
back (one per unit) are rolled up into the chosen unit's sub-units in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, select

from lms.accounts.models import Unit, User
from lms.certificates.models import Certificate
from lms.extensions import db
from lms.training.models import AudienceMember, Enrolment, EnrolmentStatus


@dataclass(frozen=True)
class Filters:
    """What a report is about (each part optional but the unit)."""

    unit_id: int
    course_id: int | None = None
    track_id: int | None = None
    audience_id: int | None = None
    target_group_id: int | None = None
    start: datetime | None = None  # assigned from
    end: datetime | None = None  # assigned until


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


@dataclass
class Counts:
    assigned: int = 0
    not_started: int = 0
    in_progress: int = 0
    completed: int = 0
    overdue: int = 0
    certificates: int = 0
    quiz: QuizCounts | None = None

    def add(self, other: Counts) -> None:
        self.assigned += other.assigned
        self.not_started += other.not_started
        self.in_progress += other.in_progress
        self.completed += other.completed
        self.overdue += other.overdue
        self.certificates += other.certificates
        if other.quiz is not None:
            self.quiz = (self.quiz or QuizCounts()).plus(other.quiz)

    @property
    def percent(self) -> float | None:
        """Completed, as a percentage of the assigned (one decimal); None when none is."""
        if not self.assigned:
            return None
        return round(100 * self.completed / self.assigned, 1)


def enrolment_conditions(filters: Filters, unit_ids: Iterable[int]) -> list[ColumnElement]:
    """The SQL conditions selecting a report's enrolments."""
    return [Enrolment.required.is_(True), Enrolment.unit_id.in_(sorted(unit_ids)),
            *_filter_conditions(filters, Enrolment, Enrolment.enrolled_at)]


def _filter_conditions(filters: Filters, model: type[Enrolment] | type[Certificate],
                       when) -> list[ColumnElement]:
    """The filters' track or course (without one: every course, no track), people and period
    (on the date column ``when``), on an enrolment's or a certificate's columns."""
    if filters.track_id is not None:
        subject = model.track_id == filters.track_id
    elif filters.course_id is not None:
        subject = model.course_id == filters.course_id
    else:
        subject = model.course_id.is_not(None)
    conditions: list[ColumnElement] = [subject, *people_conditions(filters, model.user_id)]
    if filters.start is not None:
        conditions.append(when >= filters.start)
    if filters.end is not None:
        conditions.append(when <= filters.end)
    return conditions


def people_conditions(filters: Filters, user_id) -> list[ColumnElement]:
    conditions: list[ColumnElement] = []
    if filters.audience_id is not None:
        conditions.append(user_id.in_(select(AudienceMember.user_id).where(
            AudienceMember.audience_id == filters.audience_id,
            AudienceMember.ended_at.is_(None))))
    if filters.target_group_id is not None:
        conditions.append(user_id.in_(select(User.id).where(
            User.target_group_id == filters.target_group_id)))
    return conditions


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    return and_(Enrolment.due_at < now, Enrolment.status != EnrolmentStatus.COMPLETED)


def counts_by_unit(filters: Filters, unit_ids: Iterable[int],
                   now: datetime) -> dict[int, Counts]:
    """Unit → the counts of the enrolments of people in that very unit: statuses, and the
    quiz results each enrolment keeps (``lms.quizzes.figures``)."""
    unit_ids = sorted(unit_ids)
    status = Enrolment.status
    stmt = (select(Enrolment.unit_id, func.count(Enrolment.id),
                   func.sum(case((status == EnrolmentStatus.NOT_STARTED, 1), else_=0)),
                   func.sum(case((status == EnrolmentStatus.IN_PROGRESS, 1), else_=0)),
                   func.sum(case((status == EnrolmentStatus.COMPLETED, 1), else_=0)),
                   func.sum(case((overdue_condition(now), 1), else_=0)),
                   func.sum(Enrolment.quiz_graded), func.sum(Enrolment.quiz_passed),
                   func.sum(Enrolment.quiz_percent))
            .where(*enrolment_conditions(filters, unit_ids))
            .group_by(Enrolment.unit_id))
    found: dict[int, Counts] = {}
    for (unit_id, assigned, not_started, in_progress, completed, overdue,
         graded, passed, percent_sum) in db.session.execute(stmt):
        found[unit_id] = Counts(int(assigned), int(not_started or 0), int(in_progress or 0),
                                int(completed or 0), int(overdue or 0))
        if graded:
            found[unit_id].quiz = QuizCounts(int(graded), int(passed or 0),
                                             float(percent_sum or 0.0))
    for unit_id, issued in certificates_by_unit(filters, unit_ids).items():
        found.setdefault(unit_id, Counts()).certificates = issued
    return found


def certificates_by_unit(filters: Filters, unit_ids: Sequence[int]) -> dict[int, int]:
    """Unit (of the person when it was issued) → certificates issued and not revoked."""
    conditions = [Certificate.revoked_at.is_(None), Certificate.unit_id.in_(unit_ids),
                  *_filter_conditions(filters, Certificate, Certificate.issued_at)]
    return {unit_id: int(n) for unit_id, n in db.session.execute(
        select(Certificate.unit_id, func.count(Certificate.id)).where(*conditions)
        .group_by(Certificate.unit_id))}


@dataclass
class UnitTree:
    """The unit tree, read once per report (units are few)."""

    units: dict[int, Unit]
    children: dict[int | None, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> UnitTree:
        units = {u.id: u for u in db.session.scalars(select(Unit).order_by(Unit.name))}
        tree = cls(units)
        for unit in units.values():
            tree.children.setdefault(unit.parent_id, []).append(unit.id)
        return tree

    def subtree(self, unit_id: int) -> set[int]:
        found, stack = set(), [unit_id]
        while stack:
            current = stack.pop()
            if current not in found:
                found.add(current)
                stack.extend(self.children.get(current, ()))
        return found

    def path(self, unit_id: int | None) -> str:
        names = []
        while unit_id is not None and unit_id in self.units:
            names.append(self.units[unit_id].name)
            unit_id = self.units[unit_id].parent_id
        return "/".join(reversed(names))

    def chain(self, unit_id: int) -> list[int]:
        """The unit and its ancestors, nearest first."""
        found = []
        current: int | None = unit_id
        while current is not None and current in self.units:
            found.append(current)
            current = self.units[current].parent_id
        return found


@dataclass
class Line:
    """One line of the table: a sub-unit with everything below it, or the people directly
    in the chosen unit (``own``), or the total."""

    unit: Unit
    counts: Counts
    own: bool = False
    has_children: bool = False


def unit_lines(filters: Filters, tree: UnitTree, now: datetime) -> tuple[list[Line], Line]:
    """The chosen unit's sub-units (each rolled up) and its own people, and the total."""
    unit = tree.units[filters.unit_id]
    scope = tree.subtree(unit.id)
    by_unit = counts_by_unit(filters, scope, now)
    lines: list[Line] = []
    own = by_unit.get(unit.id)
    if own is not None:
        lines.append(Line(unit, own, own=True))
    for child_id in tree.children.get(unit.id, []):
        rolled = Counts()
        for member in tree.subtree(child_id):
            if member in by_unit:
                rolled.add(by_unit[member])
        lines.append(Line(tree.units[child_id], rolled,
                          has_children=bool(tree.children.get(child_id))))
    total = Counts()
    for counts in by_unit.values():
        total.add(counts)
    return lines, Line(unit, total)


def completion_over_time(filters: Filters, unit_ids: Iterable[int],
                         points: Sequence[datetime]) -> list[int]:
    """How many of the report's enrolments were completed by each of ``points`` (one query,
    one conditional sum per point)."""
    if not points:
        return []
    columns = [func.sum(case((Enrolment.completed_at <= point, 1), else_=0))
               for point in points]
    row = db.session.execute(select(*columns).where(
        *enrolment_conditions(filters, unit_ids),
        Enrolment.status == EnrolmentStatus.COMPLETED)).one()
    return [int(value or 0) for value in row]
