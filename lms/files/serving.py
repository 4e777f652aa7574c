"""Serving stored blobs over HTTP: disposition, security headers, conditional and Range requests.

**The caller checks access BEFORE calling :func:`send_blob`.** This module knows nothing
about users, records or access levels: whatever key it is handed, it serves. Run the
permission check first (and answer 404/403 from it), so that a ``Range``, ``If-None-Match``
or ``HEAD`` request on a restricted file learns nothing, not even an ETag or a size.

Why not ``flask.send_file``: it answers ``no-cache`` rather than ``no-store``, its ASCII
fallback for ``Полевой устав.pdf`` is ``" .pdf"``, and Werkzeug's range handling answers 416
to any multi-range request (and to a malformed header, which RFC 9110 says to ignore). The
rules here are short enough to own and test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import BinaryIO

from flask import Request, Response
from flask import request as current_request
from werkzeug.http import http_date, parse_date, parse_etags
from werkzeug.wsgi import wrap_file

from lms.files.names import content_disposition
from lms.files.storage import CHUNK_SIZE, Storage, validate_key

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
