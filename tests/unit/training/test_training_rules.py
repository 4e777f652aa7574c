"""Audience rules: the shapes accepted and refused, before any database is involved."""

from __future__ import annotations

import pytest

from lms.errors import ValidationError
from lms.training.rules import parse_rule


def test_a_rule_is_normalised():
    rule = parse_rule({"combine": "any", "groups": [
        {"conditions": [{"field": "unit", "values": ["3", 3, 7], "subunits": 1},
                        {"field": "cohort", "values": [" K45 ", "", "K45"]},
                        {"field": "rank", "values": []}]},
        {"combine": "any", "conditions": []}]})
    assert rule.as_dict() == {"combine": "any", "groups": [{"combine": "all", "conditions": [
        {"field": "unit", "values": [3, 7], "subunits": True},
        {"field": "cohort", "values": ["K45"]}]}]}
    assert not rule.is_empty


def test_an_empty_rule_is_allowed_and_selects_nobody():
    assert parse_rule({"combine": "all", "groups": []}).is_empty


@pytest.mark.parametrize("data", [
    None, [], "unit=3", {"combine": "xor"}, {"groups": "all"}, {"groups": [1]},
    {"groups": [{"conditions": [{"field": "password", "values": ["x"]}]}]},
    {"groups": [{"conditions": [{"field": "unit", "values": ["three"]}]}]},
    {"groups": [{"conditions": [{"field": "cohort", "values": ["x" * 65]}]}]},
    {"groups": [{"conditions": [{"field": "unit", "values": list(range(501))}]}]},
    {"groups": [{"conditions": []}] * 11},
])
def test_malformed_rules_are_refused(app_ctx, data):
    with pytest.raises(ValidationError):
        parse_rule(data)
