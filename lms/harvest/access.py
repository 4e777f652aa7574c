"""Who may register and run harvests: administrators (harvested records are published at
once, in any collection, like a bulk import)."""

from __future__ import annotations

from typing import Any

from lms.permissions import Principal, Rule, is_user


def _admin(user: Principal, obj: Any) -> bool:
    return is_user(user) and user.is_admin


RULES: dict[str, Rule] = {"manage_harvest": _admin}
