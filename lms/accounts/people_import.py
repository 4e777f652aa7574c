"""People import: one person per row of a CSV or XLSX file.

The one service behind ``lms people import`` and the administrators' import page. Columns:
``username, full_name, person_code, unit, rank, position, cohort, target_group, roles, email``
(and optionally ``class`` and ``year``). A row updates the person with the same username, or
else the same person code; an empty cell leaves that attribute as it is.

Every row is checked against the whole file and the database before anything is written; a
row is then applied whole or not at all (a savepoint per batch, per row if a batch fails),
and everything is committed once. Audiences and enrolments follow in the same transaction
(``lms.accounts.events``).

New people get no usable password here: :func:`issue_passwords` makes their one-time
passwords exactly once, for the file handed to whoever ran the import, so no password is
ever stored in clear.
"""

from __future__ import annotations

import csv
import io
import secrets
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from lms import audit
from lms.accounts import events
from lms.accounts.access import DEFAULT_ROLES, grants_admin
from lms.accounts.models import (
    PeopleImportBatch,
    PersonTerm,
    Role,
    TermKind,
    Unit,
    User,
    user_roles,
)
from lms.accounts.services import (
    MAX_COHORT_YEAR,
    PERSON_CODE_PATTERN,
    UNIT_SEPARATOR,
    USERNAME_PATTERN,
    clean_email,
)
from lms.db import chunked, utcnow
from lms.errors import Conflict, ValidationError
from lms.extensions import db
from lms.models import Job
from lms.passwords import hash_generated_password
from lms.text import clean_text, fold
from lms.uow import unit_of_work

COLUMNS = ("username", "full_name", "person_code", "unit", "rank", "position", "cohort",
           "target_group", "roles", "email")
EXTRA_COLUMNS = ("class", "year")
# A cell a spreadsheet would run as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Accounts made by an import have this instead of a hash until their password is issued.
NO_HASH_YET = "!pending-import"
ROLE_SEPARATORS = (";", "|")
BATCH_ROWS = 500

Outcome = Literal["created", "updated", "unchanged", "error"]
# (rows checked, rows in the file); called while checking, never inside the transaction.
Progress = Callable[[int, int], None]


class PeopleFileError(ValidationError):
    """The file as a whole cannot be imported (format, encoding, header, size)."""


@dataclass
class RowReport:
    number: int
    username: str
    outcome: Outcome = "error"
    user_id: int | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class PeopleReport:
    source: str
    dry_run: bool = False
    rows: list[RowReport] = field(default_factory=list)
    created_units: list[str] = field(default_factory=list)
    batch_id: int | None = None

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(row.outcome for row in self.rows)
        return {k: counts.get(k, 0) for k in ("created", "updated", "unchanged", "error")}

    @property
    def failed(self) -> bool:
        return any(row.outcome == "error" for row in self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "dry_run": self.dry_run, "counts": self.counts,
                "created_units": self.created_units, "batch_id": self.batch_id,
                # Rows that went through are counted; only those with problems are listed.
                "errors": [asdict(row) for row in self.rows if row.outcome == "error"]}


# --- reading -------------------------------------------------------------------------------

def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1258; always NFC."""
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", errors="strict")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Old Vietnamese Excel and Notepad files; tone marks come as combining characters.
            text = data.decode("cp1258", errors="strict")
    return unicodedata.normalize("NFC", text)


def _csv_rows(path: Path) -> Iterator[list[str]]:
    try:
        text = decode_text(path.read_bytes())
    except UnicodeDecodeError as error:
        raise PeopleFileError(_("The file is neither UTF-8 nor Windows-1258 text.")) from error
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return unicodedata.normalize("NFC", str(value))


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # data_only=False: a formula cell reads as its "=..." text and is refused as such.
        workbook = load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, KeyError, OSError, ValueError) as error:
        raise PeopleFileError(_("The file is not a readable XLSX workbook.")) from error
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_xlsx_cell(v) for v in values]
    finally:
        workbook.close()


def read_people_file(path: Path, max_rows: int) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header and the rows (number, column → cell) of a CSV or XLSX file.

    :raise PeopleFileError: unknown format, bad encoding, bad header or too many rows.
    """
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        lines = _xlsx_rows(path)
    elif suffix in (".csv", ".txt"):
        lines = _csv_rows(path)
    else:
        raise PeopleFileError(_("Choose a .csv or .xlsx file."))
    header: list[str] | None = None
    rows: list[tuple[int, dict]] = []
    for number, cells in enumerate(lines, start=1):
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [fold(cell).strip().replace(" ", "_") for cell in cells]
            _check_header(header)
            continue
        if len(rows) >= max_rows:
            raise PeopleFileError(_(
                "The file has more than %(n)d rows. Split it into files of at most %(n)d "
                "rows; nothing was imported.", n=max_rows))
        rows.append((number, {name: (cells[i].strip() if i < len(cells) else "")
                              for i, name in enumerate(header) if name}))
    if header is None:
        raise PeopleFileError(_("The file is empty."))
    return header, rows


