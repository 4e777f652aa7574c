"""The quiz rules of the policy: None denies, anonymous visitors get nothing, banks are seen
by those they are shared with, and the list filters say what the rules say."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from lms.extensions import db
from lms.permissions import can, policy
from lms.quizzes.access import RULES, edited_quizzes, used_banks
from lms.quizzes.models import QuestionBank, Quiz
from tests.factories import UnitFactory, UserFactory

OBJECT_RULES = sorted(name for name in RULES if name not in {
    "bank.create", "bank.share_all", "quiz.create", "quiz.all_units"})


def test_quiz_rules_are_part_of_the_policy():
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


def test_banks_are_used_by_those_they_are_shared_with(app_ctx):
    academy = UnitFactory(name="Học viện")
    faculty = UnitFactory(name="Khoa", parent=academy)
    klass = UnitFactory(name="Lớp", parent=faculty)
    other = UnitFactory(name="Khoa khác", parent=academy)
    owner = UserFactory(roles=["trainer"], unit=faculty)
    above = UserFactory(roles=["trainer"], unit=academy)
    inside = UserFactory(roles=["trainer"], unit=klass)
    beside = UserFactory(roles=["trainer"], unit=other)
    learner = UserFactory(roles=["learner"], unit=faculty)
    admin = UserFactory(roles=["admin"], unit=other)
    db.session.flush()
    banks = {sharing: QuestionBank(name=sharing, owner_id=owner.id, sharing=sharing,
                                   unit_id=faculty.id)
             for sharing in ("private", "unit", "academy")}
    db.session.add_all(banks.values())
    db.session.flush()
    people = [owner, above, inside, beside, learner, admin]
    seen = {sharing: [can(p, "bank.use", bank) for p in people]
            for sharing, bank in banks.items()}
    assert seen == {"private": [True, False, False, False, False, True],
                    "unit": [True, True, True, False, False, True],
                    "academy": [True, True, True, True, False, True]}
    assert [can(p, "bank.manage", banks["unit"]) for p in people] == [
        True, False, False, False, False, True]
    for person in people:
        listed = set(db.session.scalars(select(QuestionBank.name).where(used_banks(person))))
        assert listed == {s for s, bank in banks.items() if can(person, "bank.use", bank)}


def test_the_quiz_list_says_what_quiz_edit_says(app_ctx):
    unit = UnitFactory()
    author = UserFactory(roles=["trainer"], unit=unit)
    other = UserFactory(roles=["trainer"], unit=unit)
    admin = UserFactory(roles=["admin"])
    db.session.flush()
    quiz = Quiz(title="Kiểm tra", created_by_id=author.id)
    db.session.add(quiz)
    db.session.flush()
    for person in (author, other, admin):
        listed = bool(db.session.scalars(select(Quiz.id).where(edited_quizzes(person))).all())
        assert listed is can(person, "quiz.edit", quiz)
    assert [can(p, "quiz.edit", quiz) for p in (author, other, admin)] == [True, False, True]
