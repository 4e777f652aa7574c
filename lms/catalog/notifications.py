"""Notifications of the repository: rows written in the transaction of the change they tell
about, listed and marked read by their user."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update

from lms.accounts.models import User
from lms.catalog.models import Notification
from lms.db import utcnow
from lms.extensions import db
from lms.uow import unit_of_work


def notify(user_ids: Iterable[int], kind: str, params: dict[str, object], link: str) -> None:
    """Notify each of ``user_ids`` once, in the caller's transaction."""
    for user_id in set(user_ids):
        db.session.add(Notification(user_id=user_id, kind=kind, params=params, link=link))


def notifications_for(user: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id)
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
