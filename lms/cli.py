"""The ``lms`` command line. ``lms --help`` builds no app and touches nothing."""

from __future__ import annotations

import importlib.util
import logging
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo, routes_command, shell_command

from lms.errors import ServiceError
from lms.harvest.cli import harvest_group


def _create_app():
    from lms import create_app

    return create_app()


def progress_bar(label: str, total: int | None = None):
    """A click progress bar on standard error, hidden when that is not a terminal (cron,
    pipes, tests), so the command's own output stays clean. ``total`` may be unknown."""
    stream = sys.stderr  # read at call time: the test runner swaps it
    bar = click.progressbar(length=total or 0, label=label, file=stream,
                            hidden=not stream.isatty(), show_pos=True,
                            show_percent=total is not None)
    if total is None:
        bar.length = None  # a moving bar and a count, until (if ever) the total is known
    return bar


@contextmanager
def terminal_progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """:func:`progress_bar` as a backup ``Progress``: yields the function that advances it."""
    with progress_bar(label, total) as bar:
        yield bar.update


#: Commands that work before the schema exists (or never touch it).
NO_SCHEMA_NEEDED = frozenset({"db", "shell", "routes"})
#: Exit status of a command refused because the database is not ready for it.
EXIT_NOT_READY = 2


class LmsGroup(AppGroup):
    """The top-level group: a command that needs the schema is refused with a clear message
    (exit status 2) while the database has none or an older one, instead of a traceback.
    ``lms db`` (Flask-Migrate's commands) is loaded only when it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "db"})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "db":
            return _migrations_group()
        return super().get_command(ctx, name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name, command, rest = super().resolve_command(ctx, args)
        if name not in NO_SCHEMA_NEEDED and not ctx.resilient_parsing and "--help" not in rest:
            _require_schema(ctx)
        return name, command, rest


class _MigrationsGroup(click.Group):
    def invoke(self, ctx: click.Context):
        from lms.schema import use_migrations

        use_migrations(ctx.ensure_object(ScriptInfo).load_app())
        return super().invoke(ctx)


def _migrations_group() -> click.Group:
    from flask_migrate.cli import db as db_group

    return _MigrationsGroup("db", commands=db_group.commands, callback=db_group.callback,
                            params=db_group.params, help=db_group.help)


def _require_schema(ctx: click.Context) -> None:
    from lms.schema import SchemaState, schema_state

    app = ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        state = schema_state()
    if state is SchemaState.CURRENT:
        return
    message = {
        SchemaState.UNREACHABLE: "the database cannot be reached; check LMS_DATABASE_URL and "
                                 "that the server is running, then run `lms db upgrade` first "
                                 "if it is new.",
        SchemaState.MISSING: "this database has no schema yet: run `lms db upgrade` first.",
        SchemaState.OUTDATED: "the database schema is older than this version of the "
                              "application: run `lms db upgrade` first.",
    }[state]
    click.echo(f"Error: {message}", err=True)
    ctx.exit(EXIT_NOT_READY)


@click.group(cls=LmsGroup, help="Kho học liệu số: service, worker and maintenance commands.")
def cli() -> None:
    """The command group; every subcommand runs inside an application context."""


cli.add_command(shell_command)
cli.add_command(routes_command)


def fail(message: str) -> None:
    """Print ``message`` to stderr and exit with status 1."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def command_group(name: str, help_text: str) -> AppGroup:
    """A group of subcommands under ``lms``: ``lms <name> ...``."""
    group = AppGroup(name, help=help_text)
    cli.add_command(group)
    return group


user_group = command_group("user", "Manage accounts.")


