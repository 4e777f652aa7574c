"""Bulk import: one record per line of a JSONL file or of a package's ``manifest.csv``.

The one service behind ``lms import`` and the administrators' import page. Lines are
imported in batches (``IMPORT_COMMIT_LINES``): each line's files are checked and stored
first, the new blobs of the batch made durable together, then one transaction writes the
batch, each line applied whole or not at all: the records of new ids in one multi-row
statement per table (``catalog.deposit.create_imported_records``), redone line by line if
the database refuses a row, the others (updates, reviews, dry runs) one savepoint each
(``catalog.deposit.import_record``). A line either is imported whole or leaves nothing but
unreferenced blobs (which ``lms files gc`` removes), so an interrupted run is simply run
again: unchanged lines are skipped, failed ones retried, pending text extractions finished.
A resumable run (the import job) records its place in the batch's transaction: it resumes
after the last batch committed.

Each batch's transaction writes its change-log rows; search and OAI-PMH apply them every
``IMPORT_BATCH_SIZE`` lines (``hooks.batched``), after the batches' extractions, so a
record reaches the index once, with its text. A run longer than one batch hands them to a
forked applier process (``IMPORT_MIRROR_PROCESS``, :mod:`lms.changelog.apart`) that applies
a batch while the next one is written. Rows left pending by an interrupted run are applied
by the worker, or by the next run's end.
"""

from __future__ import annotations

import hashlib
import logging
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, Literal, Protocol

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from lms.accounts.models import Group, User
from lms.accounts.services import find_unit
from lms.auth.services import find_user
from lms.catalog import hooks
from lms.catalog.access_settings import AccessSettings
from lms.catalog.collections import get_collection
from lms.catalog.deposit import ImportResult, NewImport, create_imported_records, import_record
from lms.catalog.models import AccessLevel, Collection, Record
from lms.changelog.apart import applied_apart, return_freed_memory
from lms.errors import NotFound, ServiceError
from lms.extensions import db
from lms.files import extraction
from lms.files.models import RecordFile
from lms.files.records import NewFile
from lms.files.stores import get_storage
from lms.files.upload import StorageFailed, flagged_blobs, store_import_file
from lms.ingest.packages import (
    MANIFEST,
    ImportLine,
    PackageError,
    read_jsonl,
    read_manifest,
    unpacked,
)
from lms.jobs import enqueue
from lms.permissions import require
from lms.uow import batch_of_work, current_work, unit_of_work
from metadata import Metadata, validate

log = logging.getLogger(__name__)

ACCESS_KEYS = frozenset({"level", "units", "roles", "users", "groups", "embargo_until",
                         "embargo_reason", "discoverable"})
Outcome = Literal["created", "updated", "unchanged", "error"]
Progress = Callable[[int, int | None], None]


@dataclass
class ImportOptions:
    collection: str | None = None   # for lines that name none
    dry_run: bool = False
    review: bool = False
    extract: Literal["now", "queue"] = "now"   # "queue": the worker extracts (--async)
    batch_size: int | None = None
    via: str = "cli"
    lang: str = "en"                # of metadata problem messages


@dataclass(slots=True)  # one per line of the package, kept to the end: no __dict__ each
class LineReport:
    number: int
    external_id: str | None
    outcome: Outcome = "error"
    record_id: int | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "unchanged", "error")
_ERROR = OUTCOMES.index("error")


