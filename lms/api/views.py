"""``/api/v1/records``, ``/api/v1/collections``: the records REST API, thin over the catalog's
services; and who the caller of any ``/api/`` URL is.

A caller is a personal access token (``Authorization: Bearer ...``, checked here for API
URLs only, never for pages), a session cookie (whose changes need the CSRF token, in the
``X-CSRFToken`` header), or nobody (what anonymous readers may see). Errors are RFC 9457
problem details.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask import Blueprint, current_app, g, request
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from lms.api import records as api_records
from lms.api import tokens
from lms.api.models import TokenScope
from lms.api.problems import BadBody, json_object
from lms.catalog import deposit, workflow
from lms.catalog.access_settings import (
    AccessSettings,
    access_summary,
    change_access,
    settings_summary,
)
from lms.catalog.collections import find_collection
from lms.catalog.models import Collection, Record
from lms.catalog.reading import get_record, record_for_page
from lms.errors import NotFound, ServiceError, TooManyAttempts, problem
from lms.extensions import csrf, db
from lms.files import serving
from lms.files.upload import Upload, get_working_file, remove_file, upload_files
from lms.files.views import upload_route
from lms.ingest.imports import LineError, parse_access
from metadata import Metadata
from metadata.model import ShapeError

bp = Blueprint("api", __name__)
# Token requests carry no CSRF token; session requests are checked below instead.
csrf.exempt(bp)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Keys of the record's JSON that a client sends back unchanged and the server ignores.
READ_ONLY_KEYS = frozenset({"id", "files", "record"})
WRITABLE_KEYS = frozenset({"collection", "access", "metadata"})


class Gone(ServiceError):
    status = 410

    def default_message(self) -> str:
        return "This record has been withdrawn."


class Unauthenticated(ServiceError):
    status = 401

    def default_message(self) -> str:
        return "Log in, or send a personal access token (Authorization: Bearer ...)."


class InvalidInput(ServiceError):
    """A field of the body is wrong; ``errors`` says which and why."""

    status = 422


# --- who is calling -------------------------------------------------------------------------

@bp.before_app_request
def _authenticate_token():
    """A bearer token makes its user the caller of an API request; a bad one is refused."""
    if not request.path.startswith("/api/"):
        return None
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return problem(401, "Only personal access tokens are accepted: "
                            "Authorization: Bearer <token>.")
    try:
        user, token = tokens.authenticate(secret.strip(), request.remote_addr)
    except (tokens.TokenRejected, TooManyAttempts) as error:
        return problem(error.status, error.message)
    if token.scope != TokenScope.WRITE and request.method not in SAFE_METHODS:
        return problem(403, "This token may only read; create a write token to make changes.")
    g._login_user = user  # Flask-Login's current user for this request only: no session
    g.api_token = token
    return None


@bp.before_request
def _csrf_for_sessions() -> None:
    """A session's change needs the CSRF token (anonymous changes are refused anyway: 401)."""
    if request.method not in SAFE_METHODS and getattr(g, "api_token", None) is None \
            and current_user.is_authenticated:
        csrf.protect()


@bp.errorhandler(workflow.MetadataInvalid)
def _metadata_invalid(error: workflow.MetadataInvalid):
    db.session.rollback()
    return problem(422, error.message, errors=[
        {"term": p.term, "code": p.code, "message": p.message(str(get_locale() or "vi"))}
        for p in error.result.errors])


@bp.errorhandler(InvalidInput)
def _invalid_input(error: InvalidInput):
    db.session.rollback()
    return problem(422, error.message, errors=error.details.get("errors", []))


@bp.errorhandler(BadBody)
def _bad_body(error: BadBody):
    return problem(error.status, str(error))


def _caller():
    """:raise Unauthenticated: nobody is logged in and no token was sent."""
    if not current_user.is_authenticated:
        raise Unauthenticated()
    return current_user._get_current_object()


