"""The token rules of ``lms.api.access``, for every kind of user (expected answers written
here, not derived from the rules)."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from lms.api.models import PersonalAccessToken
from lms.api.tokens import create_token
from lms.extensions import db
from lms.permissions import can
from tests.factories import UserFactory

KINDS = ("anonymous", "holder", "other", "admin", "disabled")


@pytest.fixture
def world(app_ctx):
    people = {"holder": UserFactory(username="holder"), "other": UserFactory(username="other"),
              "admin": UserFactory(username="boss", roles=["admin"]),
              "disabled": UserFactory(username="gone", roles=["admin"], active=False)}
    db.session.commit()
    token = create_token(people["holder"], "script", "read", 7).token
    return {"anonymous": AnonymousUserMixin(), **people}, token


@pytest.mark.parametrize("rule,on_token,allowed", [
    ("token.create", False, {"holder", "other", "admin"}),
    ("token.revoke", True, {"holder", "admin"}),
    ("token.manage_all", False, {"admin"}),
])
def test_token_rules(world, rule, on_token, allowed):
    people, token = world
    answers = {kind for kind in KINDS if can(people[kind], rule, token if on_token else None)}
    assert answers == allowed


def test_revoking_nothing_or_another_object_is_denied(world):
    people, token = world
    assert can(people["admin"], "token.revoke", None) is False
    assert can(people["admin"], "token.revoke", people["holder"]) is False
    assert isinstance(token, PersonalAccessToken)
