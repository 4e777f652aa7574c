"""Targets ("100% by 2026-12-31") and the status a figure earns against one.

Status: **green** when the target is reached or the unit keeps pace (the share a straight line
from the target's start to its deadline asks for today); **amber** when it is behind that
pace by at most ``REPORT_AMBER_POINTS`` percentage points; **red** when further behind, or
past the deadline without the target.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms import audit
from lms.accounts.models import Unit, User
from lms.db import utcnow
from lms.errors import NotFound, ValidationError
from lms.extensions import db
from lms.localtime import local_day_end, local_day_start
from lms.permissions import can, require
from lms.reports.models import ReportTarget
from lms.reports.queries import UnitTree
from lms.training.models import Course, Track
from lms.uow import unit_of_work


class Rag(enum.StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


RAG_LABELS = {Rag.GREEN: _l("On track"), Rag.AMBER: _l("Behind"), Rag.RED: _l("Off track")}


def expected_now(target: ReportTarget, now: datetime) -> float:
    """The share the pace line asks for at ``now``."""
    span = (target.deadline_at - target.starts_at).total_seconds()
    if span <= 0 or now >= target.deadline_at:
        return float(target.percent)
    elapsed = max(0.0, (now - target.starts_at).total_seconds())
    return target.percent * elapsed / span


def rag(percent: float | None, target: ReportTarget | None, now: datetime) -> Rag | None:
    if target is None or percent is None:
        return None
    if percent >= target.percent:
        return Rag.GREEN
    if now >= target.deadline_at:
        return Rag.RED
    behind = expected_now(target, now) - percent
    if behind <= 0:
        return Rag.GREEN
    return Rag.AMBER if behind <= current_app.config["REPORT_AMBER_POINTS"] else Rag.RED


def all_targets() -> list[ReportTarget]:
    return list(db.session.scalars(select(ReportTarget)))


def applicable(targets: Sequence[ReportTarget], tree: UnitTree, unit_id: int,
               course_id: int | None, track_id: int | None) -> ReportTarget | None:
    """The most specific target for a unit and item: the unit's own before its parents'
    (the academy's, with no unit, last), the item's own before one for all training."""
    chain: list[int | None] = [*tree.chain(unit_id), None]
    for level in chain:
        mine = [t for t in targets if t.unit_id == level]
        for target in mine:
            if (track_id is not None and target.track_id == track_id) or (
                    course_id is not None and target.course_id == course_id):
                return target
        for target in mine:
            if target.course_id is None and target.track_id is None:
                return target
    return None


def save_target(actor: User, *, unit: Unit | None, course: Course | None, track: Track | None,
                percent: int | None, deadline: date | None, starts: date | None = None,
                note: str = "") -> ReportTarget:
    """Set the target of a unit (None: the academy) for a course, a track or all training,
    replacing the one it had.

    :raise PermissionDenied: ``actor`` may not set targets for that unit.
    :raise ValidationError: a share outside 1–100%, or no deadline, or a start after it.
    """
    require(actor, "report.set_target", unit)
    if percent is None or not 1 <= percent <= 100:
        raise ValidationError(_("A target is a share from %(low)d%% to %(high)d%% of the "
                                "assigned people.", low=1, high=100))
    if deadline is None:
        raise ValidationError(_("Give the target's deadline."))
    starts = starts or utcnow().date()
    if starts > deadline:
        raise ValidationError(_("The target starts after its deadline."))
    if course is not None and track is not None:
        raise ValidationError(_("Choose a course or a track, not both."))
    with unit_of_work():
        target = db.session.scalar(select(ReportTarget).where(
            ReportTarget.unit_id == unit.id if unit else ReportTarget.unit_id.is_(None),
            ReportTarget.course_id == course.id if course else ReportTarget.course_id.is_(None),
            ReportTarget.track_id == track.id if track else ReportTarget.track_id.is_(None)))
        if target is None:
            target = ReportTarget(unit_id=unit.id if unit else None,
                                  course_id=course.id if course else None,
                                  track_id=track.id if track else None, created_by_id=actor.id)
            db.session.add(target)
        target.percent = percent
        target.starts_at = local_day_start(starts)
        target.deadline_at = local_day_end(deadline)
        target.note = (note or "").strip()[:300]
        target.updated_at = utcnow()
        db.session.flush()
        audit.record("report_target", actor=actor, obj=target,
                     details={"unit": target.unit_id, "course": target.course_id,
                              "track": target.track_id, "percent": percent,
                              "deadline": deadline.isoformat()})
    return target


def delete_target(actor: User, target_id: int) -> None:
    target = db.session.get(ReportTarget, target_id)
    if target is None or not can(actor, "report.set_target", target.unit):
        raise NotFound()
    with unit_of_work():
        audit.record("report_target_delete", actor=actor, obj=target,
                     details={"unit": target.unit_id, "percent": target.percent})
        db.session.delete(target)


def editable_targets(actor: User) -> list[ReportTarget]:
    return [t for t in db.session.scalars(select(ReportTarget).order_by(ReportTarget.id))
            if can(actor, "report.set_target", t.unit)]