class LineReports(Sequence[LineReport]):
    """The reports of a run's lines, kept column by column and read back as
    :class:`LineReport` objects. An import keeps one per line to the end (``lms import`` prints
    them all): as objects, 80,712 lines took 16 MB; as columns, about 35 bytes a line (a line's
    number, record id and outcome in arrays; its id string, shared with the package's; its
    messages, shared with every line that has the same ones)."""

    def __init__(self, lines: Iterable[LineReport] = ()) -> None:
        self._numbers = array("q")
        self._record_ids = array("q")  # 0: no record
        self._outcomes = bytearray()
        self._external_ids: list[str | None] = []
        self._messages: list[tuple[list[str], list[str]]] = []
        self._known_messages: dict[tuple[tuple[str, ...], tuple[str, ...]],
                                   tuple[list[str], list[str]]] = {}
        self.extend(lines)

    def append(self, line: LineReport) -> None:
        self._numbers.append(line.number)
        self._record_ids.append(line.record_id or 0)
        self._outcomes.append(OUTCOMES.index(line.outcome))
        self._external_ids.append(line.external_id)
        key = (tuple(line.errors), tuple(line.warnings))
        self._messages.append(self._known_messages.setdefault(key, (line.errors, line.warnings)))

    def extend(self, lines: Iterable[LineReport]) -> None:
        for line in lines:
            self.append(line)

    def __len__(self) -> int:
        return len(self._numbers)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        errors, warnings = self._messages[index]
        return LineReport(self._numbers[index], self._external_ids[index],
                          OUTCOMES[self._outcomes[index]], self._record_ids[index] or None,
                          errors, warnings)

    def __iter__(self) -> Iterator[LineReport]:
        return (self[i] for i in range(len(self)))

    def count_outcome(self, outcome: Outcome) -> int:
        return self._outcomes.count(OUTCOMES.index(outcome))

    def with_warnings(self) -> int:
        """Lines that were not refused but have warnings."""
        return sum(1 for code, (_, warnings) in zip(self._outcomes, self._messages, strict=True)
                   if warnings and code != _ERROR)


@dataclass
class ImportReport:
    source: str
    sha256: str = ""
    dry_run: bool = False
    review: bool = False
    package_error: str | None = None
    lines: LineReports = field(default_factory=LineReports)

    @property
    def counts(self) -> dict[str, int]:
        counts = {outcome: self.lines.count_outcome(outcome) for outcome in OUTCOMES}
        return {**counts, "warnings": self.lines.with_warnings()}

    @property
    def failed(self) -> bool:
        return self.package_error is not None or self.lines.count_outcome("error") > 0

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "sha256": self.sha256, "dry_run": self.dry_run,
                "review": self.review, "package_error": self.package_error,
                "counts": self.counts, "lines": [line.as_dict() for line in self.lines]}


class ImportJournal(Protocol):
    """Where a resumable import keeps its place (the import job: ``lms.ingest.jobs``)."""

    #: Lines up to this number were imported by an earlier, interrupted run (a batch
    #: boundary): skipped now.
    resume_after: int
    #: Their reports, which begin this run's report.
    previous: list[LineReport]

    def committing(self, reports: list[LineReport]) -> None:
        """Called inside the transaction of a batch of lines (these, in order), so that the
        place commits with their records."""

    def processed(self, report: LineReport) -> None:
        """Called after each line, whatever its outcome."""


# --- reading the package -------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for raw in fh if raw.strip())


@contextmanager
def opened(path: Path) -> Iterator[tuple[str, int | None, Iterable[ImportLine]]]:
    """``(sha256, number of lines, lines)`` of a JSONL file, a ZIP or a folder.

    A ZIP is unpacked (with every archive check) into a private folder under
    ``DATA_DIR/tmp/imports``, removed afterwards. A package is a folder with ``manifest.csv``
    or, failing that, exactly one ``.jsonl`` file at its top.

    :raise PackageError: not a package, or an archive that breaks a rule.
    """
    if path.is_symlink() or not path.exists():
        raise PackageError(f"{path.name!r} is not a file or folder")
    if path.is_file() and path.suffix.lower() == ".jsonl":
        yield _sha256(path), _count_lines(path), read_jsonl(path)
    elif path.is_file() and path.suffix.lower() == ".zip":
        workdir = Path(current_app.config["DATA_DIR"]) / "tmp" / "imports"
        digest = _sha256(path)
        with unpacked(path, workdir) as folder:
            _digest, total, lines = _folder(folder)
            yield digest, total, lines
    elif path.is_dir():
        yield _folder(path.resolve())
    else:
        raise PackageError("give a .jsonl file, a .zip package or a folder with manifest.csv")


