"""Housekeeping jobs of the platform itself, run by the worker's schedule."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from lms.accounts.models import User
from lms.auth.models import UserSession
from lms.db import utcnow
from lms.extensions import db
from lms.jobs.queue import JobContext
from lms.jobs.registry import cron, job
from lms.models import ThrottleCounter


@job("maintenance.expire_throttle_counters", schedule=cron(minute="*/30"))
def expire_throttle_counters(ctx: JobContext) -> dict[str, int]:
    """Delete login-failure counters whose window has passed."""
    window = timedelta(seconds=current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    result = db.session.execute(
        delete(ThrottleCounter).where(ThrottleCounter.window_start < utcnow() - window)
    )
    db.session.commit()
    return {"deleted": result.rowcount}


@job("maintenance.expire_sessions", schedule=cron(minute="15,45"))
def expire_sessions(ctx: JobContext) -> dict[str, int]:
    """Delete login sessions that expired or were revoked by a session-version bump (they
    are refused already; this only keeps the table small)."""
    current = select(User.session_version).where(User.id == UserSession.user_id)
    result = db.session.execute(delete(UserSession).where(
        (UserSession.expires_at < utcnow())
        | (UserSession.user_version != current.scalar_subquery())))
    db.session.commit()
    return {"deleted": result.rowcount}
