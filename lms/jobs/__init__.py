"""Background jobs: declared with :func:`job` in each feature's module, wired into an app by
:func:`init_app` from the list the app factory hands it, queued with :func:`enqueue`.

This package imports no feature: features import it.
"""

from lms.jobs.queue import JobContext, enqueue, huey_for, init_app, register, visible_job
from lms.jobs.registry import job, jobs_in

__all__ = ["JobContext", "enqueue", "huey_for", "init_app", "job", "jobs_in", "register",
           "visible_job"]
