"""Who may compare search and OAI-PMH with the database (/admin/mirrors): administrators."""

from __future__ import annotations

from lms.permissions import Rule, admin_only

RULES: dict[str, Rule] = {"mirror.check": admin_only}
