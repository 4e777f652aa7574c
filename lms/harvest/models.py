"""Other repositories this one harvests over OAI-PMH, each run, and the records they gave."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.catalog.models import Collection
from lms.db import TZDateTime, utcnow
from lms.extensions import db


class Schedule(enum.StrEnum):
    MANUAL = "manual"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"    # the whole list was read (some records may have failed)
    PARTIAL = "partial"        # the page cap was reached: the next run goes on from there
    FAILED = "failed"          # the source could not be read; nothing advanced


class HarvestSource(db.Model):
    __tablename__ = "harvest_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)   # [a-z0-9-], for the CLI
    title: Mapped[str] = mapped_column(String(300))
    base_url: Mapped[str] = mapped_column(String(500))
    metadata_prefix: Mapped[str] = mapped_column(String(16))      # oai_dc or qdc
    set_specs: Mapped[str] = mapped_column(Text, default="")       # space-separated; "" = all
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id"), index=True)
    access_level: Mapped[str] = mapped_column(String(16), default="public")
    schedule: Mapped[str] = mapped_column(String(16), default=Schedule.DAILY)
    active: Mapped[bool] = mapped_column(default=True)
    # The admin who registered it: withdrawals and restorations are made in their name.
    registered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    # ``from`` of the next incremental harvest: the responseDate of the first request of the
    # last list read to its end (OAI-PMH guidelines), None before the first complete harvest.
    harvested_until: Mapped[datetime | None] = mapped_column(TZDateTime)
    granularity: Mapped[str] = mapped_column(String(32), default="YYYY-MM-DD")
    # A list cut by the page cap goes on from here: which set, the token, and the
    # responseDate the list began with.
    resume_set: Mapped[int] = mapped_column(default=0)
    resume_token: Mapped[str | None] = mapped_column(Text)
    resume_started: Mapped[datetime | None] = mapped_column(TZDateTime)
    # Set while a run holds the source (one run at a time; a stale claim expires).
    running_since: Mapped[datetime | None] = mapped_column(TZDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    collection: Mapped[Collection] = relationship()
    registered_by: Mapped[User | None] = relationship()

    @property
    def sets(self) -> list[str]:
        return self.set_specs.split()


class HarvestRun(db.Model):
    __tablename__ = "harvest_runs"
    __table_args__ = (Index("ix_harvest_runs_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("harvest_sources.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.RUNNING)
    from_date: Mapped[str | None] = mapped_column(String(32))
    pages: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # Per-record problems (identifier, message), capped; the run's own failure in ``message``.
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    message: Mapped[str] = mapped_column(Text, default="")

    source: Mapped[HarvestSource] = relationship()


class HarvestedRecord(db.Model):
    """Marks a record as harvested: where from, under which identifier, its last datestamp."""

    __tablename__ = "harvested_records"
    __table_args__ = (UniqueConstraint("source_id", "oai_identifier"),)

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"),
                                           primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("harvest_sources.id", ondelete="CASCADE"), index=True)
    oai_identifier: Mapped[str] = mapped_column(String(500))
    datestamp: Mapped[str] = mapped_column(String(32))
    original_url: Mapped[str | None] = mapped_column(String(2000))
    deleted: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    source: Mapped[HarvestSource] = relationship()