@user_group.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              help="admin, curator, instructor, trainer or learner (repeatable).")
@click.option("--unit", "unit_path", help="Unit path, names separated by '/'.")
@click.option("--full-name", default="", help="The person's full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_create(username: str, roles: tuple[str, ...], unit_path: str | None, full_name: str,
                password_stdin: bool) -> None:
    """Create an account. Without --password-stdin a one-time password is printed."""
    from lms.accounts.services import Profile, UserInput, create_user

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user, generated = create_user(None, UserInput(
            username=username, profile=Profile(full_name=full_name), password=password,
            roles=roles, unit_path=unit_path))
    except ServiceError as error:
        fail(error.message)
    click.echo(f"Created {user.username} ({', '.join(role.name for role in user.roles)}).")
    if generated:
        click.echo(f"One-time password (must be changed at first login): {generated}")


unit_group = command_group("unit", "Manage the unit tree.")


@unit_group.command("create")
@click.argument("path")
def unit_create(path: str) -> None:
    """Create the unit at PATH (e.g. "Học viện Hậu cần/Khoa Tài chính"), with missing parents."""
    from lms.accounts.services import create_unit_path

    try:
        unit, created = create_unit_path(None, path)
    except ServiceError as error:
        fail(error.message)
    if created:
        for new in created:
            click.echo(f"Created {new.path}")
    else:
        click.echo(f"{unit.path} already exists.")


people_group = command_group("people", "People: import from CSV or XLSX.")


@people_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row; change nothing.")
@click.option("--create-units", is_flag=True, help="Create the units the file names that do "
              "not exist yet (default: such rows are refused).")
@click.option("--passwords-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the new people's one-time passwords (default: "
                   "people-passwords-<date>.csv here). The file is created, never overwritten.")
def people_import(path: Path, dry_run: bool, create_units: bool,
                  passwords_file: Path | None) -> None:
    """Import people from PATH (.csv or .xlsx) with the columns username, full_name,
    person_code, unit, rank, position, cohort, target_group, roles, email.

    A row updates the person with the same username (or person code); a row is applied whole
    or not at all. Prints every refused row with its reasons; exits 1 if any row was refused.
    New people's one-time passwords go to a file readable only by you, and are stored
    nowhere else.
    """
    import os
    from datetime import datetime

    from lms.accounts.people_import import (
        PeopleImportOptions,
        import_people,
        issue_passwords,
        passwords_csv,
    )

    target = passwords_file or Path(f"people-passwords-{datetime.now():%Y%m%d-%H%M%S}.csv")
    if not dry_run and target.exists():
        fail(f"{target} exists; choose another --passwords-file.")
    try:
        report = import_people(None, path, PeopleImportOptions(
            dry_run=dry_run, create_units=create_units, via="cli"))
    except ServiceError as error:
        fail(error.message)
    for row in report.rows:
        if row.outcome == "error":
            click.echo(f"row {row.number} ({row.username or '-'}): " + " ".join(row.errors))
    counts = report.counts
    prefix = "Dry run: would have " if dry_run else ""
    click.echo(f"{prefix}{counts['created']} created, {counts['updated']} updated, "
               f"{counts['unchanged']} unchanged, {counts['error']} refused.")
    for unit_path in report.created_units:
        click.echo(f"{'Would create' if dry_run else 'Created'} unit {unit_path}")
    if report.batch_id is not None:
        issued = issue_passwords(report.batch_id)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(passwords_csv(issued))
        click.echo(f"One-time passwords of {len(issued)} new people written to {target}; "
                   "hand them out and delete the file.")
    if report.failed:
        sys.exit(1)


collection_group = command_group("collection", "Manage the collection tree.")


@collection_group.command("create")
@click.argument("slug")
@click.option("--title", required=True, help="Title (Vietnamese).")
@click.option("--title-en", default="", help="Title (English).")
@click.option("--parent", "parent_slug", help="Slug of the parent collection.")
@click.option("--access", "default_access", default="internal", show_default=True,
              help="Default access of new deposits: public, internal, unit, role, restricted.")
@click.option("--steps", "workflow_steps", default=2, show_default=True, type=int,
              help="Review steps: 1 (review and publish) or 2 (review, then final edit).")
