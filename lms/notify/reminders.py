"""The reminder job's eyes: training events not told yet, found by indexed queries.

Each kind is found by one query that leaves out what was told already (an anti-join on the
notifications' unique event key), page by page (keyset on the row id), each page written in
its own short transaction. Running twice, or two runs at once, tells nobody twice; a run after
days of downtime tells what happened within ``NOTIFY_LOOKBACK_DAYS`` once, and the e-mail for
it all goes in one digest per person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, and_, exists, func, select, text
from sqlalchemy.orm import aliased

from lms.accounts.models import User
from lms.db import chunked
from lms.extensions import db
from lms.notify import kinds
from lms.notify.models import Notification
from lms.notify.services import Event, record_events
from lms.training.models import AssignmentLearner, Course, Enrolment, EnrolmentStatus, Track

PAGE = 2000


def not_told(kind: str, user_id, subject_id, occurrence_at):
    """SQL: no notification of ``kind`` has this key yet (served by its unique index)."""
    told = aliased(Notification)
    return ~exists().where(told.user_id == user_id, told.kind == kind,
                           told.subject_id == subject_id, told.occurrence_at == occurrence_at)


def _item_columns():
    return (Enrolment.course_id, Enrolment.track_id,
            func.coalesce(Course.title, Track.title).label("title"))


def _with_item(stmt: Select) -> Select:
    return (stmt.outerjoin(Course, Course.id == Enrolment.course_id)
            .outerjoin(Track, Track.id == Enrolment.track_id)
            .join(User, User.id == Enrolment.user_id).where(User.active.is_(True)))


def item_link(course_id: int | None, track_id: int | None) -> str:
    return f"/courses/{course_id}" if course_id else f"/tracks/{track_id}"


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _assigned(now: datetime, since: datetime) -> tuple[Select, Callable]:
    al = AssignmentLearner
    stmt = _with_item(
        select(al.id, al.user_id, al.assignment_id, al.assigned_at, al.due_at, *_item_columns())
        .join(Enrolment, Enrolment.id == al.enrolment_id)
        .where(al.active.is_(True), al.primary.is_(True), al.assigned_at >= since,
               Enrolment.status != EnrolmentStatus.COMPLETED,
               not_told(kinds.ASSIGNED, al.user_id, al.assignment_id, al.assigned_at)))

    def event(row) -> Event:
        return Event(row.user_id, kinds.ASSIGNED, {"title": row.title, "due": iso(row.due_at)},
                     item_link(row.course_id, row.track_id), row.assignment_id, row.assigned_at)

    return stmt, event


def _enrolment_events(kind: str, occurrence, condition) -> tuple[Select, Callable]:
    stmt = _with_item(
        select(Enrolment.id, Enrolment.user_id, occurrence.label("occurrence"),
               *_item_columns())
        .where(condition, not_told(kind, Enrolment.user_id, Enrolment.id, occurrence)))

    def event(row) -> Event:
        return Event(row.user_id, kind, {"title": row.title, "date": iso(row.occurrence)},
                     item_link(row.course_id, row.track_id), row.id, row.occurrence)

    return stmt, event


def _due_soon(now: datetime, since: datetime) -> tuple[Select, Callable]:
    days = int(current_app.config["NOTIFY_DUE_SOON_DAYS"])
    return _enrolment_events(kinds.DUE_SOON, Enrolment.due_at, and_(
        Enrolment.required.is_(True), Enrolment.due_at > now,
        Enrolment.due_at <= now + timedelta(days=days),
        Enrolment.status != EnrolmentStatus.COMPLETED))


def _overdue(now: datetime, since: datetime) -> tuple[Select, Callable]:
    return _enrolment_events(kinds.OVERDUE, Enrolment.due_at, and_(
        Enrolment.required.is_(True), Enrolment.due_at <= now, Enrolment.due_at >= since,
        Enrolment.status != EnrolmentStatus.COMPLETED))


def _completed(now: datetime, since: datetime) -> tuple[Select, Callable]:
    return _enrolment_events(kinds.COMPLETED, Enrolment.completed_at, and_(
        Enrolment.status == EnrolmentStatus.COMPLETED, Enrolment.completed_at >= since,
        Enrolment.completed_at <= now))


SOURCES: dict[str, Callable[[datetime, datetime], tuple[Select, Callable]]] = {
    kinds.ASSIGNED: _assigned,
    kinds.DUE_SOON: _due_soon,
    kinds.OVERDUE: _overdue,
    kinds.COMPLETED: _completed,
}


def _pages(stmt: Select, key) -> Iterator[list]:
    """Rows of ``stmt`` in pages, by increasing ``key`` (the first column).

    The keys come first, in one pass; each page then reads the rows of its range of keys.
    (A keyset page, ``key > last ORDER BY key LIMIT n``, lets a database that finds the rows
    by another index, such as the due date, read and sort every remaining one for each page;
    a list of keys, ``key IN (...)``, is checked against every row that index finds.)
    """
    keys = db.session.scalars(stmt.with_only_columns(key).order_by(key)).all()
    for chunk in chunked(keys, PAGE):
        yield db.session.execute(stmt.where(key.between(chunk[0], chunk[-1]))
                                 .order_by(key)).all()


def find_and_tell(now: datetime) -> dict[str, int]:
    """Tell every training event not told yet; returns how many of each kind.

    Each page is committed on its own: a run stopped halfway keeps what it told, and the
    next run goes on from there.
    """
    since = now - timedelta(days=int(current_app.config["NOTIFY_LOOKBACK_DAYS"]))
    told: dict[str, int] = {}
    statistics = _Statistics()
    for kind, source in SOURCES.items():
        stmt, make_event = source(now, since)
        key = stmt.selected_columns[0]
        count = 0
        for rows in _pages(stmt, key):
            new = record_events([make_event(row) for row in rows], now)
            db.session.commit()
            statistics.inserted(new)
            count += new
        told[kind] = count
    return told


class _Statistics:
    """PostgreSQL plans each page's "not told yet" anti-join from the statistics of
    ``notifications``. A catch-up run can write far more rows than they know of (after a
    fresh start they say "empty", and the anti-join rescans every row written so far for
    each candidate), so they are renewed each time the rows written double what they knew,
    as autovacuum would do later: a handful of ``ANALYZE`` runs for a whole catch-up."""

    def __init__(self) -> None:
        self.postgres = db.session.get_bind().dialect.name == "postgresql"
        self.known = self._rows() if self.postgres else 0
        self.written = 0

    def _rows(self) -> int:
        return int(db.session.scalar(text(
            "SELECT greatest(reltuples, 0) FROM pg_class WHERE relname = 'notifications'"))
            or 0)

    def inserted(self, count: int) -> None:
        if not self.postgres or not count:
            return
        self.written += count
        if self.written >= max(self.known, PAGE):
            db.session.execute(text("ANALYZE notifications"))
            db.session.commit()
            self.known, self.written = self._rows(), 0