def _check_header(header: list[str]) -> None:
    known = set(COLUMNS) | set(EXTRA_COLUMNS)
    unknown = [name for name in header if name and name not in known]
    if unknown:
        raise PeopleFileError(_(
            "Unknown columns: %(columns)s. The columns are: %(known)s.",
            columns=", ".join(unknown), known=", ".join(COLUMNS + EXTRA_COLUMNS)))
    if "username" not in header and "person_code" not in header:
        raise PeopleFileError(_("The file needs a username or a person_code column."))
    duplicated = [name for name, n in Counter(h for h in header if h).items() if n > 1]
    if duplicated:
        raise PeopleFileError(_("Columns named twice: %(columns)s.",
                                columns=", ".join(duplicated)))


# --- what the database already holds ------------------------------------------------------

@dataclass
class _Known:
    """Lookups loaded once for the whole file."""

    units: dict[str, int]
    terms: dict[str, dict[str, PersonTerm]]
    roles: dict[str, int]
    by_username: dict[str, dict[str, Any]]
    by_id: dict[int, dict[str, Any]]
    by_code: dict[str, int]
    roles_of: dict[int, set[str]]


PERSON_FIELDS = ("full_name", "person_code", "unit_id", "rank_id", "position_id",
                 "target_group_id", "cohort", "class_name", "cohort_year", "email")


def _path_key(path: str) -> str:
    parts = [p.strip() for p in unicodedata.normalize("NFC", path).split(UNIT_SEPARATOR)]
    return UNIT_SEPARATOR.join(p.lower() for p in parts if p)


def _load_known() -> _Known:
    units: dict[str, int] = {}
    rows = db.session.execute(select(Unit.id, Unit.name, Unit.parent_id)).all()
    by_id = {r.id: r for r in rows}

    def path_of(unit_id: int) -> str:
        names, node = [], by_id.get(unit_id)
        while node is not None:
            names.append(node.name)
            node = by_id.get(node.parent_id) if node.parent_id else None
        return UNIT_SEPARATOR.join(reversed(names))

    for row in rows:
        units[_path_key(path_of(row.id))] = row.id
    terms: dict[str, dict[str, PersonTerm]] = {str(k): {} for k in TermKind}
    for term in db.session.scalars(select(PersonTerm)):
        lookup = terms[term.kind]
        for key in (term.code, term.name, term.name_en):
            if key:
                lookup.setdefault(fold(key), term)
    roles = {name: role_id for role_id, name in db.session.execute(select(Role.id, Role.name))}
    columns = [User.id, User.username, *(getattr(User, name) for name in PERSON_FIELDS)]
    by_username: dict[str, dict[str, Any]] = {}
    by_id: dict[int, dict[str, Any]] = {}
    by_code: dict[str, int] = {}
    for row in db.session.execute(select(*columns)):
        person = row._asdict()
        by_username[person["username"].lower()] = person
        by_id[person["id"]] = person
        if person["person_code"]:
            by_code[person["person_code"].lower()] = person["id"]
    roles_of: dict[int, set[str]] = {}
    for user_id, name in db.session.execute(
            select(user_roles.c.user_id, Role.name).join(Role, Role.id == user_roles.c.role_id)):
        roles_of.setdefault(user_id, set()).add(name)
    return _Known(units, terms, roles, by_username, by_id, by_code, roles_of)


# --- checking a row ------------------------------------------------------------------------

@dataclass
class _Plan:
    """What one valid row will do."""

    report: RowReport
    user_id: int | None  # None: a new person
    values: dict[str, Any]  # columns of users to write
    unit_path: str | None = None  # a unit to create first (--create-units)
    roles: set[str] | None = None  # replace the roles with these


# Lazy: checking 10,000 good rows should not translate 50,000 labels nobody reads.
TERM_COLUMNS = (("rank", TermKind.RANK, _l("rank")),
                ("position", TermKind.POSITION, _l("position")),
                ("target_group", TermKind.TARGET_GROUP, _l("target group")))


