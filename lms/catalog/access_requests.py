"""Deciding on a depositor's widening of access (see ``lms.catalog.access_settings``).

A curator of the record's collection (or an admin) approves a pending request, which then
applies exactly the parts that waited onto the current settings, or rejects it with a reason.
Either way the depositor is notified, the record's history and the audit log say who decided
what, as for a review. Of two decisions at the same moment exactly one wins; the other gets
409.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from lms import audit
from lms.accounts.models import Group, Unit, User
from lms.catalog import hooks
from lms.catalog.access_settings import (
    AccessSettings,
    access_summary,
    apply_access,
    settings_from_summary,
)
from lms.catalog.models import AccessRequest, AccessRequestStatus
from lms.catalog.workflow import record_history
from lms.db import utcnow
from lms.errors import Conflict, NotFound, ValidationError
from lms.extensions import db
from lms.files.upload import apply_file_access, check_file_level, file_access_summary
from lms.notify.services import notify
from lms.permissions import can, require
from lms.uow import unit_of_work


def get_request(user: User, request_id: int) -> AccessRequest:
    """:raise NotFound: no such request, or not one ``user`` may decide."""
    request = db.session.get(AccessRequest, request_id)
    if request is None or not can(user, "record.curate", request.record):
        raise NotFound()
    return request


def _decide(user: User, request: AccessRequest, status: AccessRequestStatus,
            comment: str) -> None:
    """In the caller's unit of work: the guarded UPDATE lets one decision through.

    :raise Conflict: it was decided or superseded meanwhile.
    """
    won = db.session.execute(
        update(AccessRequest)
        .where(AccessRequest.id == request.id,
               AccessRequest.status == AccessRequestStatus.PENDING)
        .values(status=status, decided_by_id=user.id, decided_at=utcnow(),
                comment=comment[:5000])
    ).rowcount == 1
    if not won:
        raise Conflict(_("This access change was already decided or replaced by a newer one."))


def approve(user: User, request_id: int, comment: str = "") -> AccessRequest:
    """Apply what waited; every channel follows after the commit.

    :raise NotFound: no such request, or one ``user`` does not curate.
    :raise PermissionDenied: ``user`` may not decide it (their own request).
    :raise Conflict: it is no longer pending.
    :raise ValidationError: the requested settings are no longer valid (a unit, user or group
        was deleted, or the record became stricter than the file level asked for).
    """
    request = get_request(user, request_id)
    require(user, "access_request.decide", request)
    record = request.record
    comment = (comment or "").strip()
    with unit_of_work():
        _decide(user, request, AccessRequestStatus.APPROVED, comment)
        if request.file is None:
            before = access_summary(record)
            settings = settings_from_summary(request.requested, AccessSettings.of(record))
            settings.check()
            apply_access(record, settings)
            after = access_summary(record)
        else:
            before = file_access_summary(request.file)
            wanted = request.requested
            settings = None if wanted["level"] is None else settings_from_summary(
                wanted, AccessSettings())
            check_file_level(record, settings)
            apply_file_access(request.file, settings)
            after = file_access_summary(request.file)
        record.lock_version += 1
        audit.record("file_access_change" if request.file else "record_access_change",
                     actor=user, obj=request.file or record,
                     details={"record": record.id, "before": before, "after": after,
                              "request": request.id, "requested_by": request.requested_by_id})
        record_history(record, user, "access_approve", record.status, record.status, comment)
        if request.requested_by_id:
            notify([request.requested_by_id], "access_approved",
                   {"title": record.published_title}, f"/records/{record.id}")
        hooks.record_changed(record.id)
    db.session.refresh(request)
    return request


def reject(user: User, request_id: int, comment: str) -> AccessRequest:
    """Refuse the change; nothing else changes.

    :raise ValidationError: a rejection needs a reason for the depositor.
    :raise NotFound, PermissionDenied, Conflict: as :func:`approve`.
    """
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError(_("Tell the depositor why the access change is refused."))
    request = get_request(user, request_id)
    require(user, "access_request.decide", request)
    record = request.record
    with unit_of_work():
        _decide(user, request, AccessRequestStatus.REJECTED, comment)
        audit.record("access_request_reject", actor=user, obj=record,
                     details={"request": request.id, "comment": comment[:500]})
        record_history(record, user, "access_reject", record.status, record.status, comment)
        if request.requested_by_id:
            notify([request.requested_by_id], "access_rejected",
                   {"title": record.published_title, "comment": comment},
                   f"/records/{record.id}/access")
    db.session.refresh(request)
    return request


def requests_to_decide(user: User) -> list[AccessRequest]:
    """Pending requests on records ``user`` curates, oldest first."""
    pending = db.session.scalars(
        select(AccessRequest).where(AccessRequest.status == AccessRequestStatus.PENDING)
        .order_by(AccessRequest.requested_at, AccessRequest.id))
    return [r for r in pending if can(user, "access_request.decide", r)]


def pending_requests(record_id: int) -> list[AccessRequest]:
    """What waits for a record (its own settings first, then its files)."""
    return list(db.session.scalars(
        select(AccessRequest).where(AccessRequest.record_id == record_id,
                                    AccessRequest.status == AccessRequestStatus.PENDING)
        .order_by(AccessRequest.file_id.is_not(None), AccessRequest.id)))


def describe(summary: dict[str, Any]) -> dict[str, Any]:
    """The parts of ``summary`` (a request's ``before`` or ``requested``) for a page: the same
    keys, with the level's lists as one list of names (units, roles, users, groups)."""
    shown = {key: summary[key] for key in ("level", "embargo_until", "discoverable")
             if key in summary}
    if "level" in summary:
        shown["lists"] = [*(u.path for u in _named(Unit, summary["units"])),
                          *summary["roles"],
                          *(u.username for u in _named(User, summary["users"])),
                          *(g.name for g in _named(Group, summary["groups"]))]
    return shown


def _named(model: type, ids: list[int]) -> list[Any]:
    return list(db.session.scalars(select(model).where(model.id.in_(ids)))) if ids else []
