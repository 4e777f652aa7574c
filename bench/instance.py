"""A temporary app instance filled with VNTC articles through the app's bulk import, and what
every benchmark's instance needs: a scratch PostgreSQL database, a logged-in test client,
percentiles.

Shared by ``import_bench.py`` and ``search_bench.py --through-app``; the scratch databases,
settings and percentiles at the end serve every benchmark that builds an instance of its own
(``quiz_bench.py``, ``training_bench.py``). Each article becomes one
JSONL line (title, category as subject, source as publisher) with its body as a ``.txt`` file
beside it, imported with ``lms.ingest.imports.run_import`` (the service behind ``lms import``):
files stored and sniffed, one transaction per batch of lines, text extracted, search and
OAI-PMH told in batches. The corpus is test data only: callers delete the instance afterwards.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from corpus import read_vntc  # bench/corpus.py: scripts run from bench/

# LMS_BENCH_SOURCE: another checkout of the code to measure (import_bench.py --compare), e.g.
# `git archive main | tar -x -C /tmp/main`; its ``lms`` is imported instead of this one's.
ROOT = Path(os.environ.get("LMS_BENCH_SOURCE") or Path(__file__).resolve().parents[1])
COLLECTION = "vntc"
UNIT_PATH = "Học viện Hậu cần/Phòng Đào tạo"
READER = "bench-reader"


def access_for(i: int, mixed: bool) -> str | dict:
    """80% public, 10% for one unit, 10% for curators (``mixed``), or all public."""
    if mixed and i % 10 == 8:
        return {"level": "unit", "units": [UNIT_PATH]}
    if mixed and i % 10 == 9:
        return {"level": "role", "roles": ["curator"]}
    return "public"


def write_package(folder: Path, docs: int, *, mixed_access: bool = False) -> Path:
    """The JSONL file and one .txt per article; returns the JSONL path."""
    (folder / "texts").mkdir(parents=True)
    path = folder / "vntc.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i, article in enumerate(read_vntc(docs)):
            name = f"texts/{article['id']}.txt"
            (folder / name).write_text(article["text"], encoding="utf-8")
            line = {
                "id": article["id"],
                "access": access_for(i, mixed_access),
                "metadata": {
                    "title": [{"value": article["title"], "lang": "vi"}],
                    "subject": [{"value": article["category"], "lang": "vi"}],
                    "publisher": [{"value": article["source"]}],
                    "type": [{"value": "Text"}],
                    "language": [{"value": "vi"}],
                },
                "files": [{"path": name}],
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path


def use_instance(work: Path, backend: str | None = None) -> None:
    """Point this process's app configuration at the instance in ``work``."""
    os.environ.update({
        "LMS_INSTANCE_PATH": str(work / "instance"),
        "LMS_DATA_DIR": str(work / "data"),
        # LMS_BENCH_DATABASE_URL: a PostgreSQL database to empty and use instead of SQLite.
        "LMS_DATABASE_URL": os.environ.get("LMS_BENCH_DATABASE_URL")
        or f"sqlite:///{work / 'bench.sqlite'}",
        "LMS_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        # The benchmark rebuilds the index itself, timed; never inline on first use.
        "LMS_SEARCH_INLINE_REBUILD_MAX": "0",
    })
    if backend:
        os.environ["LMS_SEARCH_BACKEND"] = backend
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def prepare(app, *, reset: bool = True) -> None:
    """Schema, the collection, the unit of unit-only records and a reader who may see them
    all (a learner and curator in that unit): the "broad" principal set of the benchmarks.
    ``reset``: a PostgreSQL database starts empty (its schema dropped first)."""
    from lms.accounts.services import UserInput, create_unit_path, create_user
    from lms.catalog.collections import create_collection
    from lms.extensions import db

    try:
        from lms.schema import upgrade
    except ImportError:  # a checkout older than lms.schema.upgrade (--compare)
        from flask_migrate import upgrade

    with app.app_context():
        if reset and db.engine.dialect.name == "postgresql":
            from sqlalchemy import text

            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        create_collection(None, COLLECTION, "Tin tức VNTC", default_access="public")
        create_unit_path(None, UNIT_PATH)
        create_user(None, UserInput(username=READER, roles=("learner", "curator"),
                                    unit_path=UNIT_PATH))
        db.session.commit()


