"""Notifications: in-app messages, the e-mails that carry them, and what people muted.

A :class:`Notification` is one event told to one person. Events the reminder job finds
(assigned, due soon, overdue...) carry a key — the person, the kind, the subject (an
assignment, an enrolment, a certificate) and the occurrence (the due date, the completion) —
that is unique, so that no event is ever told twice, whatever runs twice or races.

E-mail goes out as :class:`OutgoingMail`: at most one digest per person per day gathering
every pending notification, and the commanders' weekly digest. A message stays in the table
until the SMTP server accepted it; failures are recorded and retried.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.db import TZDateTime, utcnow
from lms.extensions import db


class EmailStatus(enum.StrEnum):
    NONE = "none"  # not sent by e-mail (no server, no address, or muted)
    PENDING = "pending"  # waits for the person's next digest
    QUEUED = "queued"  # in a digest (``digest_id``)


class Notification(db.Model):
    """An in-app message (the isolated network may have no e-mail)."""

    __tablename__ = "notifications"
    __table_args__ = (
        # Never twice for the same event. Notifications without a subject (the repository's
        # own) have NULLs here, which never collide.
        Index("ix_notifications_event", "user_id", "kind", "subject_id", "occurrence_at",
              unique=True),
        Index("ix_notifications_kind_subject", "kind", "subject_id"),
        Index("ix_notifications_email", "email_status", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    subject_id: Mapped[int | None] = mapped_column(Integer)
    occurrence_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    # A muted kind still records its event (so that unmuting never brings back old news),
    # but is neither listed nor sent.
    muted: Mapped[bool] = mapped_column(default=False)
    email_status: Mapped[str] = mapped_column(String(16), default=EmailStatus.NONE)
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("outgoing_mail.id", ondelete="SET NULL"), index=True)


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # to send (again, after a failure, from ``next_attempt_at``)
    SENT = "sent"


class OutgoingMail(db.Model):
    """One e-mail to one person: a daily digest or a commander's weekly digest.

    ``(user_id, kind, period)`` is unique: one daily digest per person per day (``period``
    is the local date) and one weekly digest per commander per ISO week.
    """

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "period", name="user_kind_period"),
        Index("ix_outgoing_mail_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="vi")
    status: Mapped[str] = mapped_column(String(16), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    user: Mapped[User] = relationship()


class NotificationMute(db.Model):
    """A kind of optional message a person does not want."""

    __tablename__ = "notification_mutes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
