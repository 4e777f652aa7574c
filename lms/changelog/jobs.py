"""The daily comparison of every mirror with the database (``lms check --repair``)."""

from __future__ import annotations

from lms.changelog.check import check_mirrors
from lms.jobs import JobContext, cron, job


@job("mirrors.check", schedule=cron(hour="2", minute="47"))
def check_job(ctx: JobContext) -> dict[str, object]:
    """Daily: find where search or OAI-PMH differ from the database and repair it. The
    result (what was found and repaired) is shown at /admin/mirrors."""
    return check_mirrors(repair=True).as_dict()
