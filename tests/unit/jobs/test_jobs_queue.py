"""lms.jobs at the service level: enqueue, run (the tests' queue runs a job as soon as its
row is committed), failure, progress in its own transaction, recovery and resume."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import Group
from lms.db import utcnow
from lms.errors import Conflict
from lms.extensions import db
from lms.jobs.queue import enqueue, huey_for, register, resume
from lms.jobs.registry import job
from lms.jobs.worker import recover_interrupted_jobs
from lms.models import Job
from tests.conftest import make_app
from tests.factories import JobFactory, WorkerHeartbeatFactory


@job("test.count")
def count_to(ctx, upto: int):
    for n in range(1, upto + 1):
        ctx.progress(n, upto)
    return {"counted": upto}


@job("test.half_done")
def half_done(ctx, group: str):
    db.session.add(Group(name=group))  # the job's own work, not yet committed...
    ctx.progress(1, 2, "nửa chừng")   # ...must not be committed by the progress report
    raise RuntimeError("the disk went away")


@job("test.resumable", resumable=True)
def resumable(ctx):
    return {"from": (ctx.job.checkpoint or {}).get("at", 0)}


@pytest.fixture
def jobs(app_ctx):
    register(app_ctx, [count_to, half_done, resumable])
    return app_ctx


def stored(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_an_unknown_job_is_refused_and_nothing_is_recorded(jobs):
    with pytest.raises(KeyError, match=r"test\.nothing"):
        enqueue("test.nothing")
    assert db.session.scalars(select(Job)).all() == []


def test_an_enqueued_job_runs_after_the_commit_and_keeps_its_result(jobs):
    row = stored(enqueue("test.count", upto=3).id)
    assert (row.status, row.result, row.progress_done, row.progress_total) == (
        "done", {"counted": 3}, 3, 3)
    assert row.params == {"upto": 3} and row.finished_at >= row.started_at


def test_a_failing_job_is_failed_with_its_reason_and_its_work_rolled_back(jobs):
    row = stored(enqueue("test.half_done", group="Tổ dở dang").id)
    assert (row.status, row.message) == ("failed", "RuntimeError: the disk went away")
    assert "Traceback" in row.result["traceback"]
    # The progress was written in its own transaction; the job's half-done work was not.
    assert (row.progress_done, row.progress_total) == (1, 2)
    assert db.session.scalars(select(Group.name)).all() == []


def test_running_jobs_of_a_dead_worker_are_interrupted_and_live_ones_kept(jobs):
    WorkerHeartbeatFactory(worker_id="alive:1")
    WorkerHeartbeatFactory(worker_id="dead:2", beat_at=utcnow() - timedelta(hours=1))
    alive = JobFactory(running=True, worker_id="alive:1")
    dead = JobFactory(running=True, worker_id="dead:2")
    unknown = JobFactory(running=True, worker_id=None)
    queued = JobFactory()
    db.session.commit()
    assert sorted(recover_interrupted_jobs()) == sorted([dead.id, unknown.id])
    assert [stored(j.id).status for j in (alive, dead, unknown, queued)] == [
        "running", "interrupted", "interrupted", "queued"]
    # In its owner's language: Vietnamese for a job of nobody in particular.
    assert "Hãy chạy lại nếu vẫn cần." in stored(dead.id).message


def test_an_interrupted_resumable_job_is_resumed_from_its_checkpoint(jobs):
    row = JobFactory(name="test.resumable", status="interrupted", checkpoint={"at": 7})
    db.session.commit()
    assert resume(None, row.id).id == row.id
    assert (stored(row.id).status, stored(row.id).result) == ("done", {"from": 7})
    with pytest.raises(Conflict, match="Only an interrupted job can be resumed"):
        resume(None, row.id)


def test_a_job_that_is_not_resumable_is_not_resumed(jobs):
    row = JobFactory(name="test.count", status="interrupted")
    db.session.commit()
    with pytest.raises(Conflict, match="cannot be resumed"):
        resume(None, row.id)
    assert stored(row.id).status == "interrupted"


def test_two_threads_queueing_their_first_jobs_at_once_share_one_queue(tmp_path):
    fresh = make_app(f"sqlite:///{tmp_path / 'q.sqlite'}", tmp_path / "data")
    assert "huey" not in fresh.extensions
    start, made = threading.Barrier(2), []

    def first_use() -> None:
        start.wait()
        made.append(huey_for(fresh))

    threads = [threading.Thread(target=first_use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made[0] is made[1]
    assert set(fresh.extensions["huey_tasks"]) == set(fresh.extensions["jobs"])


def test_a_job_declared_after_the_queue_was_made_is_queued_too(jobs):
    huey_for(jobs)

    @job("test.late")
    def late(ctx):
        return {"late": True}

    register(jobs, [late])
    row = enqueue("test.late")
    assert stored(row.id).result == {"late": True}
