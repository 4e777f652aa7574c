"""The policy table: who may do what, decided in one place on the object.

Services call :func:`require`; templates may call :func:`can` to decide whether to show a
button. A rule handed ``None`` where it expects an object denies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_login import AnonymousUserMixin

from lms.errors import PermissionDenied
from lms.models import RoleName, User

Principal = User | AnonymousUserMixin
Rule = Callable[[Principal, Any], bool]


def _is_user(user: Principal) -> bool:
    return isinstance(user, User) and user.is_authenticated and user.active


def _has(role: RoleName) -> Rule:
    return lambda user, obj: _is_user(user) and user.has_role(role)


def _admin(user: Principal, obj: Any) -> bool:
    return _is_user(user) and user.is_admin


def _self(user: Principal, obj: Any) -> bool:
    return _is_user(user) and isinstance(obj, User) and obj.id == user.id


POLICY: dict[str, Rule] = {
    # People, roles and organisation: admins only (the services keep the last admin).
    "manage_users": _admin,
    "assign_roles": _admin,
    "manage_units": _admin,
    "manage_groups": _admin,
    "view_audit_log": _admin,
    "change_own_password": _self,
    "view_job": lambda user, obj: _is_user(user)
    and obj is not None
    and (obj.owner_id == user.id or user.is_admin),
    "manage_collections": _admin,
    "purge_records": _admin,
    "manage_files": _admin,  # fixity reports, storage maintenance
    "import_records": _admin,  # bulk import publishes directly, in any collection
    # Record rules need the object's collections and access lists: lms.catalog.access.
    "deposit": _has(RoleName.INSTRUCTOR),
    "curate": _has(RoleName.CURATOR),
    "train": _has(RoleName.TRAINER),
}


def can(user: Principal, action: str, obj: Any = None) -> bool:
    rule = POLICY.get(action)
    if rule is None:
        raise KeyError(f"no policy for action {action!r}")
    return bool(rule(user, obj))


def require(user: Principal, action: str, obj: Any = None) -> None:
    """:raise PermissionDenied: ``user`` may not do ``action`` on ``obj``."""
    if not can(user, action, obj):
        raise PermissionDenied()
