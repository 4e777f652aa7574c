"""Request-level plumbing shared by every blueprint: request ids, headers, safe redirects."""

from __future__ import annotations

import re
import secrets
from urllib.parse import unquote

from flask import Flask, Response, abort, g, request

# Same-site relative paths only: "/x", never "//evil", "/\\evil" or anything with whitespace.
_SAFE_NEXT = re.compile(r"^/(?![/\\])[^\\\s]*$")

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


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


def no_store() -> None:
    """Ask that the current response is never cached (auth and admin pages)."""
    g.no_store = True
