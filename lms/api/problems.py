"""Reading a JSON body that may be hostile: too big (413), not JSON, too deeply nested or not
an object (400). Errors go out as RFC 9457 problem details (:func:`lms.errors.problem`)."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request


class BadBody(ValueError):
    """The request body is not a JSON object we may read; ``status`` 400 or 413."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of ``value``, stopping once past ``limit``."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return deepest


def json_object() -> dict[str, Any]:
    """The request's JSON object.

    :raise BadBody: not ``application/json``, over ``API_MAX_JSON_BYTES`` (413), not UTF-8
        JSON, nested deeper than ``API_MAX_JSON_DEPTH``, or not an object.
    """
    config = current_app.config
    if request.mimetype not in ("application/json", "application/merge-patch+json"):
        raise BadBody("The body must be JSON (Content-Type: application/json).", 415)
    limit = int(config["API_MAX_JSON_BYTES"])
    if (request.content_length or 0) > limit:
        raise BadBody(f"The body is larger than {limit} bytes.", 413)
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise BadBody(f"The body is larger than {limit} bytes.", 413)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadBody("The body is not valid UTF-8 JSON.") from None
    if _depth(data, int(config["API_MAX_JSON_DEPTH"])) > int(config["API_MAX_JSON_DEPTH"]):
        raise BadBody("The JSON is nested too deeply.")
    if not isinstance(data, dict):
        raise BadBody("The body must be a JSON object.")
    return data
