"""Question banks in and out: CSV and XLSX with the columns
``category, type, text, option_a … option_f, correct, points, explanation, record`` (and,
optionally, ``difficulty`` and ``feedback_a … feedback_f``), and Moodle's GIFT.

An import checks every row first, against the whole file and the bank, and reports one line
per bad row; then it writes all of it in one transaction or nothing (a dry run never writes).
A question the bank already has (same type and text) is skipped, so importing a file twice
adds nothing. Cells a spreadsheet would run as a formula are refused unless written as text
(an XLSX text cell, or a CSV cell starting with an apostrophe, which our exports write).
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from lms import audit
from lms.accounts.models import User
from lms.accounts.people_import import decode_text
from lms.errors import ValidationError
from lms.extensions import db
from lms.permissions import require
from lms.quizzes import banks, gift, kinds
from lms.quizzes.models import (
    Difficulty,
    Question,
    QuestionBank,
    QuestionCategory,
    QuestionType,
    QuestionVersion,
)
from lms.text import fold
from lms.uow import unit_of_work

LETTERS = kinds.OPTION_KEYS
COLUMNS = ("category", "type", "text", *(f"option_{c}" for c in LETTERS), "correct", "points",
           "explanation", "record")
EXTRA_COLUMNS = ("difficulty", *(f"feedback_{c}" for c in LETTERS))
# Type names of the files: multiple choice and matching say how they are graded.
FILE_TYPES = {
    "single": (QuestionType.SINGLE, False),
    "multiple": (QuestionType.MULTIPLE, False),
    "multiple_partial": (QuestionType.MULTIPLE, True),
    "truefalse": (QuestionType.TRUE_FALSE, False),
    "true_false": (QuestionType.TRUE_FALSE, False),
    "matching": (QuestionType.MATCHING, True),
    "matching_all": (QuestionType.MATCHING, False),
}
TRUE_WORDS = {"true", "t", "1", "dung", "d", "yes"}
FALSE_WORDS = {"false", "f", "0", "sai", "s", "no"}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?%?$")
_PARAGRAPH = re.compile(r"^<p>([^<]*)</p>$")
FORMATS = ("csv", "xlsx", "gift")


class BankFileError(ValidationError):
    """The file as a whole cannot be read (format, encoding, header, size)."""


@dataclass
class Cell:
    value: str
    formula: bool = False  # an XLSX formula (never text)
    typed: bool = False  # an XLSX cell whose type says it is text or a number


@dataclass
class Draft:
    """One question read from a file: where, what, and what is wrong with it."""

    number: int  # the line (CSV, GIFT) or row (XLSX)
    category: str
    data: banks.QuestionInput | None
    problems: list[str] = field(default_factory=list)
    excerpt: str = ""
    key_problem: bool = False  # the correct column was already reported


@dataclass
class RowReport:
    number: int
    excerpt: str
    outcome: str  # new | exists | error
    problems: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    source: str
    dry_run: bool
    rows: list[RowReport] = field(default_factory=list)
    created_categories: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(row.outcome for row in self.rows)
        return {k: counts.get(k, 0) for k in ("new", "exists", "error")}

    @property
    def failed(self) -> bool:
        return any(row.outcome == "error" for row in self.rows)

    @property
    def errors(self) -> list[RowReport]:
        return [row for row in self.rows if row.outcome == "error"]


# --- reading -------------------------------------------------------------------------------

def _text(data: bytes) -> str:
    try:
        return decode_text(data)
    except UnicodeDecodeError as error:
        raise BankFileError(_("The file is neither UTF-8 nor Windows-1258 text.")) from error


def _csv_lines(data: bytes) -> Iterator[tuple[int, list[Cell]]]:
    text = _text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for cells in reader:
            yield reader.line_num, [Cell(c) for c in cells]
    except csv.Error as error:
        raise BankFileError(_("The CSV file is malformed near line %(n)d.",
                              n=reader.line_num)) from error


def _xlsx_lines(data: bytes) -> Iterator[tuple[int, list[Cell]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # Not data_only: a formula cell reads as its formula, and is refused as one.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (InvalidFileException, KeyError, OSError, ValueError) as error:
        raise BankFileError(_("The file is not a readable XLSX workbook.")) from error
    try:
        for number, row in enumerate(workbook.worksheets[0].iter_rows(), start=1):
            yield number, [_xlsx_cell(cell) for cell in row]
    finally:
        workbook.close()


def _xlsx_cell(cell: Any) -> Cell:
    value = getattr(cell, "value", None)
    if value is None:
        return Cell("")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    formula = getattr(cell, "data_type", "") == "f"
    return Cell(unicodedata.normalize("NFC", str(value)), formula, not formula)


def _header(cells: Sequence[Cell]) -> list[str]:
    header = [fold(c.value).strip().replace(" ", "_") for c in cells]
    known = set(COLUMNS) | set(EXTRA_COLUMNS)
    unknown = [name for name in header if name and name not in known]
    if unknown:
        raise BankFileError(_("Unknown columns: %(columns)s. The columns are: %(known)s.",
                              columns=", ".join(unknown), known=", ".join(COLUMNS)))
    missing = [name for name in ("category", "type", "text") if name not in header]
    if missing:
        raise BankFileError(_("Missing columns: %(columns)s.", columns=", ".join(missing)))
    twice = [name for name, n in Counter(h for h in header if h).items() if n > 1]
    if twice:
        raise BankFileError(_("Columns named twice: %(columns)s.", columns=", ".join(twice)))
    return header


def _cell_value(column: str, cell: Cell, problems: list[str]) -> str:
    """The cell's text; a formula (or formula-looking CSV text) is a problem."""
    value = cell.value
    if cell.formula:
        problems.append(_("The %(column)s cell is a spreadsheet formula; type it as text.",
                          column=column))
        return ""
    if not cell.typed and value.startswith("'") and value[1:2] and value[1] in "=+-@\t\r":
        return value[1:]  # written as text (our CSV exports quote this way)
    if not cell.typed and value.startswith(FORMULA_PREFIXES) and \
            not _NUMBER.match(value.strip()):
        problems.append(_("The %(column)s cell starts with %(char)r, like a spreadsheet "
                          "formula; put an apostrophe (') before it to keep it as text.",
                          column=column, char=value[0]))
        return ""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        problems.append(_("The %(column)s cell contains invalid characters.", column=column))
        return ""
    return value


