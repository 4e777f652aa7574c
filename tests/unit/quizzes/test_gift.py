"""Moodle's GIFT format: what we read, and that what we write reads back the same."""

from __future__ import annotations

from lms.quizzes import gift


def test_categories_titles_escapes_and_feedback(app_ctx):
    text = ("$CATEGORY: $course$/top/A/B\n\n::T1:: [html]<b>Chọn</b> \\{x\\} \\: \\= \\~ \\#"
            "{=Có#fb1 ~Không#fb2 ####Giải thích}\n")
    [question] = gift.parse(text)
    assert (question.category, question.type, question.is_html) == ("A/B", "single", True)
    assert question.text == "<b>Chọn</b> {x} : = ~ #"
    assert [(o.text, o.correct, o.feedback) for o in question.options] == [
        ("Có", True, "fb1"), ("Không", False, "fb2")]
    assert question.explanation == "Giải thích"


def test_true_false_feedback_goes_to_the_right_answer(app_ctx):
    [question] = gift.parse("Trời xanh.{TRUE#sai rồi#đúng rồi}")
    assert [(o.text, o.correct, o.feedback) for o in question.options] == [
        ("true", True, "đúng rồi"), ("false", False, "sai rồi")]


def test_a_missing_word_question_keeps_the_text_after_the_blank(app_ctx):
    [question] = gift.parse("Thủ đô {=Hà Nội ~Huế} là trung tâm chính trị.")
    assert question.text == "Thủ đô _____ là trung tâm chính trị."


def test_unsupported_types_are_named(app_ctx):
    found = gift.parse("A {=x =y}\n\nB {#1:0}\n\nC {}\n\nD không có đáp án\n")
    assert [q.problems for q in found] == [
        ["Short-answer questions are not supported."],
        ["Numerical questions are not supported."],
        ["Essay questions are not supported."],
        ["No answer block {…}: descriptions are not questions."]]


def test_what_we_write_reads_back(app_ctx):
    out = gift.write([
        gift.GiftOut("Kỹ năng số / Máy tính", "Q1", "multiple", "<p>Chọn {các} = đúng</p>",
                     [{"key": "a", "text": "A~1", "correct": True, "feedback": "hay#"},
                      {"key": "b", "text": "B", "correct": False, "feedback": ""},
                      {"key": "c", "text": "C", "correct": True, "feedback": ""}],
                     False, "<p>Vì thế</p>", "hard", 2.5, 7),
        gift.GiftOut("Kỹ năng số / Máy tính", "Q2", "matching", "<p>Ghép</p>",
                     [{"key": "a", "text": "x", "match": "1", "feedback": ""},
                      {"key": "b", "text": "y", "match": "2", "feedback": ""}],
                     True, "", "easy", 1.0, None),
    ])
    first, second = gift.parse(out)
    assert (first.category, first.type, first.partial, first.text, first.explanation) == (
        "Kỹ năng số/Máy tính", "multiple", False, "<p>Chọn {các} = đúng</p>", "<p>Vì thế</p>")
    assert first.meta == {"difficulty": "hard", "points": "2.5", "record": "7",
                          "grading": "all-or-nothing"}
    assert [(o.text, o.correct, o.feedback) for o in first.options] == [
        ("A~1", True, "hay#"), ("B", False, ""), ("C", True, "")]
    assert (second.type, second.partial) == ("matching", True)
    assert [(o.text, o.match) for o in second.options] == [("x", "1"), ("y", "2")]
