"""Background jobs of harvesting: one source now, and the schedule of every source."""

from __future__ import annotations

from lms.errors import Conflict
from lms.harvest import services
from lms.jobs import JobContext, cron, job


@job("harvest.run")
def run_source(ctx: JobContext, source_id: int) -> dict[str, object]:
    """Harvest one source (the "Harvest now" button)."""
    run = services.run_harvest(source_id,
                               progress=lambda pages, text: ctx.progress(pages, None, text))
    return {"run": run.id, "status": run.status, "counts": run.counts, "message": run.message}


@job("harvest.scheduled", schedule=cron(minute="*/15"))
def run_due_sources(ctx: JobContext) -> dict[str, object]:
    """Harvest every source whose schedule is due (and finish lists cut by the page cap)."""
    done: dict[str, str] = {}
    for source in services.due_sources():
        try:
            done[source.name] = services.run_harvest(source.id).status
        except Conflict:
            done[source.name] = "running"
    return {"sources": done}
