"""Reports as files for the ministry: an XLSX workbook (the unit table, and a line per
person with their status in each course) and CSV files (the unit table; a line per person
and course, with the dates), with the same numbers as the page.

XLSX is written by XlsxWriter in constant-memory mode, row by row from a database cursor, so
memory stays flat however many people there are: a styled, frozen header; numbers,
percentages and dates as such; Vietnamese sheet names; text that starts with ``=`` stored as
text, never a formula or a link. CSV cells a spreadsheet would run as a formula are escaped
with ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, TYPE_CHECKING

from flask_babel import gettext as _

from lms.localtime import academy_zone, local_day
from lms.reports.queries import UnitTree
from lms.reports.services import Report, Row, person_lines, report_items
from lms.reports.targets import RAG_LABELS
from lms.training.models import EnrolmentStatus

if TYPE_CHECKING:
    import xlsxwriter
from lms.training.progress import STATUS_LABELS
from metadata.crosswalks.csvio import escape_formula

SUMMARY_SHEET = "Tổng hợp theo đơn vị"
PEOPLE_SHEET = "Danh sách học viên"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_COLOUR = "#17346E"
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
    zone = academy_zone()
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

# Texts stay texts: a cell that starts with "=" is never a formula, a URL never a link.
WORKBOOK_OPTIONS = {"constant_memory": True, "strings_to_formulas": False,
                    "strings_to_urls": False, "strings_to_numbers": False}
SUMMARY_WIDTHS = [40] + [13] * 12
PEOPLE_WIDTHS = [40, 16, 28, 14]  # then a column per course or track, then two counts
ITEM_WIDTH = 18


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.header = book.add_format({"bold": True, "font_color": "#FFFFFF",
                                       "bg_color": HEADER_COLOUR, "text_wrap": True,
                                       "valign": "vcenter"})
        self.day = book.add_format({"num_format": "dd/mm/yyyy"})
        self.decimal = book.add_format({"num_format": "0.0"})


def _sheet(book: xlsxwriter.Workbook, formats: _Formats, title: str, headers: list[str],
           widths: list[int]):
    sheet = book.add_worksheet(title)
    sheet.freeze_panes(1, 0)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    sheet.write_row(0, 0, headers, formats.header)
    return sheet


@dataclass
class PeopleSheet:
    """The workbook's people: a line per person, a column per course or track of the report
    holding that person's status in it, then how many they completed and have overdue."""

    headers: list[str]
    lines: Iterator[list[object]]


def people_sheet(report: Report, tree: UnitTree, now: datetime, lang: str,
                 progress: Progress | None = None) -> PeopleSheet:
    """The report's enrolments folded into one line per person (they come ordered by unit
    and person); ``progress`` is told how many enrolments were read."""
    items = report_items(report.query.filters, tree)
    column = {key: number for number, (key, _title) in enumerate(items, start=4)}
    statuses = {status: str(label) for status, label in STATUS_LABELS.items()}
    overdue_label = _("Overdue")
    headers = [_("Unit"), _("Username"), _("Full name"), _("Rank"),
               *(title for _key, title in items), _("Completed"), _("Overdue")]

    def lines() -> Iterator[list[object]]:
        values: list[object] = []
        completed = overdue = 0
        for read, line in enumerate(person_lines(report.query.filters, tree, now, lang),
                                    start=1):
            if not values or (line.unit_path, line.username) != (values[0], values[1]):
                if values:
                    yield [*values, completed, overdue]
                values = [line.unit_path, line.username, line.full_name, line.rank,
                          *([None] * len(items))]
                completed = overdue = 0
            completed += line.status == EnrolmentStatus.COMPLETED
            overdue += line.overdue
            values[column[line.item]] = overdue_label if line.overdue else \
                statuses[line.status]
            if progress is not None and read % PROGRESS_EVERY == 0:
                progress(read)
        if values:
            yield [*values, completed, overdue]

    return PeopleSheet(headers, lines())


def write_xlsx(out: IO[bytes], report: Report, people: PeopleSheet | None) -> int:
    """The workbook: the unit table, then (if given) the people's sheet. Returns how many
    people lines were written."""
    import xlsxwriter  # here: only an export needs it

    book = xlsxwriter.Workbook(out, WORKBOOK_OPTIONS)
    formats = _Formats(book)
    headers = summary_headers()
    sheet = _sheet(book, formats, SUMMARY_SHEET, headers, SUMMARY_WIDTHS)
    for number, row in enumerate([*report.rows, report.total], start=1):
        for column, value in enumerate(summary_values(row)):
            if isinstance(value, float):
                sheet.write_number(number, column, value, formats.decimal)
            elif isinstance(value, date):
                sheet.write_datetime(number, column, value, formats.day)
            elif value is not None:
                sheet.write(number, column, value)
    count = 0
    if people is not None:
        items = len(people.headers) - len(PEOPLE_WIDTHS) - 2
        sheet = _sheet(book, formats, PEOPLE_SHEET, people.headers,
                       [*PEOPLE_WIDTHS, *[ITEM_WIDTH] * items, 11, 11])
        write_string, write_number = sheet.write_string, sheet.write_number
        for count, values in enumerate(people.lines, start=1):
            for column, value in enumerate(values):
                if type(value) is str:
                    write_string(count, column, value)
                elif value is not None:
                    write_number(count, column, value)
    book.close()
    return count