def _json(body: Any, status: int = 200, etag: str | None = None):
    # Not jsonify: it sorts keys, and the order of metadata terms is the record's order.
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status,
                                          mimetype="application/json")
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Authorization", "Cookie"))
    if etag is not None:
        response.headers["ETag"] = etag
    return response


def json_limited(view: Callable) -> Callable:
    """Refuse a body over ``API_MAX_JSON_BYTES`` with 413 before it is read."""
    view.upload_limit = lambda: current_app.config["API_MAX_JSON_BYTES"]  # type: ignore[attr-defined]
    return view


# --- reading --------------------------------------------------------------------------------

def _readable(record_id: int) -> Record:
    """:raise NotFound: as on the record's page. :raise Gone: its tombstone (410)."""
    record, tombstone = record_for_page(current_user, _id(record_id))
    if tombstone:
        raise Gone()
    return record


def _record_response(record: Record, status: int = 200, **extra: Any):
    body = {**api_records.record_json(current_user, record), **extra}
    response = _json(body, status, api_records.etag(current_user, record))
    if status == 201:
        response.headers["Location"] = body["record"]["links"]["self"]
    return response


def _args(allowed: set[str]) -> MultiDict:
    unknown = set(request.args) - allowed
    if unknown:
        raise BadBody(f"Unknown parameter '{sorted(unknown)[0][:40]}'.")
    for key in request.args:
        if len(request.args.getlist(key)) > 1:
            raise BadBody(f"'{key}' may be given once.")
    return request.args


RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?"
                     r"([Zz]|[+-]\d\d:\d\d)?)?")


def _since(raw: str) -> datetime:
    """An RFC 3339 date-time or a date (UTC unless an offset is given); a leap second
    counts as :59, digits past microseconds are dropped."""
    match = RFC3339.fullmatch(raw)
    if match is None:
        raise BadBody("'modified_since' must be an RFC 3339 date-time or a date.")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        zone = UTC
        if offset and offset not in "Zz":
            sign = -1 if offset[0] == "-" else 1
            zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        value = datetime(max(int(year), 1), int(month), int(day), int(hour or 0),
                         int(minute or 0), min(int(second or 0), 59),
                         int((fraction or "0")[:6].ljust(6, "0")), tzinfo=zone)
    except ValueError:
        raise BadBody("'modified_since' is not a real date.") from None
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted past the calendar's end
        return (datetime.min if value.year == 1 else datetime.max).replace(tzinfo=UTC)


def _id(number: int) -> int:
    """:raise NotFound: an id no row can have."""
    if number > api_records.MAX_ID:
        raise NotFound()
    return number


@bp.get("/records")
def records():
    args = _args({"collection", "status", "type", "modified_since", "cursor", "size"})
    if len(args.get("type", "")) > 200 or len(args.get("collection", "")) > 64:
        raise BadBody("'type' has at most 200 characters, 'collection' at most 64.")
    collection = None
    if "collection" in args:
        collection = find_collection(args["collection"])
        if collection is None:
            raise NotFound("No collection has this slug.")
    status = args.get("status")
    if status is not None and status not in api_records.LISTED_STATUSES:
        raise BadBody(f"'status' must be one of {', '.join(api_records.LISTED_STATUSES)}.")
    raw_size = args.get("size", str(current_app.config["API_PAGE_SIZE"]))
    if not raw_size.isdigit() or not 1 <= int(raw_size) <= 100:
        raise BadBody("'size' must be a whole number from 1 to 100.")
    try:
        after = api_records.decode_cursor(args["cursor"]) if "cursor" in args else 0
    except api_records.BadCursor:
        raise BadBody("'cursor' is not a cursor from this API; start again without it.") \
            from None
    filters = api_records.Filters(
        collection=collection, status=status, type=args.get("type") or None,
        modified_since=_since(args["modified_since"]) if "modified_since" in args else None)
    size = int(raw_size)
    page = api_records.list_records(current_user, filters, after, size + 1)
    next_url = None
    if len(page) > size:
        page = page[:size]
        query = {**args.to_dict(), "cursor": api_records.encode_cursor(page[-1].id)}
        next_url = api_records.external_url("api.records", **query)
    response = _json({"records": [api_records.record_json(current_user, r) for r in page],
                      "next": next_url})
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


