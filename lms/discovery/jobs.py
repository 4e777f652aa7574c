"""Background jobs of search: indexing deferred by a busy index, and full rebuilds."""

from __future__ import annotations

from sqlalchemy import select

from lms.catalog.access import published_clause
from lms.catalog.models import Record
from lms.discovery.services import index_records, rebuild_index
from lms.extensions import db
from lms.jobs import JobContext, job


@job("search.index")
def index_job(ctx: JobContext, record_ids: list[int]) -> dict[str, int]:
    index_records(record_ids)
    return {"indexed": len(record_ids)}


@job("search.rebuild")
def rebuild_job(ctx: JobContext) -> dict[str, int]:
    total = db.session.scalar(select(db.func.count(Record.id)).where(published_clause())) or 0
    count = rebuild_index(lambda done: ctx.progress(done, total))
    return {"indexed": count}
