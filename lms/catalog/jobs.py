"""Scheduled jobs of the repository."""

from __future__ import annotations

from sqlalchemy import select

from lms import audit
from lms.catalog import hooks
from lms.catalog.models import Record
from lms.catalog.workflow import record_history
from lms.db import utcnow
from lms.extensions import db
from lms.jobs import JobContext, cron, job
from lms.uow import unit_of_work


@job("catalog.lift_embargoes", schedule=cron(hour="0", minute="5"))
def lift_embargoes(ctx: JobContext) -> dict[str, object]:
    """Clear embargoes whose date has come, so every channel (index, OAI) shows the files.

    Access already follows the date (``can_read_files``); this makes the change visible to
    the derived stores and leaves a trace in the history and the audit log.
    """
    today = utcnow().date()
    records = list(db.session.scalars(
        select(Record).where(Record.embargo_until.is_not(None), Record.embargo_until <= today)
        .order_by(Record.id)))
    with unit_of_work():
        for record in records:
            audit.record("embargo_lift", obj=record,
                         details={"embargo_until": record.embargo_until.isoformat()})
            record_history(record, None, "embargo_lift", record.status, record.status)
            record.embargo_until = None
            hooks.record_changed(record.id)
    return {"lifted": [r.id for r in records]}
