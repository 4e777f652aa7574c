"""Running jobs on huey: SQLite storage under ``DATA_DIR`` by default, Redis when ``REDIS_URL``
is set, inline execution when ``JOBS_IMMEDIATE`` is on (tests). The queue is made at its first
use (:func:`huey_for`): a process that never queues a job (``lms import``, an applier) does
not import huey and its storage clients, about 10 MB.

:func:`enqueue` records a :class:`~lms.models.Job` row for its owner and hands the job to huey
only after that row is committed; :func:`execute` runs it and records status and result.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lms.accounts.models import User
from lms.db import utcnow
from lms.errors import Conflict, NotFound, PermissionDenied
from lms.extensions import db
from lms.jobs.registry import JobFunction, JobSpec, jobs_in, spec_of
from lms.jobs.worker import current_worker_id
from lms.models import Job, JobStatus
from lms.permissions import Principal, can, require
from lms.uow import unit_of_work

if TYPE_CHECKING:
    from huey import Huey

log = logging.getLogger(__name__)
_making_queue = threading.Lock()


class JobContext:
    """Handed to a running job: its row, and a way to report progress to its owner."""

    def __init__(self, job_row: Job) -> None:
        self.job = job_row

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Show the owner how far the job is, at once.

        Written in a short transaction of its own (another connection), so that the job's
        own unfinished work is never committed with it. On SQLite, report between the job's
        own transactions: one holding the database's write lock would make this one wait.
        """
        values: dict[str, object] = {"progress_done": done}
        if total is not None:
            values["progress_total"] = total
        if message is not None:
            values["message"] = message
        with Session(db.engine) as session, session.begin():
            session.execute(update(Job).where(Job.id == self.job.id).values(**values))
        # Keep the job's copy in step without making it dirty in the job's own session.
        for name, value in values.items():
            set_committed_value(self.job, name, value)


def _make_huey(app: Flask) -> Huey:
    from huey import Huey, RedisHuey, SqliteHuey

    name = "lms"
    if app.config["JOBS_IMMEDIATE"]:
        return Huey(name, immediate=True)
    if app.config.get("REDIS_URL"):
        return RedisHuey(name, url=app.config["REDIS_URL"])
    data_dir = Path(app.config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(data_dir / "jobs.sqlite"))


def init_app(app: Flask, modules: Iterable[ModuleType]) -> None:
    """Give ``app`` a job queue running the jobs declared in ``modules``."""
    app.extensions["jobs"] = {}
    for spec in jobs_in(modules):
        _wire(app, spec)


def register(app: Flask, functions: Iterable[JobFunction]) -> None:
    """Add jobs declared outside the app's job modules (tests)."""
    for function in functions:
        _wire(app, spec_of(function))


def _wire(app: Flask, spec: JobSpec) -> None:
    wired: dict[str, JobSpec] = app.extensions["jobs"]
    if spec.name in wired:
        if wired[spec.name].function is not spec.function:
            raise ValueError(f"two jobs are named {spec.name!r}")
        return
    wired[spec.name] = spec
    if "huey" in app.extensions:  # declared after the queue was made (tests)
        _add_task(app, app.extensions["huey"], spec)


def _add_task(app: Flask, huey: Huey, spec: JobSpec) -> None:
    from huey import crontab

    app.extensions["huey_tasks"][spec.name] = huey.task(name=spec.name)(_runner(app, spec.name))
    if spec.schedule is not None:
        huey.periodic_task(crontab(**dict(spec.schedule)), name=f"{spec.name}:schedule")(
            _scheduled_runner(app, spec.name))


def huey_for(app: Flask) -> Huey:
    """The app's queue, with a task for every job declared so far, made at the first call."""
    huey = app.extensions.get("huey")
    if huey is None:
        with _making_queue:  # two threads of a server queueing their first jobs at once
            huey = app.extensions.get("huey")
            if huey is None:
                huey = _make_huey(app)
                app.extensions["huey_tasks"] = {}
                for spec in app.extensions["jobs"].values():
                    _add_task(app, huey, spec)
                app.extensions["huey"] = huey
    return huey


def _tasks(app: Flask) -> dict[str, Callable[[int], Any]]:
    huey_for(app)
    return app.extensions["huey_tasks"]


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
            if not app.extensions["jobs"][name].keep_idle:
                _forget_if_idle(row.id)

    return run


