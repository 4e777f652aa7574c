"""Who may see usage statistics: administrators (they show what each record is used for)."""

from __future__ import annotations

from lms.permissions import Rule, admin_only

RULES: dict[str, Rule] = {"stats.view": admin_only}
