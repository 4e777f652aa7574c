"""Reports as pages and files: filters read from the URL and checked against what the person
may see, the table of a unit's sub-units against targets, its chart series, and the people
behind the figures."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from lms.accounts.models import PersonTerm, TermKind, Unit, User
from lms.errors import NotFound, PermissionDenied
from lms.extensions import db
from lms.localtime import local_day, local_day_end, local_day_start
from lms.permissions import require
from lms.reports.access import report_units
from lms.reports.models import ReportTarget
from lms.reports.queries import (
    Counts,
    Filters,
    Line,
    UnitTree,
    completion_over_time,
    enrolment_conditions,
    overdue_condition,
    unit_lines,
)
from lms.reports.targets import Rag, all_targets, applicable, rag
from lms.training.audiences import manageable_audiences
from lms.training.models import (
    Audience,
    Course,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    Track,
)
from lms.web import request_int

STATUSES = ("not_started", "in_progress", "completed", "overdue")
CHART_POINTS = 12


def top_units(actor: User, tree: UnitTree) -> list[int]:
    """The highest units ``actor`` may see (where their report opens)."""
    visible = report_units(actor)
    ids = set(tree.units) if visible is None else visible & set(tree.units)
    return sorted((u for u in ids if tree.units[u].parent_id not in ids),
                  key=lambda u: tree.path(u))


def day_arg(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass
class Query:
    """The filters as read from the URL, and what was wrong with them."""

    filters: Filters
    item: str = ""  # "course:3", "track:2" or "" (every course)
    notes: list[str] = field(default_factory=list)

    def args(self, **changes: object) -> dict[str, object]:
        """The URL arguments of this report, with ``changes``."""
        f = self.filters
        args: dict[str, object] = {"unit": f.unit_id, "item": self.item,
                                   "audience": f.audience_id or "",
                                   "group": f.target_group_id or "",
                                   "from": local_day(f.start), "to": local_day(f.end)}
        args.update(changes)
        return {k: v for k, v in args.items() if v not in ("", None)}


def reportable_items() -> tuple[list[Course], list[Track]]:
    """The courses and tracks a report or a target may be about (all but drafts), by title."""
    courses = db.session.scalars(select(Course).where(Course.status != CourseStatus.DRAFT)
                                 .order_by(Course.title)).all()
    tracks = db.session.scalars(select(Track).where(Track.status != CourseStatus.DRAFT)
                                .order_by(Track.title)).all()
    return list(courses), list(tracks)


#: What a report or a target may be about, besides every course.
ITEM_MODELS: dict[str, type[Course] | type[Track]] = {"course": Course, "track": Track}


def parse_item(item: str) -> tuple[str, int] | None:
    """``("course", 3)`` for ``"course:3"``, ``("track", 2)`` for ``"track:2"``; None for any
    other value, an id too long for the database included."""
    kind, _sep, number = item.partition(":")
    item_id = int_arg(number)
    return (kind, item_id) if kind in ITEM_MODELS and item_id is not None else None


def report_item(item: str) -> tuple[Course | None, Track | None]:
    """The course or the track an item value names (:func:`parse_item`); neither for another
    value or one that does not exist."""
    parsed = parse_item(item)
    row = db.session.get(ITEM_MODELS[parsed[0]], parsed[1]) if parsed else None
    return (row if isinstance(row, Course) else None, row if isinstance(row, Track) else None)


def report_audiences(actor: User) -> list[Audience]:
    """The audiences ``actor`` manages, by name: a report can be narrowed to one of them."""
    return list(db.session.scalars(manageable_audiences(actor)))


def read_query(actor: User, args: Mapping[str, str], tree: UnitTree) -> Query:
    """The report ``args`` ask for.

    :raise PermissionDenied: no report for ``actor``, or a unit outside what they may see.
    :raise NotFound: a unit, course, track or audience that does not exist.
    """
    require(actor, "report.view")
    notes: list[str] = []
    unit_id = int_arg(args.get("unit"))
    if unit_id is None:
        tops = top_units(actor, tree)
        if not tops:
            raise PermissionDenied(_("There is no unit whose reports you may see."))
        unit_id = tops[0]
    unit = tree.units.get(unit_id)
    if unit is None:
        raise NotFound()
    require(actor, "report.view_unit", unit)
    item = args.get("item", "")
    course_id = track_id = None
    parsed = parse_item(item)
    if item and parsed is None:
        notes.append(_("The course or track asked for was not understood: every course is "
                       "shown."))
        item = ""
    elif parsed is not None:
        kind, item_id = parsed
        if db.session.get(ITEM_MODELS[kind], item_id) is None:
            raise NotFound()
        course_id, track_id = (item_id, None) if kind == "course" else (None, item_id)
    audience_id = int_arg(args.get("audience"))
    if audience_id is not None and db.session.get(Audience, audience_id) is None:
        raise NotFound()
    group_id = int_arg(args.get("group"))
    start, end = day_arg(args.get("from")), day_arg(args.get("to"))
    for name in ("from", "to"):
        if args.get(name) and day_arg(args.get(name)) is None:
            notes.append(_("A date was not understood (use YYYY-MM-DD) and is ignored."))
    if start and end and start > end:
        notes.append(_("The period ends before it starts: it is empty."))
    return Query(Filters(unit.id, course_id, track_id, audience_id, group_id,
                         local_day_start(start), local_day_end(end)), item, notes)


def int_arg(value: str | None) -> int | None:
    """A whole number of the URL's, or None: absent, not one, or beyond what a request may
    name (:func:`lms.web.request_int`)."""
    try:
        return request_int(value) if value and value.isdecimal() else None
    except ValueError:
        return None


@dataclass
class Row:
    line: Line
    label: str
    target: ReportTarget | None
    status: Rag | None

    @property
    def counts(self) -> Counts:
        return self.line.counts


@dataclass
class Report:
    query: Query
    unit: Unit
    path: str
    item_title: str
    rows: list[Row]
    total: Row
    series: list[tuple[datetime, float | None]]  # completion over time (percent)


def item_title(filters: Filters) -> str:
    if filters.track_id is not None:
        return db.session.get(Track, filters.track_id).title
    if filters.course_id is not None:
        return db.session.get(Course, filters.course_id).title
    return _("Every course")


def build(actor: User, query: Query, tree: UnitTree, now: datetime) -> Report:
    """The table of the chosen unit's sub-units and its total, with targets and status."""
    filters = query.filters
    lines, total = unit_lines(filters, tree, now)
    targets = all_targets()

    def row(line: Line, label: str) -> Row:
        target = applicable(targets, tree, line.unit.id, filters.course_id, filters.track_id)
        return Row(line, label, target, rag(line.counts.percent, target, now))

    rows = [row(line, _("Directly in %(unit)s", unit=line.unit.name) if line.own
                else line.unit.name) for line in lines]
    unit = tree.units[filters.unit_id]
    return Report(query, unit, tree.path(unit.id), item_title(filters), rows,
                  row(total, _("Total")),
                  _series(filters, tree, total.counts, now))


