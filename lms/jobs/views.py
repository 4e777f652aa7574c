"""Job progress for its owner: a page, JSON the page polls, and resuming an interrupted job."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from lms.errors import Conflict
from lms.jobs.queue import resume, visible_job
from lms.models import Job, JobStatus
from lms.web import safe_next

bp = Blueprint("jobs", __name__)

STATUS_LABELS = {JobStatus.QUEUED: _l("queued"), JobStatus.RUNNING: _l("running"),
                 JobStatus.DONE: _l("done"), JobStatus.FAILED: _l("failed"),
                 JobStatus.INTERRUPTED: _l("interrupted")}


@bp.app_template_filter("job_status")
def job_status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def job_json(job: Job) -> dict[str, object]:
    return {
        "id": job.id,
        "name": job.name,
        "status": job.status,
        "status_label": job_status_label(job.status),
        "resumable": job.status == JobStatus.INTERRUPTED,
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


@bp.post("/<int:job_id>/resume")
@login_required
def resume_job(job_id: int):
    # CSRF is checked by CSRFProtect before any view runs.
    try:
        resume(current_user, job_id)
        flash(_("The job was resumed: it goes on from where it stopped."), "success")
    except Conflict as error:
        flash(error.message, "error")
    return redirect(safe_next(request.form.get("next"), url_for("jobs.show", job_id=job_id)))


@bp.get("/<int:job_id>.json")
@login_required
def status(job_id: int):
    return jsonify(job_json(visible_job(current_user, job_id)))
