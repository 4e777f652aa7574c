"""Keeping audiences and enrolments in step with people.

``people_changed`` is wired as a listener of ``lms.accounts.events`` in the app factory: when
people are created, imported, moved or edited, the rule-based audiences are re-evaluated for
those people, and the assignments that reach the audiences whose membership changed enrol
(or release) them, all in the transaction of the change itself.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from flask import Flask
from sqlalchemy import select, update

from lms.accounts import events
from lms.accounts.models import User
from lms.db import chunked, utcnow
from lms.extensions import db
from lms.jobs import JobContext, job
from lms.training import events as training_events
from lms.training.audiences import (
    Change,
    freeze_for_deleted_units,
    sync_rule_audience,
)
from lms.training.models import (
    Assignment,
    Audience,
    AudienceKind,
    AudienceState,
    Enrolment,
    assignment_audiences,
    assignment_people,
)
from lms.training.rules import parse_rule, referenced_audiences
from lms.uow import AfterCommit, unit_of_work


def connect(app: Flask) -> None:
    """Listen to people and unit changes (called by the app factory)."""
    events.connect(app, people_changed=people_changed, units_deleted=freeze_for_deleted_units)
    training_events.connect(app, members_changed=after_membership_change)


def rule_audiences_in_order() -> list[Audience]:
    """Active rule-based audiences, each after the audiences its rule refers to."""
    audiences = list(db.session.scalars(select(Audience).where(
        Audience.kind == AudienceKind.RULE, Audience.state == AudienceState.ACTIVE)
        .order_by(Audience.id)))
    by_id = {a.id: a for a in audiences}
    ordered: list[Audience] = []
    placed: set[int] = set()

    def place(audience: Audience, path: frozenset[int]) -> None:
        if audience.id in placed or audience.id in path:
            return
        for ref in referenced_audiences(parse_rule(audience.rule or {})):
            if ref in by_id:
                place(by_id[ref], path | {audience.id})
        placed.add(audience.id)
        ordered.append(audience)

    for audience in audiences:
        place(audience, frozenset())
    return ordered


def people_changed(user_ids: Collection[int], on_commit: AfterCommit | None = None) -> None:
    """Re-evaluate every rule-based audience for these people, then their enrolments."""
    ids = set(user_ids)
    now = utcnow()
    changes: dict[int, Change] = {}
    for audience in rule_audiences_in_order():
        change = sync_rule_audience(audience, ids, now)
        if change:
            changes[audience.id] = change
    _copy_units(ids)
    sync_assignments(changes, direct_people=ids)


def after_membership_change(changes: Mapping[int, Change]) -> None:
    """Audiences changed by hand or by a rule: audiences built on them follow, then the
    assignments that reach any of them."""
    changes = {k: v for k, v in changes.items() if v}
    if not changes:
        return
    moved = {u for change in changes.values() for u in change.joined + change.left}
    all_changes = dict(changes)
    for audience in rule_audiences_in_order():
        refs = referenced_audiences(parse_rule(audience.rule or {}))
        if refs & set(all_changes):
            change = sync_rule_audience(audience, moved)
            if change:
                all_changes[audience.id] = change
    sync_assignments(all_changes)


def sync_assignments(changes: Mapping[int, Change], direct_people: Collection[int] = ()) -> None:
    """Enrol or release the people whose audiences changed, in the assignments reaching them."""
    from lms.training.assignments import sync_assignment

    affected: dict[int, set[int]] = {}
    if changes:
        rows = db.session.execute(select(assignment_audiences.c.assignment_id,
                                         assignment_audiences.c.audience_id)
                                  .join(Assignment, Assignment.id ==
                                        assignment_audiences.c.assignment_id)
                                  .where(Assignment.active.is_(True),
                                         assignment_audiences.c.audience_id.in_(
                                             sorted(changes))))
        for assignment_id, audience_id in rows:
            change = changes[audience_id]
            affected.setdefault(assignment_id, set()).update(change.joined, change.left)
    if direct_people:
        for chunk in chunked(sorted(direct_people), 500):
            for assignment_id, user_id in db.session.execute(
                    select(assignment_people.c.assignment_id, assignment_people.c.user_id)
                    .join(Assignment, Assignment.id == assignment_people.c.assignment_id)
                    .where(Assignment.active.is_(True),
                           assignment_people.c.user_id.in_(chunk))):
                affected.setdefault(assignment_id, set()).add(user_id)
    for assignment_id, user_ids in sorted(affected.items()):
        sync_assignment(db.session.get(Assignment, assignment_id), user_ids)


def _copy_units(user_ids: Collection[int]) -> None:
    """Enrolments carry their person's current unit, for reports per unit."""
    unit_of = select(User.unit_id).where(User.id == Enrolment.user_id).scalar_subquery()
    for chunk in chunked(sorted(user_ids), 500):
        db.session.execute(update(Enrolment).where(Enrolment.user_id.in_(chunk))
                           .values(unit_id=unit_of)
                           .execution_options(synchronize_session=False))


@job("training.audience_sync")
def audience_sync_job(ctx: JobContext, audience_id: int) -> dict[str, object]:
    """Bring a rule-based audience (and what it is assigned) in line with its rule."""
    from flask_babel import gettext as _

    audience = db.session.get(Audience, audience_id)
    if audience is None:
        return {"missing": True}
    ctx.progress(0, None, _("Working out who joins and who leaves…"))
    with unit_of_work():
        change = sync_rule_audience(audience)
        after_membership_change({audience.id: change})
    return {"joined": len(change.joined), "left": len(change.left)}
