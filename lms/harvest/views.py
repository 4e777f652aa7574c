"""``/admin/harvest``: administrators register OAI-PMH sources, start runs, read reports."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.catalog.collections import collection_tree
from lms.errors import FORM_ERRORS, NotFound
from lms.harvest import services
from lms.harvest.models import RunStatus, Schedule
from lms.jobs import enqueue
from lms.web import guard_blueprint

bp = Blueprint("harvest", __name__)
guard_blueprint(bp, "harvest.manage")

SCHEDULE_LABELS = {Schedule.MANUAL: _l("Only when started by hand"),
                   Schedule.HOURLY: _l("Every hour"), Schedule.DAILY: _l("Every day"),
                   Schedule.WEEKLY: _l("Every week")}
STATUS_LABELS = {RunStatus.RUNNING: _l("Running"), RunStatus.SUCCEEDED: _l("Succeeded"),
                 RunStatus.PARTIAL: _l("Partly done (continues next run)"),
                 RunStatus.FAILED: _l("Failed")}
OUTCOME_LABELS = {"created": _l("created"), "updated": _l("updated"),
                  "unchanged": _l("unchanged"), "withdrawn": _l("withdrawn"),
                  "skipped": _l("skipped"), "error": _l("failed")}
ACCESS_LABELS = {"public": _l("Public"), "internal": _l("Internal (logged-in users)")}


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"harvest_schedules": SCHEDULE_LABELS, "harvest_statuses": STATUS_LABELS,
            "harvest_outcomes": OUTCOME_LABELS, "harvest_access": ACCESS_LABELS}


def _input() -> services.SourceInput:
    form = request.form
    return services.SourceInput(
        name=form.get("name", ""), title=form.get("title", ""),
        base_url=form.get("base_url", ""), metadata_prefix=form.get("metadata_prefix", ""),
        collection=form.get("collection", ""), sets=form.get("sets", ""),
        access_level=form.get("access_level", ""), schedule=form.get("schedule", ""),
        active=bool(form.get("active")))


def _form(source, status: int = 200):
    return render_template("harvest/form.html", source=source, form=request.form,
                           collections=collection_tree(), prefixes=services.PREFIXES), status


@bp.get("/")
def index():
    return render_template("harvest/index.html", sources=services.all_sources(),
                           runs=services.last_runs())


@bp.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "POST":
        try:
            source = services.register_source(current_user, _input())
        except (*FORM_ERRORS, NotFound) as error:
            flash(error.message, "error")
            return _form(None, 422)
        flash(_("Source %(name)s registered.", name=source.name), "success")
        return redirect(url_for("harvest.show", source_id=source.id))
    return _form(None)


@bp.route("/<int:source_id>", methods=["GET", "POST"])
def show(source_id: int):
    source = services.get_source(source_id)
    if request.method == "POST":
        try:
            services.update_source(current_user, source, _input())
        except (*FORM_ERRORS, NotFound) as error:
            flash(error.message, "error")
            return _form(source, 422)
        flash(_("Source %(name)s saved.", name=source.name), "success")
        return redirect(url_for("harvest.show", source_id=source.id))
    return render_template("harvest/source.html", source=source,
                           runs=services.recent_runs(source), collections=collection_tree(),
                           prefixes=services.PREFIXES, form=None)


@bp.post("/<int:source_id>/run")
def run(source_id: int):
    source = services.get_source(source_id)
    job = enqueue("harvest.run", owner=current_user, source_id=source.id)
    flash(_("Harvest of %(name)s started.", name=source.name), "success")
    return redirect(url_for("harvest.show", source_id=source.id, job=job.id))