@click.option("--curator", "curators", multiple=True, help="Curator username (repeatable).")
def collection_create(slug: str, title: str, title_en: str, parent_slug: str | None,
                      default_access: str, workflow_steps: int, curators: tuple[str, ...]) -> None:
    """Create a collection; SLUG is lower-case ASCII [a-z0-9-] (it becomes an OAI setSpec)."""
    from lms.auth.services import find_user
    from lms.catalog.collections import create_collection, get_collection

    try:
        parent = get_collection(parent_slug) if parent_slug else None
        users = []
        for name in curators:
            user = find_user(name)
            if user is None:
                fail(f"No user named {name}.")
            users.append(user)
        collection = create_collection(None, slug, title, parent=parent, title_en=title_en,
                                       default_access=default_access,
                                       workflow_steps=workflow_steps, curators=users)
    except ServiceError as error:
        fail(error.message)
    click.echo(f"Created collection {collection.slug} ({collection.title}).")


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--collection", "collection", help="Collection slug for lines that name none.")
@click.option("--dry-run", is_flag=True,
              help="Check everything the real run checks; save nothing, store no file.")
@click.option("--review", is_flag=True,
              help="Send the records to their collection's review queue instead of publishing.")
@click.option("--async", "queue", is_flag=True,
              help="Leave text extraction to the worker instead of doing it before returning.")
@click.option("--as", "username", help="Act as this administrator (default: the operator).")
@click.option("--batch-size", type=int, default=None,
              help="Lines per search/OAI update batch (default: IMPORT_BATCH_SIZE, 500).")
def import_command(path: Path, collection: str | None, dry_run: bool, review: bool,
                   queue: bool, username: str | None, batch_size: int | None) -> None:
    """Import records from PATH: a .jsonl file, or a .zip or folder with manifest.csv.

    One record per line; a line's "id" is kept as the record's external id, and importing
    the same line again updates that record (or leaves it alone if nothing changed).
    Records are published at once unless --review. Prints a report per line; exits 1 if
    any line (or the package) failed.
    """
    from lms.auth.services import find_user
    from lms.catalog.collections import get_collection
    from lms.ingest.imports import ImportOptions, format_report, run_import
    from lms.permissions import can

    actor = None
    if username:
        actor = find_user(username)
        if actor is None or not can(actor, "record.import"):
            fail(f"{username} is not an active administrator.")
    if collection:
        try:
            get_collection(collection)
        except ServiceError as error:
            fail(error.message)
    options = ImportOptions(collection=collection, dry_run=dry_run, review=review,
                            extract="queue" if queue else "now", batch_size=batch_size,
                            via="cli")
    with progress_bar("Importing lines") as bar:
        def progress(done: int, total: int | None) -> None:
            if total is not None and bar.length != total:
                bar.length, bar.show_percent = total, True
            bar.update(done - bar.pos)

        try:
            report = run_import(actor, path.resolve(), options, progress)
        except ServiceError as error:
            fail(error.message)
    if not dry_run:
        # Also what an earlier, interrupted run left for search and OAI-PMH (the worker would
        # do it too; an instance run from the command line alone may have none).
        from lms.changelog import drain

        drain(wait=current_app.config["CHANGE_LOG_INLINE_WAIT_SECONDS"])
    for text in format_report(report):
        click.echo(text)
    if report.failed:
        sys.exit(1)


@cli.command("reindex")
def reindex_command() -> None:
    """Rebuild the search index (of the configured backend) from the database."""
    from sqlalchemy import func, select

    from lms.catalog.access import published_clause
    from lms.catalog.models import Record
    from lms.discovery.services import rebuild_index
    from lms.extensions import db

    total = db.session.scalar(select(func.count(Record.id)).where(published_clause()))
    with progress_bar("Indexing records", total) as bar:

        def progress(done: int) -> None:
            bar.update(done - bar.pos)

        count = rebuild_index(progress)
    click.echo(f"Search index ({current_app.config['SEARCH_BACKEND']}) rebuilt: "
               f"{count} records.")


