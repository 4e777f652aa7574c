"""Usage events. Downloads are ``lms.files.models.DownloadEvent`` rows; page views are here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import TZDateTime, utcnow
from lms.extensions import db


class RecordView(db.Model):
    """One view of a record's page by a person (robots are never stored). Double clicks are
    kept: the counts drop them (:mod:`lms.stats.services`), so two views at the same moment
    need no lock."""

    __tablename__ = "record_views"
    __table_args__ = (Index("ix_record_views_record_at", "record_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    # Who, as a keyed hash: the account, or the address and browser of an anonymous reader
    # (no address is stored). Double clicks are the same visitor within 30 seconds.
    visitor: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