def _folder(folder: Path) -> tuple[str, int | None, Iterable[ImportLine]]:
    manifest = folder / MANIFEST
    if manifest.is_file() and not manifest.is_symlink():
        lines = list(read_manifest(folder))
        return _sha256(manifest), len(lines), lines
    candidates = [p for p in folder.iterdir() if p.suffix.lower() == ".jsonl"
                  and p.is_file() and not p.is_symlink()]
    if len(candidates) == 1:
        return _sha256(candidates[0]), _count_lines(candidates[0]), read_jsonl(candidates[0])
    raise PackageError(f"the package has no {MANIFEST} (nor a single .jsonl file)")


# --- one line ------------------------------------------------------------------------------

class LineError(Exception):
    """The line cannot be imported; ``messages`` say why."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass
class _Planned:
    """A line that passed every check, its blobs stored: what its transaction writes."""

    line: ImportLine
    report: LineReport
    collection: Collection
    access: AccessSettings
    result: Any  # metadata.ValidationResult
    files: list[NewFile]


class _Run:
    """What one import run keeps between lines: options, caches, the report."""

    def __init__(self, actor: User | None, options: ImportOptions, report: ImportReport,
                 source_name: str, journal: ImportJournal | None = None) -> None:
        self.actor_id = actor.id if actor is not None else None
        self.options = options
        self.report = report
        self.source_name = source_name
        self.journal = journal
        self.collections: dict[str, int] = {}
        self._flagged: set[str] = set()  # blobs fixity flagged, read once per batch

    @property
    def actor(self) -> User | None:
        return db.session.get(User, self.actor_id) if self.actor_id else None

    def collection(self, slug: str | None) -> Collection:
        slug = slug or self.options.collection
        if not slug:
            raise LineError([
                _("No collection: name one in the line or with --collection.")
                if self.options.via == "cli" else
                _("No collection: name one in the line or choose the collection for lines "
                  "that name none.")])
        if slug not in self.collections:
            try:
                self.collections[slug] = get_collection(slug).id
            except NotFound as error:
                raise LineError([error.message]) from None
        return db.session.get(Collection, self.collections[slug])  # type: ignore[return-value]

    def batch(self, lines: list[ImportLine]) -> list[LineReport]:
        """Import these lines: their blobs stored and made durable together, then one
        transaction in which each line is applied whole or not at all (a savepoint each, or
        one multi-row write for the new records, redone line by line if the database
        refuses it), the journal's place committed with them; then their text extracted."""
        reports = [LineReport(line.number, line.external_id) for line in lines]
        planned: list[_Planned] = []
        self._flagged = flagged_blobs()
        for line, report in zip(lines, reports, strict=True):
            try:
                planned.append(self._plan(line, report))
            except LineError as error:
                report.errors.extend(error.messages)
        planned = self._sync(planned)
        try:
            with batch_of_work():
                self._write(planned)
                if self.journal is not None:
                    self.journal.committing(reports)
        except SQLAlchemyError as error:
            log.warning("import lines %s-%s failed in the database", lines[0].number,
                        lines[-1].number, exc_info=True)
            for item in planned:
                self._failed(item.report, _("Database error (%(kind)s): nothing of this line "
                                            "was saved.", kind=type(error).__name__))
        done = [item.report for item in planned if item.report.outcome != "error"]
        if not self.options.dry_run:
            self._extract(done)
        return reports

    def _plan(self, line: ImportLine, report: LineReport) -> _Planned:
        if line.errors:
            raise LineError(list(line.errors))
        errors: list[str] = []
        collection = None
        try:
            collection = self.collection(line.collection)
        except LineError as error:
            errors.extend(error.messages)
        access = None
        if collection is not None:
            try:
                access = parse_access(line.access, collection.default_access)
            except LineError as error:
                errors.extend(error.messages)
        metadata = line.metadata if isinstance(line.metadata, Metadata) else Metadata()
        result = validate(metadata, mode="import")
        errors.extend(p.message(self.options.lang)
                      for p in result.errors)
        limit = current_app.config["MAX_FILES_PER_RECORD"]
        if len(line.files) > limit:
            errors.append(_("A record may have at most %(n)d files.", n=limit))
        if errors:
            raise LineError(errors)
        assert collection is not None and access is not None
        report.warnings.extend(p.message(self.options.lang)
                               for p in result.warnings)
        files = self._files(line.files, report)
        return _Planned(line, report, collection, access, result, files)

    def _sync(self, planned: list[_Planned]) -> list[_Planned]:
        """Make the batch's new blobs durable before any row references them."""
        if self.options.dry_run:
            return planned
        try:
            get_storage().sync(f.key for item in planned for f in item.files)
        except OSError as error:
            log.error("making the blobs of an import batch durable failed: %s", error)
            message = StorageFailed().message
            for item in planned:
                if item.files:
                    self._failed(item.report, message)
            return [item for item in planned if not item.files]
        return planned

    @staticmethod
    def _failed(report: LineReport, message: str) -> None:
        report.outcome, report.record_id = "error", None
        report.errors.append(message)

    def _source(self, line: ImportLine) -> dict[str, object]:
        return {"via": self.options.via, "file": self.source_name[:200],
                "sha256": self.report.sha256, "line": line.number}

    def _write(self, planned: list[_Planned]) -> None:
        """Inside the batch's transaction: the records of new external ids (or of none) in
        bulk, the others (updates, reviews, dry runs) one savepoint each, in line order."""
        options = self.options
        ids = [item.line.external_id for item in planned if item.line.external_id]
        taken = set(db.session.scalars(select(Record.external_id).where(
            Record.external_id.in_(ids)))) if ids else set()
        bulk: list[_Planned] = []
        single: list[_Planned] = []
        for item in planned:
            external_id = item.line.external_id
            if options.dry_run or options.review or external_id in taken:
                single.append(item)
            else:
                bulk.append(item)
            if external_id:
                taken.add(external_id)
        if bulk:
            self._create(bulk)
        for item in single:
            self._one(item)

    def _create(self, bulk: list[_Planned]) -> None:
        actor = self.actor
        if actor is not None:
            require(actor, "record.import")
        try:
            with unit_of_work():
                results = create_imported_records(actor, [NewImport(
                    item.line.external_id, item.collection, item.result.statements,
                    item.result.incomplete, item.access, item.files, self._source(item.line))
                    for item in bulk])
        except SQLAlchemyError:
            # A row the database refuses (an id another import took meanwhile...): each line
            # on its own, so that only the refused one fails.
            log.info("bulk creation refused; importing lines %s-%s one by one",
                     bulk[0].line.number, bulk[-1].line.number, exc_info=True)
            for item in bulk:
                self._one(item)
            return
        for item, result in zip(bulk, results, strict=True):
            self._done(item, result)

    def _one(self, item: _Planned) -> None:
        line = item.line
        try:
            try:
                result = self._import_record(item)
            except IntegrityError:
                # Another import created the same record meanwhile: this line is now an
                # update of it (or unchanged), so it is tried once more.
                result = self._import_record(item)
        except ServiceError as error:
            self._failed(item.report, error.message)
            return
        except SQLAlchemyError as error:
            log.warning("import line %s failed in the database", line.number, exc_info=True)
            self._failed(item.report, _("Database error (%(kind)s): nothing of this line was "
                                        "saved.", kind=type(error).__name__))
            return
        self._done(item, result)

    def _import_record(self, item: _Planned) -> ImportResult:
        return import_record(
            self.actor, external_id=item.line.external_id, collection=item.collection,
            metadata=item.result.statements, incomplete=item.result.incomplete,
            access=item.access, files=item.files, review=self.options.review,
            dry_run=self.options.dry_run, source=self._source(item.line))

    def _done(self, item: _Planned, result: ImportResult) -> None:
        item.report.outcome, item.report.record_id = result.action, result.record_id  # type: ignore[assignment]
        if self.options.dry_run or result.record_id is None:
            return
        for file_id in result.thumbnail_file_ids:
            current_work().callbacks.append(  # type: ignore[union-attr]
                partial(enqueue, "files.thumbnail", owner=self.actor, file_id=file_id))

    def _files(self, paths: list[Path], report: LineReport) -> list[NewFile]:
        files: list[NewFile] = []
        errors: list[str] = []
        for path in paths:
            try:
                new = store_import_file(path, dry_run=self.options.dry_run,
                                        deferred_sync=True, flagged=self._flagged)
            except ServiceError as error:
                errors.append(f"{path.name}: {error.message}")
                continue
            if any(f.key == new.key for f in files):
                report.warnings.append(_("%(name)s has the same content as another file of "
                                         "the line; it is attached once.", name=new.name))
                continue
            if new.sniff_mismatch:
                report.warnings.append(_("The content of %(name)s does not match its name; "
                                         "it will only be offered as a download.",
                                         name=new.name))
            files.append(new)
        if errors:
            raise LineError(errors)
        return files

    def _extract(self, reports: list[LineReport]) -> None:
        # Also finishes files a previous, interrupted run left pending.
        by_record = {r.record_id: r for r in reports if r.record_id is not None}
        pending = extraction.pending_file_ids(list(by_record))
        if self.options.extract == "queue":
            for file_id in pending:
                extraction.enqueue_extraction(file_id, self.actor)
            return
        for outcome in extraction.extract_files(pending):
            if outcome.status in ("empty", "failed", "timeout"):
                file = db.session.get(RecordFile, outcome.file_id)
                if file is None or file.record_id not in by_record:
                    continue
                by_record[file.record_id].warnings.append(_(
                    "%(name)s: no text for search: %(why)s", name=file.name,
                    why=extraction.describe(outcome.status, outcome.message)))


