"""Background jobs of the file layer: thumbnails, text extraction, the fixity schedule and
garbage collection."""

from __future__ import annotations

from lms.files import derivatives, extraction, maintenance
from lms.jobs import JobContext, cron, job


@job("files.thumbnail")
def thumbnail(ctx: JobContext, file_id: int) -> dict[str, object]:
    """Thumbnail one file (PDF first page, raster image) in the limited worker process."""
    return derivatives.make_file_thumbnail(file_id)


@job("files.extract")
def extract(ctx: JobContext, file_id: int) -> dict[str, object]:
    """Extract one file's full text in the limited worker process; re-index its record."""
    outcome = extraction.extract_file(file_id)
    return {"status": outcome.status, "message": outcome.message, "reused": outcome.reused,
            "skipped": outcome.skipped}


@job("files.fixity", schedule=cron(minute="23"))
def fixity(ctx: JobContext) -> dict[str, object]:
    """Hourly: re-hash the least recently checked 1/(14 × 24) of the blobs (at least
    FIXITY_MIN_BATCH), so every blob is checked at least every FIXITY_INTERVAL_DAYS."""
    summary = maintenance.scheduled_fixity()
    return {"checked": summary.checked, "ok": summary.ok,
            "problems": [{"key": p.key, "status": str(p.status)} for p in summary.problems]}


@job("files.gc", schedule=cron(hour="3", minute="41"))
def gc(ctx: JobContext) -> dict[str, object]:
    """Daily: delete blobs no file references, older than FILES_GC_GRACE_HOURS."""
    deleted = maintenance.collect_unreferenced()
    return {"deleted": len(deleted)}
