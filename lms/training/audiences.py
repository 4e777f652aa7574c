"""Audiences: static lists of people, or rules that keep their membership up to date.

Membership is derived data kept in ``audience_members`` (one row per stay, with its start and
end). It changes in the same transaction as whatever moved it: a person's attributes or unit
(``lms.training.sync``), a rule (here, or by the worker when many people move), or a hand
edit of a static audience. Everything is set-based SQL: no ORM object per person.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, insert, select, update

from lms import audit
from lms.accounts.models import Unit, User
from lms.accounts.services import subtree_ids
from lms.db import chunked, utcnow
from lms.errors import ValidationError
from lms.extensions import db
from lms.permissions import can, get_permitted, require
from lms.text import clean_text
from lms.training import events
from lms.training.access import managed_audiences, reachable_units
from lms.training.models import Audience, AudienceKind, AudienceMember, AudienceState
from lms.training.rules import (
    Problems,
    Rule,
    find_problems,
    parse_rule,
    referenced_audiences,
    rule_clause,
    scope_clause,
)
from lms.uow import locked_change, unit_of_work

KIND_LABELS = {AudienceKind.STATIC: _l("Static list"), AudienceKind.RULE: _l("Rule-based")}
PREVIEW_NAMES = 50


def get_audience(actor: User, audience_id: int) -> Audience:
    """:raise NotFound: no such audience, or not one ``actor`` manages."""
    return get_permitted(actor, "audience.manage", Audience, audience_id)


def manageable_audiences(actor: User) -> Select:
    """The audiences ``actor`` manages, by name (admins: all; trainers: within their units)."""
    return select(Audience).where(managed_audiences(actor)).order_by(Audience.name,
                                                                        Audience.id)


def _check_scope(actor: User, scope_unit: Unit | None) -> None:
    reach = reachable_units(actor)
    if scope_unit is None:
        if not can(actor, "audience.scope_all"):
            raise ValidationError(_("Choose the unit whose people this audience draws from."))
    elif reach is not None and scope_unit.id not in reach:
        raise ValidationError(_("You can only make audiences within your own unit."))


def _clean_name(name: str) -> str:
    return clean_text(name, max_length=200, what=_("Name"))


def create_audience(actor: User, *, name: str, description: str, kind: str,
                    scope_unit: Unit | None) -> Audience:
    """:raise ValidationError: bad name, kind or scope."""
    require(actor, "audience.create")
    if kind not in set(AudienceKind):
        raise ValidationError(_("Choose a static or a rule-based audience."))
    _check_scope(actor, scope_unit)
    with unit_of_work():
        audience = Audience(name=_clean_name(name), description=(description or "").strip()[:4000],
                            kind=kind, scope_unit_id=scope_unit.id if scope_unit else None,
                            owner_id=actor.id,
                            rule={"combine": "all", "groups": []} if kind == AudienceKind.RULE
                            else None)
        audit.record_new("audience_create", actor=actor, obj=audience,
                         details={"name": audience.name, "kind": kind})
    return audience


def _stale_audience() -> str:
    return _("This audience was changed since you opened it. Reload it to see the changes, "
             "then make yours again.")


def update_audience(actor: User, audience: Audience, *, name: str, description: str,
                    lock_version: int) -> None:
    require(actor, "audience.manage", audience)
    name = _clean_name(name)
    with locked_change(audience, lock_version, _stale_audience()):
        audience.name = name
        audience.description = (description or "").strip()[:4000]
        audience.updated_at = utcnow()
        audit.record("audience_update", actor=actor, obj=audience, details={"name": name})


def scope_of(audience: Audience) -> set[int] | None:
    return subtree_ids(audience.scope_unit_id) if audience.scope_unit_id else None


# --- membership ----------------------------------------------------------------------------

def current_member_ids(audience_id: int, user_ids: Collection[int] | None = None) -> set[int]:
    stmt = select(AudienceMember.user_id).where(AudienceMember.audience_id == audience_id,
                                                AudienceMember.ended_at.is_(None))
    if user_ids is None:
        return set(db.session.scalars(stmt))
    found: set[int] = set()
    for chunk in chunked(sorted(user_ids), 500):
        found |= set(db.session.scalars(stmt.where(AudienceMember.user_id.in_(chunk))))
    return found


def matching_ids(rule: Rule, scope: set[int] | None,
                 user_ids: Collection[int] | None = None) -> set[int]:
    """Who ``rule`` selects (within ``scope``), among ``user_ids`` if given."""
    stmt = select(User.id).where(rule_clause(rule, scope))
    if user_ids is None:
        return set(db.session.scalars(stmt))
    found: set[int] = set()
    for chunk in chunked(sorted(user_ids), 500):
        found |= set(db.session.scalars(stmt.where(User.id.in_(chunk))))
    return found


@dataclass
class Change:
    joined: list[int] = field(default_factory=list)
    left: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.joined or self.left)


def apply_membership(audience: Audience, joined: Collection[int], left: Collection[int],
                     *, source: str, now: datetime | None = None) -> Change:
    """Start stays for ``joined`` and end them for ``left`` (bulk), and recount."""
    now = now or utcnow()
    joined, left = sorted(set(joined)), sorted(set(left))
    if joined:
        db.session.execute(insert(AudienceMember), [
            {"audience_id": audience.id, "user_id": user_id, "started_at": now,
             "source": source} for user_id in joined])
    for chunk in chunked(left, 500):
        db.session.execute(
            update(AudienceMember)
            .where(AudienceMember.audience_id == audience.id, AudienceMember.user_id.in_(chunk),
                   AudienceMember.ended_at.is_(None))
            .values(ended_at=now).execution_options(synchronize_session=False))
    if joined or left:
        audience.member_count = db.session.scalar(
            select(func.count(AudienceMember.id)).where(
                AudienceMember.audience_id == audience.id,
                AudienceMember.ended_at.is_(None))) or 0
    audience.synced_at = now
    return Change(joined, left)


def freeze(audience: Audience, reason: str) -> None:
    if audience.state != AudienceState.FROZEN or audience.frozen_reason != reason:
        audience.state = AudienceState.FROZEN
        audience.frozen_reason = reason
        audit.record("audience_freeze", obj=audience, details={"reason": reason})


def _problems_reason(problems: Problems) -> str:
    if problems.missing_units:
        return _("The rule names a unit that was deleted.")
    if problems.missing_audiences:
        return _("The rule names an audience that was deleted.")
    return _("The rule names a list entry or role that no longer exists.")


def sync_rule_audience(audience: Audience, user_ids: Collection[int] | None = None,
                       now: datetime | None = None) -> Change:
    """Bring a rule-based audience's membership in line with its rule (for ``user_ids`` only,
    if given). A frozen audience, or one whose rule names something deleted, is left alone."""
    if not audience.is_rule_based or audience.is_frozen:
        return Change()
    rule = parse_rule(audience.rule or {})
    problems = find_problems(rule)
    if problems:
        freeze(audience, _problems_reason(problems))
        return Change()
    wanted = matching_ids(rule, scope_of(audience), user_ids)
    current = current_member_ids(audience.id, user_ids)
    return apply_membership(audience, wanted - current, current - wanted, source="rule",
                            now=now)


# --- rules: preview, then apply ------------------------------------------------------------

@dataclass
class Preview:
    rule: Rule
    joining: list[User]
    leaving: list[User]
    joining_count: int
    leaving_count: int
    total_after: int
    everyone: int  # people in the audience's scope: a rule matching all of them says so
    problems: Problems

    @property
    def matches_nobody(self) -> bool:
        return self.total_after == 0

    @property
    def matches_everyone(self) -> bool:
        return self.everyone > 0 and self.total_after == self.everyone


def _people(ids: Sequence[int]) -> list[User]:
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(ids[:PREVIEW_NAMES]))
                                   .order_by(User.full_name, User.username)))


def check_rule(actor: User, audience: Audience, data: dict) -> Rule:
    """:raise ValidationError: a malformed rule, a unit outside the actor's reach, a rule that
    names a deleted entry, or one that refers to itself through other audiences."""
    require(actor, "audience.manage", audience)
    if not audience.is_rule_based:
        raise ValidationError(_("Only a rule-based audience has a rule."))
    rule = parse_rule(data)
    problems = find_problems(rule)
    if problems:
        raise ValidationError(_problems_reason(problems))
    if audience.id in _audience_closure(referenced_audiences(rule)):
        raise ValidationError(_("An audience cannot depend on itself through other audiences."))
    for other_id in referenced_audiences(rule):
        other = db.session.get(Audience, other_id)
        if other is None or not can(actor, "audience.manage", other):
            raise ValidationError(_("You can only refer to audiences you manage."))
    return rule


def _audience_closure(ids: set[int]) -> set[int]:
    """``ids`` and every audience they refer to, through rules, transitively."""
    seen: set[int] = set()
    stack = list(ids)
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        other = db.session.get(Audience, current)
        if other is not None and other.rule:
            stack.extend(referenced_audiences(parse_rule(other.rule)))
    return seen


def preview_rule(actor: User, audience: Audience, data: dict) -> Preview:
    """Who would join and leave if ``data`` became the rule; changes nothing."""
    rule = check_rule(actor, audience, data)
    scope = scope_of(audience)
    wanted = matching_ids(rule, scope)
    current = current_member_ids(audience.id)
    joining, leaving = sorted(wanted - current), sorted(current - wanted)
    everyone = db.session.scalar(select(func.count(User.id)).where(scope_clause(scope))) or 0
    return Preview(rule, _people(joining), _people(leaving), len(joining), len(leaving),
                   len(wanted), everyone, find_problems(rule))


def apply_rule(actor: User, audience: Audience, data: dict, lock_version: int) -> Change | int:
    """Make ``data`` the audience's rule. Small changes of membership (and the enrolments
    that follow) are applied at once; a large one is left to a background job, whose id is
    returned.

    :raise Conflict: the audience changed since the preview was made.
    """
    from lms.jobs import enqueue
    rule = check_rule(actor, audience, data)
    scope = scope_of(audience)
    wanted = matching_ids(rule, scope)
    current = current_member_ids(audience.id)
    inline = len(wanted ^ current) <= current_app.config["AUDIENCE_INLINE_CHANGES"]
    with locked_change(audience, lock_version, _stale_audience()):
        audience.rule = rule.as_dict()
        audience.state, audience.frozen_reason = AudienceState.ACTIVE, ""
        audience.updated_at = utcnow()
        audit.record("audience_rule", actor=actor, obj=audience,
                     details={"rule": audience.rule, "joining": len(wanted - current),
                              "leaving": len(current - wanted), "inline": inline})
        change = Change()
        if inline:
            change = apply_membership(audience, wanted - current, current - wanted,
                                      source="rule")
            events.members_changed({audience.id: change})
    if inline:
        return change
    return enqueue("training.audience_sync", owner=actor, audience_id=audience.id).id


# --- static audiences ----------------------------------------------------------------------

def add_members(actor: User, audience: Audience, people: Collection[User]) -> int:
    """Add people to a static audience; returns how many were not members already.

    :raise ValidationError: a rule-based audience, or someone outside its scope.
    """
    require(actor, "audience.manage", audience)
    if audience.is_rule_based:
        raise ValidationError(_("The members of a rule-based audience follow its rule."))
    scope = scope_of(audience)
    outside = [p.username for p in people if scope is not None and p.unit_id not in scope]
    if outside:
        raise ValidationError(_("Not in this audience's unit: %(names)s.",
                                names=", ".join(sorted(outside)[:20])))
    ids = {p.id for p in people}
    with unit_of_work():
        new = ids - current_member_ids(audience.id, ids)
        change = apply_membership(audience, new, (), source="manual")
        if new:
            audit.record("audience_add", actor=actor, obj=audience,
                         details={"count": len(new), "user_ids": sorted(new)[:200]})
        events.members_changed({audience.id: change})
    return len(new)


def remove_members(actor: User, audience: Audience, user_ids: Collection[int]) -> int:
    require(actor, "audience.manage", audience)
    if audience.is_rule_based:
        raise ValidationError(_("The members of a rule-based audience follow its rule."))
    with unit_of_work():
        gone = current_member_ids(audience.id, set(user_ids))
        change = apply_membership(audience, (), gone, source="manual")
        if gone:
            audit.record("audience_remove", actor=actor, obj=audience,
                         details={"count": len(gone), "user_ids": sorted(gone)[:200]})
        events.members_changed({audience.id: change})
    return len(gone)


def members(audience: Audience, query: str = "") -> Select:
    """Current members with when they joined, by name."""
    from lms.text import escape_like

    stmt = (select(User, AudienceMember.started_at)
            .join(AudienceMember, AudienceMember.user_id == User.id)
            .where(AudienceMember.audience_id == audience.id, AudienceMember.ended_at.is_(None))
            .order_by(User.full_name, User.username))
    if query:
        like = f"%{escape_like(query.lower())}%"
        stmt = stmt.where(func.lower(User.username).like(like, escape="\\")
                          | func.lower(User.full_name).like(like, escape="\\"))
    return stmt


def find_people(actor: User, audience: Audience, query: str, limit: int = 20) -> list[User]:
    """People within the audience's scope whose name or username contains ``query``."""
    from lms.text import escape_like

    require(actor, "audience.manage", audience)
    query = query.strip().lower()
    if len(query) < 2:
        return []
    like = f"%{escape_like(query)}%"
    stmt = (select(User).where(scope_clause(scope_of(audience)), User.active.is_(True),
                               func.lower(User.username).like(like, escape="\\")
                               | func.lower(User.full_name).like(like, escape="\\"))
            .order_by(User.full_name, User.username).limit(limit))
    return list(db.session.scalars(stmt))


