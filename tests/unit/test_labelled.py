"""Codes declared with their display names (lms.labelled)."""

from __future__ import annotations

import json

import pytest
from flask_babel import lazy_gettext as _l

from lms.labelled import LabelledEnum
from lms.quizzes.models import QuizStatus
from lms.quizzes.quizzes import STATUS_LABELS


class Colour(LabelledEnum):
    RED = "red", _l("Draft")
    BLUE = "blue", _l("Published")


def test_a_member_is_its_code_and_carries_its_label(app):
    assert Colour("red") is Colour.RED
    assert Colour.RED == "red"
    assert str(Colour.BLUE) == "blue"
    assert json.dumps([Colour.BLUE]) == '["blue"]'
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        assert str(Colour.RED.label) == "Bản nháp"


def test_labels_keep_the_declaration_order_and_answer_the_plain_code():
    labels = Colour.labels()
    assert list(labels) == [Colour.RED, Colour.BLUE]
    assert labels["blue"] is Colour.BLUE.label


def test_a_member_without_a_label_does_not_declare():
    with pytest.raises(TypeError):
        class Unnamed(LabelledEnum):
            SILENT = "silent"


def test_a_label_table_names_every_code_by_its_plain_string(app):
    assert list(STATUS_LABELS) == list(QuizStatus)
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        assert str(STATUS_LABELS["closed"]) == "Đã đóng"