def _term(known: _Known, kind: TermKind, cell: str, what: str, errors: list[str]) -> int | None:
    term = known.terms[str(kind)].get(fold(cell))
    if term is None:
        errors.append(_("Unknown %(what)s: %(value)s.", what=what, value=cell))
        return None
    if not term.active:
        errors.append(_("%(what)s %(value)s is no longer in use.", what=what, value=cell))
        return None
    return term.id


def _check_row(number: int, cells: dict[str, str], known: _Known, duplicates: dict[str, set],
               create_units: bool) -> _Plan:
    username = cells.get("username", "")
    report = RowReport(number, username)
    errors = report.errors
    for column, cell in cells.items():
        if cell.startswith(FORMULA_PREFIXES):
            errors.append(_("The %(column)s cell starts with %(char)r, like a spreadsheet "
                            "formula; such cells are refused.", column=column, char=cell[0]))
    if errors:
        return _Plan(report, None, {})

    code = cells.get("person_code", "")
    if username and not USERNAME_PATTERN.match(username):
        errors.append(_("A username has 2–64 characters: letters a–z, digits, '.', '_' or "
                        "'-'."))
    if username.lower() in duplicates["username"]:
        errors.append(_("The username %(name)s is on more than one row of the file.",
                        name=username))
    if code and not PERSON_CODE_PATTERN.match(code):
        errors.append(_("A person code has 1–32 characters: letters, digits, '.', '_', '/' "
                        "or '-'."))
    if code.lower() in duplicates["person_code"]:
        errors.append(_("The person code %(code)s is on more than one row of the file.",
                        code=code))

    existing = known.by_username.get(username.lower()) if username else None
    code_owner = known.by_code.get(code.lower()) if code else None
    if existing is None and code_owner is not None and not username:
        existing = known.by_id[code_owner]
    if existing is not None and code_owner is not None and code_owner != existing["id"]:
        errors.append(_("The person code %(code)s belongs to another person.", code=code))
    if existing is None and not username:
        errors.append(_("A new person needs a username."))

    values: dict[str, Any] = {}
    if cells.get("full_name"):
        _clean_into(values, "full_name", cells["full_name"], 200, _l("Full name"), errors)
    if code:
        values["person_code"] = code
    plan = _Plan(report, existing["id"] if existing else None, values)
    if cells.get("unit"):
        key = _path_key(cells["unit"])
        if key in known.units:
            values["unit_id"] = known.units[key]
        elif create_units and key:
            plan.unit_path = cells["unit"]
        else:
            errors.append(_("Unknown unit: %(path)s.", path=cells["unit"]))
    for column, kind, what in TERM_COLUMNS:
        if cells.get(column):
            values[f"{column}_id"] = _term(known, kind, cells[column], what, errors)
    if cells.get("cohort"):
        _clean_into(values, "cohort", cells["cohort"], 64, _l("Cohort"), errors)
    if cells.get("class"):
        _clean_into(values, "class_name", cells["class"], 64, _l("Class"), errors)
    if cells.get("year"):
        if cells["year"].isdigit() and 1 <= int(cells["year"]) <= MAX_COHORT_YEAR:
            values["cohort_year"] = int(cells["year"])
        else:
            errors.append(_("The year of study is a number from 1 to %(n)d.",
                            n=MAX_COHORT_YEAR))
    if cells.get("email"):
        try:
            values["email"] = clean_email(cells["email"])
        except ValidationError as error:
            errors.append(error.message)
    if cells.get("roles"):
        plan.roles = _roles(cells["roles"], known, existing, errors)
    elif existing is None:
        plan.roles = set(DEFAULT_ROLES)
    return plan


def _clean_into(values: dict[str, Any], column: str, cell: str, max_length: int, what: str,
                errors: list[str]) -> None:
    try:
        values[column] = clean_text(cell, max_length=max_length, what=what)
    except ValidationError as error:
        errors.append(error.message)


def _roles(cell: str, known: _Known, existing: dict | None, errors: list[str]) -> set[str]:
    text = cell
    for separator in ROLE_SEPARATORS:
        text = text.replace(separator, ",")
    names = {name.strip().lower() for name in text.split(",") if name.strip()}
    unknown = names - set(known.roles)
    if unknown:
        errors.append(_("Unknown role: %(roles)s. Known roles: %(valid)s.",
                        roles=", ".join(sorted(unknown)), valid=", ".join(sorted(known.roles))))
    had_admin = existing is not None and grants_admin(known.roles_of.get(existing["id"], ()))
    if grants_admin(names) != had_admin:
        # Granting or taking administration goes through the account form, one at a time.
        errors.append(_("The administrator role is granted and removed in the account form, "
                        "not by import."))
    return names