@cli.command("check")
@click.option("--repair", is_flag=True, help="Repair every difference found, then check again.")
def check_command(repair: bool) -> None:
    """Compare search and OAI-PMH with the database: which records each holds, who may find
    them, and their content. Prints each difference; exits 1 if any (after --repair: any
    left)."""
    from lms.changelog.check import check_mirrors

    with ExitStack() as bars:

        def progress(name: str) -> Callable[[int], None]:
            return bars.enter_context(progress_bar(f"Checking {name}")).update

        report = check_mirrors(repair=repair, progress=progress)
    for difference in report.repaired:
        click.echo(f"repaired  {difference.mirror:<8} record {difference.record_id:<8} "
                   f"{difference.kind:<10} {difference.detail}")
    for difference in report.differences:
        click.echo(f"differs   {difference.mirror:<8} record {difference.record_id:<8} "
                   f"{difference.kind:<10} {difference.detail}")
    pending = ", ".join(f"{name} {count}" for name, count in report.pending.items() if count)
    click.echo(f"{len(report.differences)} difference(s)"
               + (f", {len(report.repaired)} repaired" if repair else "")
               + (f"; changes still being applied: {pending}" if pending else "") + ".")
    if report.differences:
        sys.exit(1)


oai_group = command_group("oai", "OAI-PMH maintenance.")


@oai_group.command("rebuild")
def oai_rebuild() -> None:
    """Recompute what OAI-PMH serves for every record (after an upgrade or a restore)."""
    from sqlalchemy import func, select

    from lms.catalog.models import Record
    from lms.extensions import db
    from lms.oai.projection import rebuild

    total = db.session.scalar(select(func.count(Record.id)))
    with progress_bar("Refreshing records", total) as bar:
        count = rebuild(bar.update)
    click.echo(f"OAI-PMH projection refreshed for {count} records.")


cli.add_command(harvest_group)


@cli.command("demo")
def demo_command() -> None:
    """Load demo units and one account per role (idempotent; refused in production)."""
    from lms.demo import load_demo

    if current_app.config["ENV"] == "production":
        fail("lms demo is refused in production: demo accounts have printed passwords.")
    if any(importlib.util.find_spec(name) is None for name in ("docx", "pptx")):
        fail("lms demo writes its sample documents with python-docx and python-pptx, which "
             "are not installed: pip install 'kho-hoc-lieu-so[demo]'")
    from lms.catalog.demo import load_catalog_demo
    from lms.training.demo import COURSE_TITLE, load_training_demo

    logins = load_demo(Path(current_app.instance_path))
    created = load_catalog_demo()
    click.echo(f"Demo collections ready; {created} demo materials published.")
    if load_training_demo():
        click.echo(f"Demo course \"{COURSE_TITLE}\" assigned to the demo learner's class.")
    from lms.quizzes.demo import load_quiz_demo

    if load_quiz_demo():
        click.echo(f"Demo question bank and a 30-question test ending \"{COURSE_TITLE}\".")
    click.echo("Demo accounts (username / password / roles):")
    for login in logins:
        click.echo(f"  {login.username:<12} {login.password:<20} {login.role}")


files_group = command_group("files", "Stored files: text extraction, garbage collection.")


@files_group.command("extract")
@click.option("--record", "record_ids", type=int, multiple=True,
              help="Only the files of this record (repeatable).")
def files_extract(record_ids: tuple[int, ...]) -> None:
    """Extract the text of files still pending (e.g. stored before extraction existed)."""
    from lms.files.extraction import extract_files, pending_file_ids

    ids = pending_file_ids(record_ids or None)
    with progress_bar("Extracting files", len(ids)) as bar:
        outcomes = extract_files(ids, progress=bar.update)
    problems = [o for o in outcomes if o.status in ("empty", "failed", "timeout")]
    click.echo(f"Extracted {len(outcomes)} file(s); {len(problems)} without text.")
    for outcome in problems:
        click.echo(f"  file {outcome.file_id}: {outcome.status}: {outcome.message}")


