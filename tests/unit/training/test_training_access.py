"""The training rules of the policy: every one handed None (or the wrong kind of object)
denies, whoever asks."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from lms.extensions import db
from lms.permissions import can, policy
from lms.training.access import RULES
from tests.factories import UnitFactory, UserFactory

OBJECT_RULES = sorted(name for name in RULES if name not in {
    "training.area", "course.create", "track.create", "audience.create", "audience.scope_all",
    "assignment.create"})


def test_training_rules_are_part_of_the_policy():
    assert set(RULES) <= set(policy())


@pytest.mark.parametrize("rule", OBJECT_RULES)
def test_a_rule_handed_none_denies_even_an_admin(app_ctx, rule):
    admin = UserFactory(roles=["admin"])
    db.session.flush()
    assert can(admin, rule, None) is False
    assert can(admin, rule, object()) is False


@pytest.mark.parametrize("rule", sorted(RULES))
def test_anonymous_visitors_are_denied_everything(app_ctx, rule):
    assert can(AnonymousUserMixin(), rule, None) is False


def test_learners_have_no_training_area_and_trainers_do(app_ctx):
    unit = UnitFactory()
    learner = UserFactory(roles=["learner"], unit=unit)
    trainer = UserFactory(roles=["trainer"], unit=unit)
    disabled = UserFactory(roles=["trainer"], unit=unit, active=False)
    db.session.flush()
    assert [can(u, "training.area") for u in (learner, trainer, disabled)] == [
        False, True, False]


def test_a_trainer_reaches_people_of_their_unit_tree_only(app_ctx):
    root = UnitFactory(name="Học viện")
    child = UnitFactory(name="Khoa", parent=root)
    other = UnitFactory(name="Khoa khác")
    trainer = UserFactory(roles=["trainer"], unit=root)
    inside = UserFactory(unit=child)
    outside = UserFactory(unit=other)
    homeless = UserFactory(unit=None)
    db.session.flush()
    assert [can(trainer, "person.reach", p) for p in (inside, outside, homeless)] == [
        True, False, False]
