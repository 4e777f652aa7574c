"""Telling people things: notifications written in the transaction of what they tell about,
listed and marked read by their person, muted by kind; e-mail follows in daily digests
(``lms.notify.digests``) when an SMTP server is configured.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select, update

from lms.accounts.models import User
from lms.db import chunked, insert_rows, one_of, utcnow
from lms.errors import ValidationError
from lms.extensions import db
from lms.notify.kinds import KINDS, is_mandatory
from lms.notify.models import EmailStatus, Notification, NotificationMute
from lms.uow import unit_of_work

CHUNK = 1000
EVENT_KEY = ("user_id", "kind", "subject_id", "occurrence_at")


@dataclass(frozen=True)
class Event:
    """Something to tell one person. ``subject_id`` and ``occurrence_at`` make it an event
    told at most once (with ``user_id`` and ``kind``)."""

    user_id: int
    kind: str
    params: dict[str, object] = field(default_factory=dict)
    link: str | None = None
    subject_id: int | None = None
    occurrence_at: datetime | None = None


def mail_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def notify(user_ids: Iterable[int], kind: str, params: dict[str, object], link: str | None,
           *, subject_id: int | None = None, occurrence_at: datetime | None = None) -> int:
    """Tell each of ``user_ids``, in the caller's transaction; returns how many were told
    (an event with a key already told is skipped)."""
    return record_events([Event(user_id, kind, params, link, subject_id, occurrence_at)
                          for user_id in sorted(set(user_ids))])


def record_events(events: Sequence[Event], now: datetime | None = None) -> int:
    """Write ``events`` in bulk, in the caller's transaction, skipping those already told.

    A muted kind is recorded as muted (so its key is taken) and not shown; the others wait
    for the person's next e-mail digest when mail is configured and the person has an
    address. Returns how many events were new.
    """
    if not events:
        return 0
    now = now or utcnow()
    mail = mail_configured()
    new = 0
    for chunk in chunked(list(events), CHUNK):
        user_ids = sorted({e.user_id for e in chunk})
        with_address = set(db.session.scalars(select(User.id).where(
            one_of(db.session, User.id, user_ids), User.email.is_not(None), User.email != "",
            User.active.is_(True)))) if mail else set()
        muted = {(row.user_id, row.kind) for row in db.session.execute(
            select(NotificationMute.user_id, NotificationMute.kind)
            .where(one_of(db.session, NotificationMute.user_id, user_ids)))}
        rows = []
        for event in chunk:
            is_muted = (event.user_id, event.kind) in muted and not is_mandatory(event.kind)
            rows.append({
                "user_id": event.user_id, "kind": event.kind, "params": event.params,
                "link": event.link, "created_at": now, "subject_id": event.subject_id,
                "occurrence_at": event.occurrence_at, "muted": is_muted,
                "read_at": now if is_muted else None,
                "email_status": EmailStatus.PENDING if event.user_id in with_address
                and not is_muted else EmailStatus.NONE,
            })
        # In bulk (a catch-up run tells hundreds of thousands), leaving out the events whose
        # key is taken, even by a concurrent job.
        new += insert_rows(db.session, Notification, rows,
                           ignore_conflicts_on=EVENT_KEY)
    return new


def notifications_for(user: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id,
                                   Notification.muted.is_(False))
        .order_by(Notification.id.desc()).limit(limit)
    ))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_notifications_read(user: User) -> None:
    with unit_of_work():
        db.session.execute(
            update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )


# --- muting --------------------------------------------------------------------------------

def muted_kinds(user: User) -> set[str]:
    return set(db.session.scalars(select(NotificationMute.kind).where(
        NotificationMute.user_id == user.id)))


def set_muted(user: User, kinds: Collection[str]) -> None:
    """Mute exactly ``kinds`` for ``user`` (the others are heard again).

    :raise ValidationError: an unknown kind, or a mandatory one.
    """
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValidationError(_("Unknown kind of message."))
    mandatory = [k for k in kinds if is_mandatory(k)]
    if mandatory:
        raise ValidationError(_("Assignments and overdue reminders cannot be muted."))
    with unit_of_work():
        db.session.execute(delete(NotificationMute).where(NotificationMute.user_id == user.id))
        if kinds:
            db.session.execute(insert(NotificationMute),
                               [{"user_id": user.id, "kind": k} for k in sorted(set(kinds))])
