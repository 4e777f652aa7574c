"""Job progress for its owner: a page, and JSON the page polls."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from lms.jobs.queue import visible_job
from lms.models import Job

bp = Blueprint("jobs", __name__)

JOB_STATUS_LABELS = {
    "queued": _l("Waiting"),
    "running": _l("Running"),
    "done": _l("Finished"),
    "failed": _l("Failed"),
}


@bp.app_template_filter("job_status")
def job_status_label(status: str) -> str:
    return str(JOB_STATUS_LABELS.get(status, status))


def job_json(job: Job) -> dict[str, object]:
    return {
        "id": job.id,
        "name": job.name,
        "status": job.status,
        "status_label": job_status_label(job.status),
        "progress": {"done": job.progress_done, "total": job.progress_total,
                     "percent": job.percent},
        "message": job.message,
        # An import's per-line report can be long: its page shows it, the polled JSON not.
        "result": {k: v for k, v in (job.result or {}).items() if k not in ("traceback",
                                                                           "lines")},
    }


@bp.get("/<int:job_id>")
@login_required
def show(job_id: int):
    return render_template("jobs/show.html", job=visible_job(current_user, job_id))


@bp.get("/<int:job_id>.json")
@login_required
def status(job_id: int):
    return jsonify(job_json(visible_job(current_user, job_id)))
