"""The record form, generated from the application profile, and the access settings form.

Field names: ``dc.<term>.<n>.value`` and ``dc.<term>.<n>.lang``, one row per value. Terms
that are not on the form (an imported record may carry any DCMI term) are kept untouched.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from lms.accounts.models import Group, RoleName, Unit
from lms.auth.services import find_user
from lms.catalog.access_settings import AccessSettings
from lms.catalog.models import AccessLevel
from lms.errors import ValidationError
from lms.extensions import db
from metadata import Metadata, Problem, Profile, Statement, TermSpec, default_profile

FIELD = re.compile(r"^dc\.([A-Za-z]+)\.(\d{1,4})\.value$")
MAX_ROWS_PER_TERM = 500
LANGUAGES = ("vi", "en")


@dataclass
class Row:
    value: str = ""
    lang: str = ""


@dataclass
class TermField:
    spec: TermSpec
    rows: list[Row]
    problems: list[Problem] = field(default_factory=list)


def _default_lang(spec: TermSpec) -> str:
    return "vi" if spec.multilingual else ""


def build_fields(metadata: Metadata, problems: list[Problem] | None = None,
                 profile: Profile | None = None) -> list[TermField]:
    """Rows for every form term: its values, plus one empty row to fill in."""
    profile = profile or default_profile()
    by_term: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems or ():
        if problem.term:
            by_term[problem.term].append(problem)
    fields = []
    for spec in profile.form_terms:
        rows = [Row(s.value, s.lang or "") for s in metadata.get(spec.name)]
        if not rows or spec.repeatable:
            rows.append(Row("", _default_lang(spec) if not rows else ""))
        fields.append(TermField(spec, rows, by_term.get(spec.name, [])))
    return fields


def parse_metadata(form: MultiDict, kept: Metadata | None = None,
                   profile: Profile | None = None) -> list[Statement]:
    """Statements from the posted form, in profile order, plus the non-form terms of ``kept``."""
    profile = profile or default_profile()
    on_form = {spec.name for spec in profile.form_terms}
    rows: dict[str, list[tuple[int, str, str | None]]] = defaultdict(list)
    for key in form:
        match = FIELD.match(key)
        if not match or match.group(1) not in on_form:
            continue
        term, index = match.group(1), int(match.group(2))
        value = form.get(key, "")
        if not value.strip() or len(rows[term]) >= MAX_ROWS_PER_TERM:
            continue
        lang = form.get(f"dc.{term}.{index}.lang", "").strip() or None
        rows[term].append((index, value, lang))
    statements = []
    for spec in profile.form_terms:
        for _index, value, lang in sorted(rows.get(spec.name, []), key=lambda r: r[0]):
            statements.append(Statement(spec.name, value, lang if spec.multilingual else None))
    statements.extend(s for s in (kept or Metadata()) if s.term not in on_form)
    return statements


def parse_access(form: MultiDict) -> AccessSettings:
    """Access settings from the form; unknown units, users or groups are errors.

    :raise ValidationError: a named user or group does not exist, or a date is malformed.
    """
    level = form.get("access_level", AccessLevel.INTERNAL)
    unit_ids = [int(v) for v in form.getlist("access_units") if v.isdigit()]
    group_ids = [int(v) for v in form.getlist("access_groups") if v.isdigit()]
    units = list(db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))) if unit_ids else []
    groups = list(db.session.scalars(select(Group).where(Group.id.in_(group_ids)))) \
        if group_ids else []
    users = []
    for name in form.get("access_users", "").split():
        user = find_user(name)
        if user is None:
            raise ValidationError(_("No user named %(name)s.", name=name[:64]))
        users.append(user)
    roles = [r for r in form.getlist("access_roles") if r in {str(x) for x in RoleName}]
    embargo = form.get("embargo_until", "").strip()
    try:
        embargo_until = date.fromisoformat(embargo) if embargo else None
    except ValueError:
        raise ValidationError(_("The embargo date must look like 2026-12-31.")) from None
    return AccessSettings(
        level=level, units=units, roles=roles, users=users, groups=groups,
        embargo_until=embargo_until, embargo_reason=form.get("embargo_reason", "")[:2000],
        discoverable=form.get("discoverable") == "1",
    )


def form_int(form: MultiDict, name: str) -> int:
    """:raise ValidationError: the field is missing or not a number (a tampered form)."""
    value = form.get(name, "")
    if not value.isdigit():
        raise ValidationError(_("The form is incomplete. Reload the page and try again."))
    return int(value)
