"""Backup and restore of a whole instance: the database, the stored files, the settings.

A backup is a folder::

    manifest.json      written last: a folder without it is an unfinished backup
    database.sqlite    SQLite's online backup of the live database, or
    database.pgdump    pg_dump's custom format, taken in an exported snapshot
    files.jsonl        one {"key", "size"} line per blob the database references
    blobs/ab/cd/<key>  the blobs themselves (local storage; on S3 only with --copy-files)

**Consistency.** The database is copied first, in one snapshot. The blobs to keep are those
the *snapshot* references (so a file uploaded or purged meanwhile cannot make the pair
disagree); blobs are immutable and named by their SHA-256, and each is re-hashed as it is
copied. On S3 the objects stay where they are (the bucket is protected by its own versioning
or replication) and the backup lists them, after checking each exists with its size.

**Restore** checks everything before it changes anything — the manifest, the dump's SHA-256
and structure, every copied blob's hash, or (listed blobs) their presence in the store — and
refuses a non-empty instance unless forced. It then stores the blobs, replaces the database
(PostgreSQL: in one transaction), applies newer migrations, and rebuilds the search index and
the OAI-PMH projection from the database.

Not in a backup: the job queue (SQLite file or Redis: transient), the search index (rebuilt),
secrets (the settings are kept without them; set them again on the new machine).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from glob import glob
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError

from lms.extensions import db
from lms.files import records as record_files
from lms.files.fixity import FixityStatus, check_blob
from lms.files.models import Blob
from lms.files.storage import CHUNK_SIZE, BlobNotFound, LocalStorage, Storage
from lms.files.stores import get_storage

FORMAT = "kho-hoc-lieu-so backup"
VERSION = 1
MANIFEST = "manifest.json"
FILES_LIST = "files.jsonl"
BLOBS = "blobs"
SQLITE_DUMP = "database.sqlite"
POSTGRES_DUMP = "database.pgdump"
_SECRET = re.compile(r"SECRET|PASSWORD|TOKEN|ACCESS_KEY|PRIVATE", re.IGNORECASE)

#: ``progress(label, total)`` opens a progress bar and gives the function that advances it.
Progress = Callable[[str, int | None], AbstractContextManager[Callable[[int], None]]]


def no_progress(label: str, total: int | None) -> AbstractContextManager[Callable[[int], None]]:
    return nullcontext(lambda n: None)


class BackupError(Exception):
    """The backup cannot be made, or a backup is refused; ``str()`` says why, for operators."""


@dataclass
class BackupSummary:
    path: Path
    database: str
    tables: dict[str, int]
    blobs: int
    blob_bytes: int
    copied: bool


@dataclass
class RestoreSummary:
    tables: dict[str, int]
    blobs: int
    indexed: int
    projected: int
    warnings: list[str] = field(default_factory=list)


# --- helpers -------------------------------------------------------------------------------

def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _dialect() -> str:
    return db.engine.dialect.name


def pg_tool(name: str) -> str:
    """The newest ``name`` (pg_dump, pg_restore, psql): Debian keeps them under
    /usr/lib/postgresql/<version>/bin, and pg_dump must be at least the server's version."""
    versions = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"),
                      key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
    found = versions[-1] if versions else shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found (install the PostgreSQL client tools).")
    return found


def _libpq_environment(engine: Engine) -> dict[str, str]:
    """The database URL as libpq variables: the password never appears in a command line."""
    url = engine.url
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    for name, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                        ("PGPASSWORD", url.password), ("PGDATABASE", url.database),
                        ("PGSSLMODE", url.query.get("sslmode"))):
        if value:
            env[name] = str(value)
    return env


def _run(command: list[str], env: dict[str, str], what: str, **kwargs: Any) -> None:
    # A fixed tool path and our own arguments, no shell: nothing here comes from a request.
    result = subprocess.run(command, env=env, capture_output=True, check=False, **kwargs)  # noqa: S603
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()[-2000:]
        raise BackupError(f"{what} failed: {message}")


def _table_counts(connection: Connection) -> dict[str, int]:
    names = sorted(inspect(connection).get_table_names())
    return {name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
            for name in names}