@files_group.command("gc")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
def files_gc(dry_run: bool) -> None:
    """Delete stored blobs no file references, older than FILES_GC_GRACE_HOURS (default 24)."""
    from lms.files.maintenance import collect_unreferenced

    keys = collect_unreferenced(dry_run=dry_run)
    for key in keys:
        click.echo(key)
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(f"{verb} {len(keys)} unreferenced blob(s).")


@cli.command("fixity")
@click.option("--all", "check_all", is_flag=True,
              help="Check every stored blob (default: those not checked within the interval).")
def fixity_command(check_all: bool) -> None:
    """Re-hash stored files and compare them with their SHA-256; exit 1 if any is damaged."""
    from lms.files.maintenance import check_blobs, due_blobs, reconcile_registry

    reconcile_registry()
    keys = due_blobs(overdue_only=not check_all)
    with progress_bar("Checking files", len(keys)) as bar:
        summary = check_blobs(keys, progress=bar.update)
    click.echo(f"Checked {summary.checked} blob(s): {summary.ok} ok, "
               f"{len(summary.problems)} with problems.")
    for problem in summary.problems:
        click.echo(f"  {problem.status}: {problem.key}", err=True)
    if summary.problems:
        sys.exit(1)


@cli.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--copy-files/--list-files", default=None,
              help="Copy the stored files into the backup (default with local storage) or "
                   "only list and check them (default with S3, whose bucket keeps them).")
def backup_command(dest: Path, copy_files: bool | None) -> None:
    """Back up the database (a consistent snapshot), the stored files and the settings
    (without secrets) into the new folder DEST."""
    from lms.backup import BackupError, create_backup

    try:
        summary = create_backup(dest, copy_files=copy_files, progress=terminal_progress)
    except BackupError as error:
        fail(str(error))
    rows = sum(summary.tables.values())
    verb = "copied" if summary.copied else "listed"
    click.echo(f"Backup written to {summary.path}: {summary.database} database "
               f"({len(summary.tables)} tables, {rows} rows), {summary.blobs} files "
               f"({summary.blob_bytes} bytes) {verb}.")


@cli.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace the database of an instance that is not empty.")
def restore_command(src: Path, force: bool) -> None:
    """Restore a backup made by `lms backup` onto an empty instance (after `lms db upgrade`),
    then rebuild search and OAI-PMH. The backup is checked whole before anything changes."""
    from lms.backup import BackupError, restore_backup

    try:
        summary = restore_backup(src, force=force, progress=terminal_progress)
    except BackupError as error:
        fail(f"{error} The database was not changed.")
    click.echo(f"Restored {sum(summary.tables.values())} rows in {len(summary.tables)} tables "
               f"and {summary.blobs} files; search index rebuilt ({summary.indexed} records), "
               f"OAI-PMH refreshed ({summary.projected} records).")
    for warning in summary.warnings:
        click.echo(f"Warning: {warning}", err=True)


@cli.command("worker")
@click.option("--threads", type=int, default=None, help="Worker threads (default: config).")
def worker_command(threads: int | None) -> None:
    """Run background jobs and schedules until SIGTERM or Ctrl-C (finishing running jobs).

    Beside the jobs it keeps a heartbeat, marks jobs of workers that died as interrupted,
    and applies the change log to search and OAI-PMH (what requests could not) every
    CHANGE_LOG_POLL_SECONDS, starting at once.
    """
    from lms import changelog
    from lms.ingest.jobs import remove_stale_uploads
    from lms.jobs import Duty, Worker, huey_for

    app = current_app._get_current_object()
    if app.config["JOBS_IMMEDIATE"]:
        fail("JOBS_IMMEDIATE is on: jobs run inline, there is nothing for a worker to do.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    consumer = huey_for(app).create_consumer(
        workers=threads or app.config["WORKER_THREADS"],
        worker_type="thread",
        periodic=True,
        graceful_signal="TERM",
        max_delay=1.0,  # an idle worker still picks up new jobs within a second
    )
    worker = Worker(app, [
        Duty("change log", float(app.config["CHANGE_LOG_POLL_SECONDS"]), changelog.drain),
        Duty("change log pruning", 60.0, changelog.prune_applied),
        Duty("temporary import folders", 600.0, remove_stale_uploads),
    ])
    worker.start()
    click.echo("Worker started; stop with Ctrl-C or SIGTERM.")
    try:
        consumer.run()
    finally:
        worker.stop()


