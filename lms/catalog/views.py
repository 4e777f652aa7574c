"""Pages of the repository: deposit, edit, review, record pages, versions, exports, browse."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.catalog import access_requests, browse, deposit, workflow
from lms.catalog.access import embargo_active
from lms.catalog.access_settings import access_choices, change_access
from lms.catalog.collections import (
    collection_tree,
    deposit_collections,
    get_collection,
)
from lms.catalog.display import shown_terms, value_text
from lms.catalog.forms import build_fields, form_int, parse_access, parse_metadata
from lms.catalog.models import AccessLevel, Record, RecordStatus, RecordVersion
from lms.catalog.reading import curated_record, get_record, record_for_page, record_to_purge
from lms.catalog.summaries import summarize
from lms.discovery.services import collection_counts
from lms.errors import FORM_ERRORS, Conflict, NotFound, PermissionDenied
from lms.exports import links
from lms.files import serving
from lms.harvest import services as harvest_services
from lms.permissions import can, require
from lms.stats import services as stats
from lms.web import flash_outcome, no_store, page_of, request_int
from metadata import Metadata, Statement, default_profile, get_format, head_tags

bp = Blueprint("catalog", __name__)


@bp.app_context_processor
def _metadata_helpers() -> dict[str, object]:
    profile = default_profile()
    return {
        "profile_vocab": lambda name, lang: profile.vocabulary(name).options(lang),
        "type_label": lambda value, lang: value_text(Statement("type", value), profile, lang),
        "shown_terms": shown_terms,
        "profile_groups": profile.groups,
        "in_wizard": lambda record: current_user.is_authenticated
        and deposit.in_wizard(current_user, record),
    }


def _lang() -> str:
    return str(get_locale() or "vi")


# --- deposit and edit ----------------------------------------------------------------------

@bp.route("/records/new", methods=["GET", "POST"])
@login_required
def new():
    no_store()
    collections = deposit_collections(current_user)
    if not collections:
        raise PermissionDenied(_("There is no collection you may deposit in."))
    # Most materials of the academy are in Vietnamese: a new deposit starts so.
    metadata = Metadata([Statement("language", "vi")])
    problems = []
    chosen = request.values.get("collection") or collections[0].slug
    if request.method == "POST":
        statements = parse_metadata(request.form)
        try:
            collection = get_collection(chosen)
            record = deposit.create_draft(current_user, collection, statements)
        except workflow.MetadataInvalid as error:
            flash(error.message, "error")
            metadata, problems = Metadata(statements), list(error.result.problems)
        except FORM_ERRORS as error:
            flash(error.message, "error")
            metadata = Metadata(statements)
        else:
            flash(_("Draft saved."), "success")
            return redirect(_after_describe(record))
    status = 422 if request.method == "POST" else 200
    return render_template("catalog/form.html", record=None, collections=collections,
                           chosen=chosen, fields=build_fields(metadata, problems),
                           lang=_lang()), status


def _after_describe(record: Record):
    """Where the describe step leads: on to the files, or back to the form."""
    if request.form.get("action") == "next":
        return url_for("files.manage", record_id=record.id)
    return url_for("catalog.edit", record_id=record.id)


@bp.route("/records/<int:record_id>/edit", methods=["GET", "POST"])
@login_required
def edit(record_id: int):
    no_store()
    record = get_record(current_user, record_id, for_edit=True)
    metadata, problems = record.dc, []
    lock_version = record.lock_version
    if request.method == "POST":
        statements = parse_metadata(request.form, kept=record.dc)
        posted_lock = form_int(request.form, "lock_version")
        saved = False
        try:
            changed = deposit.save_metadata(current_user, record, statements, posted_lock)
            saved = True
        except workflow.MetadataInvalid as error:
            flash(error.message, "error")
            problems = list(error.result.problems)
        except FORM_ERRORS as error:
            flash(error.message, "error")
        else:
            flash(_("Changes saved.") if changed else _("Nothing was changed."), "success")
            return redirect(_after_describe(record))
        # A stale form keeps its old lock version: saving it again must still be refused.
        lock_version = record.lock_version if saved else posted_lock
        return render_template("catalog/form.html", record=record, collections=None,
                               chosen=None, fields=build_fields(Metadata(statements), problems),
                               lock_version=lock_version, lang=_lang()), 422
    return render_template("catalog/form.html", record=record, collections=None, chosen=None,
                           fields=build_fields(metadata, problems), lock_version=lock_version,
                           lang=_lang())


@bp.route("/records/<int:record_id>/access", methods=["GET", "POST"])
@login_required
def access(record_id: int):
    no_store()
    record = get_record(current_user, record_id)
    require(current_user, "record.change_access", record)
    if request.method == "POST":
        with flash_outcome() as outcome:
            pending = change_access(current_user, record, parse_access(request.form))
        if outcome.failed:
            return _access_page(record), 422
        if pending is not None:
            flash(_("Your change lets more people see this record: it waits for a curator of "
                    "the collection to approve it. Until then the current settings stay; "
                    "anything that narrows access was saved."), "info")
            return redirect(url_for("catalog.access", record_id=record.id))
        flash(_("Access settings saved."), "success")
        if deposit.in_wizard(current_user, record):
            return redirect(url_for("catalog.submit", record_id=record.id))
        return redirect(url_for("catalog.show", record_id=record.id))
    return _access_page(record)


def _access_page(record: Record) -> str:
    return render_template("catalog/access.html", record=record,
                           pending=access_requests.pending_requests(record.id),
                           describe=access_requests.describe, **access_choices())


@bp.route("/records/<int:record_id>/submit", methods=["GET", "POST"])
@login_required
def submit(record_id: int):
    """The deposit's last step: what will be sent, what is missing, then submit."""
    no_store()
    record = get_record(current_user, record_id)
    if not deposit.in_wizard(current_user, record):
        return redirect(url_for("catalog.show", record_id=record.id))
    if request.method == "POST":
        try:
            workflow.submit(current_user, record, form_int(request.form, "lock_version"))
        except workflow.MetadataInvalid as error:
            flash(error.message, "error")
        except FORM_ERRORS as error:
            flash(error.message, "error")
        else:
            flash(_("Submitted for review. You will be notified of the decision."), "success")
            return redirect(url_for("catalog.deposits"))
    status = 422 if request.method == "POST" else 200
    return render_template("catalog/submit.html", record=record,
                           check=deposit.submission_check(record), lang=_lang(),
                           profile=default_profile()), status


