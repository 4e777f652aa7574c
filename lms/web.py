"""Request-level plumbing shared by every blueprint: request ids, headers, safe redirects."""

from __future__ import annotations

import contextlib
import re
import secrets
from pathlib import Path
from tempfile import SpooledTemporaryFile
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

from flask import (
    Blueprint,
    Flask,
    Request,
    Response,
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    request,
)
from werkzeug.routing import IntegerConverter, ValidationError

from lms.errors import FORM_ERRORS, NotFound, ServiceError
from lms.serving import URI_CUT

#: The largest id or page number a request may name: PostgreSQL's INTEGER, the type of every
#: id in a URL or a form. A larger number cannot name a row, and the database drivers cannot
#: bind one beyond 64 bits (a 500 before this bound).
MAX_REQUEST_INT = 2**31 - 1


def request_int(value: str) -> int:
    """``int(value)`` as the ``type=`` of a request's values: a number beyond
    :data:`MAX_REQUEST_INT` is a ValueError, so ``.get`` falls back to its default and
    ``.getlist`` drops it, as for any other value that is not a number."""
    number = int(value)
    if abs(number) > MAX_REQUEST_INT:
        raise ValueError(value)
    return number


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` in a route, at most :data:`MAX_REQUEST_INT`: a larger number matches no
    route (404)."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_REQUEST_INT)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        # Python refuses to read an integer of more than 4,300 digits (a ValueError, not a
        # mismatch); no such number is under the bound anyway.
        if len(value) > len(str(MAX_REQUEST_INT)):
            raise ValidationError()
        return super().to_python(value)


# Same-site relative paths only: "/x", never "//evil", "/\\evil" or anything with whitespace.
_SAFE_NEXT = re.compile(r"^/(?![/\\])[^\\\s]*$")

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

T = TypeVar("T")

PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


if TYPE_CHECKING:
    from collections.abc import Callable

    from flask_babel import LazyString
    from flask_wtf import FlaskForm


def safe_next(target: str | None, default: str = "/") -> str:
    """Return ``target`` if it is a same-site relative path, else ``default``."""
    if not target:
        return default
    decoded = target
    # Decode repeatedly so "%252F%252Fevil" cannot hide a second slash.
    for _ in range(3):
        decoded = unquote(decoded)
    if _SAFE_NEXT.match(target) and _SAFE_NEXT.match(decoded):
        return target
    return default


def public_base_url() -> str | None:
    """``PUBLIC_BASE_URL`` without its trailing slash, or ``None`` when it is not set."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    return str(base).rstrip("/") if base else None


def absolute_url(path: str) -> str:
    """``path`` (from the site's root, starting with ``/``) as an absolute URL.

    Every absolute URL the site writes (OAI-PMH, JSON-LD, canonical links, exports, feeds,
    e-mails) comes from here: under ``PUBLIC_BASE_URL`` when it is set, so the ``Host`` header
    never changes it; otherwise (development) the address of the request, which
    ``TRUSTED_HOSTS`` vets.

    :raise RuntimeError: no base URL is set and there is no request to take one from.
    """
    base = public_base_url()
    if base is not None:
        return base + path
    if not has_request_context():
        raise RuntimeError("an absolute URL outside a request needs PUBLIC_BASE_URL")
    return request.url_root.rstrip("/") + path


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` (values not in the route become the query string)."""
    path = current_app.url_map.bind("", script_name="/").build(endpoint, values)
    return absolute_url(path)


# Uploaded files up to this size stay in memory while the form is parsed; larger ones spool
# to a temporary file under DATA_DIR/tmp (never the system temp folder).
UPLOAD_SPOOL_BYTES = 500 * 1024


class AppRequest(Request):
    """The request class: per-route body limits and upload spooling inside ``DATA_DIR``.

    A view function carrying an ``upload_limit`` attribute (a callable returning bytes, see
    ``lms.files.views.upload_route``) gets that body limit instead of ``MAX_CONTENT_LENGTH``.
    It is decided from the matched route, so it applies before anything (CSRF included)
    reads the body: a larger ``Content-Length`` is refused with 413 unread.
    """

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:
            return self._max_content_length
        if self.url_rule is not None:
            view = current_app.view_functions.get(self.url_rule.endpoint)
            limit = getattr(view, "upload_limit", None)
            if limit is not None:
                return int(limit())
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        folder = Path(current_app.config["DATA_DIR"]) / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        stream = SpooledTemporaryFile(max_size=UPLOAD_SPOOL_BYTES, mode="rb+",  # noqa: SIM115
                                      dir=folder)
        self._upload_streams.append(stream)
        return stream

    @property
    def _upload_streams(self) -> list[IO[bytes]]:
        streams = self.__dict__.get("_lms_upload_streams")
        if streams is None:
            streams = self.__dict__["_lms_upload_streams"] = []
        return streams

    def close(self) -> None:
        """Close every upload spool, also those of a body cut off half-way (which never
        reached ``request.files``)."""
        try:
            super().close()
        finally:
            for stream in self._upload_streams:
                # A full disk fails the flush; the file is closed all the same, and so must
                # be the next one.
                with contextlib.suppress(OSError):
                    stream.close()


def init_request_hooks(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        g.request_id = secrets.token_hex(8)

    @app.before_request
    def refuse_nul_and_broken_text() -> None:
        # NUL is never meaningful in a URL or form, and PostgreSQL refuses it in text: stop it
        # at the edge. U+FFFD is what undecodable (non-UTF-8) form bytes become. Metadata
        # fields ("dc.*") are exempt: the metadata validator reports them per field.
        values = [request.path, *(v for _k, v in request.args.items(multi=True))]
        if request.method == "POST" and request.mimetype in FORM_TYPES:
            values.extend(v for k, v in request.form.items(multi=True)
                          if not k.startswith("dc."))
        if any("\x00" in v or "\ufffd" in v for v in values):
            abort(400)

    @app.before_request
    def refuse_over_long_addresses() -> None:
        # The search page cuts an over-long query itself (with a notice); the API and other
        # pages answer 414 in their own format (JSON for the API, see lms.errors).
        cut = bool(request.environ.get(URI_CUT))
        if request.path.startswith("/api/"):
            if cut or len(request.query_string) > current_app.config["MAX_URL_BYTES"]:
                abort(414)
        elif cut and request.endpoint != "discovery.search_page":
            abort(414)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Content-Security-Policy", PAGE_CSP)
        if getattr(g, "request_id", None):
            headers["X-Request-Id"] = g.request_id
        if getattr(g, "no_store", False):
            headers["Cache-Control"] = "no-store"
        return response


def page_of(stmt, per_page: int):
    """The page of ``stmt`` that the ``page`` query argument asks for (an out-of-range page is
    empty, never a 404): one list page of the trainers', admins' and depositors' lists."""
    from lms.extensions import db

    return db.paginate(stmt, page=request.args.get("page", 1, type=request_int), per_page=per_page,
                       error_out=False)