jobs_group = command_group("jobs", "Background jobs: list them, resume interrupted ones.")


@jobs_group.command("list")
@click.option("--status", "statuses", multiple=True,
              type=click.Choice(["queued", "running", "done", "failed", "interrupted"]),
              help="Only jobs in this state (repeatable).")
@click.option("--limit", default=50, show_default=True, type=int)
def jobs_list(statuses: tuple[str, ...], limit: int) -> None:
    """The most recent jobs, newest first: id, kind, state, progress, owner, message."""
    from lms.jobs.queue import recent_jobs

    for job, owner in recent_jobs(statuses, limit):
        progress = f"{job.progress_done}/{job.progress_total or '?'}"
        owner = owner or "-"
        when = (job.started_at or job.created_at).strftime("%Y-%m-%d %H:%M")
        click.echo(f"{job.id:>6}  {job.name:<28} {job.status:<11} {progress:>11}  {owner:<12} "
                   f"{when}  {job.message[:80]}")


@jobs_group.command("resume")
@click.argument("job_id", type=int)
def jobs_resume(job_id: int) -> None:
    """Queue an interrupted job again; it goes on from where it stopped (imports: after the
    last line committed). The worker runs it."""
    from lms.jobs import resume

    try:
        job = resume(None, job_id)
    except ServiceError as error:
        fail(error.message)
    click.echo(f"Job {job.id} ({job.name}) resumed: {job.status}.")


def _address(host: str, port: int) -> str:
    """The address to print: a listener on every interface is reachable on loopback too."""
    import ipaddress

    try:
        everywhere = ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a host name
        everywhere = False
    return f"http://{'127.0.0.1' if everywhere else host}:{port}/"


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 for the whole LAN).")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", type=int, default=None,
              help="Web worker processes (default: LMS_WEB_WORKERS, else cores + 1).")
@click.option("--threads", type=int, default=None,
              help="Threads per web worker (default: LMS_WEB_THREADS, else 4).")
@click.option("--no-worker", is_flag=True,
              help="Do not start the job worker (it runs elsewhere, e.g. its own service).")
def serve_command(host: str, port: int, workers: int | None, threads: int | None,
                  no_worker: bool) -> None:
    """Production server: gunicorn plus the job worker. HUP restarts gracefully; Ctrl-C or
    SIGTERM stops both."""
    from lms.serve import options_from, serve

    config = current_app.config
    with_worker = not no_worker and not config["JOBS_IMMEDIATE"]
    options = options_from(config, host, port, workers, threads, with_worker)
    serve(options, f"Kho học liệu số is running at {_address(host, port)}")


@cli.command("run", context_settings={"ignore_unknown_options": False})
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 for the whole LAN).")
@click.option("--port", default=5000, show_default=True, type=int)
def run_command(host: str, port: int) -> None:
    """Development server (Werkzeug's) plus a worker; Ctrl-C stops both. `lms serve` is
    what production runs."""
    app = current_app._get_current_object()
    # Ctrl-C and SIGTERM must reach the `finally` below, which stops the worker too, even when
    # this process was started with SIGINT ignored (a background job of a shell script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    worker = subprocess.Popen([sys.executable, "-m", "lms", "worker"])
    try:
        address = app.config["PUBLIC_BASE_URL"] or _address(host, port).rstrip("/")
        click.echo(f"Kho học liệu số is running at {address}/")
        from lms.serving import RequestHandler

        app.run(host=host, port=port, debug=False, use_reloader=False,
                request_handler=RequestHandler)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def main() -> None:
    cli.main(obj=ScriptInfo(create_app=_create_app, set_debug_flag=False))
