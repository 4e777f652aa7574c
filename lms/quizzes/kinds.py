"""The question types: what a well-formed question of each type has, and how an answer scores.

Pure functions over plain data, shared by the editor, the imports and the grading:
:func:`check_question` lists every problem of a question (an import reports them per row),
:func:`score_answer` gives the fraction of the points an answer earns.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from lms.quizzes.models import Difficulty, QuestionType
from lms.text import fold

TYPE_LABELS = QuestionType.labels()
DIFFICULTY_LABELS = Difficulty.labels()
# Option keys of a version, in the order the author wrote the options.
OPTION_KEYS = "abcdef"
MAX_OPTIONS = len(OPTION_KEYS)
MAX_OPTION_LENGTH = 1000
MAX_POINTS = 1000.0
TRUE_KEY, FALSE_KEY = "t", "f"


@dataclass
class OptionInput:
    """An option as typed: its text, whether it is correct, its feedback; for a matching pair,
    ``text`` is the prompt and ``match`` its answer."""

    text: str = ""
    correct: bool = False
    feedback: str = ""
    match: str = ""


@dataclass
class QuestionContent:
    """What a version holds, before it is stored."""

    type: str
    text_html: str
    options: list[OptionInput] = field(default_factory=list)
    partial: bool = False
    points: float = 1.0
    explanation_html: str = ""


def letter(index: int) -> str:
    """The letter of the ``index``-th option as authors see it (A, B, ...)."""
    return OPTION_KEYS[index].upper() if index < MAX_OPTIONS else str(index + 1)


def _same(text: str) -> str:
    return " ".join(fold(unicodedata.normalize("NFC", text)).split())


def check_question(content: QuestionContent) -> list[str]:
    """Every problem of ``content``, worded for the author; empty when it may be saved."""
    problems: list[str] = []
    if content.type not in set(QuestionType):
        return [_("Unknown question type “%(type)s”: use single, multiple, truefalse or "
                  "matching.", type=content.type)]
    if not content.text_html.strip():
        problems.append(_("The question has no text."))
    if not (isinstance(content.points, int | float) and math.isfinite(content.points)
            and 0 < content.points <= MAX_POINTS):
        problems.append(_("Points are a number above 0 and at most %(max)d.",
                          max=int(MAX_POINTS)))
    options = content.options
    if content.type == QuestionType.TRUE_FALSE:
        if sum(1 for o in options if o.correct) != 1 or len(options) != 2:
            problems.append(_("A true/false question needs its correct answer: true or "
                              "false."))
        return problems
    if len(options) > MAX_OPTIONS:
        problems.append(_("A question has at most %(n)d options.", n=MAX_OPTIONS))
    for index, option in enumerate(options):
        for value in (option.text, option.match, option.feedback):
            if len(value) > MAX_OPTION_LENGTH:
                problems.append(_("Option %(letter)s is too long (at most %(n)d characters).",
                                  letter=letter(index), n=MAX_OPTION_LENGTH))
                break
    if content.type == QuestionType.MATCHING:
        problems += _check_pairs(options)
        return problems
    if len(options) < 2:
        problems.append(_("A choice question needs at least two options."))
    problems += _duplicates([o.text for o in options])
    correct = sum(1 for o in options if o.correct)
    if options and correct == 0:
        problems.append(no_correct_option())
    if content.type == QuestionType.SINGLE and correct > 1:
        problems.append(_("A single-choice question has exactly one correct option; %(n)d "
                          "are marked.", n=correct))
    return problems


def no_correct_option() -> str:
    return _("No option is marked correct.")


def _duplicates(texts: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    problems = []
    for index, value in enumerate(texts):
        key = _same(value)
        if key in seen:
            problems.append(_("Options %(first)s and %(second)s are the same.",
                              first=letter(seen[key]), second=letter(index)))
        else:
            seen[key] = index
    return problems


def _check_pairs(options: Sequence[OptionInput]) -> list[str]:
    problems = []
    if len(options) < 2:
        problems.append(_("A matching question needs at least two pairs."))
    for index, option in enumerate(options):
        if not option.text.strip() or not option.match.strip():
            problems.append(_("Pair %(letter)s needs a prompt and its answer, as "
                              "“prompt -> answer”.", letter=letter(index)))
    problems += _duplicates([o.text for o in options])
    problems += _duplicates([o.match for o in options])
    return problems


def stored_options(content: QuestionContent) -> list[dict[str, Any]]:
    """The options as a version stores them, each with its key."""
    if content.type == QuestionType.TRUE_FALSE:
        truth = content.options[0].correct
        feedback = {TRUE_KEY: content.options[0].feedback, FALSE_KEY: content.options[1].feedback}
        return [{"key": key, "text": "", "correct": correct, "feedback": feedback[key]}
                for key, correct in ((TRUE_KEY, truth), (FALSE_KEY, not truth))]
    stored = []
    for index, option in enumerate(content.options):
        row: dict[str, Any] = {"key": OPTION_KEYS[index], "text": option.text.strip(),
                               "feedback": option.feedback.strip()}
        if content.type == QuestionType.MATCHING:
            row["match"] = option.match.strip()
        else:
            row["correct"] = bool(option.correct)
        stored.append(row)
    return stored


def true_false(answer_is_true: bool, feedback_true: str = "",
               feedback_false: str = "") -> list[OptionInput]:
    """The two options of a true/false question (true first)."""
    return [OptionInput("true", answer_is_true, feedback_true),
            OptionInput("false", not answer_is_true, feedback_false)]


def content_of(version_type: str, options: Sequence[Mapping[str, Any]]) -> list[OptionInput]:
    """A stored version's options, back in the editor's shape."""
    if version_type == QuestionType.TRUE_FALSE:
        by_key = {o["key"]: o for o in options}
        return true_false(bool(by_key[TRUE_KEY]["correct"]), by_key[TRUE_KEY]["feedback"],
                          by_key[FALSE_KEY]["feedback"])
    return [OptionInput(o["text"], bool(o.get("correct")), o.get("feedback", ""),
                        o.get("match", "")) for o in options]


# --- scoring -------------------------------------------------------------------------------

def score_answer(version_type: str, options: Sequence[Mapping[str, Any]], partial: bool,
                 answer: Any) -> float:
    """The fraction (0 to 1) of the points ``answer`` earns.

    Choice questions: ``answer`` is a list of option keys. Multiple choice with partial
    credit: each correct option chosen adds 1/(number correct), each wrong one chosen takes
    1/(number wrong) away, never below 0. Matching: ``answer`` maps prompt keys to answer
    keys; partial credit is the share of pairs matched, all-or-nothing needs them all.
    """
    if answer is None:
        return 0.0
    if version_type == QuestionType.MATCHING:
        if not isinstance(answer, dict) or not options:
            return 0.0
        right = sum(1 for o in options if answer.get(o["key"]) == o["key"])
        share = right / len(options)
        return share if partial else float(share == 1.0)
    if not isinstance(answer, list):
        return 0.0
    chosen = set(answer)
    correct = {o["key"] for o in options if o.get("correct")}
    if version_type != QuestionType.MULTIPLE or not partial:
        return float(chosen == correct)
    wrong = {o["key"] for o in options} - correct
    gained = len(chosen & correct) / len(correct) if correct else 0.0
    lost = len(chosen & wrong) / len(wrong) if wrong else 0.0
    return max(0.0, gained - lost)