# --- reading -------------------------------------------------------------------------------

def _readable(record_id: int) -> Record:
    """The record for its page; 410 with a tombstone, or 404 for those who may not know it."""
    record, tombstone = record_for_page(current_user, record_id)
    if tombstone:
        abort(Response(render_template("catalog/tombstone.html", record=record), 410))
    return record


def _render_record(record: Record, version: RecordVersion | None,
                   files: serving.FileList | None = None):
    working = version is None
    metadata = record.dc if working else version.dc
    privileged = can(current_user, "record.view_working_copy", record)
    if record.access_level != AccessLevel.PUBLIC or not record.is_published:
        no_store()
    if files is None:
        files = serving.files_for_display(current_user, record, version)
    context = links.record_context(record, files, _lang())
    return render_template(
        "catalog/record.html", record=record, version=version, metadata=metadata,
        title=record.title if working else version.title,
        working=working, profile=default_profile(), lang=_lang(),
        head=head_tags(metadata, context) if not working else "",
        formats=[(name, links.FORMAT_LABELS[name], links.media_type(name))
                 for name in links.EXPORTS],
        embargoed=embargo_active(record), privileged=privileged,
        all_collections=collection_tree() if can(current_user, "record.map", record) else [],
        files=files, harvested=harvest_services.provenance(record),
        usage=stats.monthly_usage(record) if not working else None,
        usage_totals=stats.usage_totals(record) if not working else None,
    )


def _published_view(record: Record) -> tuple[Metadata, serving.FileList]:
    """What a reader of the latest published version sees: its metadata and their files."""
    version = record.latest_version
    metadata = version.dc if version else record.dc
    return metadata, serving.files_for_display(current_user, record, version)


@bp.get("/records/<int:record_id>")
def show(record_id: int):
    record = _readable(record_id)
    version = record.latest_version
    negotiated = links.negotiated_format(request.accept_mimetypes)
    if negotiated is not None and version is not None:
        response = export(record_id, negotiated)
        del response.headers["Content-Disposition"]  # the record itself, not a download
    elif version is None:
        # Never published: only its depositor and curators get here; show the working copy.
        response = make_response(_render_record(record, None))
    else:
        if request.method == "GET":  # a reader on the record's page (not an export, a HEAD)
            stats.record_view(current_user, record, remote_addr=request.remote_addr,
                              user_agent=request.user_agent.string)
        metadata, files = _published_view(record)
        response = make_response(_render_record(record, version, files))
        response.headers["Link"] = links.header(links.landing_links(record, metadata, files))
    response.vary.add("Accept")
    return response


