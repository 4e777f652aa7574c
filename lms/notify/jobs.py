"""The reminder job: find what to tell, write the digests, send the mail."""

from __future__ import annotations

from datetime import datetime

from lms.db import utcnow
from lms.jobs import JobContext, cron, job
from lms.notify.digests import build_commander_digests, build_daily_digests
from lms.notify.mail import deliver_due
from lms.notify.reminders import find_and_tell


def run_reminders(now: datetime | None = None) -> dict[str, object]:
    """One run: training events not told yet, the commanders' weekly digests (from Monday
    morning), today's digests, then whatever mail is due (retries included)."""
    now = now or utcnow()
    told = find_and_tell(now)
    commanders = build_commander_digests(now)
    digests = build_daily_digests(now)
    delivery = deliver_due(now)
    return {"told": told, "commanders": commanders, "digests": digests,
            "sent": delivery.sent, "failed": delivery.failed}


@job("notify.reminders", schedule=cron(minute="*/15"))
def reminders_job(ctx: JobContext) -> dict[str, object]:
    """Reminders and e-mail, every quarter of an hour (each event told once, mail retried)."""
    return run_reminders()