def public_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The instance's ``LMS_*`` settings without secrets (URLs keep no password)."""
    from lms.config import Config

    shown: dict[str, Any] = {}
    for name in sorted(n for n in dir(Config) if n.isupper()):
        if _SECRET.search(name):
            continue
        value = config.get(name)
        if isinstance(value, str) and "://" in value:
            with suppress(ArgumentError):  # not a URL with a password: kept as given
                value = make_url(value).render_as_string(hide_password=True)
        try:
            json.dumps(value)
        except TypeError:
            value = str(value)
        shown[name] = value
    shown["DATABASE_URL"] = db.engine.url.render_as_string(hide_password=True)
    return shown


# --- backup --------------------------------------------------------------------------------

def create_backup(dest: Path, *, copy_files: bool | None = None,
                  progress: Progress = no_progress) -> BackupSummary:
    """Back up the current app's instance into the new folder ``dest``.

    ``copy_files``: copy the blobs into the backup (default: yes for local storage, no for
    S3, whose objects are listed and checked instead).

    :raise BackupError: ``dest`` exists and is not empty, a tool failed, or a referenced blob
        is missing or damaged (the backup is then left unfinished, without a manifest).
    """
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} exists and is not empty.")
    dest.mkdir(parents=True, exist_ok=True)
    storage = get_storage()
    if copy_files is None:
        copy_files = isinstance(storage, LocalStorage)

    with progress("database", None) as advance:
        if _dialect() == "sqlite":
            dump, tables, keys, revision = _snapshot_sqlite(dest / SQLITE_DUMP)
        else:
            dump, tables, keys, revision = _snapshot_postgres(dest / POSTGRES_DUMP)
        advance(1)

    total = 0
    lines = []
    with progress("files", len(keys)) as advance:
        target = LocalStorage(dest / BLOBS, dest / "tmp") if copy_files else None
        for key in sorted(keys):
            size = _keep_blob(storage, target, key)
            lines.append(json.dumps({"key": key, "size": size}))
            total += size
            advance(1)
    shutil.rmtree(dest / "tmp", ignore_errors=True)
    files_list = dest / FILES_LIST
    files_list.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")

    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created": datetime.now(UTC).isoformat(),
        "database": {"kind": "sqlite" if dump.name == SQLITE_DUMP else "postgresql",
                     "file": dump.name, "size": dump.stat().st_size,
                     "sha256": _sha256_of(dump), "revision": revision, "tables": tables},
        "files": {"storage": storage.describe(), "copied": copy_files, "count": len(keys),
                  "bytes": total, "list": FILES_LIST, "list_sha256": _sha256_of(files_list)},
        "settings": public_settings(dict(current_app.config)),
    }
    tmp = dest / f".{MANIFEST}.part"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, dest / MANIFEST)
    return BackupSummary(dest, manifest["database"]["kind"], tables, len(keys), total,
                         copy_files)


def _snapshot_sqlite(path: Path) -> tuple[Path, dict[str, int], set[str], str | None]:
    source = Path(db.engine.url.database or "")
    if not source.is_file():
        raise BackupError(f"the SQLite database {source} does not exist.")
    # The online backup API: a consistent copy while the site keeps running.
    with sqlite3.connect(source) as live, sqlite3.connect(path) as copy:
        live.backup(copy)
    live.close()
    copy.close()
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return path, *_read_snapshot(connection)
    finally:
        engine.dispose()


def _snapshot_postgres(path: Path) -> tuple[Path, dict[str, int], set[str], str | None]:
    # One snapshot for the dump and for the list of blobs it references: pg_dump joins the
    # transaction's exported snapshot while that transaction stays open.
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        tables, keys, revision = _read_snapshot(connection)
        _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--snapshot={snapshot}", f"--file={path}"],
             _libpq_environment(db.engine), "pg_dump")
        connection.rollback()
    return path, tables, keys, revision


def _read_snapshot(connection: Connection) -> tuple[dict[str, int], set[str], str | None]:
    tables = _table_counts(connection)
    keys = set(connection.scalars(record_files.referenced_keys_query()))
    keys |= set(connection.scalars(select(Blob.key)))
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar() \
        if "alembic_version" in tables else None
    return tables, keys, revision