def _number(value: str, default: float) -> float | None:
    value = value.strip().replace(",", ".")
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        return None


def _letters(value: str) -> list[str]:
    return [p.strip().lower() for p in re.split(r"[,;\s]+", value) if p.strip()]


def _tabular_draft(number: int, row: dict[str, Cell]) -> Draft:
    problems: list[str] = []
    cells = {column: _cell_value(column, cell, problems) for column, cell in row.items()}
    category = cells.get("category", "").strip()
    excerpt = " ".join(cells.get("text", "").split())[:80]
    if problems:
        return Draft(number, category, None, problems, excerpt)  # a refused cell says it all
    type_name = fold(cells.get("type", "")).strip().replace(" ", "_").replace("-", "_")
    if type_name not in FILE_TYPES:
        problems.append(_("Unknown question type “%(type)s”: use single, multiple, "
                          "multiple_partial, truefalse, matching or matching_all.",
                          type=cells.get("type", "")))
        return Draft(number, category, None, problems, excerpt)
    question_type, partial = FILE_TYPES[type_name]
    key_problem = False
    if not category:
        problems.append(_("The category is empty."))
    options: list[kinds.OptionInput] = []
    letters_given: list[str] = []
    for letter in LETTERS:
        text = cells.get(f"option_{letter}", "").strip()
        if text:
            letters_given.append(letter)
            options.append(kinds.OptionInput(text, False, cells.get(f"feedback_{letter}", "")))
    correct = cells.get("correct", "").strip()
    if question_type == QuestionType.TRUE_FALSE:
        word = fold(correct)
        if word not in TRUE_WORDS | FALSE_WORDS:
            problems.append(_("No correct answer: a true/false question says true or false in "
                              "the correct column."))
            options = kinds.true_false(True)
        else:
            options = kinds.true_false(word in TRUE_WORDS, cells.get("feedback_a", ""),
                                       cells.get("feedback_b", ""))
    elif question_type == QuestionType.MATCHING:
        pairs = []
        for option in options:
            prompt, arrow, answer = option.text.partition("->")
            if not arrow:
                problems.append(_("Matching options are written “prompt -> answer”."))
                break
            pairs.append(kinds.OptionInput(prompt.strip(), False, option.feedback,
                                           answer.strip()))
        options = pairs
    else:
        chosen = _letters(correct)
        if not chosen:
            problems.append(_("No correct answer given (the correct column is empty)."))
        outside = [c.upper() for c in chosen if c not in letters_given]
        if outside:
            problems.append(_("The correct answer %(given)s is not one of the options "
                              "(%(options)s).", given=", ".join(outside),
                              options=", ".join(c.upper() for c in letters_given) or "—"))
        for letter, option in zip(letters_given, options, strict=True):
            option.correct = letter in chosen
        key_problem = not chosen or bool(outside)
    points = _number(cells.get("points", ""), 1.0)
    if points is None:
        problems.append(_("Points are a number (such as 1 or 0.5)."))
        points = 1.0
    record = cells.get("record", "").strip().lstrip("#")
    if record and not record.isdigit():
        problems.append(_("The record column holds a record number."))
    difficulty = fold(cells.get("difficulty", "")).strip() or Difficulty.MEDIUM
    content = kinds.QuestionContent(question_type, cells.get("text", ""), options, partial,
                                    points, cells.get("explanation", ""))
    return Draft(number, category, banks.QuestionInput(
        content, None, difficulty, int(record) if record.isdigit() else None), problems,
        excerpt, key_problem)


