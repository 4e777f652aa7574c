"""Background jobs on huey: SQLite storage under ``DATA_DIR`` by default, Redis when
``REDIS_URL`` is set, inline execution when ``JOBS_IMMEDIATE`` is on (tests).

A job function is registered with :func:`job` and receives a :class:`JobContext` for
progress reports. :func:`enqueue` records a :class:`~lms.models.Job` row for its owner and
hands the job to huey only after that row is committed.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab

from lms.db import utcnow
from lms.extensions import db
from lms.models import Job, JobStatus, User
from lms.uow import unit_of_work

log = logging.getLogger(__name__)

JobFunction = Callable[..., dict[str, Any] | None]


@dataclass(frozen=True)
class _Registration:
    function: JobFunction
    schedule: crontab | None


_REGISTRY: dict[str, _Registration] = {}


def job(name: str, *, schedule: crontab | None = None) -> Callable[[JobFunction], JobFunction]:
    """Register ``function(ctx, **params)`` as a background job; ``schedule`` makes it periodic."""

    def decorator(function: JobFunction) -> JobFunction:
        _REGISTRY[name] = _Registration(function, schedule)
        return function

    return decorator


class JobContext:
    """Handed to a running job: its row, and a way to report progress to its owner."""

    def __init__(self, job_row: Job) -> None:
        self.job = job_row

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        self.job.progress_done = done
        if total is not None:
            self.job.progress_total = total
        if message is not None:
            self.job.message = message
        db.session.commit()


def _make_huey(app: Flask) -> Huey:
    name = "lms"
    if app.config["JOBS_IMMEDIATE"]:
        return Huey(name, immediate=True)
    if app.config.get("REDIS_URL"):
        return RedisHuey(name, url=app.config["REDIS_URL"])
    data_dir = Path(app.config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(data_dir / "jobs.sqlite"))


def init_app(app: Flask) -> None:
    # Job modules register themselves on import; import them before wiring huey.
    from lms import maintenance  # noqa: F401
    from lms.catalog import jobs as catalog_jobs  # noqa: F401
    from lms.discovery import services as search_jobs  # noqa: F401
    from lms.files import jobs as files_jobs  # noqa: F401
    from lms.harvest import jobs as harvest_jobs  # noqa: F401
    from lms.ingest import jobs as ingest_jobs  # noqa: F401

    huey = _make_huey(app)
    tasks = {}
    for name, registration in _REGISTRY.items():
        tasks[name] = huey.task(name=name)(_runner(app, name))
        if registration.schedule is not None:
            huey.periodic_task(registration.schedule, name=f"{name}:schedule")(
                _scheduled_runner(app, name)
            )
    app.extensions["huey"] = huey
    app.extensions["huey_tasks"] = tasks


def _runner(app: Flask, name: str) -> Callable[[int], None]:
    def run(job_id: int) -> None:
        # In immediate mode the caller's app context is reused; in the worker we push one.
        if _inside(app):
            execute(name, job_id)
        else:
            with app.app_context():
                execute(name, job_id)

    return run


def _scheduled_runner(app: Flask, name: str) -> Callable[[], None]:
    def run() -> None:
        with app.app_context():
            with unit_of_work():
                row = Job(name=name, params={}, message="scheduled")
                db.session.add(row)
            execute(name, row.id)

    return run


def _inside(app: Flask) -> bool:
    try:
        return current_app._get_current_object() is app  # type: ignore[attr-defined]
    except RuntimeError:
        return False


def execute(name: str, job_id: int) -> None:
    """Run job ``job_id`` now, recording its status, progress and result."""
    row = db.session.get(Job, job_id)
    if row is None:
        log.warning("job %s (%s) vanished before it ran", job_id, name)
        return
    row.status, row.started_at = JobStatus.RUNNING, utcnow()
    db.session.commit()
    try:
        result = _REGISTRY[name].function(JobContext(row), **row.params)
    except Exception as error:
        db.session.rollback()
        row = db.session.get(Job, job_id)
        row.status, row.finished_at = JobStatus.FAILED, utcnow()
        row.message = f"{type(error).__name__}: {error}"[:2000]
        row.result = {"traceback": traceback.format_exc()[-4000:]}
        db.session.commit()
        log.exception("job %s (%s) failed", job_id, name)
        return
    row.status, row.finished_at = JobStatus.DONE, utcnow()
    row.result = result or {}
    if row.progress_total is not None:
        row.progress_done = row.progress_total
    db.session.commit()


def enqueue(name: str, *, owner: User | None = None, **params: Any) -> Job:
    """Record a job for ``owner`` and queue it once the record is committed.

    :raise KeyError: no job is registered under ``name``.
    """
    if name not in _REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    with unit_of_work() as on_commit:
        row = Job(name=name, owner_id=owner.id if owner else None, params=params)
        db.session.add(row)
        db.session.flush()
        job_id = row.id
        task = current_app.extensions["huey_tasks"][name]
        on_commit(lambda: task(job_id))
    return db.session.get(Job, job_id)


def huey_for(app: Flask) -> Huey:
    return app.extensions["huey"]