def freeze_for_deleted_units(unit_ids: Collection[int]) -> None:
    """Listener: audiences whose rule or scope names a unit being deleted are frozen."""
    unit_ids = set(unit_ids)
    for audience in db.session.scalars(select(Audience)):
        named = parse_rule(audience.rule).ids("unit") if audience.rule else set()
        if audience.scope_unit_id in unit_ids or named & unit_ids:
            freeze(audience, _("The rule names a unit that was deleted."))


def rule_value_names(lang: str) -> dict[tuple[str, object], str]:
    """(field, value) → what a person reads, for showing rules: unit paths, list labels, role
    names, audience names."""
    from lms.accounts.models import ROLE_LABELS, TermKind
    from lms.accounts.services import list_terms, unit_tree

    names: dict[tuple[str, object], str] = {}
    for unit, _depth in unit_tree():
        names[("unit", unit.id)] = unit.path
    for field_name, kind in (("rank", TermKind.RANK), ("position", TermKind.POSITION),
                             ("target_group", TermKind.TARGET_GROUP)):
        for term in list_terms(kind):
            names[(field_name, term.id)] = term.label(lang)
    for role, label in ROLE_LABELS.items():
        names[("role", str(role))] = str(label)
    for audience_id, name in db.session.execute(select(Audience.id, Audience.name)):
        names[("audience", audience_id)] = name
    return names