def parse_access(data: dict[str, Any], default_level: str) -> AccessSettings:
    """Access settings from a line's ``access`` (a level name or an object).

    :raise LineError: unknown keys, level, units (by path), users (by username), groups (by
        name) or roles, or values of the wrong type.
    """
    errors: list[str] = []
    unknown = set(data) - ACCESS_KEYS
    if unknown:
        errors.append(_("access: unknown keys: %(keys)s", keys=", ".join(sorted(unknown))))
    level = data.get("level") or default_level
    if level not in {str(a) for a in AccessLevel}:
        errors.append(_("access: unknown level %(level)s", level=str(level)[:40]))

    def names(key: str) -> list[str]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.append(_("access: %(key)s must be a list of names", key=key))
            return []
        return value

    settings = AccessSettings(level=str(level))
    units = []
    for path in names("units"):
        try:
            units.append(find_unit(path))
        except NotFound:
            errors.append(_("access: no unit %(path)s", path=path[:200]))
    users = []
    for username in names("users"):
        user = find_user(username)
        if user is None or not user.active:
            errors.append(_("access: no active user %(name)s", name=username[:64]))
        else:
            users.append(user)
    groups = []
    for name in names("groups"):
        group = db.session.scalar(select(Group).where(Group.name == name))
        if group is None:
            errors.append(_("access: no group %(name)s", name=name[:200]))
        else:
            groups.append(group)
    settings.units, settings.users, settings.groups = units, users, groups
    settings.roles = names("roles")
    embargo = data.get("embargo_until")
    if embargo is not None:
        try:
            settings.embargo_until = date.fromisoformat(embargo) if isinstance(
                embargo, str) else None
        except ValueError:
            settings.embargo_until = None
        if settings.embargo_until is None:
            errors.append(_("access: embargo_until must be a date (YYYY-MM-DD)"))
    reason = data.get("embargo_reason", "")
    if not isinstance(reason, str):
        errors.append(_("access: embargo_reason must be text"))
    else:
        settings.embargo_reason = reason
    discoverable = data.get("discoverable", True)
    if not isinstance(discoverable, bool):
        errors.append(_("access: discoverable must be true or false"))
    else:
        settings.discoverable = discoverable
    if not errors:
        try:
            settings.check()
        except ServiceError as error:
            errors.append(f"access: {error.message}")
    if errors:
        raise LineError(errors)
    return settings


