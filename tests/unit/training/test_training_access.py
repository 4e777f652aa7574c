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
    "assignment.create", "course.own"})


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


def test_the_list_filters_say_what_the_rules_say(app_ctx):
    """``edited_courses``, ``managed_audiences`` and ``managed_assignments`` select exactly the
    rows ``course.edit``, ``audience.manage`` and ``assignment.manage`` allow, for each kind
    of person."""
    from sqlalchemy import select

    from lms.training.access import edited_courses, managed_assignments, managed_audiences
    from lms.training.models import Assignment, Audience, Course

    root = UnitFactory(name="Học viện")
    faculty = UnitFactory(name="Khoa", parent=root)
    other = UnitFactory(name="Khoa khác", parent=root)
    people = {
        "admin": UserFactory(roles=["admin"], unit=root),
        "trainer": UserFactory(roles=["trainer"], unit=faculty),
        "other": UserFactory(roles=["trainer"], unit=other),
        "learner": UserFactory(roles=["learner"], unit=faculty),
    }
    db.session.flush()
    courses = [Course(title="A", owners=[people["trainer"]]),
               Course(title="B", owners=[people["other"]]), Course(title="C", owners=[])]
    audiences = [Audience(name="a", scope_unit_id=faculty.id),
                 Audience(name="b", scope_unit_id=other.id), Audience(name="c")]
    db.session.add_all(courses + audiences)
    db.session.flush()
    assignments = [Assignment(course_id=courses[0].id, created_by_id=people["other"].id),
                   Assignment(course_id=courses[1].id, created_by_id=people["other"].id),
                   Assignment(course_id=courses[2].id, created_by_id=people["admin"].id)]
    db.session.add_all(assignments)
    db.session.flush()
    for person in people.values():
        for model, clause, rule, rows in (
                (Course, edited_courses, "course.edit", courses),
                (Audience, managed_audiences, "audience.manage", audiences),
                (Assignment, managed_assignments, "assignment.manage", assignments)):
            listed = set(db.session.scalars(select(model.id).where(clause(person))))
            allowed = {row.id for row in rows if can(person, rule, row)}
            assert listed == allowed, (person.username, rule)