@bp.get("/records/<int:record_id>")
def record(record_id: int):
    found = _readable(record_id)
    return _record_response(found).make_conditional(request)


@bp.get("/records/<int:record_id>/versions")
def versions(record_id: int):
    found = _readable(record_id)
    return _json({"versions": api_records.versions_json(found)})


@bp.get("/records/<int:record_id>/files")
def files(record_id: int):
    found = _readable(record_id)
    return _json({"files": [api_records.file_json(found, f)
                            for f in api_records.readable_files(current_user, found)]})


@bp.get("/records/<int:record_id>/files/<int:file_id>")
def file(record_id: int, file_id: int):
    """The file's bytes, after the same check as its download page (404 for whoever may not
    read it)."""
    found, readable = serving.get_readable_file(current_user, _id(record_id), _id(file_id))
    return serving.serve_file(current_user, found, readable, request, download=True)


@bp.get("/collections")
def collections():
    return _json({"collections": api_records.collection_tree_json()})


@bp.get("/collections/<int:collection_id>")
def collection(collection_id: int):
    found = db.session.get(Collection, _id(collection_id))
    if found is None:
        raise NotFound()
    return _json(api_records.collection_json(
        found, [api_records.collection_json(c) for c in found.children]))


# --- changing -------------------------------------------------------------------------------

def _statements(data: Any) -> Metadata:
    try:
        return Metadata.from_dict(data)
    except ShapeError as error:
        raise BadBody(f"'metadata' has the wrong shape: {error}") from None


def _access(data: Any, default_level: str) -> AccessSettings:
    if isinstance(data, str):
        data = {"level": data}
    if not isinstance(data, dict):
        raise BadBody("'access' must be a level name or an object.")
    try:
        return parse_access(data, default_level)
    except LineError as error:
        raise InvalidInput("The access settings are not valid.", errors=[
            {"term": "access", "code": "access", "message": m} for m in error.messages]) \
            from None


def _body(required: tuple[str, ...] = ()) -> dict[str, Any]:
    data = json_object()
    unknown = set(data) - WRITABLE_KEYS - READ_ONLY_KEYS
    if unknown:
        raise BadBody(f"Unknown keys: {', '.join(sorted(k[:40] for k in unknown))}.")
    missing = [key for key in required if key not in data]
    if missing:
        raise BadBody(f"'{missing[0]}' is required.")
    return data


def _to_change(record_id: int) -> Record:
    """The record the caller means to change. :raise Unauthenticated: (401). :raise NotFound:
    they may not know it exists."""
    return get_record(_caller(), _id(record_id))


def _matched(record: Record) -> Record:
    """``record`` once If-Match holds its current ETag; checked after the body, so that a
    malformed request is 400 whatever its If-Match."""
    api_records.require_match(current_user, record, request.headers.get("If-Match"))
    return record


@bp.post("/records")
@json_limited
def create():
    user = _caller()
    data = _body(required=("collection", "metadata"))
    slug = data["collection"]
    collection = find_collection(slug) if isinstance(slug, str) and len(slug) <= 64 else None
    if not isinstance(slug, str):
        raise BadBody("'collection' must be a collection's slug.")
    if collection is None:
        raise InvalidInput("'collection' is not the slug of a collection.")
    statements = _statements(data["metadata"])
    access = _access(data["access"], collection.default_access) if "access" in data else None
    created = deposit.create_draft(user, collection, statements, access)
    return _record_response(created, 201)


