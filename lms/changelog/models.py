"""The change log's tables: one row per change a mirror depends on, and per mirror the rows it
has applied."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import TZDateTime, utcnow
from lms.extensions import db

# 64-bit on PostgreSQL; SQLite's INTEGER PRIMARY KEY already is (and only that spelling is
# its auto-incrementing row id).
ChangeId = BigInteger().with_variant(Integer, "sqlite")


class ChangeKind(enum.StrEnum):
    RECORD = "record"
    COLLECTION = "collection"  # its name, place in the tree or curators: every record under it


class ChangeEntry(db.Model):
    """Something changed that mirrors show: written in the same transaction as the change."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_kind_target", "kind", "target_id"),)

    id: Mapped[int] = mapped_column(ChangeId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class ChangeApplied(db.Model):
    """Mirror ``mirror`` has applied change ``change_id`` (written only once it has)."""

    __tablename__ = "change_log_applied"

    change_id: Mapped[int] = mapped_column(
        ChangeId, ForeignKey("change_log.id", ondelete="CASCADE"), primary_key=True)
    mirror: Mapped[str] = mapped_column(String(32), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