def _forget_if_idle(job_id: int) -> None:
    row = db.session.get(Job, job_id)
    if row is not None and row.status == JobStatus.DONE \
            and not any((row.result or {}).values()):
        db.session.delete(row)
        db.session.commit()


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
    row.worker_id = current_worker_id()
    db.session.commit()
    function = current_app.extensions["jobs"][name].function
    try:
        result = function(JobContext(row), **row.params)
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
    tasks = _tasks(current_app)
    if name not in tasks:
        raise KeyError(f"unknown job {name!r}")
    with unit_of_work() as on_commit:
        row = Job(name=name, owner_id=owner.id if owner else None, params=params)
        db.session.add(row)
        db.session.flush()
        job_id = row.id
        task = tasks[name]
        on_commit(lambda: task(job_id))
    return db.session.get(Job, job_id)


def resume(user: User | None, job_id: int) -> Job:
    """Queue an interrupted, resumable job again: it goes on from its checkpoint. ``user``
    None is the operator (``lms jobs resume``).

    :raise NotFound: no such job, or not ``user``'s.
    :raise Conflict: the job is not interrupted (or was resumed meanwhile), or its kind
        cannot be resumed.
    """
    job = db.session.get(Job, job_id) if user is None else visible_job(user, job_id)
    if job is None:
        raise NotFound()
    if user is not None:
        require(user, "job.resume", job)
    spec = current_app.extensions["jobs"].get(job.name)
    if spec is None or not spec.resumable:
        raise Conflict(_("This kind of job cannot be resumed; start it again."))
    task = _tasks(current_app)[job.name]
    with unit_of_work() as on_commit:
        # The guarded UPDATE decides between two resumes at once (a double click): one wins.
        won = db.session.execute(
            update(Job).where(Job.id == job_id, Job.status == JobStatus.INTERRUPTED)
            .values(status=JobStatus.QUEUED, finished_at=None,
                    message=_("Resumed; waiting for the worker."))
            .execution_options(synchronize_session=False)).rowcount == 1
        if won:
            on_commit(lambda: task(job_id))
    if not won:
        raise Conflict(_("Only an interrupted job can be resumed."))
    db.session.refresh(job)
    return job


def recent_jobs(statuses: Iterable[str] = (), limit: int = 50) -> list[tuple[Job, str | None]]:
    """The newest jobs first, each with its owner's username (``lms jobs list``)."""
    stmt = select(Job, User.username).outerjoin(User, User.id == Job.owner_id) \
        .order_by(Job.id.desc()).limit(limit)
    if statuses:
        stmt = stmt.where(Job.status.in_(list(statuses)))
    return [(job, username) for job, username in db.session.execute(stmt)]


def visible_job(user: Principal, job_id: int, *, name: str | None = None) -> Job:
    """Job ``job_id`` (of the kind ``name``, if given) for its page.

    :raise NotFound: no such job, or not ``user``'s to see: someone else's job is answered
        like a missing one, its existence is not theirs to know.
    """
    job = db.session.get(Job, job_id)
    if job is None or (name is not None and job.name != name) or \
            not can(user, "job.view", job):
        raise NotFound()
    return job


def jobs_listing(user: Principal, *, everyone: bool = False, status: str = "",
                 name: str = "") -> Select:
    """Jobs, newest first: ``user``'s own, or with ``everyone`` every job (the admins' list),
    optionally of one state or kind.

    :raise PermissionDenied: ``everyone`` for someone who may not see every job.
    """
    if everyone:
        require(user, "job.view_all")
    stmt = select(Job).order_by(Job.id.desc())
    if not everyone:
        if not isinstance(user, User):
            raise PermissionDenied()
        stmt = stmt.where(Job.owner_id == user.id)
    if status:
        stmt = stmt.where(Job.status == status)
    if name:
        stmt = stmt.where(Job.name == name)
    return stmt


def owners_of(jobs: Iterable[Job]) -> dict[int, User]:
    """Who started each of ``jobs`` (jobs the system started have no owner)."""
    ids = {job.owner_id for job in jobs if job.owner_id is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def job_names() -> list[str]:
    """Every kind of job ever run, for the admins' filter."""
    return list(db.session.scalars(select(Job.name).distinct().order_by(Job.name)))

