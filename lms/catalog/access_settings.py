"""Who may see a record, as set by its depositor or curators: the settings, their checks, and
the use case that changes them (every channel follows after the commit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from lms import audit
from lms.accounts.models import Group, RoleName, Unit, User
from lms.catalog import hooks
from lms.catalog.access import is_curator_of, owner_may_edit
from lms.catalog.models import AccessLevel, Record
from lms.catalog.workflow import mark_public, record_history
from lms.errors import PermissionDenied, ValidationError
from lms.extensions import db
from lms.uow import unit_of_work


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
    record.embargo_reason = (settings.embargo_reason or "").strip()[:2000]
    record.discoverable = settings.discoverable
    mark_public(record)


def access_summary(record: Record) -> dict[str, object]:
    return settings_summary(AccessSettings.of(record))


def settings_summary(s: AccessSettings) -> dict[str, object]:
    """Comparable form of access settings, as :func:`apply_access` would store them."""
    restricted = s.level == AccessLevel.RESTRICTED
    return {"level": s.level,
            "units": sorted(u.id for u in s.units) if s.level == AccessLevel.UNIT else [],
            "roles": sorted(s.roles) if s.level == AccessLevel.ROLE else [],
            "users": sorted(u.id for u in s.users) if restricted else [],
            "groups": sorted(g.id for g in s.groups) if restricted else [],
            "embargo_until": s.embargo_until.isoformat() if s.embargo_until else None,
            "discoverable": s.discoverable}


def change_access(actor: User, record: Record, settings: AccessSettings) -> None:
    """Change who may see a record; every channel follows after the commit.

    The depositor may set access while the record is theirs to edit; afterwards only its
    curators and admins may.

    :raise PermissionDenied: ``actor`` may not change this record's access.
    """
    if not (is_curator_of(actor, record) or owner_may_edit(actor, record)):
        raise PermissionDenied()
    settings.check()
    before = access_summary(record)
    with unit_of_work():
        apply_access(record, settings)
        record.lock_version += 1
        after = access_summary(record)
        if before != after:
            audit.record("record_access_change", actor=actor, obj=record,
                         details={"before": before, "after": after})
            record_history(record, actor, "access_change", record.status, record.status)
        hooks.record_changed(record.id)


def access_choices() -> dict[str, object]:
    """What the access forms (a record's, a file's) offer, under the names they use."""
    units = db.session.scalars(select(Unit).order_by(Unit.name)).all()
    groups = db.session.scalars(select(Group).order_by(Group.name)).all()
    return {"levels": list(AccessLevel), "all_units": units, "all_groups": groups,
            "all_roles": [str(r) for r in RoleName]}