def _duplicates(rows: list[tuple[int, dict]]) -> dict[str, set]:
    found: dict[str, set] = {}
    for column in ("username", "person_code"):
        counts = Counter(cells.get(column, "").lower() for _n, cells in rows)
        found[column] = {value for value, n in counts.items() if value and n > 1}
    return found


# --- applying ------------------------------------------------------------------------------

@dataclass
class PeopleImportOptions:
    dry_run: bool = False
    create_units: bool = False
    via: str = "cli"


def import_people(actor: User | None, path: Path, options: PeopleImportOptions,
                  progress: Progress | None = None, *, job_id: int | None = None
                  ) -> PeopleReport:
    """Check every row, then apply the valid ones in one commit; returns the per-row report.

    :raise PeopleFileError: the file as a whole cannot be read; nothing is changed.
    """
    max_rows = current_app.config["PEOPLE_IMPORT_MAX_ROWS"]
    _header, rows = read_people_file(path, max_rows)
    report = PeopleReport(source=path.name, dry_run=options.dry_run)
    known = _load_known()
    duplicates = _duplicates(rows)
    plans = []
    for n, cells in rows:
        plans.append(_check_row(n, cells, known, duplicates, options.create_units))
        if progress is not None and (len(plans) % 1000 == 0 or len(plans) == len(rows)):
            progress(len(plans), len(rows))
    for plan in plans:
        if not plan.report.errors:
            plan.report.outcome = "created" if plan.user_id is None else \
                ("updated" if _changes(plan, known) else "unchanged")
    report.rows = [plan.report for plan in plans]
    valid = [plan for plan in plans if plan.report.outcome in ("created", "updated")]
    if options.dry_run:
        report.created_units = sorted({plan.unit_path for plan in valid
                                       if plan.unit_path and _path_key(plan.unit_path)
                                       not in known.units})
        return report
    with unit_of_work() as on_commit:
        report.created_units = _create_units(actor, valid, known)
        for batch in chunked(valid, BATCH_ROWS):
            _apply_batch(batch, known)
        created = [p.report.user_id for p in valid if p.report.outcome == "created"
                   and p.report.user_id is not None]
        changed = [p.report.user_id for p in valid if p.report.user_id is not None]
        if created:
            report.batch_id = _record_batch(actor, created, job_id)
        audit.record("people_import", actor=actor, object_type="people_import_batches",
                     object_id=report.batch_id,
                     details={"source": path.name, "via": options.via, **report.counts,
                              "created_units": report.created_units[:50]})
        events.people_changed(changed, on_commit)
    return report


def _changes(plan: _Plan, known: _Known) -> bool:
    person = known.by_id[plan.user_id]
    if plan.unit_path:
        return True
    if any(person[k] != v for k, v in plan.values.items()):
        return True
    return plan.roles is not None and plan.roles != known.roles_of.get(plan.user_id, set())


def _create_units(actor: User | None, plans: list[_Plan], known: _Known) -> list[str]:
    """The units the valid rows name that do not exist yet (``--create-units``)."""
    created: list[str] = []
    for plan in plans:
        if plan.unit_path is None:
            continue
        key = _path_key(plan.unit_path)
        if key not in known.units:
            parent_id: int | None = None
            parts = [p.strip() for p in unicodedata.normalize("NFC", plan.unit_path)
                     .split(UNIT_SEPARATOR) if p.strip()]
            for depth in range(1, len(parts) + 1):
                prefix = UNIT_SEPARATOR.join(parts[:depth])
                prefix_key = _path_key(prefix)
                if prefix_key not in known.units:
                    unit = Unit(name=parts[depth - 1], parent_id=parent_id)
                    db.session.add(unit)
                    db.session.flush()
                    known.units[prefix_key] = unit.id
                    created.append(prefix)
                    audit.record("unit_create", actor=actor, obj=unit,
                                 details={"path": prefix, "via": "people_import"})
                parent_id = known.units[prefix_key]
        plan.values["unit_id"] = known.units[key]
    return created


def _apply_batch(batch: list[_Plan], known: _Known) -> None:
    """Write a batch in one savepoint; if the database refuses it, row by row."""
    try:
        with db.session.begin_nested():
            _write(batch, known)
    except IntegrityError:
        for plan in batch:
            try:
                with db.session.begin_nested():
                    _write([plan], known)
            except IntegrityError:
                plan.report.outcome = "error"
                plan.report.user_id = None
                plan.report.errors.append(_(
                    "The database refused the row: the username or person code was taken "
                    "meanwhile."))


