"""The worker process (``lms worker``) beside huey's consumer: a heartbeat, the recovery of
jobs whose worker died, and duties that run every few seconds (the command names them: the
change log's mirrors are brought up to date this way).

A worker killed with SIGKILL leaves its jobs "running" and its heartbeat ageing. The next
worker marks those jobs ``interrupted`` (with a message for their owner) as soon as the dead
worker's heartbeat is older than ``WORKER_DEAD_AFTER_SECONDS``: at once if it died long ago,
otherwise within that time plus one heartbeat. A resumable job can then be resumed.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update

from lms.accounts.models import User
from lms.db import utcnow
from lms.extensions import db
from lms.models import Job, JobStatus, WorkerHeartbeat

log = logging.getLogger(__name__)

_worker_id: str | None = None


def current_worker_id() -> str | None:
    """This process's worker id while it runs as ``lms worker`` (None otherwise)."""
    return _worker_id


@dataclass(frozen=True)
class Duty:
    """Something the worker does every ``every`` seconds, in an app context of its own."""

    name: str
    every: float
    run: Callable[[], object]


class Worker:
    """Start before huey's consumer runs, stop after it returned."""

    def __init__(self, app: Flask, duties: Sequence[Duty] = ()) -> None:
        global _worker_id
        self.app = app
        self.id = _worker_id = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"
        beat = float(app.config["WORKER_HEARTBEAT_SECONDS"])
        self.duties = [Duty("heartbeat", beat, self.beat),
                       Duty("recovery", beat, recover_interrupted_jobs), *duties]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lms-worker-duties",
                                        daemon=True)

    def start(self) -> None:
        """Beat once and recover what dead workers left (before any job runs), then run the
        duties in a thread: each runs at once, then every ``every`` seconds."""
        with self.app.app_context():
            self.beat()
            recovered = recover_interrupted_jobs()
            if recovered:
                log.warning("jobs %s were interrupted by a worker that died", recovered)
            db.session.remove()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        with self.app.app_context():
            # A clean stop: huey finished the running jobs; nothing to recover after us.
            db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == self.id))
            db.session.commit()
            db.session.remove()

    def beat(self) -> None:
        now = utcnow()
        done = db.session.execute(update(WorkerHeartbeat).where(
            WorkerHeartbeat.worker_id == self.id).values(beat_at=now)).rowcount
        if not done:
            db.session.add(WorkerHeartbeat(worker_id=self.id, host=socket.gethostname()[:255],
                                           pid=os.getpid(), started_at=now, beat_at=now))
        db.session.commit()

    def _loop(self) -> None:
        due = dict.fromkeys((d.name for d in self.duties), 0.0)
        while not self._stop.is_set():
            for duty in self.duties:
                if time.monotonic() < due[duty.name] or self._stop.is_set():
                    continue
                with self.app.app_context():
                    try:
                        duty.run()
                    except Exception:
                        # Whatever failed is retried at the next turn; the worker goes on.
                        log.exception("worker duty %s failed", duty.name)
                    finally:
                        db.session.remove()
                due[duty.name] = time.monotonic() + duty.every
            self._stop.wait(max(0.05, min(due.values()) - time.monotonic()))


def owner_language(job: Job) -> str:
    """The language of the job's owner (Vietnamese for jobs of nobody in particular), for the
    messages a job leaves them."""
    owner = db.session.get(User, job.owner_id) if job.owner_id else None
    return owner.locale if owner is not None and owner.locale in ("vi", "en") else "vi"


def recover_interrupted_jobs() -> list[int]:
    """Mark ``interrupted`` every running job whose worker stopped beating (or is unknown);
    returns their ids. Heartbeats of workers dead for a day are forgotten."""
    now = utcnow()
    dead_after = timedelta(seconds=float(current_app.config["WORKER_DEAD_AFTER_SECONDS"]))
    alive = select(WorkerHeartbeat.worker_id).where(WorkerHeartbeat.beat_at >= now - dead_after)
    jobs = db.session.scalars(select(Job).where(
        Job.status == JobStatus.RUNNING,
        or_(Job.worker_id.is_(None), Job.worker_id.not_in(alive)))).all()
    specs = current_app.extensions["jobs"]
    for job in jobs:
        resumable = job.name in specs and specs[job.name].resumable
        with force_locale(owner_language(job)):
            job.message = (_("The worker running this job stopped before it finished "
                             "(%(when)s UTC). Resume it to go on from where it stopped.",
                             when=now.strftime("%Y-%m-%d %H:%M")) if resumable else
                           _("The worker running this job stopped before it finished "
                             "(%(when)s UTC). Start it again if it is still needed.",
                             when=now.strftime("%Y-%m-%d %H:%M")))
        job.status, job.finished_at = JobStatus.INTERRUPTED, now
    db.session.execute(delete(WorkerHeartbeat).where(
        WorkerHeartbeat.beat_at < now - timedelta(days=1)))
    db.session.commit()
    return [job.id for job in jobs]