# --- the run -------------------------------------------------------------------------------

def run_import(actor: User | None, path: Path, options: ImportOptions,
               progress: Progress | None = None,
               journal: ImportJournal | None = None) -> ImportReport:
    """Import every line of the package at ``path``; return the per-line report.

    Returns once every line is committed (or refused), its files' text extracted (or queued,
    with ``options.extract == "queue"``) and search told. ``progress(done, total)`` is called
    after each line. ``actor`` None is the command line. A ``journal`` makes the run
    resumable: it skips the lines an earlier run got through and records its own place.

    :raise PermissionDenied: ``actor`` may not import.
    """
    if actor is not None:
        require(actor, "record.import")
    report = ImportReport(source=path.name, dry_run=options.dry_run, review=options.review)
    batch = max(1, options.batch_size or int(current_app.config["IMPORT_BATCH_SIZE"]))
    commit = min(batch, max(1, int(current_app.config["IMPORT_COMMIT_LINES"])))
    try:
        with opened(path) as (digest, total, lines):
            report.sha256 = digest
            run = _Run(actor, options, report, path.name, journal)
            done = 0
            skip = journal.resume_after if journal is not None else 0
            if journal is not None:
                report.lines.extend(journal.previous)
            iterator = iter(lines)
            # Past one batch, a second process applies each batch while the next is written.
            apart = (current_app.config["IMPORT_MIRROR_PROCESS"] and not options.dry_run
                     and (total is None or total - skip > batch))
            with applied_apart(apart) as apply:
                while chunk := list(islice(iterator, batch)):
                    # Mirrors (search, OAI-PMH) apply the batch at once, after its extractions.
                    with hooks.batched(apply):
                        todo = [line for line in chunk if line.number > skip]
                        done += len(chunk) - len(todo)
                        for start in range(0, len(todo), commit):
                            for line_report in run.batch(todo[start:start + commit]):
                                done += 1
                                report.lines.append(line_report)
                                if journal is not None:
                                    journal.processed(line_report)
                                if progress is not None:
                                    progress(done, total)
                    return_freed_memory()
    except PackageError as error:
        report.package_error = str(error)
    return report


def format_report(report: ImportReport) -> Iterator[str]:
    """The report as text lines (the command line; English, the operators' language)."""
    if report.dry_run:
        yield "DRY RUN: nothing was saved and no file was stored; outcomes are what a real " \
              "run would do."
    yield f"Import of {report.source} (sha256 {report.sha256 or '-'})" + (
        ", to the review queue" if report.review else "")
    if report.package_error:
        yield f"error: the package cannot be read: {report.package_error}"
    for line in report.lines:
        head = f"line {line.number:>6}  {line.outcome:<9}"
        if line.external_id:
            head += f"  id {line.external_id}"
        if line.record_id:
            head += f"  record {line.record_id}"
        if line.warnings and line.outcome != "error":
            head += "  (warning)"
        yield head
        for message in line.errors:
            yield f"             error: {message}"
        for message in line.warnings:
            yield f"             warning: {message}"
    c = report.counts
    yield (f"{len(report.lines)} line(s): {c['created']} created, {c['updated']} updated, "
           f"{c['unchanged']} unchanged, {c['error']} failed, {c['warnings']} with warnings.")