def _write(plans: list[_Plan], known: _Known) -> None:
    now = utcnow()
    new = [plan for plan in plans if plan.user_id is None]
    if new:
        rows = [{"username": plan.report.username, "full_name": "",
                 "password_hash": NO_HASH_YET, "must_change_password": True,
                 "active": True, "session_version": 1, "is_demo": False, "created_at": now,
                 **plan.values} for plan in new]
        ids = db.session.scalars(
            insert(User).returning(User.id, sort_by_parameter_order=True), rows).all()
        for plan, user_id in zip(new, ids, strict=True):
            plan.report.user_id = user_id
    updated = [plan for plan in plans if plan.user_id is not None
               and plan.report.outcome == "updated"]
    for plan in updated:
        plan.report.user_id = plan.user_id
        if plan.values:
            db.session.execute(update(User).where(User.id == plan.user_id).values(**plan.values))
    for plan in plans:
        if plan.report.outcome == "unchanged":
            plan.report.user_id = plan.user_id
    role_changes = [plan for plan in new + updated if plan.roles is not None and
                    plan.roles != known.roles_of.get(plan.report.user_id or 0, set())]
    if role_changes:
        ids = [plan.report.user_id for plan in role_changes]
        db.session.execute(delete(user_roles).where(user_roles.c.user_id.in_(ids)))
        db.session.execute(insert(user_roles), [
            {"user_id": plan.report.user_id, "role_id": known.roles[name]}
            for plan in role_changes for name in sorted(plan.roles or ())])
        # A changed role ends the sessions opened under the old one.
        db.session.execute(update(User).where(
            User.id.in_([p.user_id for p in role_changes if p.user_id is not None]))
            .values(session_version=User.session_version + 1))


# --- one-time passwords --------------------------------------------------------------------

def _record_batch(actor: User | None, created: list[int], job_id: int | None) -> int:
    batch = PeopleImportBatch(created_by_id=actor.id if actor else None, job_id=job_id,
                              user_ids=created)
    db.session.add(batch)
    db.session.flush()
    return batch.id


@dataclass(frozen=True)
class IssuedPassword:
    username: str
    full_name: str
    password: str


def issue_passwords(batch_id: int) -> list[IssuedPassword]:
    """Make the one-time passwords of the people a batch created, once.

    Only people still waiting for theirs get one (an admin may have reset someone meanwhile).

    :raise Conflict: the passwords of this batch were handed out already.
    """
    with unit_of_work():
        claimed = db.session.execute(
            update(PeopleImportBatch)
            .where(PeopleImportBatch.id == batch_id,
                   PeopleImportBatch.passwords_issued_at.is_(None))
            .values(passwords_issued_at=utcnow())).rowcount
        if claimed != 1:
            raise Conflict(_("The passwords of this import were handed out already. Reset the "
                             "password of anyone who did not get theirs."))
        batch = db.session.get(PeopleImportBatch, batch_id)
        issued: list[IssuedPassword] = []
        for ids in chunked(batch.user_ids, 500):
            people = db.session.execute(select(User.id, User.username, User.full_name).where(
                User.id.in_(ids), User.password_hash == NO_HASH_YET)
                .order_by(User.username)).all()
            rows = []
            for person in people:
                password = secrets.token_urlsafe(12)
                issued.append(IssuedPassword(person.username, person.full_name, password))
                rows.append({"id": person.id, "password_hash": hash_generated_password(password)})
            if rows:
                db.session.execute(update(User), rows)  # bulk UPDATE by primary key
        audit.record("people_passwords_issued", object_type="people_import_batches",
                     object_id=batch_id, details={"count": len(issued)})
    return issued


def passwords_issued_at(batch_id: int):
    """When the passwords of a batch were handed out (None: not yet)."""
    batch = db.session.get(PeopleImportBatch, batch_id)
    return batch.passwords_issued_at if batch is not None else None


def passwords_csv(issued: list[IssuedPassword]) -> str:
    """The file handed out once: UTF-8 with a BOM, so that Excel shows the accents."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["username", "full_name", "one_time_password"])
    for row in issued:
        writer.writerow([row.username, _safe_cell(row.full_name), row.password])
    return out.getvalue()


def _safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def batch_of_job(job: Job) -> int | None:
    return (job.result or {}).get("batch_id")