def _keep_blob(storage: Storage, target: LocalStorage | None, key: str) -> int:
    try:
        if target is None:
            return storage.size(key)
        with storage.open(key) as fh:
            stored = target.put(fh)
    except BlobNotFound:
        raise BackupError(f"the stored file {key} is referenced by the database but missing "
                          "from the store (run `lms fixity --all`; if it was purged during "
                          "the backup, run the backup again).") from None
    if stored.key != key:
        raise BackupError(f"the stored file {key} is damaged (its content hashes to "
                          f"{stored.key}); run `lms fixity --all` and repair it first.")
    return stored.size


# --- restore -------------------------------------------------------------------------------

@dataclass
class _Checked:
    manifest: dict[str, Any]
    dump: Path
    files: list[tuple[str, int]]


def check_backup(src: Path, *, progress: Progress = no_progress) -> _Checked:
    """Everything a restore relies on, checked without changing anything.

    :raise BackupError: saying what is missing or damaged.
    """
    manifest_path = src / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{src} is not a finished backup (no {MANIFEST}).")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"{MANIFEST} cannot be read: {error}") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"{src} is not a backup of this application (format "
                          f"{manifest.get('format')!r}, version {manifest.get('version')!r}).")
    database = manifest["database"]
    dump = src / database["file"]
    if database["file"] not in (SQLITE_DUMP, POSTGRES_DUMP) or not dump.is_file():
        raise BackupError(f"the database dump {dump.name} is missing.")
    kind = "sqlite" if _dialect() == "sqlite" else "postgresql"
    if database["kind"] != kind:
        raise BackupError(f"this backup holds a {database['kind']} database; this instance "
                          f"uses {kind}.")
    with progress("checking the database dump", 1) as advance:
        size, digest = dump.stat().st_size, _sha256_of(dump)
        if (size, digest) != (database["size"], database["sha256"]):
            raise BackupError(f"the database dump is damaged or truncated ({size} bytes, "
                              f"expected {database['size']}; SHA-256 differs).")
        _check_dump_structure(dump, kind)
        advance(1)

    listing = src / manifest["files"]["list"]
    if not listing.is_file() or _sha256_of(listing) != manifest["files"]["list_sha256"]:
        raise BackupError(f"the file list {listing.name} is missing or damaged.")
    files = [(entry["key"], int(entry["size"])) for entry in
             map(json.loads, listing.read_text(encoding="utf-8").splitlines())]
    if len(files) != manifest["files"]["count"]:
        raise BackupError("the file list does not match the manifest.")
    with progress("checking the files", len(files)) as advance:
        if manifest["files"]["copied"]:
            copies = LocalStorage(src / BLOBS)
            for key, size in files:
                _check_copy(copies, key, size)
                advance(1)
        else:
            storage = get_storage()
            missing = []
            for key, size in files:
                try:
                    if storage.size(key) != size:
                        missing.append(key)
                except BlobNotFound:
                    missing.append(key)
                advance(1)
            if missing:
                raise BackupError(
                    f"{len(missing)} file(s) listed in the backup are not in "
                    f"{storage.describe()} (first: {missing[0]}). Restore the bucket first, "
                    "or use a backup made with --copy-files.")
    return _Checked(manifest, dump, files)


def _check_copy(copies: LocalStorage, key: str, size: int) -> None:
    result = check_blob(copies, key)
    if result.status is FixityStatus.MISSING:
        raise BackupError(f"the backup lacks the stored file {key}.")
    if not result.ok or result.size != size:
        raise BackupError(f"the backup's copy of the stored file {key} is damaged.")


def _check_dump_structure(dump: Path, kind: str) -> None:
    if kind == "sqlite":
        try:
            with sqlite3.connect(f"file:{dump}?mode=ro", uri=True) as connection:
                result = connection.execute("PRAGMA integrity_check").fetchone()
            connection.close()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"the database dump is not a sound SQLite file: {error}") from None
        if result is None or result[0] != "ok":
            raise BackupError(f"the database dump fails SQLite's integrity check: {result}")
        return
    _run([pg_tool("pg_restore"), "--list", str(dump)], dict(os.environ),
         "reading the database dump (pg_restore --list)")


def instance_is_empty() -> bool:
    """No rows in any table beyond what the migrations themselves put there (roles, term
    lists...): the counts are compared with a scratch database migrated just now, so seed
    data added by a later migration needs no change here."""
    seeded = _seeded_counts()
    with db.engine.connect() as connection:
        counts = _table_counts(connection)
    return all(count <= seeded.get(name, 0) for name, count in counts.items()
               if name != "alembic_version")


