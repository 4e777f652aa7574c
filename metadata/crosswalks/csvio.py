"""``csv``: spreadsheet export and import of records that round-trip losslessly.

Layout: one row per record. The first column is ``id`` (the record identifier; may be blank
on import). Every other column holds the values of one (term, scheme, language) key; its
header is ``term``, then ``^scheme`` if the values belong to a scheme, then ``[lang]`` if
they carry a language tag::

    id, title[vi], title[en], creator, subject^subjects, subject[vi], issued, type^DCMIType

Terms are DCMI names (matched case-insensitively on import). Columns are ordered by the
profile's form order, then by first appearance.

Cells: a column's values are joined with ``||``. Inside a value, a backslash is written
``\\\\`` and a ``|`` is written ``\\|``, so any text, including ``||`` or a value that starts or
ends with ``|``, survives. Empty values are not written (validation drops them anyway).

Formula injection: a cell that starts with ``= + - @ | %``, TAB, CR, LF or NUL, optionally
after apostrophes, gets one more ``'`` in front on export; on import exactly one ``'`` is
removed from a cell that starts with one or more apostrophes followed by such a character.
So ``=1+1`` is written ``'=1+1`` and ``'=x`` is written ``''=x``, and both read back as they
were. Negative numbers follow the same rule: ``-5`` is written ``'-5``; other numbers are
written as they are.

Import decodes UTF-8, UTF-8 with BOM and UTF-16 with BOM; it reports invalid bytes (with
the line), duplicate, unknown or malformed headers and malformed rows as problems and never
raises for the file's content. It does not validate values: run :func:`metadata.validate`
on each row's metadata.

Round trip: ``import_csv(export_csv(records))`` gives back every record's id and, for each
(term, scheme, language) key, the same values in the same order; statements come back
grouped by column.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from metadata.crosswalks.base import RecordContext
from metadata.model import Metadata, Statement
from metadata.problems import Problem, make_problem
from metadata.profile import Profile, default_profile
from metadata.terms import PROPERTIES, is_term

SEPARATOR = "||"
ID_HEADER = "id"
FORMULA_START = "=+-@|%\t\r\n\x00"
_NEEDS_QUOTE = re.compile(r"'*[=+\-@|%\t\r\n\x00]")
_ADDED_QUOTE = re.compile(r"'+[=+\-@|%\t\r\n\x00]")
_HEADER = re.compile(
    r"(?P<term>[A-Za-z]+)(?:\^(?P<scheme>[^\s\[\]^|]+))?(?:\[(?P<lang>[A-Za-z0-9-]+)\])?"
)
_TERMS_FOLDED = {name.casefold(): name for name in PROPERTIES}


@dataclass(frozen=True, slots=True, order=True)
class Column:
    """The (term, scheme, language) key of a CSV column."""

    term: str
    scheme: str | None = None
    lang: str | None = None

    @property
    def header(self) -> str:
        scheme = f"^{self.scheme}" if self.scheme else ""
        lang = f"[{self.lang}]" if self.lang else ""
        return f"{self.term}{scheme}{lang}"


def parse_header(text: str) -> Column | None:
    """The column key of a header, or None if it is malformed. The term is not checked."""
    match = _HEADER.fullmatch(text.strip())
    if match is None:
        return None
    term = _TERMS_FOLDED.get(match["term"].casefold(), match["term"])
    return Column(term, match["scheme"], match["lang"])


# --- Cells --------------------------------------------------------------------------------

def escape_formula(cell: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula (see the module docstring)."""
    return "'" + cell if _NEEDS_QUOTE.match(cell) else cell


def unescape_formula(cell: str) -> str:
    """Undo :func:`escape_formula`."""
    return cell[1:] if _ADDED_QUOTE.match(cell) else cell


def encode_cell(values: Iterable[str]) -> str:
    """Join values into one cell: escape ``\\`` and ``|``, join with ``||``, guard formulas."""
    escaped = (v.replace("\\", "\\\\").replace("|", "\\|") for v in values if v)
    return escape_formula(SEPARATOR.join(escaped))


def decode_cell(cell: str) -> list[str]:
    """Split a cell into values (inverse of :func:`encode_cell`); empty values are dropped."""
    cell = unescape_formula(cell)
    values: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(cell):
        char = cell[i]
        if char == "\\" and i + 1 < len(cell):
            current.append(cell[i + 1])
            i += 2
            continue
        if char == "|" and cell.startswith(SEPARATOR, i):
            values.append("".join(current))
            current = []
            i += 2
            continue
        current.append(char)  # a lone "|" or a trailing "\" typed by hand: keep it
        i += 1
    values.append("".join(current))
    return [v for v in values if v]


# --- Export -------------------------------------------------------------------------------

def _columns(records: list[tuple[str, Metadata]], profile: Profile) -> list[Column]:
    first_seen: dict[Column, int] = {}
    for _, metadata in records:
        for statement in metadata:
            if statement.value:
                column = Column(statement.term, statement.scheme, statement.lang)
                first_seen.setdefault(column, len(first_seen))
    for column in first_seen:
        if parse_header(column.header) != column or column.header == ID_HEADER:
            raise ValueError(f"cannot write a CSV column for {column!r}")
    return sorted(first_seen, key=lambda c: (profile.term_rank(c.term), first_seen[c]))


