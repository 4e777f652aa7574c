"""Background jobs of search: full rebuilds (changes reach the index through the change log)."""

from __future__ import annotations

from sqlalchemy import select

from lms.catalog.access import published_clause
from lms.catalog.models import Record
from lms.discovery.services import rebuild_index
from lms.extensions import db
from lms.jobs import JobContext, job


@job("search.rebuild")
def rebuild_job(ctx: JobContext) -> dict[str, int]:
    total = db.session.scalar(select(db.func.count(Record.id)).where(published_clause())) or 0
    count = rebuild_index(lambda done: ctx.progress(done, total))
    return {"indexed": count}
