"""A temporary app instance filled with VNTC articles through the app's bulk import.

Shared by ``import_bench.py`` and ``search_bench.py --through-app``. Each article becomes one
JSONL line (title, category as subject, source as publisher) with its body as a ``.txt`` file
beside it, imported with ``lms.ingest.imports.run_import`` (the service behind ``lms import``):
files stored and sniffed, one transaction per batch of lines, text extracted, search and
OAI-PMH told in batches. The corpus is test data only: callers delete the instance afterwards.
"""

from __future__ import annotations

import json
import os
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


def prepare(app) -> None:
    """Schema, the collection, the unit of unit-only records and a reader who may see them
    all (a learner and curator in that unit): the "broad" principal set of the benchmarks."""
    from flask_migrate import upgrade

    from lms.accounts.services import UserInput, create_unit_path, create_user
    from lms.catalog.collections import create_collection
    from lms.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
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
