"""Who may register and run harvests: administrators (harvested records are published at
once, in any collection, like a bulk import)."""

from __future__ import annotations

from lms.permissions import Rule, admin_only

RULES: dict[str, Rule] = {"harvest.manage": admin_only}
