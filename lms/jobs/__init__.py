"""Background jobs: declared with :func:`job` in each feature's module, wired into an app by
:func:`init_app` from the list the app factory hands it, queued with :func:`enqueue`.

This package imports no feature: features import it.
"""

from lms.jobs.queue import (
    JobContext,
    enqueue,
    huey_for,
    init_app,
    register,
    resume,
    visible_job,
)
from lms.jobs.registry import cron, job, jobs_in
from lms.jobs.worker import Duty, Worker, owner_language, recover_interrupted_jobs

__all__ = ["Duty", "JobContext", "Worker", "cron", "enqueue", "huey_for", "init_app", "job",
           "jobs_in", "owner_language", "recover_interrupted_jobs", "register", "resume",
           "visible_job"]