def import_package(app, package: Path, *, batch_size: int | None = None,
                   progress: Callable[[int, int | None], None] | None = None) -> dict:
    """Import ``package`` through ``run_import``; the report's counts and the seconds taken."""
    from lms.discovery.services import backend
    from lms.ingest.imports import ImportOptions, run_import

    with app.app_context():
        backend()  # a running instance has its index open already: not part of the timing
        began = time.perf_counter()
        report = run_import(None, package, ImportOptions(collection=COLLECTION,
                                                         batch_size=batch_size), progress)
        seconds = time.perf_counter() - began
    return {"seconds": seconds, **report.counts}


def progress_printer(every: int = 1000) -> Callable[[int, int | None], None]:
    began = time.perf_counter()

    def progress(done: int, total: int | None) -> None:
        if done % every == 0 or done == total:
            rate = done / max(time.perf_counter() - began, 1e-9)
            print(f"  {done:,}/{total or 0:,} lines, {rate:.0f} lines/s", file=sys.stderr,
                  flush=True)

    return progress


# --- what every benchmark's instance needs -------------------------------------------------

def scratch_postgres(url: str) -> str:
    """A fresh database ``<name>_bench`` beside ``url``'s, for one run (``drop_postgres``
    removes it)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    scratch = f"{base.database}_bench"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    admin.dispose()
    return base.set(database=scratch).render_as_string(hide_password=False)


def drop_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    scratch = make_url(url)
    admin = create_engine(scratch.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
    admin.dispose()


def scratch_settings(work: Path, database: str) -> dict[str, str]:
    """The ``LMS_*`` settings of a throwaway instance in ``work``: its SQLite file there when
    ``database`` is ``"sqlite"``, else a fresh database beside the PostgreSQL URL
    ``database`` (``LMS_DATABASE_URL``; drop it with :func:`drop_postgres`)."""
    url = f"sqlite:///{work / 'bench.sqlite'}" if database == "sqlite" else \
        scratch_postgres(database)
    return {"LMS_INSTANCE_PATH": str(work / "instance"), "LMS_DATA_DIR": str(work / "data"),
            "LMS_DATABASE_URL": url,
            "LMS_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789"}


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """Median, 95th percentile and maximum of ``samples``."""
    ordered = sorted(samples)
    return (statistics.median(ordered), ordered[round(0.95 * (len(ordered) - 1))],
            ordered[-1])


def run_in_children(script: str, child_args: list[str], *, sqlite: bool, postgres: str | None,
                    what: str, cwd: Path) -> dict[str, dict]:
    """``script --child DATABASE *child_args`` once per database, each in a fresh process (one
    engine and its caches never reach the other); the JSON line each printed last, by name."""
    databases = (["sqlite"] if sqlite else []) + ([postgres] if postgres else [])
    results: dict[str, dict] = {}
    for database in databases:
        name = "SQLite" if database == "sqlite" else "PostgreSQL"
        print(f"{name}: {what}…", file=sys.stderr)
        # Its progress and errors go to this terminal; its result comes on stdout.
        done = subprocess.run([sys.executable, script, "--child", database, *child_args],
                              check=True, stdout=subprocess.PIPE, text=True, cwd=cwd)
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def print_table(results: dict[str, dict], rows: dict[str, str], targets: dict[str, str],
                cell: Callable[[str, object], str], *, widths: tuple[int, int]) -> None:
    """A Markdown table: one row per measure (``rows``: key -> label), a target column, one
    column per database; ``cell(key, value)`` formats a measure."""
    names = list(results)
    label_width, target_width = widths
    print(f"| {'measure':<{label_width}} | {'target':<{target_width}} | "
          + " | ".join(f"{n:>10}" for n in names) + " |")
    print("|" + "-" * (label_width + 2) + "|" + "-" * (target_width + 2) + "|"
          + "|".join("-" * 12 for _ in names) + "|")
    for key, label in rows.items():
        cells = " | ".join(f"{cell(key, results[n].get(key)):>10}" for n in names)
        print(f"| {label:<{label_width}} | {targets.get(key, ''):<{target_width}} | {cells} |")


def add_database_options(parser) -> None:
    """``--postgres``, ``--no-sqlite``, ``--json`` and the hidden ``--child`` of the
    benchmarks that run through :func:`run_in_children`."""
    import argparse

    parser.add_argument("--postgres", help="PostgreSQL URL (a scratch database is made "
                                           "beside it); without it, SQLite only")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the raw results too")
    parser.add_argument("--child", help=argparse.SUPPRESS)


def log_in(client, username: str, password: str) -> None:
    """Log ``client`` (a Flask test client) in through the login form."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": username,
                                           "password": password})
    assert response.status_code == 302, response.status_code