def _tabular_drafts(lines: Iterator[tuple[int, list[Cell]]], max_rows: int) -> list[Draft]:
    header: list[str] | None = None
    drafts: list[Draft] = []
    for number, cells in lines:
        if not any(c.value.strip() for c in cells):
            continue
        if header is None:
            header = _header(cells)
            continue
        if len(drafts) >= max_rows:
            raise BankFileError(_("The file has more than %(n)d questions. Split it into files "
                                  "of at most %(n)d; nothing was imported.", n=max_rows))
        drafts.append(_tabular_draft(number, {name: cells[i] if i < len(cells) else Cell("")
                                              for i, name in enumerate(header) if name}))
    if header is None:
        raise BankFileError(_("The file is empty."))
    return drafts


def _gift_drafts(data: bytes, max_rows: int) -> list[Draft]:
    questions = gift.parse(_text(data))
    if len(questions) > max_rows:
        raise BankFileError(_("The file has more than %(n)d questions. Split it into files "
                              "of at most %(n)d; nothing was imported.", n=max_rows))
    if not questions:
        raise BankFileError(_("The file holds no GIFT question."))
    drafts = []
    for q in questions:
        text = q.text if q.is_html else html.escape(q.text)
        problems = list(q.problems)
        points = _number(q.meta.get("points", ""), 1.0)
        if points is None:
            problems.append(_("Points are a number (such as 1 or 0.5)."))
            points = 1.0
        record = q.meta.get("record", "").lstrip("#")
        difficulty = fold(q.meta.get("difficulty", "")) or Difficulty.MEDIUM
        if not q.category:
            problems.append(_("No $CATEGORY: line before this question."))
        explanation = q.explanation if q.is_html else html.escape(q.explanation)
        data_in = banks.QuestionInput(
            kinds.QuestionContent(q.type, text, q.options, q.partial, points, explanation),
            None, difficulty, int(record) if record.isdigit() else None) if q.type else None
        drafts.append(Draft(q.line, q.category, data_in, problems,
                            " ".join(q.text.split())[:80]))
    return drafts


def read_drafts(data: bytes, filename: str) -> list[Draft]:
    """The questions of a bank file (by its extension: .csv, .xlsx, .gift or .txt).

    :raise BankFileError: the file as a whole cannot be read, or has too many questions.
    """
    max_rows = int(current_app.config["QUIZ_IMPORT_MAX_ROWS"])
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix == "xlsx":
        return _tabular_drafts(_xlsx_lines(data), max_rows)
    if suffix == "csv":
        return _tabular_drafts(_csv_lines(data), max_rows)
    if suffix in ("gift", "txt"):
        return _gift_drafts(data, max_rows)
    raise BankFileError(_("Choose a .csv, .xlsx or .gift file."))


# --- importing -----------------------------------------------------------------------------

def import_bank(actor: User, bank: QuestionBank, data: bytes, filename: str, *,
                dry_run: bool = False, create_categories: bool = False) -> ImportReport:
    """Check every question of the file; unless ``dry_run`` or a row has problems, add the
    new ones to ``bank`` in one transaction.

    :raise BankFileError: the file cannot be read at all.
    """
    require(actor, "bank.manage", bank)
    drafts = read_drafts(data, filename)
    report = ImportReport(filename, dry_run)
    known = {fp for (fp,) in db.session.execute(select(Question.fingerprint).where(
        Question.bank_id == bank.id, Question.archived_at.is_(None)))}
    paths = {c.path.lower(): c for c in banks.categories(bank)}
    new_paths: dict[str, str] = {}
    checked: list[tuple[Draft, kinds.QuestionContent]] = []
    for draft in drafts:
        problems = list(draft.problems)
        path = banks.normalise_path(draft.category)
        category = paths.get(path.lower())
        if path and category is None:
            if create_categories:
                new_paths.setdefault(path.lower(), path)
            else:
                problems.append(_("Unknown category “%(path)s”: add it to the bank first, or "
                                  "let the import create missing categories.", path=path))
        content = None
        if draft.data is not None:
            draft.data.category_id = category.id if category else None
            content, found = banks.check_input(actor, bank, draft.data,
                                               category_known=category is not None)
            problems += [p for p in found
                         if not (draft.key_problem and p == kinds.no_correct_option())]
        if problems or content is None:
            report.rows.append(RowReport(draft.number, draft.excerpt, "error",
                                         list(dict.fromkeys(problems))))
            continue
        fingerprint = banks.fingerprint(content.type, content.text_html)
        if fingerprint in known:
            report.rows.append(RowReport(draft.number, draft.excerpt, "exists"))
            continue
        known.add(fingerprint)
        report.rows.append(RowReport(draft.number, draft.excerpt, "new"))
        checked.append((draft, content))
    report.created_categories = sorted(new_paths.values())
    if dry_run or report.failed or not checked:
        return report
    with unit_of_work():
        for lowered, path in new_paths.items():
            paths[lowered] = banks.ensure_category(bank, path)
        for draft, _content in checked:
            draft.data.category_id = paths[banks.normalise_path(draft.category).lower()].id
        banks.add_questions(actor, bank, [(content, draft.data) for draft, content in checked])
        audit.record("bank_import", actor=actor, obj=bank,
                     details={"file": filename[:200], **report.counts,
                              "categories": report.created_categories[:50]})
    return report


