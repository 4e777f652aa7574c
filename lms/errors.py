"""Domain errors raised by services, and their mapping to HTTP in one place."""

from __future__ import annotations

import errno
import json
import logging
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, SecurityError

log = logging.getLogger(__name__)

#: What a full, read-only or failing disk raises: the request is a 503, not a 500.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


class ServiceError(Exception):
    """A rule refused the operation; the message is safe to show to the user."""

    status = 400

    def __init__(self, message: str | None = None, **details: object) -> None:
        super().__init__(message or self.default_message())
        self.details = details

    def default_message(self) -> str:
        return str(_l("The request could not be carried out."))

    @property
    def message(self) -> str:
        return str(self.args[0])


class ValidationError(ServiceError):
    status = 422


class NotFound(ServiceError):
    status = 404

    def default_message(self) -> str:
        return str(_l("The page or object you asked for does not exist."))


class PermissionDenied(ServiceError):
    status = 403

    def default_message(self) -> str:
        return str(_l("You do not have permission to do this."))


class Conflict(ServiceError):
    status = 409


class TooManyAttempts(ServiceError):
    status = 429

    def default_message(self) -> str:
        return str(_l("Too many attempts. Please wait a few minutes and try again."))


# Errors a user can fix by changing what they typed: forms show them beside the form.
FORM_ERRORS = (ValidationError, Conflict)

ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Access denied"),
    404: _l("Not found"),
    409: _l("Conflict"),
    410: _l("No longer available"),
    413: _l("Too large"),
    414: _l("Address too long"),
    422: _l("Invalid data"),
    429: _l("Too many requests"),
    500: _l("Internal error"),
    503: _l("Service unavailable"),
}

PROBLEM_TYPE = "application/problem+json"
# RFC 9457 problem details (the API's errors). 4.2.1: "about:blank" means the status code
# says it all; ours add a ``detail``.
EXTRA_TITLES = {401: "Unauthorized", 412: "Precondition Failed",
                428: "Precondition Required", 415: "Unsupported Media Type",
                405: "Method Not Allowed"}

GENERIC_MESSAGES = {
    400: _l("The request was not understood. Please go back and try again."),
    403: _l("You do not have permission to do this."),
    404: _l("The page or object you asked for does not exist."),
    410: _l("This item has been withdrawn."),
    413: _l("The upload or form is larger than the allowed limit."),
    414: _l("The address is too long. Shorten the search or remove some filters, then try "
            "again."),
    429: _l("Too many attempts. Please wait a few minutes and try again."),
    500: _l("Something went wrong on our side. The error has been recorded."),
    503: _l("The service is temporarily unavailable."),
}


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/health")) or (
        request.accept_mimetypes.best_match(["application/json", "text/html"])
        == "application/json"
    )


def error_response(status: int, message: str | None = None):
    message = message or str(GENERIC_MESSAGES.get(status, GENERIC_MESSAGES[400]))
    request_id = getattr(g, "request_id", None)
    if request.path.startswith("/api/"):
        return problem(status, message)  # RFC 9457 for every API error
    if wants_json():
        body = {"status": status, "message": message, "request_id": request_id}
        return jsonify(error=body), status
    title = ERROR_TITLES.get(status, ERROR_TITLES[400])
    return (
        render_template(
            "error.html", status=status, title=title, message=message, request_id=request_id
        ),
        status,
    )


def problem(status: int, detail: str, **extensions: Any) -> Response:
    title = ERROR_TITLES.get(status) or EXTRA_TITLES.get(status) or "Error"
    body = {"type": "about:blank", "title": str(title), "status": status, "detail": detail,
            "instance": request.path, "request_id": getattr(g, "request_id", None),
            **extensions}
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE)
    response.headers["Cache-Control"] = "no-store"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def handle_service_error(error: ServiceError):
        from lms.extensions import db

        db.session.rollback()
        return error_response(error.status, error.message)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        from lms import audit
        from lms.extensions import db

        db.session.rollback()
        audit.record(
            "csrf_failure", outcome="denied", details={"path": request.path}, standalone=True
        )
        return error_response(
            400,
            str(_l("Your form has expired or was not sent from this site. "
                   "Please reload the page and try again.")),
        )

    @app.errorhandler(SecurityError)
    def handle_untrusted_host(error: SecurityError):
        # The Host is not in TRUSTED_HOSTS: no URL can be built for it, so no page either.
        log.warning("refused request for an untrusted host (request %s)",
                    getattr(g, "request_id", "-"))
        return Response("400 Bad Request: unknown host name.\n", 400,
                        mimetype="text/plain")

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        if status == 405 or status not in ERROR_TITLES:
            response = make_response(error_response(status if status < 500 else 500,
                                                    str(GENERIC_MESSAGES[400])))
            # RFC 9110: a 405 names the methods the resource allows.
            for name, value in error.get_headers():
                if name == "Allow":
                    response.headers["Allow"] = value
            return response
        return error_response(status)

    @app.errorhandler(DBAPIError)
    def handle_database_error(error: DBAPIError):
        """The database went away (restarted, a connection killed, a failover) or is busy: a
        503 the user may retry, nothing half-done. The dead connection is dropped from the
        pool, so the next request gets a fresh one."""
        if not (isinstance(error, OperationalError | InterfaceError)
                or error.connection_invalidated):
            return handle_unexpected(error)
        from lms.extensions import db

        log.warning("database unavailable (request %s): %s", getattr(g, "request_id", "-"),
                    str(error.orig).strip().splitlines()[0] if error.orig else error)
        try:
            db.session.rollback()
        except DBAPIError:
            db.session.invalidate()
        message = str(_l("The database cannot be reached at the moment, so nothing was "
                         "saved. Please try again in a minute."))
        try:
            response = make_response(error_response(503, message))
        except Exception:  # the page itself needs the database (the logged-in user)
            db.session.invalidate()
            response = make_response(message, 503, {"Content-Type": "text/plain; charset=utf-8"})
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(OSError)
    def handle_disk_error(error: OSError):
        """The disk filled (or failed) while a request was received or answered, e.g. while
        an upload's body was spooled: a 503, nothing half-done (the spool is removed when
        the request closes)."""
        if error.errno not in DISK_ERRNOS:
            return handle_unexpected(error)
        from lms.extensions import db

        db.session.rollback()
        log.error("disk error (request %s): %s", getattr(g, "request_id", "-"), error)
        return error_response(503, str(_l(
            "The server's storage is full or failing, so nothing was saved. Try again later, "
            "or tell the administrator.")))

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        from lms.extensions import db

        db.session.rollback()
        log.exception("unhandled error (request %s)", getattr(g, "request_id", "-"))
        return error_response(500)
