"""Who may see a record, as set by its depositor or curators: the settings, their checks, and
the use case that changes them (every channel follows after the commit).

Widening is reviewed. Once readers can see a record (a version is published), a change by its
depositor that lets more people see it or its files (the level and its lists, an embargo
lifted early, discoverability; a file's own level) does not apply: it becomes a pending
:class:`~lms.catalog.models.AccessRequest` that a curator of the collection approves or rejects
(``lms.catalog.access_requests``). The narrowing parts of the same change apply at once.
Curators of the record and admins change access directly, audited. Whether a change widens is
decided by ``lms.catalog.audience`` on who each setting admits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from lms import audit
from lms.accounts.models import Group, RoleName, Unit, User
from lms.catalog import hooks
from lms.catalog.audience import Audience, RecordAccess, widened_parts
from lms.catalog.models import AccessLevel, AccessRequest, AccessRequestStatus, Record
from lms.catalog.workflow import mark_public, record_history
from lms.db import utcnow
from lms.errors import ValidationError
from lms.extensions import db
from lms.notify.services import notify
from lms.permissions import can, require
from lms.uow import unit_of_work

#: The keys of a settings summary that make up each part of a record's access.
PART_KEYS = {"audience": ("level", "units", "roles", "users", "groups"),
             "embargo": ("embargo_until", "embargo_reason"),
             "discoverable": ("discoverable",)}


@dataclass
class AccessSettings:
    level: str = AccessLevel.INTERNAL
    units: Sequence[Unit] = ()
    roles: Sequence[str] = ()
    users: Sequence[User] = ()
    groups: Sequence[Group] = ()
    embargo_until: date | None = None
    embargo_reason: str = ""
    discoverable: bool = True

    def check(self) -> None:
        """:raise ValidationError: the settings contradict each other."""
        if self.level not in {str(a) for a in AccessLevel}:
            raise ValidationError(_("Unknown access level."))
        unknown = set(self.roles) - {str(r) for r in RoleName}
        if unknown:
            raise ValidationError(_("Unknown role: %(roles)s.", roles=", ".join(sorted(unknown))))
        if self.level == AccessLevel.UNIT and not self.units:
            raise ValidationError(_("Choose at least one unit for unit access."))
        if self.level == AccessLevel.ROLE and not self.roles:
            raise ValidationError(_("Choose at least one role for role access."))
        if self.level == AccessLevel.RESTRICTED and not (self.users or self.groups):
            raise ValidationError(_("Name at least one user or group for restricted access."))

    @property
    def clean_reason(self) -> str:
        """The embargo reason as it is stored."""
        return (self.embargo_reason or "").strip()[:2000]

    @classmethod
    def of(cls, record: Record) -> AccessSettings:
        return cls(level=record.access_level, units=list(record.access_units),
                   roles=list(record.access_roles), users=list(record.access_users),
                   groups=list(record.access_groups), embargo_until=record.embargo_until,
                   embargo_reason=record.embargo_reason, discoverable=record.discoverable)


def apply_access(record: Record, settings: AccessSettings) -> None:
    record.access_level = settings.level
    record.access_units = list(settings.units) if settings.level == AccessLevel.UNIT else []
    record.access_roles = list(settings.roles) if settings.level == AccessLevel.ROLE else []
    restricted = settings.level == AccessLevel.RESTRICTED
    record.access_users = list(settings.users) if restricted else []
    record.access_groups = list(settings.groups) if restricted else []
    record.embargo_until = settings.embargo_until
    record.embargo_reason = settings.clean_reason
    record.discoverable = settings.discoverable
    mark_public(record)


def access_summary(record: Record) -> dict[str, object]:
    return settings_summary(AccessSettings.of(record))


def level_summary(level: str | None, units: Sequence[Unit], roles: Sequence[str],
                  users: Sequence[User], groups: Sequence[Group]) -> dict[str, object]:
    """A level and the lists it uses (the others empty), with ids: comparable and storable."""
    restricted = level == AccessLevel.RESTRICTED
    return {"level": level,
            "units": sorted(u.id for u in units) if level == AccessLevel.UNIT else [],
            "roles": sorted(roles) if level == AccessLevel.ROLE else [],
            "users": sorted(u.id for u in users) if restricted else [],
            "groups": sorted(g.id for g in groups) if restricted else []}


def settings_summary(s: AccessSettings) -> dict[str, object]:
    """Comparable form of access settings, as :func:`apply_access` would store them."""
    return {**level_summary(s.level, s.units, s.roles, s.users, s.groups),
            "embargo_until": s.embargo_until.isoformat() if s.embargo_until else None,
            "embargo_reason": s.clean_reason,
            "discoverable": s.discoverable}


def audience(summary: dict[str, Any]) -> Audience:
    """Who a summarised level admits (``lms.catalog.audience``)."""
    return Audience(str(summary["level"]), units=frozenset(summary["units"]),
                    roles=frozenset(summary["roles"]), users=frozenset(summary["users"]),
                    groups=frozenset(summary["groups"]))


def unit_chain(unit_id: int) -> list[int]:
    """The unit and the units above it (who a unit's access covers)."""
    unit = db.session.get(Unit, unit_id)
    return [u.id for u in [*unit.ancestors, unit]] if unit is not None else [unit_id]


def _record_access(summary: dict[str, Any]) -> RecordAccess:
    until = summary["embargo_until"]
    return RecordAccess(audience(summary), date.fromisoformat(until) if until else None,
                        bool(summary["discoverable"]))


def settings_from_summary(summary: dict[str, Any], base: AccessSettings) -> AccessSettings:
    """``base`` with the parts named in ``summary`` (ids) replaced; units, users and groups
    deleted since are left out (the check then says what is missing)."""
    changed = dict(vars(base))
    if "level" in summary:
        changed["level"] = summary["level"]
        changed["roles"] = list(summary["roles"])
        for key, model in (("units", Unit), ("users", User), ("groups", Group)):
            ids = summary[key]
            changed[key] = list(db.session.scalars(select(model).where(model.id.in_(ids)))) \
                if ids else []
    if "embargo_until" in summary:
        until = summary["embargo_until"]
        changed["embargo_until"] = date.fromisoformat(until) if until else None
        changed["embargo_reason"] = summary["embargo_reason"]
    if "discoverable" in summary:
        changed["discoverable"] = bool(summary["discoverable"])
    return AccessSettings(**changed)


def supersede_requests(record: Record, file_id: int | None) -> None:
    """In the caller's unit of work: a newer wish or a curator's own change replaces what was
    waiting for the same record (or file)."""
    same_target = AccessRequest.file_id.is_(None) if file_id is None \
        else AccessRequest.file_id == file_id
    db.session.execute(
        update(AccessRequest)
        .where(AccessRequest.record_id == record.id, same_target,
               AccessRequest.status == AccessRequestStatus.PENDING)
        .values(status=AccessRequestStatus.SUPERSEDED, decided_at=utcnow()))


def open_request(actor: User, record: Record, file_id: int | None, before: dict[str, Any],
                 requested: dict[str, Any]) -> AccessRequest:
    """In the caller's unit of work: ask the record's curators to approve ``requested``."""
    request = AccessRequest(record=record, file_id=file_id, requested_by_id=actor.id,
                            before=before, requested=requested)
    db.session.add(request)
    db.session.flush()
    record_history(record, actor, "access_request", record.status, record.status)
    audit.record("access_request", actor=actor, obj=record,
                 details={"request": request.id, "file": file_id, "before": before,
                          "requested": requested})
    notify([u.id for u in record.collection.curators] if record.collection else [],
           "access_request_waiting", {"title": record.published_title}, "/review")
    return request


def change_access(actor: User, record: Record, settings: AccessSettings) -> AccessRequest | None:
    """Change who may see a record; every channel follows after the commit.

    The depositor may set access while the record is theirs to edit; afterwards only its
    curators and admins may. On a published record, the parts of a depositor's change that
    would let more people see it wait for a curator: they are returned as the pending
    request (``None`` if nothing waits), the rest applies at once. Any request that was
    waiting for the record's settings is superseded.

    :raise PermissionDenied: ``actor`` may not change this record's access.
    :raise ValidationError: the settings contradict each other.
    """
    require(actor, "record.change_access", record)
    settings.check()
    before = access_summary(record)
    wanted = settings_summary(settings)
    waiting: dict[str, Any] = {}
    if not can(actor, "record.widen_access", record):
        parts = widened_parts(_record_access(before), _record_access(wanted),
                              today=utcnow().date(), unit_chain=unit_chain)
        waiting = {key: wanted[key] for part in parts for key in PART_KEYS[part]}
        # What applies now: the change with its widening parts left as they are.
        settings = settings_from_summary({key: before[key] for key in waiting}, settings)
    request = None
    with unit_of_work():
        supersede_requests(record, None)
        apply_access(record, settings)
        record.lock_version += 1
        after = access_summary(record)
        if before != after:
            audit.record("record_access_change", actor=actor, obj=record,
                         details={"before": before, "after": after})
            record_history(record, actor, "access_change", record.status, record.status)
        if waiting:
            request = open_request(actor, record, None, before, waiting)
        hooks.record_changed(record.id)
    return request


def access_choices() -> dict[str, object]:
    """What the access forms (a record's, a file's) offer, under the names they use."""
    units = db.session.scalars(select(Unit).order_by(Unit.name)).all()
    groups = db.session.scalars(select(Group).order_by(Group.name)).all()
    return {"levels": list(AccessLevel), "all_units": units, "all_groups": groups,
            "all_roles": [str(r) for r in RoleName]}
