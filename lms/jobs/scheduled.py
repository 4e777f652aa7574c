"""Housekeeping jobs of the platform itself, run by the worker's schedule."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from huey import crontab
from sqlalchemy import delete

from lms.db import utcnow
from lms.extensions import db
from lms.jobs.queue import JobContext
from lms.jobs.registry import job
from lms.models import ThrottleCounter


@job("maintenance.expire_throttle_counters", schedule=crontab(minute="*/30"))
def expire_throttle_counters(ctx: JobContext) -> dict[str, int]:
    """Delete login-failure counters whose window has passed."""
    window = timedelta(seconds=current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    result = db.session.execute(
        delete(ThrottleCounter).where(ThrottleCounter.window_start < utcnow() - window)
    )
    db.session.commit()
    return {"deleted": result.rowcount}
