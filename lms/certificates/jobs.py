"""Scheduled certificate work: certify what is left, tell of expiry, start renewals."""

from __future__ import annotations

from lms.certificates.issuing import issue_pending
from lms.certificates.renewal import start_renewals, tell_expiring
from lms.jobs import JobContext, cron, job


@job("certificates.issue")
def issue_job(ctx: JobContext) -> dict[str, int]:
    """Certify every completion still uncertified (after a template is activated, or a
    large recount), with progress."""
    return {"issued": issue_pending(progress=lambda done, total: ctx.progress(done, total))}


@job("certificates.daily", schedule=cron(minute="20"))
def daily_job(ctx: JobContext) -> dict[str, int]:
    """Hourly: certificates left to issue, expiry notices, renewals due."""
    return {"issued": issue_pending(), "expiring_told": tell_expiring(),
            "renewals": start_renewals()}