def _save(record: Record, statements: Metadata, access: AccessSettings | None):
    """Save the working copy and the access settings under the record's lock."""
    user = current_user._get_current_object()
    lock = api_records.claim(record)
    changed = deposit.save_metadata(user, record, statements, lock)
    pending = None
    if access is not None and settings_summary(access) != access_summary(record):
        pending = change_access(user, record, access)
        changed = True
    if not changed:
        db.session.rollback()  # nothing to save: the claim is undone, the ETag stays
    extra = {"access_request": {"id": pending.id, "status": pending.status}} if pending else {}
    return _record_response(record, **extra)


def _check_collection(record: Record, data: dict[str, Any]) -> None:
    if "collection" in data and (record.collection is None
                                 or data["collection"] != record.collection.slug):
        raise InvalidInput("A record's collection is not changed through the API.")


@bp.put("/records/<int:record_id>")
@json_limited
def replace(record_id: int):
    found = _to_change(record_id)
    data = _body(required=("metadata",))
    _check_collection(found, data)
    statements = _statements(data["metadata"])
    access = _access(data["access"], found.access_level) if "access" in data else None
    return _save(_matched(found), statements, access)


@bp.patch("/records/<int:record_id>")
@json_limited
def amend(record_id: int):
    """JSON merge patch (RFC 7396) of ``metadata`` (a term's list replaces the term's values,
    null removes the term) and ``access`` (the keys given replace those keys)."""
    found = _to_change(record_id)
    data = _body()
    _check_collection(found, data)
    patch = data.get("metadata", {})
    if not isinstance(patch, dict):
        raise BadBody("'metadata' must be an object of DCMI terms.")
    merged = found.dc.to_dict()
    for term, values in patch.items():
        if values is None:
            merged.pop(term, None)
        else:
            merged[term] = values
    access = None
    if "access" in data:
        wanted = data["access"]
        if not isinstance(wanted, dict):
            raise BadBody("'access' must be an object of the keys to change.")
        current = api_records.access_json(found, full=True)
        access = _access({**current, **wanted}, found.access_level)
    return _save(_matched(found), _statements(merged), access)


@bp.post("/records/<int:record_id>/submit")
def submit(record_id: int):
    found = _matched(_to_change(record_id))
    lock = api_records.claim(found)
    workflow.submit(current_user._get_current_object(), found, lock)
    return _record_response(found)


@bp.post("/records/<int:record_id>/withdraw")
@json_limited
def withdraw(record_id: int):
    found = _to_change(record_id)
    data = json_object()
    reason = data.get("reason")
    if set(data) - {"reason"} or not isinstance(reason, str) or not reason.strip():
        raise BadBody("Send {\"reason\": \"...\"}: why the record is withdrawn.")
    api_records.claim(_matched(found))
    workflow.withdraw(current_user._get_current_object(), found, reason)
    return _record_response(found)


@bp.post("/records/<int:record_id>/files")
@upload_route
def upload(record_id: int):
    """Add the multipart ``file`` parts to the working copy. Uploads only add, so two sent
    with the same ETag both apply; the ETag changes with the file list."""
    found = _to_change(record_id)
    if request.mimetype != "multipart/form-data":
        raise BadBody("Send the files as multipart/form-data.", 415)
    parts = request.files.getlist("file")
    if not parts:
        raise BadBody("Send one or more parts named 'file'.")
    _matched(found)
    uploads = [Upload(f.stream, f.filename or "", f.mimetype or "") for f in parts]
    added = upload_files(current_user._get_current_object(), found, uploads)
    response = _record_response(found, 201, added=[f.id for f in added])
    response.headers["Location"] = api_records.external_url("api.files", record_id=found.id)
    return response


@bp.delete("/records/<int:record_id>/files/<int:file_id>")
def remove(record_id: int, file_id: int):
    found = _matched(_to_change(record_id))
    file = get_working_file(current_user._get_current_object(), found, _id(file_id))
    api_records.claim(found)
    remove_file(current_user._get_current_object(), found, file)
    return _record_response(found)


