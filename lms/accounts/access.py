"""Who may do what with people, units, groups and roles: named rules, joined to the policy by
``lms.permissions``, and the facts about roles the account services need (which roles a new
account gets, whether an account is the last active administrator).

Only administrators manage accounts, units and groups and assign roles; everyone changes
their own password. The services keep the last active administrator.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from lms.accounts.models import Role, RoleName, User
from lms.extensions import db
from lms.permissions import Principal, Rule, admin_only, is_user

#: The roles a new account gets unless others are chosen.
DEFAULT_ROLES: tuple[str, ...] = (RoleName.LEARNER,)


def grants_admin(role_names: Iterable[str]) -> bool:
    """Whether these roles include the administrator's."""
    return RoleName.ADMIN in {str(name) for name in role_names}


def is_last_active_admin(user: User) -> bool:
    """Whether taking ``user``'s administrator role (or account) away would leave none."""
    if not (user.active and user.is_admin):
        return False
    others = db.session.scalar(
        select(func.count(User.id)).join(User.roles)
        .where(Role.name == RoleName.ADMIN, User.active.is_(True), User.id != user.id))
    return not others


def _account(user: Principal, obj: Any) -> bool:
    return admin_only(user) and isinstance(obj, User)


def _self(user: Principal, obj: Any) -> bool:
    return is_user(user) and isinstance(obj, User) and obj.id == user.id


RULES: dict[str, Rule] = {
    "user.manage": admin_only,
    "role.assign": _account,  # ``obj``: the account whose roles change
    "unit.manage": admin_only,
    "group.manage": admin_only,
    "audit.view": admin_only,
    "user.change_password": _self,  # ``obj``: the account; one's own only
}
