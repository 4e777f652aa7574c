"""Reports as files for the ministry: an XLSX workbook (the unit table and every person's
line) and CSV files, with the same numbers as the page.

XLSX is written by openpyxl in write-only mode, row by row from a database cursor, so memory
stays flat however many people there are: a styled, frozen header; numbers, percentages and
dates as such; Vietnamese sheet names; text that starts with ``=`` stored as text, never a
formula. CSV cells a spreadsheet would run as a formula are escaped with ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from lms.reports.queries import UnitTree
from lms.reports.services import Report, Row, person_lines
from lms.reports.targets import RAG_LABELS
from lms.training.forms import local_day
from lms.training.progress import STATUS_LABELS
from metadata.crosswalks.csvio import escape_formula

SUMMARY_SHEET = "Tổng hợp theo đơn vị"
PEOPLE_SHEET = "Danh sách học viên"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="17346E")
PROGRESS_EVERY = 5000

Progress = Callable[[int], None]


def summary_headers() -> list[str]:
    return [_("Unit"), _("Assigned"), _("Not started"), _("In progress"), _("Completed"),
            _("Overdue"), _("Completed") + " (%)", _("Target") + " (%)", _("Deadline"),
            _("Status"), _("Quiz pass rate") + " (%)", _("Average score") + " (%)",
            _("Certificates issued")]


def summary_values(row: Row) -> list[object]:
    c = row.counts
    values: list[object] = [
        row.label, c.assigned, c.not_started, c.in_progress, c.completed, c.overdue,
        c.percent, row.target.percent if row.target else None,
        local_day(row.target.deadline_at) if row.target else None,
        str(RAG_LABELS[row.status]) if row.status else None,
        c.quiz.pass_rate if c.quiz else None, c.quiz.average if c.quiz else None]
    return [*values, c.certificates]


def people_headers() -> list[str]:
    return [_("Unit"), _("Username"), _("Full name"), _("Rank"), _("Course or track"),
            _("Status"), _("Overdue"), _("Due"), _("Completed on")]


def people_rows(report: Report, tree: UnitTree, now: datetime,
                lang: str) -> Iterator[list[object]]:
    # Labels translated and the time zone looked up once, not once per line: a large export
    # has hundreds of thousands of lines.
    statuses = {status: str(label) for status, label in STATUS_LABELS.items()}
    overdue = {True: _("Yes"), False: _("No")}
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    for line in person_lines(report.query.filters, tree, now, lang):
        yield [line.unit_path, line.username, line.full_name, line.rank, line.title,
               statuses[line.status], overdue[line.overdue],
               line.due_at.astimezone(zone).date() if line.due_at else None,
               line.completed_at.astimezone(zone).date() if line.completed_at else None]


# --- CSV -----------------------------------------------------------------------------------

def _csv_cell(value: object) -> object:
    if isinstance(value, str):
        return escape_formula(value)
    if value is None:
        return ""
    return value


def write_csv(out: IO[str], headers: list[str], rows: Iterable[list[object]],
              progress: Progress | None = None) -> int:
    """CSV (UTF-8 with a BOM, which Excel needs for Vietnamese); returns the rows written."""
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_csv_cell(h) for h in headers])
    count = 0
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    return count


def summary_csv(report: Report) -> bytes:
    out = io.StringIO()
    write_csv(out, summary_headers(),
              [summary_values(r) for r in [*report.rows, report.total]])
    return out.getvalue().encode("utf-8")


# --- XLSX ----------------------------------------------------------------------------------

def _fast_cell(sheet, value: object) -> object:
    """``value`` as openpyxl takes it plainly (a number, a text that is no formula, nothing),
    or as a styled cell: plain values share one cell object, which writes several times
    faster."""
    if value is None or isinstance(value, int) or (
            isinstance(value, str) and not value.startswith("=")):
        return value
    return _cell(sheet, value)


def _cell(sheet, value: object, *, header: bool = False) -> WriteOnlyCell:
    if isinstance(value, datetime):
        value = value.date()
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, never a formula
    if header:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    elif isinstance(value, float):
        cell.number_format = "0.0"
    elif hasattr(value, "isoformat"):
        cell.number_format = "dd/mm/yyyy"
    return cell


def _sheet(book: Workbook, title: str, headers: list[str], widths: list[int]):
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    for number, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    sheet.append([_cell(sheet, h, header=True) for h in headers])
    return sheet


def write_xlsx(out: IO[bytes], report: Report, people: Iterable[list[object]] | None,
               progress: Progress | None = None) -> int:
    """The workbook: the unit table, then (if given) every person's line. Returns how many
    person lines were written."""
    book = Workbook(write_only=True)
    headers = summary_headers()
    sheet = _sheet(book, SUMMARY_SHEET, headers, [40] + [13] * (len(headers) - 1))
    for row in [*report.rows, report.total]:
        sheet.append([_cell(sheet, v) for v in summary_values(row)])
    count = 0
    if people is not None:
        sheet = _sheet(book, PEOPLE_SHEET, people_headers(), [40, 16, 28, 14, 36, 14, 10, 12, 12])
        for values in people:
            sheet.append([_fast_cell(sheet, v) for v in values])
            count += 1
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count)
    book.save(out)
    return count
