"""Serving record files to readers: which files a reader sees (the record page, listings),
and their bytes over HTTP (downloads, in-page previews, thumbnails). The only module of the
file layer that sees a ``flask.Request``.

**Access is checked BEFORE :func:`send_blob`.** :func:`get_readable_file` answers 404 to
whoever may not read the file; :func:`serve_file` and :func:`serve_thumbnail` are called only
with its result. :func:`send_blob` itself knows nothing about users, records or access
levels: whatever key it is handed, it serves. So a ``Range``, ``If-None-Match`` or ``HEAD``
request on a restricted file learns nothing, not even an ETag or a size.

Why not ``flask.send_file``: it answers ``no-cache`` rather than ``no-store``, its ASCII
fallback for ``Полевой устав.pdf`` is ``" .pdf"``, and Werkzeug's range handling answers 416
to any multi-range request (and to a malformed header, which RFC 9110 says to ignore). The
rules here are short enough to own and test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO

from flask import Request, Response, current_app
from flask import request as current_request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from sqlalchemy import select
from werkzeug.http import http_date, parse_date, parse_etags
from werkzeug.wsgi import wrap_file

from lms import audit
from lms.accounts.models import User
from lms.catalog.access import Principal
from lms.catalog.models import AccessLevel, Record, RecordVersion
from lms.errors import NotFound, ServiceError
from lms.extensions import db
from lms.files import records as record_files
from lms.files.access import effective_level
from lms.files.access import is_public as is_public_file
from lms.files.fixity import FixityResult, FixityStatus
from lms.files.maintenance import record_fixity
from lms.files.models import BAD_FIXITY, Blob, DownloadEvent, RecordFile
from lms.files.names import content_disposition
from lms.files.storage import CHUNK_SIZE, BlobNotFound, LocalStorage, Storage, validate_key
from lms.files.stores import get_storage
from lms.permissions import can
from lms.stats.services import is_robot, visitor_key
from lms.uow import unit_of_work

OCTET_STREAM = "application/octet-stream"
PDF = "application/pdf"

# Served inline only when the sniffed type is one of these and agrees with the file name.
# Never HTML, SVG, XML, JavaScript or anything unknown.
INLINE_TYPES = frozenset(
    {
        PDF,
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "video/mp4",
        "video/webm",
        "audio/mpeg",
        "audio/ogg",
    }
)

# Everything but inline PDFs: nothing may load, run, or frame the response.
FILE_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
# Inline PDFs. `sandbox` makes Chrome refuse to show a PDF and Safari's viewer breaks under
# `default-src 'none'` (whatwg/html#3958), so neither is sent. What remains still forbids
# scripts, plugins and forms in a document of our origin should a browser ever render the
# bytes as one, and lets only our own pages frame the PDF (a preview page may iframe it).
# The viewers themselves (Chrome's extension, Firefox's pdf.js) run outside our origin.
PDF_CSP = (
    "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'"
)
PRIVATE_CACHE = "private, no-store"
# Public files may be kept, but are revalidated on every use (a cheap 304 by ETag), so a file
# later made restricted is not served from a cache.
PUBLIC_CACHE = "public, no-cache"

_ETAG_BASE = re.compile(r"[0-9A-Za-z._-]{1,128}")
_RANGE_SPEC = re.compile(r"([0-9]{0,19})[ \t]*-[ \t]*([0-9]{0,19})")


class BlobResponse(Response):
    """A Flask response that also says whether it starts a new download.

    ``is_download_start`` is true for a full ``200`` to ``GET`` and for a ``206`` starting at
    byte 0; false for ``HEAD``, ``304``, ``412``, ``416`` and Range continuations. Count a
    download (and audit it) only when it is true, so video seeking is counted once.
    """

    is_download_start: bool = False


class _Unsatisfiable:
    pass


UNSATISFIABLE = _Unsatisfiable()


def choose_range(header: str | None, size: int) -> tuple[int, int] | _Unsatisfiable | None:
    """Pick the byte range to send for a ``Range`` header, as ``(start, stop)`` (stop exclusive).

    Returns ``None`` when the header is to be ignored (absent, another unit, malformed: the
    full file is sent, as RFC 9110 allows), :data:`UNSATISFIABLE` when no range overlaps the
    file (416). With several ranges, only the **first satisfiable** one is answered, as a
    single part: never ``multipart/byteranges``, and the work stops at that range, so
    ``bytes=0-0,1-1,...`` a thousand times costs one parse of a short prefix.
    """
    if not header or size <= 0:
        return None
    unit, sep, specs = header.partition("=")
    if not sep or unit.strip(" \t").lower() != "bytes":
        return None
    seen_any = False
    for raw in specs.split(","):
        spec = raw.strip(" \t")
        if not spec:
            continue  # empty list elements are allowed
        match = _RANGE_SPEC.fullmatch(spec)
        if match is None:
            return None
        first, last = match.groups()
        if first:
            start = int(first)
            if last and int(last) < start:
                return None
            seen_any = True
            if start >= size:
                continue
            stop = min(int(last) + 1, size) if last else size
            return start, stop
        if not last:
            return None  # "-" alone
        suffix = int(last)
        seen_any = True
        if suffix == 0:
            continue
        return max(size - suffix, 0), size
    return UNSATISFIABLE if seen_any else None


def is_download_start(request: Request) -> bool:
    """Whether ``request`` starts a download: a ``GET`` with no ``Range``, or whose first range
    starts at byte 0. A ``Range`` continuation (video seeking, resumed download) is not.

    Prefer :attr:`BlobResponse.is_download_start`, which also knows about 304 and If-Range.
    """
    if request.method != "GET":
        return False
    header = request.headers.get("Range")
    if not header:
        return True
    chosen = choose_range(header, 2**63)
    return chosen is None or (isinstance(chosen, tuple) and chosen[0] == 0)


def _http_seconds(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("last_modified must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0)


def _precondition_status(
    request: Request, etag: str, last_modified: datetime | None
) -> int | None:
    """RFC 9110 §13.2.2 in order: 412 or 304, or ``None`` to go on."""
    headers = request.headers
    if "If-Match" in headers:
        if not parse_etags(headers["If-Match"]).contains(etag):
            return 412
    elif "If-Unmodified-Since" in headers and last_modified is not None:
        date = parse_date(headers["If-Unmodified-Since"])
        if date is not None and last_modified > date:
            return 412
    if "If-None-Match" in headers:
        if parse_etags(headers["If-None-Match"]).contains_weak(etag):
            return 304 if request.method in ("GET", "HEAD") else 412
    elif (
        "If-Modified-Since" in headers
        and request.method in ("GET", "HEAD")
        and last_modified is not None
    ):
        date = parse_date(headers["If-Modified-Since"])
        if date is not None and last_modified <= date:
            return 304
    return None


def _if_range_allows(request: Request, etag: str, last_modified: datetime | None) -> bool:
    value = request.headers.get("If-Range")
    if value is None:
        return True
    value = value.strip()
    if value.startswith('"'):
        return value == f'"{etag}"'  # strong comparison only
    if value.startswith("W/"):
        return False
    date = parse_date(value)
    return date is not None and last_modified is not None and date == last_modified


class _RangeBody:
    """Yields ``length`` bytes of ``fh`` from ``start`` in bounded chunks; closes ``fh``."""

    def __init__(self, fh: BinaryIO, start: int, length: int) -> None:
        self.fh, self.start, self.length = fh, start, length

    def __iter__(self) -> Iterator[bytes]:
        self.fh.seek(self.start)
        remaining = self.length
        while remaining > 0:
            chunk = self.fh.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        self.fh.close()


def send_blob(
    storage: Storage,
    key: str,
    *,
    media_type: str,
    sniff_mismatch: bool,
    display_name: str,
    is_public: bool = False,
    last_modified: datetime | None = None,
    etag_base: str | None = None,
    request: Request | None = None,
    force_attachment: bool = False,
    x_accel_prefix: str | None = None,
) -> BlobResponse:
    """Serve the blob ``key`` — **only after the caller has checked access**.

    ``media_type`` is the *sniffed* type and ``sniff_mismatch`` says whether the content
    disagreed with the name (:class:`lms.files.sniff.Sniffed`). The response is inline only
    for :data:`INLINE_TYPES` without a mismatch; anything else is an
    ``application/octet-stream`` attachment. ``force_attachment`` (explicit download links)
    makes every response an attachment, keeping the true type of the allow-listed ones. Every
    response (200, 206, 304, 412, 416) carries ``nosniff``, a CSP,
    ``Cross-Origin-Resource-Policy: same-origin`` and ``private, no-store`` unless
    ``is_public``. ``ETag`` is the strong ``"<etag_base>"`` (default: the key, i.e. the
    SHA-256); ``Last-Modified`` is sent when given (timezone-aware).

    With ``x_accel_prefix`` (``LMS_X_ACCEL_REDIRECT``) and local storage, a ``GET`` that
    passed the preconditions is answered with these headers and ``X-Accel-Redirect:
    <prefix>ab/cd/<key>`` instead of a body: nginx then sends the file (and answers ``Range``)
    from its internal location.

    :raise lms.files.storage.BlobNotFound: the blob is missing (a fixity failure, not a 404).
    :raise ValueError: an invalid key, ``etag_base`` or naive ``last_modified``.
    """
    request = request if request is not None else current_request
    validate_key(key)
    etag = etag_base or key
    if not _ETAG_BASE.fullmatch(etag):
        raise ValueError("invalid etag_base")
    modified = _http_seconds(last_modified) if last_modified is not None else None
    size = storage.size(key)

    # The true type only for allow-listed types whose content agreed with their name; an
    # explicit download of one keeps it (a reference manager, a PDF reader's "open with")
    # but comes as an attachment under the same CSP.
    trusted_type = media_type in INLINE_TYPES and not sniff_mismatch
    inline = not force_attachment and trusted_type
    is_pdf = inline and media_type == PDF
    response = BlobResponse()
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Content-Security-Policy"] = PDF_CSP if is_pdf else FILE_CSP
    headers["X-Frame-Options"] = "SAMEORIGIN" if is_pdf else "DENY"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cache-Control"] = PUBLIC_CACHE if is_public else PRIVATE_CACHE
    headers["ETag"] = f'"{etag}"'
    if modified is not None:
        headers["Last-Modified"] = http_date(modified)
    headers["Accept-Ranges"] = "bytes"

    status = _precondition_status(request, etag, modified)
    if status is not None:
        response.status_code = status
        del headers["Content-Type"]
        return response

    headers["Content-Type"] = media_type if trusted_type else OCTET_STREAM
    headers["Content-Disposition"] = content_disposition(
        "inline" if inline else "attachment", display_name
    )

    if x_accel_prefix and isinstance(storage, LocalStorage) and request.method == "GET":
        response.status_code = 200
        headers["X-Accel-Redirect"] = f"{x_accel_prefix}{key[:2]}/{key[2:4]}/{key}"
        response.is_download_start = is_download_start(request)
        return response

    chosen = None
    if request.method == "GET" and _if_range_allows(request, etag, modified):
        chosen = choose_range(request.headers.get("Range"), size)
    if chosen is UNSATISFIABLE:
        response.status_code = 416
        headers["Content-Range"] = f"bytes */{size}"
        headers["Content-Type"] = "text/plain; charset=utf-8"
        del headers["Content-Disposition"]
        response.set_data(b"")
        return response

    if isinstance(chosen, tuple):
        start, stop = chosen
        response.status_code = 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    else:
        start, stop = 0, size
        response.status_code = 200
    headers["Content-Length"] = str(stop - start)
    response.is_download_start = request.method == "GET" and start == 0
    if request.method == "HEAD":
        return response  # no body: do not even open the blob

    fh = storage.open(key)
    if response.status_code == 200:
        # The server's wsgi.file_wrapper (sendfile) when it has one.
        response.response = wrap_file(request.environ, fh, CHUNK_SIZE)
    else:
        response.response = _RangeBody(fh, start, stop - start)
    response.direct_passthrough = True
    return response


# --- record files to readers ---------------------------------------------------------------

# Crawlers and link checkers do not count as downloads (a simple User-Agent test).


class FileUnavailable(ServiceError):
    """The stored file failed its fixity check: it is never served until repaired."""

    status = 503

    def default_message(self) -> str:
        return _("This file failed its integrity check and cannot be delivered until an "
                 "administrator restores it.")


def get_readable_file(user: Principal, record_id: int, file_id: int) -> tuple[Record, RecordFile]:
    """The record and file if ``user`` may read the file (any channel).

    :raise NotFound: it does not exist, or ``user`` may not know it does (logged).
    """
    record = db.session.get(Record, record_id)
    file = db.session.get(RecordFile, file_id)
    if record is None or file is None or file.record_id != record.id \
            or not can(user, "file.download", file):
        if record is not None and file is not None and file.record_id == record.id:
            audit.record("file_access_denied", outcome="denied", obj=file,
                         actor=user if isinstance(user, User) else None,
                         details={"record": record.id}, standalone=True)
        raise NotFound()
    return record, file


def _refuse_if_damaged(key: str) -> None:
    blob = db.session.get(Blob, key)
    if blob is not None and blob.fixity_status in BAD_FIXITY:
        raise FileUnavailable()


def _send(storage: Storage, key: str, request: Request, *, shareable: bool,
          **kwargs) -> BlobResponse:
    """Serve blob ``key`` (access already checked): a presigned redirect when configured and
    ``shareable`` (anyone may read it), else the bytes (or nginx's X-Accel-Redirect)."""
    config = current_app.config
    try:
        if shareable and storage.can_presign and config["S3_SERVE"] == "redirect":
            return _redirect_to_store(storage, key, request, **kwargs)
        return send_blob(storage, key, request=request,
                         x_accel_prefix=config["X_ACCEL_REDIRECT"], **kwargs)
    except BlobNotFound:
        # Referenced but gone: a fixity failure, recorded and alerted like one.
        record_fixity(FixityResult(key, FixityStatus.MISSING, None))
        raise FileUnavailable() from None


def _redirect_to_store(storage: Storage, key: str, request: Request, *, media_type: str,
                       sniff_mismatch: bool, display_name: str, force_attachment: bool = False,
                       **_ignored) -> BlobResponse:
    """302 to a short-lived presigned URL that answers with the headers :func:`send_blob`
    would choose (type, disposition; the store adds no CSP, so only files anyone may read
    come here, and untrusted types are attachments of type octet-stream).

    :raise BlobNotFound: the object is missing (never redirect to a 404).
    """
    if not storage.exists(key):
        raise BlobNotFound(key)
    # The same choice as send_blob: the true type only for trusted allow-listed types.
    trusted_type = media_type in INLINE_TYPES and not sniff_mismatch
    inline = not force_attachment and trusted_type
    url = storage.presigned_url(
        key, expires=int(current_app.config["S3_PRESIGN_SECONDS"]),
        content_type=media_type if trusted_type else OCTET_STREAM,
        content_disposition=content_disposition("inline" if inline else "attachment",
                                                display_name),
        cache_control=PUBLIC_CACHE)
    response = BlobResponse(status=302)
    response.headers["Location"] = url
    # The URL expires: neither the browser nor a proxy may keep this answer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.is_download_start = is_download_start(request)
    return response


def serve_file(user: Principal, record: Record, file: RecordFile, request: Request, *,
               download: bool) -> BlobResponse:
    """Serve ``file`` (access already checked by :func:`get_readable_file`).

    ``download`` forces an attachment; otherwise the inline allowlist decides (the in-page
    viewers). A full download, or a Range request from byte 0, is counted once and, above
    the public level, audit-logged; Range continuations and conditional hits are not.

    :raise FileUnavailable: the blob failed fixity or is missing (503).
    """
    _refuse_if_damaged(file.blob_key)
    response = _send(get_storage(), file.blob_key, request, media_type=file.media_type,
                     sniff_mismatch=file.sniff_mismatch, display_name=file.name,
                     is_public=is_public_file(record, file), last_modified=file.created_at,
                     force_attachment=download, shareable=_anyone_may_read(record, file))
    if response.is_download_start and response.status_code in (200, 206, 302):
        _count(user, record, file, "download" if download else "view", request)
    return response


def serve_thumbnail(user: Principal, record: Record, file: RecordFile,
                    request: Request) -> BlobResponse:
    """:raise NotFound: the file has no thumbnail (yet)."""
    key = file.thumbnail_key
    if key is None:
        raise NotFound()
    _refuse_if_damaged(key)
    stem = file.name.rsplit(".", 1)[0] if "." in file.name else file.name
    return _send(get_storage(), key, request, media_type="image/png", sniff_mismatch=False,
                 display_name=f"{stem}-thumbnail.png", is_public=is_public_file(record, file),
                 shareable=_anyone_may_read(record, file))


def _anyone_may_read(record: Record, file: RecordFile) -> bool:
    """Whether an anonymous reader may read ``file``: only then may its bytes leave through
    a URL that works for whoever holds it (a presigned redirect can be forwarded, logged by a
    proxy or kept in a browser history until it expires)."""
    return can(AnonymousUserMixin(), "file.download", file)


def _count(user: Principal, record: Record, file: RecordFile, kind: str,
           request: Request) -> None:
    """One download or in-page view, unless a robot's (see ``lms.stats`` for the counting)."""
    agent = request.headers.get("User-Agent", "")
    if is_robot(agent):
        return
    account = user if isinstance(user, User) and user.is_authenticated else None
    level = effective_level(record, file)
    with unit_of_work():
        db.session.add(DownloadEvent(file_id=file.id, record_id=record.id,
                                     user_id=account.id if account else None,
                                     unit_id=account.unit_id if account else None, kind=kind,
                                     visitor=visitor_key(user, request.remote_addr, agent)))
        if level != AccessLevel.PUBLIC:
            audit.record("file_download" if kind == "download" else "file_view", actor=account,
                         obj=file, details={"record": record.id, "level": level,
                                            "name": file.name})


# --- what the record page and listings show ------------------------------------------------

VIEWERS = {"application/pdf": "pdf", "image/png": "image", "image/jpeg": "image",
           "image/gif": "image", "image/webp": "image", "video/mp4": "video",
           "video/webm": "video", "audio/mpeg": "audio", "audio/ogg": "audio"}


@dataclass
class FileView:
    file: RecordFile
    viewer: str | None          # pdf, image, video, audio: shown in the page
    thumbnail: bool
    damaged: bool


@dataclass
class FileList:
    shown: list[FileView] = field(default_factory=list)
    hidden: int = 0             # files this user may not read (names are not shown)


def files_for_display(user: Principal, record: Record,
                      version: RecordVersion | None) -> FileList:
    """The files of the displayed version (``None``: the working copy) ``user`` may read."""
    files = record_files.working_files(record) if version is None \
        else record_files.version_files(version)
    result = FileList()
    damaged = set(db.session.scalars(select(Blob.key).where(
        Blob.key.in_({f.blob_key for f in files}), Blob.fixity_status.in_(BAD_FIXITY)))) \
        if files else set()
    for file in files:
        if not can(user, "file.download", file):
            result.hidden += 1
            continue
        inline = file.media_type in INLINE_TYPES and not file.sniff_mismatch
        result.shown.append(FileView(
            file, VIEWERS.get(file.media_type) if inline else None,
            thumbnail=file.thumbnail_key is not None, damaged=file.blob_key in damaged))
    return result
