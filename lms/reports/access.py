"""Who sees which reports: named rules, joined to the policy by ``lms.permissions``.

Admins see every unit; a trainer the units of their own (with sub-units), as for their
audiences; a commander (chỉ huy) the units they command, with sub-units. Someone who is both
sees both. A unit outside what one may see is refused (403): units are no secret, their
figures are.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context

from lms.accounts.models import Unit
from lms.permissions import Principal, Rule, can, is_user


def report_units(user: Principal) -> set[int] | None:
    """The units whose figures ``user`` may see; None: all of them."""
    from lms.accounts.services import commanded_unit_ids
    from lms.training.access import reachable_units

    if not is_user(user):
        return set()
    if has_request_context():
        cache = g.setdefault("report_units", {})
        if user.id in cache:
            return cache[user.id]
    trained = reachable_units(user)
    units = None if trained is None else trained | commanded_unit_ids(user)
    if has_request_context():
        g.report_units[user.id] = units
    return units


def _view(user: Principal, obj: Any) -> bool:
    units = report_units(user)
    return units is None or bool(units)


def _view_unit(user: Principal, unit: Any) -> bool:
    if not isinstance(unit, Unit):
        return False
    units = report_units(user)
    return units is None or unit.id in units


def _set_target(user: Principal, unit: Any) -> bool:
    """Admins set targets anywhere (``obj`` None: the whole academy); trainers for the units
    of their own."""
    from lms.training.access import reachable_units

    if not is_user(user) or not can(user, "training.area"):
        return False
    units = reachable_units(user)
    if units is None:
        return unit is None or isinstance(unit, Unit)
    return isinstance(unit, Unit) and unit.id in units


RULES: dict[str, Rule] = {
    "report.view": _view,
    "report.view_unit": _view_unit,
    "report.set_target": _set_target,
}
