"""Jobs: each one's progress for its owner (a page, and JSON the page polls), the list of a
user's own jobs, the administrators' list of every job, and resuming an interrupted job."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.changelog.check import last_check
from lms.db import utcnow
from lms.display import job_message, job_status_label
from lms.errors import Conflict
from lms.jobs.queue import job_names, jobs_listing, owners_of, resume, visible_job
from lms.models import Job, JobStatus
from lms.web import no_store, page_of, safe_next

bp = Blueprint("jobs", __name__)
admin_bp = Blueprint("jobs_admin", __name__)
PER_PAGE = 50


def job_json(job: Job) -> dict[str, object]:
    return {
        "id": job.id,
        "name": job.name,
        "status": job.status,
        "status_label": job_status_label(job.status),
        "resumable": job.status == JobStatus.INTERRUPTED,
        "progress": {"done": job.progress_done, "total": job.progress_total,
                     "percent": job.percent},
        "message": job_message(job.message),
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


def _listing(everyone: bool):
    no_store()
    status = request.args.get("status", "")
    status = status if status in {str(s) for s in JobStatus} else ""
    name = request.args.get("name", "")[:64] if everyone else ""
    page = page_of(jobs_listing(current_user, everyone=everyone, status=status, name=name),
                   PER_PAGE)
    return render_template("jobs/list.html", page=page, everyone=everyone, status=status,
                           name=name, names=job_names() if everyone else [],
                           owners=owners_of(page.items), now=utcnow(),
                           mirror_check=last_check() if everyone else None)


@bp.get("/")
@login_required
def mine():
    """The jobs the user started (imports, rebuilds), newest first."""
    return _listing(everyone=False)


@admin_bp.get("/")
@login_required
def every():
    """Every background job, scheduled ones included, for administrators."""
    return _listing(everyone=True)
