"""Who may hold, see and revoke personal access tokens (joined into ``lms.permissions``)."""

from __future__ import annotations

from typing import Any

from lms.api.models import PersonalAccessToken
from lms.permissions import Principal, admin_only, is_user


def _owner_or_admin(user: Principal, obj: Any) -> bool:
    return is_user(user) and isinstance(obj, PersonalAccessToken) and (
        obj.user_id == user.id or user.is_admin)


RULES = {
    # Every active account may script what it may do by hand.
    "token.create": lambda user, obj=None: is_user(user),
    "token.revoke": _owner_or_admin,
    # The administrators' page of every token.
    "token.manage_all": admin_only,
}
