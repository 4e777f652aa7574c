"""Targets the reports measure units against, e.g. "100% of the academy by 2026-12-31"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Unit
from lms.db import TZDateTime, utcnow
from lms.extensions import db
from lms.training.models import Course, Track


class ReportTarget(db.Model):
    """A share of the assigned people to have completed by a deadline, for a unit (and its
    sub-units; None: the whole academy) and a course or a track (None: all training).

    The most specific target applies: the report's own unit before its parents, its own
    course or track before "all training".
    """

    __tablename__ = "report_targets"
    __table_args__ = (
        CheckConstraint("percent >= 1 AND percent <= 100", name="percent_range"),
        CheckConstraint("course_id IS NULL OR track_id IS NULL", name="one_item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"),
                                                index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id"))
    percent: Mapped[int] = mapped_column()
    # From when progress is measured (the pace line starts here) to the deadline.
    starts_at: Mapped[datetime] = mapped_column(TZDateTime)
    deadline_at: Mapped[datetime] = mapped_column(TZDateTime)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship()
    course: Mapped[Course | None] = relationship()
    track: Mapped[Track | None] = relationship()