def posted_row(model: type[T], field: str, **owner: int) -> T | None:
    """The ``model`` row whose id the form posts in ``field`` (None when none is posted or it
    does not exist); a row of another owner than ``owner`` (e.g. ``track_id=track.id``) is a
    404, so a forged id never reaches a service."""
    from lms.extensions import db

    row = db.session.get(model, request.form.get(field, 0, type=request_int))
    if row is not None and any(getattr(row, key) != value for key, value in owner.items()):
        raise NotFound()
    return row


def no_store() -> None:
    """Ask that the current response is never cached (auth and admin pages)."""
    g.no_store = True


def guard_blueprint(bp: Blueprint, rule: str, message: LazyString | str | None = None) -> None:
    """Every page of ``bp`` needs a login and the policy's ``rule`` (403 otherwise, with
    ``message``); none of them is cached."""
    from flask_login import current_user, login_required

    from lms.errors import PermissionDenied
    from lms.permissions import can

    @bp.before_request
    @login_required
    def _guard() -> None:
        no_store()
        if not can(current_user, rule):
            raise PermissionDenied(str(message) if message else None)


# Lower-case like contextlib.suppress: it reads as a function at its call sites.
class flash_outcome:
    """Run a form's action, flashing its outcome: the domain error a user can fix (shown,
    then swallowed, so the view goes on to answer), or ``success`` when it went through.

    ::

        with flash_outcome(_("Track saved.")) as outcome:
            courses.update_track(...)
        if outcome.failed:
            status = outcome.error.status
        else:
            return redirect(...)

    A message that tells what the action did is set at the end of the block instead
    (``outcome.success = _("%(n)d people added.", n=added)``). ``errors`` widens what is
    shown instead of raised (e.g. ``(*FORM_ERRORS, NotFound)``).
    """

    def __init__(self, success: str | None = None,
                 errors: tuple[type[ServiceError], ...] = FORM_ERRORS) -> None:
        self.success = success
        self.errors = errors
        self.error: ServiceError | None = None

    def __enter__(self) -> flash_outcome:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> bool:
        if error is None:
            if self.success is not None:
                flash(self.success, "success")
            return False
        if isinstance(error, self.errors):
            flash(error.message, "error")
            self.error = error
            return True
        return False

    @property
    def failed(self) -> bool:
        return self.error is not None


def save_edit(form: FlaskForm, row: object, success: str,
              save: Callable[[], object]) -> int | None:
    """Run ``save`` once ``form`` is posted and valid, flashing its outcome (see
    :class:`flash_outcome`): the edit page's common path.

    :return: None when the save went through (the view redirects); else the status of the
        form page shown again: 200 before any post, 400 for a form that does not validate, or
        the domain error's, ``row`` then read again so that the page shows what is stored
        beside what was typed.
    """
    if not form.validate_on_submit():
        return 400 if request.method == "POST" else 200
    with flash_outcome(success) as outcome:
        save()
    if outcome.error is None:
        return None
    from lms.extensions import db

    db.session.refresh(row)
    return outcome.error.status
