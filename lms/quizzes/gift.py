"""Moodle's GIFT text format, read and written for the four question types.

Read: ``$CATEGORY:`` lines, ``// comments``, ``::title::``, ``[html]``/``[plain]``/
``[markdown]``/``[moodle]`` markers, answer blocks ``{=right ~wrong#feedback}``,
``{~%50%a ~%50%b ~%-100%c}`` (multiple choice with weights: partial credit), ``{T}``/
``{FALSE#feedback when wrong#feedback when right}``, ``{=prompt -> answer ...}`` (matching),
``####general feedback`` and the escapes ``\\~ \\= \\# \\{ \\} \\: \\\\ \\n``. Short answer,
numerical, essay and description questions are reported as unsupported.

Our own comments carry what GIFT has no syntax for, and are read back: ``// difficulty: hard``,
``// points: 2``, ``// record: 12``, ``// grading: all-or-nothing``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask_babel import gettext as _

from lms.quizzes.kinds import OptionInput, true_false
from lms.quizzes.models import QuestionType

SPECIAL = "~=#{}:"
_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
_META = re.compile(r"^//\s*(difficulty|points|record|grading)\s*:\s*(.*)$", re.IGNORECASE)


@dataclass
class GiftQuestion:
    """One question read from a GIFT file; ``problems`` say why it cannot be imported."""

    line: int
    category: str
    type: str = ""
    text: str = ""  # HTML, or plain text (``is_html`` False)
    is_html: bool = False
    options: list[OptionInput] = field(default_factory=list)
    partial: bool = False
    explanation: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out).strip()


def _split_unescaped(text: str, separators: str) -> list[tuple[str, str]]:
    """``text`` cut before each unescaped separator: [(separator or "", piece), ...]."""
    parts: list[tuple[str, str]] = []
    current, marker, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i:i + 2])
            i += 2
            continue
        if ch in separators:
            parts.append((marker, "".join(current)))
            current, marker = [], ch
        else:
            current.append(ch)
        i += 1
    parts.append((marker, "".join(current)))
    return parts


def _find_unescaped(text: str, char: str, start: int = 0) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == char:
            return i
        i += 1
    return -1


def _blocks(text: str) -> Iterator[tuple[int, list[str]]]:
    """Groups of non-blank lines with the number of their first line."""
    block: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            if not block:
                start = number
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _category(line: str) -> str:
    path = line.split(":", 1)[1].strip()
    for prefix in ("$course$/", "$system$/", "$module$/", "$cat1$/", "$cat2$/", "$cat3$/"):
        path = path.removeprefix(prefix)
    parts = [p for p in path.split("/") if p]
    if parts and parts[0].lower() == "top":
        parts = parts[1:]
    return "/".join(parts)


def parse(text: str) -> list[GiftQuestion]:
    """Every question of a GIFT file, with its category and problems."""
    questions: list[GiftQuestion] = []
    category = ""
    for start, lines in _blocks(text):
        meta: dict[str, str] = {}
        body: list[str] = []
        first = start
        for offset, line in enumerate(lines):
            stripped = line.strip()
            if stripped.startswith("$CATEGORY:"):
                category = _category(stripped)
                continue
            if stripped.startswith("//"):
                found = _META.match(stripped)
                if found:
                    meta[found.group(1).lower()] = found.group(2).strip()
                continue
            if not body:
                first = start + offset
            body.append(line)
        if body:
            question = GiftQuestion(first, category, meta=meta)
            _parse_question(question, "\n".join(body))
            questions.append(question)
    return questions


def _parse_question(question: GiftQuestion, source: str) -> None:
    source = source.strip()
    if source.startswith("::"):
        end = source.find("::", 2)
        if end > 0:
            source = source[end + 2:].strip()
    opening = _find_unescaped(source, "{")
    closing = _find_unescaped(source, "}", opening + 1) if opening >= 0 else -1
    if opening < 0 or closing < 0:
        question.problems.append(_("No answer block {…}: descriptions are not questions."))
        return
    before, block, after = source[:opening], source[opening + 1:closing], source[closing + 1:]
    marker = _FORMAT.match(before)
    if marker:
        question.is_html = marker.group(1).lower() in ("html", "moodle")
        before = before[marker.end():]
    text = _unescape(before)
    if after.strip():
        text = f"{text} _____ {_unescape(after)}"
    question.text = text
    _parse_answers(question, block.strip())


def _parse_answers(question: GiftQuestion, block: str) -> None:
    explanation_at = block.find("####")
    if explanation_at >= 0:
        question.explanation = _unescape(block[explanation_at + 4:])
        block = block[:explanation_at].strip()
    if block.startswith("#"):
        question.problems.append(_("Numerical questions are not supported."))
        return
    if not block:
        question.problems.append(_("Essay questions are not supported."))
        return
    truth = _split_unescaped(block, "#")
    word = _unescape(truth[0][1]).upper()
    if word in ("T", "TRUE", "F", "FALSE"):
        wrong_fb = _unescape(truth[1][1]) if len(truth) > 1 else ""
        right_fb = _unescape(truth[2][1]) if len(truth) > 2 else ""
        is_true = word in ("T", "TRUE")
        question.type = QuestionType.TRUE_FALSE
        question.options = true_false(is_true, right_fb if is_true else wrong_fb,
                                      wrong_fb if is_true else right_fb)
        return
    items = [(mark, piece) for mark, piece in _split_unescaped(block, "=~") if mark]
    if not items:
        question.problems.append(_("The answer block has no answers (= right, ~ wrong)."))
        return
    if all(mark == "=" and _find_arrow(piece) >= 0 for mark, piece in items):
        question.type = QuestionType.MATCHING
        question.partial = question.meta.get("grading", "").lower() != "all-or-nothing"
        for _mark, piece in items:
            text, feedback = _feedback(piece)
            arrow = _find_arrow(text)
            question.options.append(OptionInput(_unescape(text[:arrow]), False, feedback,
                                                _unescape(text[arrow + 2:])))
        return
    weighted = False
    for mark, piece in items:
        weight = None
        found = _WEIGHT.match(piece.strip())
        if found:
            weight, weighted = float(found.group(1)), True
            piece = piece.strip()[found.end():]
        text, feedback = _feedback(piece)
        correct = weight > 0 if weight is not None else mark == "="
        question.options.append(OptionInput(_unescape(text), correct, feedback))
    if not any(mark == "~" for mark, _p in items) and not weighted:
        question.problems.append(_("Short-answer questions are not supported."))
        return
    correct = sum(1 for o in question.options if o.correct)
    if weighted or correct > 1:
        question.type = QuestionType.MULTIPLE
        question.partial = question.meta.get("grading", "").lower() != "all-or-nothing"
    else:
        question.type = QuestionType.SINGLE


def _find_arrow(text: str) -> int:
    i = 0
    while i < len(text) - 1:
        if text[i] == "\\":
            i += 2
            continue
        if text[i:i + 2] == "->":
            return i
        i += 1
    return -1


def _feedback(piece: str) -> tuple[str, str]:
    parts = _split_unescaped(piece, "#")
    return parts[0][1], (_unescape(parts[1][1]) if len(parts) > 1 else "")


# --- writing -------------------------------------------------------------------------------

def escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for ch in SPECIAL:
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


@dataclass
class GiftOut:
    category: str
    title: str
    type: str
    text_html: str
    options: list[dict]
    partial: bool
    explanation_html: str
    difficulty: str
    points: float
    record_id: int | None


def _weight(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def write(questions: list[GiftOut]) -> str:
    """GIFT text of ``questions`` (grouped by category in the order given)."""
    out: list[str] = []
    category = None
    for q in questions:
        if q.category != category:
            category = q.category
            out.append(f"$CATEGORY: {category.replace(' / ', '/')}\n")
        out.append(f"// difficulty: {q.difficulty}")
        if q.points != 1.0:
            out.append(f"// points: {_weight(q.points)}")
        if q.record_id:
            out.append(f"// record: {q.record_id}")
        if q.type in (QuestionType.MULTIPLE, QuestionType.MATCHING) and not q.partial:
            out.append("// grading: all-or-nothing")
        out.append(f"::{escape(q.title)}::[html]{escape(q.text_html)}{{")
        out.extend(_answers(q))
        if q.explanation_html:
            out.append(f"\t####{escape(q.explanation_html)}")
        out.append("}\n")
    return "\n".join(out)


def _fb(option: dict) -> str:
    return f"#{escape(option['feedback'])}" if option.get("feedback") else ""


def _answers(q: GiftOut) -> list[str]:
    if q.type == QuestionType.TRUE_FALSE:
        by_key = {o["key"]: o for o in q.options}
        is_true = bool(by_key["t"]["correct"])
        right, wrong = (by_key["t"], by_key["f"]) if is_true else (by_key["f"], by_key["t"])
        feedback = ""
        if right.get("feedback") or wrong.get("feedback"):
            feedback = f"#{escape(wrong.get('feedback', ''))}#{escape(right.get('feedback', ''))}"
        return [f"\t{'TRUE' if is_true else 'FALSE'}{feedback}"]
    if q.type == QuestionType.MATCHING:
        return [f"\t={escape(o['text'])} -> {escape(o['match'])}{_fb(o)}" for o in q.options]
    if q.type == QuestionType.SINGLE:
        return [f"\t{'=' if o['correct'] else '~'}{escape(o['text'])}{_fb(o)}"
                for o in q.options]
    right = [o for o in q.options if o["correct"]]
    wrong = [o for o in q.options if not o["correct"]]
    lines = []
    for o in q.options:
        weight = 100 / len(right) if o["correct"] else (-100 / len(wrong))
        lines.append(f"\t~%{_weight(weight)}%{escape(o['text'])}{_fb(o)}")
    return lines