@bp.get("/records/<int:record_id>/draft")
@login_required
def draft(record_id: int):
    record = get_record(current_user, record_id)
    if not can(current_user, "record.view_working_copy", record):
        raise NotFound()
    return _render_record(record, None)


@bp.get("/records/<int:record_id>/v/<int:number>")
def version(record_id: int, number: int):
    record = _readable(record_id)
    found = record.version(number)
    if found is None:
        raise NotFound()
    return _render_record(record, found)


@bp.get("/records/<int:record_id>/history")
def history(record_id: int):
    record = _readable(record_id)
    if not can(current_user, "record.view_history", record):
        # Readers see the versions; the review conversation is for those who took part.
        events = [e for e in workflow.history(record) if e.action in ("publish", "withdraw",
                                                                       "restore")]
    else:
        events = workflow.history(record)
    return render_template("catalog/history.html", record=record, events=events)


@bp.get("/records/<int:record_id>/export/<name>")
def export(record_id: int, name: str):
    record = _readable(record_id)
    try:
        fmt = get_format(name)
    except KeyError:
        raise NotFound() from None
    metadata, files = _published_view(record)
    body = fmt.serialize(metadata, links.record_context(record, files, _lang()))
    response = _machine_response(record, body, fmt.media_type)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="record-{record.id}.{fmt.extension}"')
    response.headers["Link"] = links.header([links.describes_link(record)])
    return response


@bp.get("/records/<int:record_id>/linkset")
def linkset(record_id: int):
    """The record's Signposting links as an RFC 9264 linkset (``application/linkset``)."""
    record = _readable(record_id)
    metadata, files = _published_view(record)
    return _machine_response(record, links.linkset_text(links.linkset(record, metadata, files)),
                             links.LINKSET)


@bp.get("/records/<int:record_id>/linkset.json")
def linkset_json(record_id: int):
    """The same linkset as ``application/linkset+json``."""
    record = _readable(record_id)
    metadata, files = _published_view(record)
    body = json.dumps(links.linkset_json(links.linkset(record, metadata, files)),
                      ensure_ascii=False, indent=2)
    return _machine_response(record, body, links.LINKSET_JSON)


def _machine_response(record: Record, body: str, content_type: str) -> Response:
    # content_type, not mimetype: export types already carry their charset.
    response = Response(body, content_type=content_type)
    if record.access_level != AccessLevel.PUBLIC or not record.is_published:
        response.headers["Cache-Control"] = "private, no-store"
    return response


# --- curation ------------------------------------------------------------------------------

@bp.post("/records/<int:record_id>/withdraw")
@login_required
def withdraw(record_id: int):
    record = get_record(current_user, record_id)
    with flash_outcome(_("The record was withdrawn.")):
        workflow.withdraw(current_user, record, request.form.get("reason", ""))
    return redirect(url_for("catalog.show", record_id=record.id))


@bp.post("/records/<int:record_id>/collections")
@login_required
def collections_of(record_id: int):
    record = get_record(current_user, record_id)
    slugs = request.form.getlist("collections")
    with flash_outcome(_("The record's collections were saved."),
                       errors=(*FORM_ERRORS, NotFound)):
        workflow.map_record(current_user, record,
                            [get_collection(slug) for slug in slugs])
    return redirect(url_for("catalog.show", record_id=record.id))


@bp.post("/records/<int:record_id>/restore")
@login_required
def restore(record_id: int):
    record = curated_record(current_user, record_id)
    workflow.restore(current_user, record)
    flash(_("The record was restored."), "success")
    return redirect(url_for("catalog.show", record_id=record.id))


@bp.post("/records/<int:record_id>/purge")
@login_required
def purge(record_id: int):
    record = record_to_purge(current_user, record_id)
    with flash_outcome(_("The record was purged; a tombstone remains.")) as outcome:
        workflow.purge(current_user, record, request.form.get("reason", ""))
    if outcome.failed:
        return redirect(url_for("catalog.show", record_id=record.id))
    return redirect(url_for("main.index"))


# --- dashboards ----------------------------------------------------------------------------