def export_csv(records: Iterable[tuple[str, Metadata]], profile: Profile | None = None, *,
               bom: bool = True) -> str:
    """Records ``(id, metadata)`` as CSV text (CRLF rows; a BOM first so Excel reads UTF-8).

    Raises ValueError if a term, scheme or language cannot be written as a header (for
    example a language tag with a space), which validated metadata never has.
    """
    records = list(records)
    columns = _columns(records, profile or default_profile())
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([ID_HEADER, *(c.header for c in columns)])
    for identifier, metadata in records:
        cells: dict[Column, list[str]] = {c: [] for c in columns}
        for statement in metadata:
            if statement.value:
                cells[Column(statement.term, statement.scheme, statement.lang)].append(
                    statement.value
                )
        writer.writerow([escape_formula(identifier), *(encode_cell(cells[c]) for c in columns)])
    return ("\ufeff" if bom else "") + buffer.getvalue()


def to_csv(metadata: Metadata, context: RecordContext) -> str:
    """One record as CSV (registry serializer)."""
    return export_csv([(context.identifier, metadata)], context.resolved_profile)


# --- Import -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CsvRow:
    """One record read from a CSV file; ``line`` is the 1-based line where its row starts."""

    line: int
    id: str
    metadata: Metadata
    problems: tuple[Problem, ...] = ()
    #: Cells of the caller's own columns (``extra_columns``), by lower-case header.
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CsvImport:
    """The result of reading a CSV file: its rows and the problems with the file itself.

    When ``problems`` has an error (bad encoding, bad headers), ``rows`` is empty.
    """

    rows: tuple[CsvRow, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """True when neither the file nor any row has an error."""
        return not any(p.is_error for p in self.problems) and not any(
            p.is_error for row in self.rows for p in row.problems
        )


def decode_bytes(data: bytes) -> tuple[str | None, Problem | None]:
    """Decode UTF-8 (BOM optional) or UTF-16 with BOM; on invalid bytes, a problem with the line."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(encoding, errors="replace").count("\n") + 1
        return None, make_problem("bad_encoding", "error", index=line, line=line)


def _header_problems(headers: list[str], extra: frozenset[str] = frozenset()
                     ) -> tuple[list[Column | None], list[Problem]]:
    problems: list[Problem] = []
    columns: list[Column | None] = []
    seen: set[Column | str] = set()
    for header in headers:
        name = header.strip()
        if name.casefold() == ID_HEADER or name.casefold() in extra:
            key: Column | str = name.casefold()
            columns.append(None)
        else:
            column = parse_header(name)
            columns.append(column)
            if column is None:
                problems.append(make_problem("bad_header", "error", index=1, header=name))
                continue
            if not is_term(column.term):
                problems.append(make_problem("unknown_header", "error", index=1, header=name))
                continue
            key = column
        if key in seen:
            problems.append(make_problem("duplicate_header", "error", index=1, header=name))
        seen.add(key)
    return columns, problems


def import_csv(data: bytes | str, extra_columns: Iterable[str] = ()) -> CsvImport:
    """Read records from CSV bytes (or already decoded text). Never raises for the content.

    ``extra_columns`` names columns that are not metadata (a package manifest's ``file``,
    ``collection``...): their cells come back in :attr:`CsvRow.extra`, formula escaping undone.
    """
    extra = frozenset(name.casefold() for name in extra_columns)
    if isinstance(data, bytes):
        text, problem = decode_bytes(data)
        if text is None:
            return CsvImport((), (problem,) if problem else ())
    else:
        text = data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader, None)
    except csv.Error as exc:
        return CsvImport((), (make_problem("bad_csv", "error", index=1, line=1,
                                           detail=str(exc)),))
    if not headers or not any(h.strip() for h in headers):
        return CsvImport((), (make_problem("empty_file", "error"),))
    columns, problems = _header_problems(headers, extra)
    if problems:
        return CsvImport((), tuple(problems))
    names = [h.strip().casefold() for h in headers]
    id_index = names.index(ID_HEADER) if ID_HEADER in names else None
    extra_indexes = {names[i]: i for i, c in enumerate(columns) if c is None and names[i] in extra}
    rows: list[CsvRow] = []
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problem = make_problem("bad_csv", "error", index=line, line=line, detail=str(exc))
            return CsvImport(tuple(rows), (problem,))
        start, line = line, reader.line_num + 1
        if not any(cells):  # blank line
            continue
        row_problems: list[Problem] = []
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns):]):
            row_problems.append(make_problem("row_too_long", "error", index=start, line=start))
        statements = [
            Statement(column.term, value, column.lang, column.scheme)
            for column, cell in zip(columns, cells, strict=False)
            if column is not None
            for value in decode_cell(cell)
        ]
        identifier = ""
        if id_index is not None and id_index < len(cells):
            identifier = unescape_formula(cells[id_index])
        extras = {name: unescape_formula(cells[i]) if i < len(cells) else ""
                  for name, i in extra_indexes.items()}
        rows.append(CsvRow(start, identifier, Metadata(statements), tuple(row_problems), extras))
    return CsvImport(tuple(rows), ())
