"""Health checks for ``GET /health``: database, data folder, job queue, file fixity, search
and the change log's mirrors."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import current_app
from sqlalchemy import text

from lms.extensions import db
from lms.jobs import huey_for

OK, DEGRADED, FAIL = "ok", "degraded", "fail"


def check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any driver error means the same thing here: not reachable
        db.session.rollback()
        return FAIL
    return OK


def check_data_dir() -> str:
    path = Path(current_app.config["DATA_DIR"])
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".health-"):
            pass
    except OSError:
        return FAIL
    return OK


def check_jobs() -> str:
    try:
        pending = huey_for(current_app).pending_count()
    except Exception:  # sqlite3/redis errors alike: the queue cannot be reached
        return FAIL
    # A long queue means the worker is not running or falling behind; the site still works.
    return DEGRADED if pending > 1000 else OK


def check_fixity() -> str:
    """Degraded while any stored file's last fixity check found it changed or missing."""
    from sqlalchemy.exc import SQLAlchemyError

    from lms.files.maintenance import count_fixity_problems

    try:
        problems = count_fixity_problems()
    except SQLAlchemyError:
        db.session.rollback()
        return FAIL  # the database check says why; overall stays as that check decides
    return DEGRADED if problems else OK


def check_search() -> str:
    from lms.discovery.services import backend

    try:
        engine = backend()
        return DEGRADED if engine.needs_rebuild else OK
    except Exception:  # any engine error: searching is down, the rest of the site is not
        return DEGRADED


def check_mirrors() -> str:
    """Degraded while a change waits longer than it should for search or OAI-PMH (the worker
    is not running, or a mirror keeps failing), or the last daily check left differences."""
    from sqlalchemy.exc import SQLAlchemyError

    from lms.changelog.check import last_check, oldest_pending_age

    try:
        age = oldest_pending_age()
        job = last_check()
    except SQLAlchemyError:
        db.session.rollback()
        return FAIL
    if age is not None and age > current_app.config["CHANGE_LOG_STALE_SECONDS"]:
        return DEGRADED
    if job is not None and (job.status != "done" or (job.result or {}).get("differences")):
        return DEGRADED
    return OK


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "data_dir": check_data_dir,
    "jobs": check_jobs,
    "fixity": check_fixity,
    "search": check_search,
    "mirrors": check_mirrors,
}


def run_checks() -> tuple[str, dict[str, str]]:
    results = {name: check() for name, check in CHECKS.items()}
    if results["database"] == FAIL or results["data_dir"] == FAIL:
        overall = FAIL
    elif any(value != OK for value in results.values()):
        overall = DEGRADED
    else:
        overall = OK
    return overall, results