def _seeded_counts() -> dict[str, int]:
    from lms import create_app
    from lms.schema import upgrade

    with tempfile.TemporaryDirectory(prefix="lms-seed-") as folder:
        scratch = create_app({"ENV": "development", "TESTING": False, "JOBS_IMMEDIATE": True,
                              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/seed.sqlite",
                              "DATA_DIR": f"{folder}/data", "STORAGE": None,
                              "SECRET_KEY": "scratch-database-for-seed-counts-only-0123456789"})
        with scratch.app_context():
            upgrade()
            with db.engine.connect() as connection:
                counts = _table_counts(connection)
            db.session.remove()
            db.engine.dispose()
    return counts


def restore_backup(src: Path, *, force: bool = False,
                   progress: Progress = no_progress) -> RestoreSummary:
    """Restore the backup in ``src`` into the current app's instance.

    :raise BackupError: the backup is incomplete or damaged, or the instance is not empty and
        ``force`` is false. Nothing has been changed then.
    """
    checked = check_backup(src, progress=progress)
    if not force and not instance_is_empty():
        raise BackupError("this instance is not empty: restore onto a new one (after `lms db "
                          "upgrade`), or pass --force to replace its database.")
    manifest = checked.manifest
    storage = get_storage()
    if manifest["files"]["copied"]:
        copies = LocalStorage(src / BLOBS)
        with progress("files", len(checked.files)) as advance:
            for key, _size in checked.files:
                with copies.open(key) as fh:
                    if storage.put(fh).key != key:  # pragma: no cover - checked above
                        raise BackupError(f"the stored file {key} changed while restoring.")
                advance(1)

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    with progress("database", 1) as advance:
        db.session.remove()
        db.engine.dispose()
        if manifest["database"]["kind"] == "sqlite":
            _restore_sqlite(checked.dump)
        else:
            _restore_postgres(checked.dump)
        db.engine.dispose()
        advance(1)
    _upgrade(app)
    with db.engine.connect() as connection:
        tables = _table_counts(connection)
    warnings = [f"table {name}: {tables.get(name)} rows, the backup had {count}"
                for name, count in manifest["database"]["tables"].items()
                if name != "alembic_version" and tables.get(name) != count]
    return RestoreSummary(tables, len(checked.files), *_rebuild_mirrors(progress), warnings)


def _restore_sqlite(dump: Path) -> None:
    target = Path(db.engine.url.database or "")
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(dump) as source, sqlite3.connect(target) as destination:
        source.backup(destination)
    source.close()
    destination.close()


def _restore_postgres(dump: Path) -> None:
    """Replace the schema in one transaction: psql -1 runs the drop and the whole restore
    script as one; any error rolls everything back."""
    env = _libpq_environment(db.engine)
    with subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(dump)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as script:
        assert script.stdout is not None and script.stderr is not None
        try:
            _run([pg_tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction",
                  "--set=ON_ERROR_STOP=1", "--command=DROP SCHEMA public CASCADE",
                  "--command=CREATE SCHEMA public", "--file=-"],
                 env, "restoring the database (psql)", stdin=script.stdout)
        finally:
            script.stdout.close()
            errors = script.stderr.read().decode(errors="replace")
        if script.wait() != 0:
            raise BackupError(f"pg_restore failed: {errors.strip()[-2000:]}")


def _upgrade(app: Flask) -> None:
    from lms.schema import upgrade

    with app.app_context():
        upgrade()


def _rebuild_mirrors(progress: Progress) -> tuple[int, int]:
    from lms.catalog.access import published_clause
    from lms.catalog.models import Record
    from lms.discovery.services import rebuild_index
    from lms.oai.projection import rebuild as rebuild_oai

    total = db.session.scalar(select(func.count(Record.id)).where(published_clause())) or 0
    with progress("search index", total) as advance:
        done = [0]

        def indexed(count: int) -> None:
            advance(count - done[0])
            done[0] = count

        indexed_count = rebuild_index(indexed)
    records = db.session.scalar(select(func.count(Record.id))) or 0
    with progress("OAI-PMH", records) as advance:
        projected = rebuild_oai(advance)
    return indexed_count, projected

