"""The administrators' people import: upload a file, watch the job, read the report, take the
one-time passwords of the new people (once)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts.jobs import upload_root
from lms.accounts.people_import import (
    COLUMNS,
    EXTRA_COLUMNS,
    issue_passwords,
    passwords_csv,
    passwords_issued_at,
)
from lms.errors import FORM_ERRORS, NotFound, ServiceError
from lms.files.views import posted_upload, stage_upload, upload_route
from lms.jobs import enqueue, visible_job
from lms.models import Job
from lms.web import guard_blueprint

bp = Blueprint("people_admin", __name__)
guard_blueprint(bp, "user.manage")
SUFFIXES = (".csv", ".xlsx")


def _form(status: int = 200, error: str | None = None):
    return render_template("admin/people_import.html", error=error, columns=COLUMNS,
                           extra_columns=EXTRA_COLUMNS,
                           dry_run=bool(request.form.get("dry_run")),
                           create_units=bool(request.form.get("create_units")),
                           lang=str(get_locale() or "vi")), status


@bp.get("/import")
def import_form():
    return _form()


@bp.post("/import")
@upload_route
def import_start():
    try:
        upload, name = posted_upload("people", SUFFIXES, _("Choose a .csv or .xlsx file."))
        token = stage_upload(upload, name, upload_root(), "people")
    except ServiceError as error:
        return _form(error.status, error.message)
    job = enqueue("accounts.people_import", owner=current_user, upload=token,
                  dry_run=bool(request.form.get("dry_run")),
                  create_units=bool(request.form.get("create_units")),
                  lang=str(get_locale() or "vi"))
    return redirect(url_for("people_admin.import_report", job_id=job.id))


def _import_job(job_id: int) -> Job:
    return visible_job(current_user, job_id, name="accounts.people_import")


@bp.get("/import/<int:job_id>")
def import_report(job_id: int):
    job = _import_job(job_id)
    report = job.result if job.status == "done" else None
    batch_id = (report or {}).get("batch_id")
    return render_template("admin/people_report.html", job=job, report=report,
                           batch_id=batch_id,
                           issued=passwords_issued_at(batch_id) if batch_id else None)


@bp.post("/import/<int:job_id>/passwords")
def import_passwords(job_id: int):
    """The one-time passwords of the people this import created, as a CSV file, once."""
    job = _import_job(job_id)
    batch_id = (job.result or {}).get("batch_id") if job.status == "done" else None
    if not batch_id or job.owner_id != current_user.id:
        raise NotFound()
    try:
        issued = issue_passwords(batch_id)
    except FORM_ERRORS as error:
        flash(error.message, "error")
        return redirect(url_for("people_admin.import_report", job_id=job.id))
    return Response(passwords_csv(issued), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="passwords-import-{job.id}.csv"',
        "Cache-Control": "no-store"})