def _series(filters: Filters, tree: UnitTree, total: Counts,
            now: datetime) -> list[tuple[datetime, float | None]]:
    end = min(filters.end or now, now)
    start = filters.start or end - timedelta(weeks=12)
    if start >= end:
        return []
    step = (end - start) / (CHART_POINTS - 1)
    points = [start + step * i for i in range(CHART_POINTS)]
    done = completion_over_time(filters, tree.subtree(filters.unit_id), points)
    return [(point, round(100 * n / total.assigned, 1) if total.assigned else None)
            for point, n in zip(points, done, strict=True)]


# --- the people behind the figures ---------------------------------------------------------

def people(filters: Filters, tree: UnitTree, status: str, now: datetime) -> Select:
    """The report's enrolments with their people, for a paginated list (and exports)."""
    stmt = (select(Enrolment, User)
            .join(User, User.id == Enrolment.user_id)
            .where(*enrolment_conditions(filters, tree.subtree(filters.unit_id)))
            .order_by(Enrolment.unit_id, User.full_name, User.id, Enrolment.id))
    if status == "overdue":
        stmt = stmt.where(overdue_condition(now))
    elif status in STATUSES:
        stmt = stmt.where(Enrolment.status == status)
    return stmt


def count_people(filters: Filters, tree: UnitTree) -> int:
    return db.session.scalar(select(func.count(Enrolment.id)).where(
        *enrolment_conditions(filters, tree.subtree(filters.unit_id)))) or 0


def report_items(filters: Filters, tree: UnitTree) -> list[tuple[tuple[str, int], str]]:
    """The courses and tracks of the report's enrolments, by title: ``[(key, title)]``."""
    titles = item_titles()
    keys = {("course", course_id) if course_id else ("track", track_id)
            for course_id, track_id in db.session.execute(
                select(Enrolment.course_id, Enrolment.track_id).distinct().where(
                    *enrolment_conditions(filters, tree.subtree(filters.unit_id))))}
    return sorted(((key, titles.get(key, "")) for key in keys),
                  key=lambda item: (item[1].casefold(), item[0]))


def item_titles() -> dict[tuple[str, int], str]:
    titles = {("course", i): t for i, t in db.session.execute(select(Course.id, Course.title))}
    titles.update({("track", i): t for i, t in db.session.execute(select(Track.id,
                                                                         Track.title))})
    return titles


def rank_labels(lang: str) -> dict[int, str]:
    return {t.id: t.label(lang) for t in db.session.scalars(
        select(PersonTerm).where(PersonTerm.kind == TermKind.RANK))}


@dataclass
class PersonLine:
    unit_path: str
    username: str
    full_name: str
    rank: str
    item: tuple[str, int]  # ("course", id) or ("track", id)
    title: str
    status: str  # not_started | in_progress | completed
    overdue: bool
    due_at: datetime | None
    completed_at: datetime | None


def person_lines(filters: Filters, tree: UnitTree, now: datetime, lang: str,
                 status: str = "") -> Iterator[PersonLine]:
    """Every enrolment of the report, streamed from the database in batches."""
    titles, ranks = item_titles(), rank_labels(lang)
    paths = {unit_id: tree.path(unit_id) for unit_id in tree.subtree(filters.unit_id)}
    stmt = (select(Enrolment.unit_id, User.username, User.full_name, User.rank_id,
                   Enrolment.course_id, Enrolment.track_id, Enrolment.status,
                   Enrolment.due_at, Enrolment.completed_at)
            .join(User, User.id == Enrolment.user_id)
            .where(*enrolment_conditions(filters, paths))
            .order_by(Enrolment.unit_id, User.full_name, User.id, Enrolment.id))
    if status == "overdue":
        stmt = stmt.where(overdue_condition(now))
    elif status in STATUSES:
        stmt = stmt.where(Enrolment.status == status)
    for row in db.session.execute(stmt.execution_options(yield_per=2000)):
        key = ("course", row.course_id) if row.course_id else ("track", row.track_id)
        yield PersonLine(paths.get(row.unit_id, ""), row.username, row.full_name or "",
                         ranks.get(row.rank_id, ""), key, titles.get(key, ""), row.status,
                         row.status != EnrolmentStatus.COMPLETED and row.due_at is not None
                         and row.due_at < now, row.due_at, row.completed_at)
