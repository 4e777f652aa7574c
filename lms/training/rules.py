"""Audience rules: what they may say, how they are checked, and how they become SQL.

A rule is JSON, in the shape of Totara's rule sets::

    {"combine": "all" | "any",
     "groups": [{"combine": "all" | "any",
                 "conditions": [{"field": "unit", "values": [3, 7], "subunits": true},
                                {"field": "rank", "values": [12]},
                                {"field": "cohort", "values": ["K45"]}]}]}

Within a condition the values are alternatives (any of them); conditions combine as their
group says, and groups as the rule says. A group without conditions is left out; a rule
without any condition selects nobody (shown as such, not refused).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from lms.accounts.models import PersonTerm, Role, TermKind, Unit, User, user_roles
from lms.errors import ValidationError
from lms.extensions import db

FIELDS = ("unit", "role", "rank", "position", "target_group", "cohort", "class_name",
          "cohort_year", "audience")
FIELD_LABELS = {
    "unit": _l("Unit"),
    "role": _l("Role"),
    "rank": _l("Rank"),
    "position": _l("Position"),
    "target_group": _l("Target group"),
    "cohort": _l("Cohort"),
    "class_name": _l("Class"),
    "cohort_year": _l("Year of study"),
    "audience": _l("Member of audience"),
}
TERM_FIELDS = {"rank": TermKind.RANK, "position": TermKind.POSITION,
               "target_group": TermKind.TARGET_GROUP}
TEXT_FIELDS = ("cohort", "class_name")
MAX_GROUPS = 10
MAX_VALUES = 500


@dataclass
class Condition:
    field: str
    values: list[Any]
    subunits: bool = False

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"field": self.field, "values": self.values}
        if self.field == "unit":
            data["subunits"] = self.subunits
        return data


@dataclass
class Group:
    combine: str = "all"
    conditions: list[Condition] = field(default_factory=list)


@dataclass
class Rule:
    combine: str = "all"
    groups: list[Group] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"combine": self.combine, "groups": [
            {"combine": g.combine, "conditions": [c.as_dict() for c in g.conditions]}
            for g in self.groups if g.conditions]}

    @property
    def is_empty(self) -> bool:
        return not any(g.conditions for g in self.groups)

    def ids(self, field_name: str) -> set[int]:
        return {v for g in self.groups for c in g.conditions if c.field == field_name
                for v in c.values}


def parse_rule(data: Any) -> Rule:
    """The rule in ``data`` (as stored), checked for shape only.

    :raise ValidationError: not a rule.
    """
    if not isinstance(data, dict):
        raise ValidationError(_("The audience rule is not valid."))
    rule = Rule(combine=_combine(data.get("combine")))
    groups = data.get("groups") or []
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise ValidationError(_("An audience rule has at most %(n)d groups.", n=MAX_GROUPS))
    for raw_group in groups:
        if not isinstance(raw_group, dict):
            raise ValidationError(_("The audience rule is not valid."))
        group = Group(combine=_combine(raw_group.get("combine")))
        for raw in raw_group.get("conditions") or []:
            condition = _condition(raw)
            if condition.values:
                group.conditions.append(condition)
        rule.groups.append(group)
    return rule


def _combine(value: Any) -> str:
    if value in (None, "all"):
        return "all"
    if value == "any":
        return "any"
    raise ValidationError(_("The audience rule is not valid."))


def _condition(raw: Any) -> Condition:
    if not isinstance(raw, dict) or raw.get("field") not in FIELDS:
        raise ValidationError(_("The audience rule is not valid."))
    name = raw["field"]
    values = raw.get("values") or []
    if not isinstance(values, list) or len(values) > MAX_VALUES:
        raise ValidationError(_("A condition has at most %(n)d values.", n=MAX_VALUES))
    if name in TEXT_FIELDS or name == "role":
        cleaned: list[Any] = sorted({str(v).strip() for v in values if str(v).strip()})
        if any(len(v) > 64 for v in cleaned):
            raise ValidationError(_("A value of the audience rule is too long."))
    else:
        try:
            cleaned = sorted({int(v) for v in values})
        except (TypeError, ValueError) as error:
            raise ValidationError(_("The audience rule is not valid.")) from error
    return Condition(name, cleaned, bool(raw.get("subunits")) if name == "unit" else False)


@dataclass
class Problems:
    """What a rule names that does not exist (any of it freezes the audience)."""

    missing_units: set[int] = field(default_factory=set)
    missing_terms: set[int] = field(default_factory=set)
    missing_audiences: set[int] = field(default_factory=set)
    missing_roles: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.missing_units or self.missing_terms or self.missing_audiences
                    or self.missing_roles)


def find_problems(rule: Rule) -> Problems:
    problems = Problems()
    units = rule.ids("unit")
    if units:
        problems.missing_units = units - set(db.session.scalars(
            select(Unit.id).where(Unit.id.in_(units))))
    for name, kind in TERM_FIELDS.items():
        wanted = rule.ids(name)
        if wanted:
            problems.missing_terms |= wanted - set(db.session.scalars(select(PersonTerm.id).where(
                PersonTerm.id.in_(wanted), PersonTerm.kind == kind)))
    audiences = rule.ids("audience")
    if audiences:
        from lms.training.models import Audience

        problems.missing_audiences = audiences - set(db.session.scalars(
            select(Audience.id).where(Audience.id.in_(audiences))))
    roles = {v for g in rule.groups for c in g.conditions if c.field == "role"
             for v in c.values}
    if roles:
        problems.missing_roles = roles - set(db.session.scalars(select(Role.name)))
    return problems


def referenced_audiences(rule: Rule) -> set[int]:
    return rule.ids("audience")


# --- SQL -----------------------------------------------------------------------------------

def _unit_ids(condition: Condition) -> set[int]:
    if not condition.subunits:
        return set(condition.values)
    from lms.accounts.services import subtree_ids

    return subtree_ids(*condition.values)


def _clause(condition: Condition) -> ColumnElement[bool]:
    from lms.training.models import AudienceMember

    name, values = condition.field, condition.values
    if name == "unit":
        return User.unit_id.in_(sorted(_unit_ids(condition)))
    if name == "role":
        return exists().where(user_roles.c.user_id == User.id, user_roles.c.role_id == Role.id,
                              Role.name.in_(values))
    if name in TERM_FIELDS:
        return getattr(User, f"{name}_id").in_(values)
    if name in TEXT_FIELDS:
        return db.func.lower(getattr(User, name)).in_([v.lower() for v in values])
    if name == "cohort_year":
        return User.cohort_year.in_(values)
    if name == "audience":
        return exists().where(AudienceMember.user_id == User.id,
                              AudienceMember.audience_id.in_(values),
                              AudienceMember.ended_at.is_(None))
    raise ValueError(name)


def _join(combine: str, clauses: Iterable[ColumnElement[bool]]) -> ColumnElement[bool]:
    clauses = list(clauses)
    return and_(*clauses) if combine == "all" else or_(*clauses)


def rule_clause(rule: Rule, scope_units: set[int] | None) -> ColumnElement[bool]:
    """The people ``rule`` selects, within ``scope_units`` (None: everyone), as a WHERE clause
    on ``users``."""
    groups = [g for g in rule.groups if g.conditions]
    if not groups:
        return false()
    clause = _join(rule.combine, (_join(g.combine, map(_clause, g.conditions)) for g in groups))
    if scope_units is not None:
        clause = and_(clause, User.unit_id.in_(sorted(scope_units)) if scope_units else false())
    return clause


def scope_clause(scope_units: set[int] | None) -> ColumnElement[bool]:
    if scope_units is None:
        return true()
    return User.unit_id.in_(sorted(scope_units)) if scope_units else false()
