"""The audit log: security-relevant events in an append-only table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, insert, select

from lms.accounts.models import User
from lms.db import utcnow
from lms.extensions import db
from lms.models import AuditEvent

MAX_DETAIL_CHARS = 2000


def _context(actor: User | None) -> dict[str, Any]:
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    return {
        "actor_id": actor.id if actor is not None else None,
        "actor_name": actor.username if actor is not None else None,
        "ip": request.remote_addr if has_request_context() else None,
        "request_id": getattr(g, "request_id", None) if has_request_context() else None,
    }


def _clean(details: dict[str, Any] | None) -> dict[str, Any]:
    # Values are stored as JSON (so CR/LF cannot forge a second log line), and capped.
    cleaned: dict[str, Any] = {}
    for key, value in (details or {}).items():
        if isinstance(value, str) and len(value) > MAX_DETAIL_CHARS:
            value = value[:MAX_DETAIL_CHARS] + "…"
        cleaned[key] = value
    return cleaned


def record(
    action: str,
    *,
    actor: User | None = None,
    obj: object | None = None,
    object_type: str | None = None,
    object_id: object | None = None,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
    standalone: bool = False,
) -> None:
    """Log an event.

    By default the row joins the current transaction, so it is kept exactly when the change
    it describes is committed. ``standalone=True`` writes it at once on its own connection,
    for failures and denials whose main transaction is rolled back.
    """
    if obj is not None:
        object_type = object_type or getattr(obj, "__tablename__", type(obj).__name__)
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    row = event_row(action, actor=actor, object_type=object_type, object_id=object_id,
                    outcome=outcome, details=details)
    if standalone:
        with db.engine.begin() as connection:
            connection.execute(insert(AuditEvent), [row])
    else:
        db.session.add(AuditEvent(**row))


def record_new(action: str, *, actor: User | None, obj: object,
               details: dict[str, Any] | None = None) -> None:
    """Add the new row ``obj`` to the current transaction (flushed, so that it has its id) and
    log ``action`` on it: how a use case creates something.

    ``details`` are read before the flush: details that load anything through the new row
    (its id, a relationship's rows) want the row added and flushed first, then :func:`record`.
    """
    db.session.add(obj)
    db.session.flush()
    record(action, actor=actor, obj=obj, details=details)


def event_row(action: str, *, actor: User | None, object_type: str | None,
              object_id: object | None, outcome: str = "success",
              details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The audit row of an event, for a bulk insert in the caller's transaction (what
    :func:`record` adds)."""
    return {
        "at": utcnow(),
        "action": action,
        "outcome": outcome,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id)[:64],
        "details": _clean(details),
        **_context(actor),
    }


def events(*, action: str = "", actor: str = "", outcome: str = "",
           since: datetime | None = None, until: datetime | None = None) -> Select:
    """The events matching every filter given (an empty one matches all), newest first."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if actor:
        stmt = stmt.where(AuditEvent.actor_name == actor)
    if outcome:
        stmt = stmt.where(AuditEvent.outcome == outcome)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at <= until)
    return stmt


def logged_actions() -> list[str]:
    """Every action the log holds, for the filter's choices."""
    return list(db.session.scalars(
        select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
