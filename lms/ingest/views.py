"""The administrators' import page: upload a package, watch the job, read the report."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.catalog.collections import collection_tree
from lms.errors import ServiceError
from lms.files.views import posted_upload, stage_upload, upload_route
from lms.ingest.jobs import upload_root
from lms.jobs import enqueue, visible_job
from lms.web import guard_blueprint

bp = Blueprint("ingest", __name__)
guard_blueprint(bp, "record.import")
SUFFIXES = (".jsonl", ".zip")


def _form(status: int = 200, error: str | None = None):
    return render_template("ingest/form.html", collections=collection_tree(), error=error,
                           chosen=request.form.get("collection", ""),
                           dry_run=bool(request.form.get("dry_run")),
                           review=bool(request.form.get("review"))), status


@bp.get("/")
def form():
    return _form()


@bp.post("/")
@upload_route
def start():
    # CSRF is checked by CSRFProtect before any view runs.
    collection = request.form.get("collection") or None
    try:
        package, name = posted_upload("package", SUFFIXES,
                                      _("Choose a .jsonl file or a .zip package."))
        if collection is not None and collection not in {c.slug for c, _d in collection_tree()}:
            raise ServiceError(_("Unknown collection."))
        token = stage_upload(package, name, upload_root(), "package")
    except ServiceError as error:
        return _form(error.status, error.message)
    job = enqueue("ingest.import", owner=current_user, upload=token, collection=collection,
                  dry_run=bool(request.form.get("dry_run")),
                  review=bool(request.form.get("review")))
    return redirect(url_for("ingest.report", job_id=job.id))


@bp.get("/<int:job_id>")
def report(job_id: int):
    job = visible_job(current_user, job_id, name="ingest.import")
    return render_template("ingest/report.html", job=job, report=job.result
                           if job.status == "done" else None)