@bp.get("/deposits")
@login_required
def deposits():
    status = request.args.get("status", "")
    status = status if status in {str(s) for s in RecordStatus} else ""
    page = page_of(deposit.my_deposits(current_user, status or None), 25)
    return render_template("catalog/deposits.html", page=page, status=status,
                           counts=deposit.deposit_counts(current_user),
                           may_deposit=bool(deposit_collections(current_user)))


POOL_PAGE = 25


@bp.get("/review")
@login_required
def review():
    require(current_user, "review.queue")
    from lms.files.extraction import problem_count

    queue = workflow.review_queue(current_user)
    pages = max(1, -(-len(queue.pool) // POOL_PAGE))
    number = min(max(request.args.get("page", 1, type=request_int), 1), pages)
    return render_template("catalog/review.html", queue=queue, number=number, pages=pages,
                           pool=queue.pool[(number - 1) * POOL_PAGE:number * POOL_PAGE],
                           access_requests=access_requests.requests_to_decide(current_user),
                           describe=access_requests.describe,
                           extraction_problems=problem_count(current_user), lang=_lang())


@bp.get("/review/<int:task_id>")
@login_required
def review_task(task_id: int):
    """One task: the deposit's metadata, files and access, and the decisions together."""
    no_store()
    require(current_user, "review.queue")
    task = workflow.get_task(current_user, task_id)
    record = task.record
    return render_template(
        "catalog/task.html", task=task, record=record, lang=_lang(), profile=default_profile(),
        metadata=record.dc, check=deposit.submission_check(record),
        refused=workflow.step_refused(current_user, task),
        files=serving.files_for_display(current_user, record, None),
        events=workflow.history(record))


@bp.post("/review/<int:task_id>/<action>")
@login_required
def review_action(task_id: int, action: str):
    try:
        if action == "claim":
            task = workflow.claim(current_user, task_id)
            flash(_("Task claimed. Check the deposit, correct it if needed, then decide."),
                  "success")
            return redirect(url_for("catalog.review_task", task_id=task.id))
        if action == "release":
            workflow.release(current_user, task_id)
        elif action == "accept":
            record = workflow.accept(current_user, task_id, request.form.get("comment", ""))
            flash(_("Published.") if record.status == RecordStatus.PUBLISHED
                  else _("Accepted; the record moves to the next step."), "success")
        elif action == "return":
            workflow.return_to_depositor(current_user, task_id, request.form.get("comment", ""))
            flash(_("Returned to the depositor."), "success")
        else:
            raise NotFound()
    except workflow.MetadataInvalid as error:
        flash(_("Required metadata is missing or wrong: correct the record first."), "error")
        for problem in error.result.errors[:5]:
            flash(problem.message(_lang()), "error")
        return redirect(url_for("catalog.review_task", task_id=task_id))
    except Conflict as error:
        flash(error.message, "error")
        if action in ("accept", "return"):
            # Decided meanwhile (another click, another tab): 409 on the queue as it stands.
            return review(), 409
    except FORM_ERRORS as error:
        flash(error.message, "error")
        if action in ("accept", "return"):  # the comment and the decision stay at hand
            return redirect(url_for("catalog.review_task", task_id=task_id))
    return redirect(url_for("catalog.review"))


@bp.post("/review/access/<int:request_id>/<action>")
@login_required
def access_request_action(request_id: int, action: str):
    """A curator approves or rejects a depositor's widening of access."""
    with flash_outcome():
        if action == "approve":
            access_requests.approve(current_user, request_id, request.form.get("comment", ""))
            flash(_("Approved: the new access settings apply."), "success")
        elif action == "reject":
            access_requests.reject(current_user, request_id, request.form.get("comment", ""))
            flash(_("Rejected; the depositor was told why."), "success")
        else:
            raise NotFound()
    return redirect(url_for("catalog.review"))


# --- browse --------------------------------------------------------------------------------

@bp.get("/collections")
def collections():
    return render_template("catalog/collections.html", tree=collection_tree(),
                           counts=collection_counts(current_user), lang=_lang())


@bp.get("/collections/<slug>")
def collection(slug: str):
    found = get_collection(slug)
    sort = request.args.get("sort", browse.DEFAULT_SORT)
    sort = sort if sort in browse.SORTS else browse.DEFAULT_SORT
    page = browse.sorted_listing(current_user, found, sort,
                                 request.args.get("page", 1, type=request_int), _lang())
    return render_template("catalog/collection.html", collection=found, page=page, sort=sort,
                           lang=_lang(), counts=collection_counts(current_user),
                           summaries=summarize(current_user, page.items, _lang()))
