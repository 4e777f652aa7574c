"""File pages and file responses: the deposit's files page, downloads, previews, thumbnails,
and the administrators' fixity report.

Every response carrying file bytes is decided by ``serving.get_readable_file`` first (404 for
anyone who may not read the file), before Range, conditional or HEAD handling.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from lms.catalog.access_settings import access_choices
from lms.catalog.forms import parse_access
from lms.catalog.reading import get_record
from lms.errors import FORM_ERRORS, ServiceError, ValidationError, error_response, wants_json
from lms.exports import links
from lms.files import extraction, maintenance, serving
from lms.files import records as record_files
from lms.files.names import clean_filename
from lms.files.storage import CHUNK_SIZE, FileTooLarge
from lms.files.upload import (
    Upload,
    change_file_access,
    get_working_file,
    human_size,
    remove_file,
    upload_files,
    upload_limit_message,
)
from lms.permissions import require
from lms.web import no_store

if TYPE_CHECKING:
    from werkzeug.datastructures import FileStorage

    from lms.catalog.models import Record
    from lms.files.models import RecordFile

bp = Blueprint("files", __name__)

# Multipart boundaries, headers and the CSRF field around one file.
MULTIPART_OVERHEAD = 64 * 1024


def upload_route(view: Callable) -> Callable:
    """Give ``view`` the body limit ``MAX_UPLOAD_BYTES`` (plus the multipart overhead); the
    request class applies it before the body is read (``lms.web.AppRequest``)."""
    view.upload_limit = lambda: current_app.config["MAX_UPLOAD_BYTES"] + MULTIPART_OVERHEAD
    return view


def save_upload(stream, target) -> None:
    """Copy an uploaded file to ``target`` (a new file), within ``MAX_UPLOAD_BYTES``.

    :raise FileTooLarge: over the limit. :raise ValidationError: empty.
    """
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    size = 0
    with target.open("xb") as out:
        while chunk := stream.read(CHUNK_SIZE):
            size += len(chunk)
            if size > limit:
                raise FileTooLarge(_("The file is larger than the upload limit."))
            out.write(chunk)
    if size == 0:
        raise ValidationError(_("The file is empty."))


def posted_upload(field: str, suffixes: tuple[str, ...], refusal: str
                  ) -> tuple[FileStorage, str]:
    """The file posted as ``field`` and its clean name.

    :raise ServiceError: (``refusal``, 400) none was posted, or its name ends with none of
        ``suffixes``.
    """
    upload = request.files.get(field)
    name = clean_filename(upload.filename if upload else "")
    if upload is None or not name.lower().endswith(suffixes):
        raise ServiceError(refusal)
    return upload, name


def stage_upload(upload: FileStorage, name: str, root: Path, stem: str) -> str:
    """Save ``upload`` (its clean file name ``name``) for a background job, as ``stem`` with
    the name's lower-cased suffix, in a new private folder under ``root``; return the folder's
    name, which the job is given.

    :raise FileTooLarge, ValidationError: as :func:`save_upload`; the folder is removed.
    """
    token = secrets.token_hex(16)
    folder = root / token
    folder.mkdir(parents=True, mode=0o700)
    try:
        save_upload(upload.stream, folder / (stem + name[name.rfind("."):].lower()))
    except (FileTooLarge, ValidationError):
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        upload.close()  # a large upload is spooled to a temporary file: release it now
    return token


@bp.app_template_filter("text_outcome")
def _text_outcome(file) -> str:
    return extraction.describe(file.text_status, file.text_message)


@bp.app_template_filter("filesize")
def _filesize(size: int) -> str:
    return human_size(size)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge):
    return error_response(413, upload_limit_message(
        current_app.config["MAX_UPLOAD_BYTES"]))


# --- the deposit's files -------------------------------------------------------------------

@bp.get("/records/<int:record_id>/files")
@login_required
def manage(record_id: int):
    no_store()
    record = get_record(current_user, record_id, for_edit=True)
    files = record_files.working_files(record)
    return render_template("files/manage.html", record=record, files=files,
                           max_upload=current_app.config["MAX_UPLOAD_BYTES"],
                           **access_choices())


@bp.post("/records/<int:record_id>/files")
@upload_route
@login_required
def upload(record_id: int):
    record = get_record(current_user, record_id, for_edit=True)
    uploads = [Upload(f.stream, f.filename, f.mimetype or "")
               for f in request.files.getlist("files")]
    files = upload_files(current_user, record, uploads)
    message = _("Files uploaded: %(n)d.", n=len(files))
    mismatched = [f.name for f in files if f.sniff_mismatch]
    warning = _("The content of %(names)s does not match its name; it will only be offered "
                "as a download.", names=", ".join(mismatched)) if mismatched else None
    if wants_json():
        return jsonify(message=message, warning=warning, files=[
            {"id": f.id, "name": f.name, "size": f.size, "media_type": f.media_type,
             "mismatch": f.sniff_mismatch} for f in files]), 201
    flash(message, "success")
    if warning:
        flash(warning, "error")
    return redirect(url_for("files.manage", record_id=record.id))


def _editable_file(record_id: int, file_id: int) -> tuple[Record, RecordFile]:
    """The record, which the current user may edit, and its working file ``file_id``."""
    record = get_record(current_user, record_id, for_edit=True)
    return record, get_working_file(current_user, record, file_id)


@bp.post("/records/<int:record_id>/files/<int:file_id>/remove")
@login_required
def remove(record_id: int, file_id: int):
    record, file = _editable_file(record_id, file_id)
    remove_file(current_user, record, file)
    flash(_("%(name)s was removed from the working copy.", name=file.name), "success")
    return redirect(url_for("files.manage", record_id=record.id))


@bp.post("/records/<int:record_id>/files/<int:file_id>/access")
@login_required
def access(record_id: int, file_id: int):
    record, file = _editable_file(record_id, file_id)
    try:
        settings = None if request.form.get("access_level", "") in ("", "inherit") \
            else parse_access(request.form)
        pending = change_file_access(current_user, record, file, settings)
    except FORM_ERRORS as error:
        flash(error.message, "error")
    else:
        if pending is not None:
            flash(_("Your change lets more people get %(name)s: it waits for a curator of the "
                    "collection to approve it. Until then the file keeps its current access.",
                    name=file.name), "info")
        else:
            flash(_("Access to %(name)s saved.", name=file.name), "success")
    return redirect(url_for("files.manage", record_id=record.id))


# --- file responses ------------------------------------------------------------------------

@bp.get("/records/<int:record_id>/files/<int:file_id>")
def download(record_id: int, file_id: int):
    record, file = serving.get_readable_file(current_user, record_id, file_id)
    response = serving.serve_file(current_user, record, file, request, download=True)
    response.headers["Link"] = links.header([links.collection_link(record)])  # Signposting
    return response


@bp.get("/records/<int:record_id>/files/<int:file_id>/preview")
def preview(record_id: int, file_id: int):
    record, file = serving.get_readable_file(current_user, record_id, file_id)
    response = serving.serve_file(current_user, record, file, request, download=False)
    response.headers["Link"] = links.header([links.collection_link(record)])
    return response


@bp.get("/records/<int:record_id>/files/<int:file_id>/thumbnail")
def thumbnail(record_id: int, file_id: int):
    record, file = serving.get_readable_file(current_user, record_id, file_id)
    return serving.serve_thumbnail(current_user, record, file, request)


# --- administration ------------------------------------------------------------------------

@bp.get("/admin/extraction")
@login_required
def extraction_report():
    """Files whose text could not be extracted, in the collections the user curates."""
    no_store()
    require(current_user, "extraction.view_report")
    return render_template("files/extraction.html",
                           files=extraction.problem_files(current_user))


@bp.get("/admin/fixity")
@login_required
def fixity_report():
    no_store()
    require(current_user, "file.maintain")
    return render_template("files/fixity.html", problems=maintenance.fixity_problems(),
                           checks=maintenance.recent_fixity_checks())
