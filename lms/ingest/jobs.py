"""The background job behind the administrators' import page, its resumption after the death
of its worker, and the removal of upload folders no job needs any more."""

from __future__ import annotations

import json
import logging
import shutil
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from lms.accounts.models import User
from lms.db import utcnow
from lms.extensions import db
from lms.ingest.imports import ImportOptions, LineReport, run_import
from lms.ingest.packages import remove_abandoned_unpacked
from lms.jobs import JobContext, job, owner_language
from lms.models import Job, JobStatus

log = logging.getLogger(__name__)

#: Uploaded packages wait here (under DATA_DIR) for their job, each in a folder named by a
#: token, beside the job's line reports ``<token>.lines.jsonl``.
UPLOADS = ("tmp", "import-uploads")
JOB = "ingest.import"
#: An upload younger than this may still be waiting for its job row: never removed.
UPLOAD_GRACE_SECONDS = 600


def upload_root() -> Path:
    return Path(current_app.config["DATA_DIR"]).joinpath(*UPLOADS)


class JobJournal:
    """The import job's place (an :class:`~lms.ingest.imports.ImportJournal`): the last line
    of the last batch committed, and that batch's reports, are kept in the job's row, written
    in the batch's own transaction; every line's report is appended to a file beside the
    upload. A resumed run goes on after the last committed batch, with the reports of the
    lines before it."""

    def __init__(self, ctx: JobContext, path: Path) -> None:
        self.job_id = ctx.job.id
        checkpoint = ctx.job.checkpoint or {}
        self.resume_after = int(checkpoint.get("line", 0))
        reports: dict[int, LineReport] = {}
        if path.exists():
            for raw in path.read_text(encoding="utf-8").splitlines():
                try:
                    data = json.loads(raw)
                except ValueError:
                    continue  # the last line, cut by the kill
                if data["number"] <= self.resume_after:
                    reports[data["number"]] = LineReport(**data)
        # Killed between a batch's commit and its reports: the checkpoint has them. ("last":
        # the one line of a checkpoint written before imports committed in batches.)
        for data in checkpoint.get("batch") or ([checkpoint["last"]] if checkpoint.get("last")
                                                else []):
            reports.setdefault(data["number"], LineReport(**data))
        self.previous = [reports[n] for n in sorted(reports)]
        # Lines after the last commit run again: their reports go.
        path.write_text("".join(json.dumps(r.as_dict(), ensure_ascii=False) + "\n"
                                for r in self.previous), encoding="utf-8")
        self._file = path.open("a", encoding="utf-8")

    def committing(self, reports: list[LineReport]) -> None:
        db.session.execute(
            update(Job).where(Job.id == self.job_id)
            .values(checkpoint={"line": reports[-1].number,
                                "batch": [r.as_dict() for r in reports]})
            .execution_options(synchronize_session=False))

    def processed(self, report: LineReport) -> None:
        self._file.write(json.dumps(report.as_dict(), ensure_ascii=False) + "\n")
        self._file.flush()  # in the kernel's hands: it survives the death of this process

    def close(self) -> None:
        self._file.close()


@job(JOB, resumable=True)
def import_package(ctx: JobContext, upload: str, collection: str | None = None,
                   dry_run: bool = False, review: bool = False) -> dict[str, object]:
    """Import an uploaded package as its owner; the report is the job's result. Resumed after
    its worker died, it goes on after the last line committed."""
    root = upload_root().resolve()
    folder = (root / upload).resolve()
    if folder.parent != root:  # the parameter names a folder of ours, nothing else
        raise ValueError("bad upload folder")
    owner = db.session.get(User, ctx.job.owner_id) if ctx.job.owner_id else None
    lang = owner_language(ctx.job)
    journal = JobJournal(ctx, root / f"{upload}.lines.jsonl")
    try:
        [package] = [p for p in folder.iterdir()
                     if p.name.startswith("package.") and not p.is_symlink()]
        with force_locale(lang):
            ctx.progress(journal.resume_after, None, _("Reading the package…"))

            def progress(done: int, total: int | None) -> None:
                if done == 1 or done % 10 == 0 or done == total:
                    ctx.progress(done, total, _("%(done)d of %(total)s lines imported.",
                                                done=done, total=total or "?"))

            report = run_import(owner, package, ImportOptions(
                collection=collection, dry_run=dry_run, review=review, via="web", lang=lang),
                progress, journal)
    finally:
        # Finished or failed: nothing to resume. (Killed, it never gets here: the folder
        # waits for a resume, see remove_stale_uploads.)
        journal.close()
        shutil.rmtree(folder, ignore_errors=True)
        (root / f"{upload}.lines.jsonl").unlink(missing_ok=True)
    return report.as_dict()


def remove_stale_uploads() -> list[str]:
    """Remove the upload folders (and line reports) that no import job may still read: those
    of finished, failed or unknown jobs, and of jobs interrupted longer ago than
    ``IMPORT_RESUME_HOURS`` (which then fail for good). Also ZIP packages left unpacked by an
    import that died. Returns the names removed. The worker does this every few minutes."""
    now = utcnow()
    too_old = now - timedelta(hours=float(current_app.config["IMPORT_RESUME_HOURS"]))
    keep: set[str] = set()
    for row in db.session.scalars(select(Job).where(
            Job.name == JOB, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING,
                                            JobStatus.INTERRUPTED]))):
        if row.status == JobStatus.INTERRUPTED and row.finished_at is not None and \
                row.finished_at < too_old:
            row.status, row.finished_at = JobStatus.FAILED, now
            with force_locale(owner_language(row)):
                row.message = _("Not resumed within %(hours)s hours: its package was removed. "
                                "Upload it again.",
                                hours=current_app.config["IMPORT_RESUME_HOURS"])
            continue
        keep.add(str(row.params.get("upload")))
    db.session.commit()
    removed: list[str] = []
    root = upload_root()
    if root.is_dir():
        for entry in root.iterdir():
            token = entry.name.split(".", 1)[0]
            if token in keep or time.time() - entry.lstat().st_mtime < UPLOAD_GRACE_SECONDS:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry.name)
    removed += remove_abandoned_unpacked(Path(current_app.config["DATA_DIR"]) / "tmp" / "imports")
    if removed:
        log.info("removed temporary import folders: %s", ", ".join(removed))
    return removed
