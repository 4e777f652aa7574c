"""Reports (/reports): a unit's figures against targets, drill-down to sub-units and people,
chart, exports; targets for those who set them. Every filter is in the URL."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.accounts.models import TermKind
from lms.accounts.services import list_terms
from lms.auth.forms import EmptyForm
from lms.db import paginate_rows, utcnow
from lms.errors import FORM_ERRORS, NotFound
from lms.extensions import db
from lms.files.storage import BlobNotFound
from lms.files.stores import get_storage
from lms.jobs import enqueue, visible_job
from lms.localtime import local_day
from lms.reports import exports, services, targets
from lms.reports.jobs import export_file
from lms.reports.queries import UnitTree
from lms.web import guard_blueprint, request_int

bp = Blueprint("reports", __name__)
guard_blueprint(bp, "report.view", _l("Reports are for training officers, commanders and "
                                      "administrators."))
PEOPLE_PAGE = 50


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"rag_labels": targets.RAG_LABELS}


def _query():
    tree = UnitTree.load()
    return tree, services.read_query(current_user, request.args, tree)


def _choices(tree: UnitTree) -> dict[str, object]:
    visible = services.report_units(current_user)
    units = [(u, tree.path(u.id)) for u in tree.units.values()
             if visible is None or u.id in visible]
    courses, tracks = services.reportable_items()
    items = ([(f"course:{c.id}", c.title) for c in courses] +
             [(f"track:{t.id}", t.title + " " + _("(track)")) for t in tracks])
    return {"unit_choices": sorted(units, key=lambda pair: pair[1]), "item_choices": items,
            "audience_choices": services.report_audiences(current_user),
            "group_choices": list_terms(TermKind.TARGET_GROUP)}


@bp.get("/")
def index():
    tree, query = _query()
    report = services.build(current_user, query, tree, utcnow())
    return render_template("reports/index.html", report=report, query=query, tree=tree,
                           chain=list(reversed(tree.chain(query.filters.unit_id))),
                           now=utcnow(), **_choices(tree))


@bp.get("/people")
def people():
    tree, query = _query()
    status = request.args.get("status", "")
    if status not in services.STATUSES:
        status = ""
    page = paginate_rows(db.session, services.people(query.filters, tree, status, utcnow()),
                         request.args.get("page", 1, type=request_int), PEOPLE_PAGE)
    return render_template("reports/people.html", query=query, tree=tree, page=page,
                           status=status, now=utcnow(),
                           title=services.item_title(query.filters),
                           path=tree.path(query.filters.unit_id))


def _download(data: bytes, filename: str, mimetype: str) -> Response:
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=filename, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/export.csv")
def export_summary_csv():
    tree, query = _query()
    report = services.build(current_user, query, tree, utcnow())
    return _download(exports.summary_csv(report),
                     f"tong-hop-{utcnow().strftime('%Y%m%d-%H%M')}.csv",
                     "text/csv; charset=utf-8")


@bp.get("/export.<any(xlsx, people.csv):kind>")
def export(kind: str):
    """The workbook, or the people CSV: made at once when small, by a job when large."""
    tree, query = _query()
    fmt = "xlsx" if kind == "xlsx" else "csv"
    args = {k: str(v) for k, v in query.args().items()}
    if services.count_people(query.filters, tree) > current_app.config[
            "REPORT_EXPORT_INLINE_ROWS"]:
        job = enqueue("reports.export", owner=current_user, args=args, fmt=fmt)
        return redirect(url_for("reports.export_status", job_id=job.id))
    out = io.BytesIO()
    made = export_file(current_user, args, fmt, out)
    return _download(out.getvalue(), made["filename"], made["mimetype"])


@bp.get("/exports/<int:job_id>")
def export_status(job_id: int):
    job = visible_job(current_user, job_id, name="reports.export")
    return render_template("reports/export.html", job=job)


@bp.get("/exports/<int:job_id>/file")
def export_download(job_id: int):
    job = visible_job(current_user, job_id, name="reports.export")
    result = job.result or {}
    if job.status != "done" or "blob" not in result:
        raise NotFound()
    try:
        stream = get_storage().open(result["blob"])
    except BlobNotFound:
        flash(_("This export is no longer kept. Make it again."), "error")
        return redirect(url_for("reports.index", **job.params.get("args", {})))
    response = send_file(stream, mimetype=result["mimetype"], as_attachment=True,
                         download_name=result["filename"], max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- targets -------------------------------------------------------------------------------

@bp.route("/targets", methods=["GET", "POST"])
def target_list():
    tree = UnitTree.load()
    form = EmptyForm()
    status = 200
    if request.method == "POST":
        values = request.form
        unit = tree.units.get(services.int_arg(values.get("unit")) or -1)
        if values.get("unit") and unit is None:
            raise NotFound()
        course, track = services.report_item(values.get("item", ""))
        if values.get("item") and course is None and track is None:
            raise NotFound()
        try:
            targets.save_target(
                current_user, unit=unit, course=course, track=track,
                percent=_percent(values.get("percent")),
                deadline=services.day_arg(values.get("deadline")),
                starts=services.day_arg(values.get("starts")), note=values.get("note", ""))
        except FORM_ERRORS as error:
            flash(error.message, "error")
            status = error.status
        else:
            flash(_("Target saved."), "success")
            return redirect(url_for("reports.target_list"))
    return render_template("reports/targets.html", targets=targets.editable_targets(
        current_user), tree=tree, form=form, local_day=local_day,
        **_choices(tree)), status


def _percent(value: str | None) -> int | None:
    """A typed share: "150", "0", "-5" and "abc" all reach the rule that refuses them."""
    try:
        return int(float((value or "").strip()))
    except ValueError:
        return None


@bp.post("/targets/<int:target_id>/delete")
def target_delete(target_id: int):
    targets.delete_target(current_user, target_id)
    flash(_("Target deleted."), "success")
    return redirect(url_for("reports.target_list"))