# --- exporting -----------------------------------------------------------------------------

def _plain_or_html(text_html: str) -> str:
    """One paragraph of plain text is exported as that text; richer HTML as HTML."""
    found = _PARAGRAPH.match(text_html.strip())
    return html.unescape(found.group(1)) if found else text_html


def _file_type(version: QuestionVersion) -> str:
    for name, (kind, partial) in FILE_TYPES.items():
        if kind == version.type and (kind not in (QuestionType.MULTIPLE, QuestionType.MATCHING)
                                     or partial == version.partial):
            return name
    return version.type


def _rows(bank: QuestionBank) -> Iterator[tuple[Question, QuestionVersion, str]]:
    stmt = (select(Question, QuestionVersion, QuestionCategory.path)
            .join(QuestionVersion, (QuestionVersion.question_id == Question.id)
                  & (QuestionVersion.number == Question.current_version))
            .join(QuestionCategory, QuestionCategory.id == Question.category_id)
            .where(Question.bank_id == bank.id, Question.archived_at.is_(None))
            .order_by(QuestionCategory.path, Question.id))
    yield from db.session.execute(stmt)


def _table(bank: QuestionBank) -> Iterator[list[object]]:
    yield [*COLUMNS, *EXTRA_COLUMNS]
    for question, version, path in _rows(bank):
        options = version.options
        cells: dict[str, object] = {"category": path, "type": _file_type(version),
                                    "text": _plain_or_html(version.text_html),
                                    "points": version.points if version.points != int(
                                        version.points) else int(version.points),
                                    "explanation": _plain_or_html(version.explanation_html),
                                    "record": question.record_id or "",
                                    "difficulty": question.difficulty}
        if version.type == QuestionType.TRUE_FALSE:
            by_key = {o["key"]: o for o in options}
            cells["correct"] = "true" if by_key["t"]["correct"] else "false"
            cells["feedback_a"], cells["feedback_b"] = (by_key["t"]["feedback"],
                                                        by_key["f"]["feedback"])
        else:
            for letter, option in zip(LETTERS, options, strict=False):
                text = option["text"]
                if version.type == QuestionType.MATCHING:
                    text = f"{text} -> {option['match']}"
                cells[f"option_{letter}"] = text
                cells[f"feedback_{letter}"] = option.get("feedback", "")
            cells["correct"] = ",".join(letter for letter, option in zip(LETTERS, options,
                                                                         strict=False)
                                        if option.get("correct"))
        yield [cells.get(column, "") for column in (*COLUMNS, *EXTRA_COLUMNS)]


def _csv_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and \
            not _NUMBER.match(value.strip()):
        return "'" + value
    return value


def export_bank(actor: User, bank: QuestionBank, fmt: str) -> tuple[bytes, str, str]:
    """The bank's questions (current versions, not archived) as a file: (content, media
    type, file name).

    :raise ValidationError: an unknown format.
    """
    require(actor, "bank.use", bank)
    stem = f"ngan-hang-{bank.id}"
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        for row in _table(bank):
            writer.writerow([_csv_safe(v) for v in row])
        return ("\ufeff" + out.getvalue()).encode(), "text/csv; charset=utf-8", f"{stem}.csv"
    if fmt == "xlsx":
        return _xlsx(bank), ("application/vnd.openxmlformats-officedocument."
                             "spreadsheetml.sheet"), f"{stem}.xlsx"
    if fmt == "gift":
        questions = [gift.GiftOut(path, f"Q{question.id}", version.type, version.text_html,
                                  version.options, version.partial, version.explanation_html,
                                  question.difficulty, version.points, question.record_id)
                     for question, version, path in _rows(bank)]
        return gift.write(questions).encode(), "text/plain; charset=utf-8", f"{stem}.gift"
    raise ValidationError(_("Choose CSV, XLSX or GIFT."))


def _xlsx(bank: QuestionBank) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Questions")[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    for index, row in enumerate(_table(bank)):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula stays text
            if index == 0:
                cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
