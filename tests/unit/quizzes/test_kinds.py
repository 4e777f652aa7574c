"""The question types: what each must have, and what an answer earns."""

from __future__ import annotations

import pytest

from lms.quizzes.kinds import OptionInput, QuestionContent, check_question, score_answer, true_false

ONE = [{"key": "a", "correct": True}, {"key": "b", "correct": False},
       {"key": "c", "correct": False}]
TWO = [{"key": "a", "correct": True}, {"key": "b", "correct": False},
       {"key": "c", "correct": True}, {"key": "d", "correct": False}]
PAIRS = [{"key": "a", "text": "Word", "match": "Văn bản"},
         {"key": "b", "text": "Excel", "match": "Bảng tính"},
         {"key": "c", "text": "PowerPoint", "match": "Trình chiếu"},
         {"key": "d", "text": "Paint", "match": "Hình vẽ"}]


@pytest.mark.parametrize(("kind", "partial", "answer", "expected"), [
    ("single", False, ["a"], 1.0),
    ("single", False, ["b"], 0.0),
    ("single", False, None, 0.0),
    ("single", False, "a", 0.0),  # not a list
    ("truefalse", False, ["a"], 1.0),
    ("multiple", False, ["a", "c"], 1.0),
    ("multiple", False, ["c", "a"], 1.0),
    ("multiple", False, ["a"], 0.0),
    ("multiple", False, ["a", "b", "c"], 0.0),
    ("multiple", True, ["a"], 0.5),
    ("multiple", True, ["a", "c"], 1.0),
    ("multiple", True, ["a", "b"], 0.0),  # +1/2 -1/2
    ("multiple", True, ["a", "c", "d"], 0.5),
    ("multiple", True, ["b", "d"], 0.0),  # never below zero
    ("multiple", True, [], 0.0),
])
def test_choice_scores(kind, partial, answer, expected):
    assert score_answer(kind, TWO if kind == "multiple" else ONE, partial, answer) == expected


@pytest.mark.parametrize(("partial", "answer", "expected"), [
    (True, {"a": "a", "b": "b", "c": "c", "d": "d"}, 1.0),
    (True, {"a": "a", "b": "c", "c": "b", "d": "d"}, 0.5),
    (True, {"a": "a"}, 0.25),
    (False, {"a": "a", "b": "b", "c": "c"}, 0.0),
    (False, {"a": "a", "b": "b", "c": "c", "d": "d"}, 1.0),
    (True, ["a"], 0.0),  # not a mapping
])
def test_matching_scores(partial, answer, expected):
    assert score_answer("matching", PAIRS, partial, answer) == expected


def content(kind, options, **extra):
    return QuestionContent(kind, "<p>Câu hỏi?</p>", options, **extra)


@pytest.mark.parametrize(("question", "problems"), [
    (content("single", [OptionInput("A", True), OptionInput("B")]), []),
    (content("single", [OptionInput("A"), OptionInput("B")]), ["No option is marked correct."]),
    (content("single", [OptionInput("A", True)]),
     ["A choice question needs at least two options."]),
    (content("multiple", [OptionInput("Đúng", True), OptionInput(" đúng ", True)]),
     ["Options A and B are the same."]),
    (content("truefalse", true_false(True)), []),
    (content("truefalse", []), ["A true/false question needs its correct answer: true or "
                                "false."]),
    (content("matching", [OptionInput("Word", match="Văn bản"),
                          OptionInput("Excel", match="Văn bản")]),
     ["Options A and B are the same."]),
    (content("matching", [OptionInput("Word", match="")]),
     ["A matching question needs at least two pairs.",
      "Pair A needs a prompt and its answer, as “prompt -> answer”."]),
    (content("single", [OptionInput("A", True), OptionInput("B")], points=0),
     ["Points are a number above 0 and at most 1000."]),
    (content("single", [OptionInput("A", True), OptionInput("B")], points=float("nan")),
     ["Points are a number above 0 and at most 1000."]),
    (content("single", [OptionInput(str(i), i == 0) for i in range(7)]),
     ["A question has at most 6 options."]),
    (content("essay", []), ["Unknown question type “essay”: use single, multiple, truefalse "
                            "or matching."]),
    (QuestionContent("single", "", [OptionInput("A", True), OptionInput("B")]),
     ["The question has no text."]),
])
def test_check_question(app_ctx, question, problems):
    # Outside a request the messages are in the code base's language (English).
    assert check_question(question) == problems
