"""`lms serve`: gunicorn and the job worker, as scripts/start and production run them; and the
job queue and login-throttle counters on a real Redis server."""

from __future__ import annotations

import signal
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from lms.extensions import db
from lms.jobs import enqueue
from lms.models import Job, JobStatus, ThrottleCounter
from lms.serve import ServerOptions, cpu_count, default_workers, options_from
from tests.conftest import Browser, make_app, serving
from tests.factories import PASSWORD

pytestmark = pytest.mark.functional


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(p) for p in (task / "children").read_text().split())
    return found


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def split_children(pid: int) -> tuple[set[int], set[int]]:
    """(web workers, job workers) among the children of the arbiter ``pid``."""
    web, jobs = set(), set()
    for child in children(pid):
        (jobs if " lms worker" in command_line(child) else web).add(child)
    return web, jobs


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(
        f"/proc/{pid}/status").read_text().lower()


def wait_until(condition, timeout: float = 60.0, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting")
        time.sleep(interval)


def get(url: str) -> tuple[int, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
        response.read()
        return response.status, dict(response.headers)


def test_worker_count_follows_the_cores_unless_set():
    config = {"WEB_WORKERS": 0, "WEB_THREADS": 0, "WEB_TIMEOUT_SECONDS": 120,
              "ACCESS_LOG": "-"}
    options = options_from(config, "0.0.0.0", 8000, None, None, True)  # noqa: S104
    assert options.threads == 4
    assert options.workers == default_workers(cpu_count()) == cpu_count() + 1
    explicit = options_from({**config, "WEB_WORKERS": 3, "WEB_THREADS": 8}, "127.0.0.1", 1,
                            None, None, True)
    assert (explicit.workers, explicit.threads) == (3, 8)
    overridden = options_from({**config, "WEB_WORKERS": 3}, "127.0.0.1", 1, 5, 2, False)
    assert (overridden.workers, overridden.threads, overridden.with_worker) == (5, 2, False)
    assert ServerOptions("::1", 80, 1, 1, 30, None).gunicorn_settings()["bind"] == ["[::1]:80"]


def test_serve_runs_gunicorn_with_the_job_worker_restarts_on_hup_and_stops_on_term(
        app: Flask, tmp_path: Path):
    log = tmp_path / "serve.log"
    with serving(app, log, "--workers", "2", "--threads", "2") as (base, process):
        status, headers = get(f"{base}/health")
        assert status == 200
        assert headers["Server"].startswith("gunicorn")
        wait_until(lambda: len(split_children(process.pid)[0]) == 2)
        web, jobs = split_children(process.pid)
        assert len(jobs) == 1

        # A graceful restart: every request made meanwhile is answered.
        answers: list[int] = []
        stop = threading.Event()

        def keep_asking() -> None:
            while not stop.is_set():
                answers.append(get(f"{base}/health")[0])

        asker = threading.Thread(target=keep_asking)
        asker.start()
        try:
            process.send_signal(signal.SIGHUP)
            wait_until(lambda: (lambda w, j: len(w) == 2 and not w & web and len(j) == 1
                                and not j & jobs)(*split_children(process.pid)))
            time.sleep(0.5)
        finally:
            stop.set()
            asker.join()
        assert answers and set(answers) == {200}
        new_web, new_jobs = split_children(process.pid)

        process.send_signal(signal.SIGTERM)
        process.wait(timeout=90)
    assert process.returncode == 0
    for pid in new_web | new_jobs:
        assert not alive(pid)
    text = log.read_text()
    assert '"GET /health HTTP/1.1" 200' in text  # the access log
    assert "Kho học liệu số is running at " in text


def wait_for_job(app: Flask, job_id: int, timeout: float = 90.0) -> Job:
    def finished() -> bool:
        with app.app_context():
            return db.session.get(Job, job_id).status in (JobStatus.DONE, JobStatus.FAILED)

    wait_until(finished, timeout)
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


@pytest.fixture(params=["sqlite", "redis"])
def queue_settings(request) -> dict[str, str]:
    """The job queue's two stores: SQLite under DATA_DIR (default), or Redis."""
    if request.param == "redis":
        return {"REDIS_URL": request.getfixturevalue("redis_url")}
    return {}


def test_a_job_makes_the_round_trip_through_the_served_worker(app: Flask, tmp_path: Path,
                                                              queue_settings):
    app.config.update(queue_settings)
    # Another instance of the same site with a real queue (tests run jobs inline otherwise).
    producer = make_app(app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATA_DIR"],
                        JOBS_IMMEDIATE=False, **queue_settings)
    with serving(app, tmp_path / "serve.log", "--workers", "1", "--threads", "2"):
        with producer.app_context():
            job_id = enqueue("files.fixity").id
            assert db.session.get(Job, job_id).status == JobStatus.QUEUED
        job = wait_for_job(app, job_id)
    assert job.status == JobStatus.DONE
    assert job.result["checked"] == 0
    # The queue was where the settings say: huey's SQLite file exists only without Redis.
    assert (Path(app.config["DATA_DIR"]) / "jobs.sqlite").exists() is not bool(queue_settings)


def test_login_throttle_counters_are_shared_by_two_instances_through_redis(app: Flask, users,
                                                                           redis_url: str):
    first = make_app(app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATA_DIR"],
                     REDIS_URL=redis_url)
    second = make_app(app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATA_DIR"],
                      REDIS_URL=redis_url)
    limit = first.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    one, two = Browser(first.test_client()), Browser(second.test_client())
    for attempt in range(limit):
        browser = one if attempt % 2 else two
        assert browser.login("learner", "wrong password!").status_code == 401
    # Both instances refuse now, the right password included.
    assert one.login("learner", PASSWORD).status_code == 429
    assert two.login("learner", PASSWORD).status_code == 429
    with app.app_context():
        assert db.session.scalars(select(ThrottleCounter)).all() == []  # not in the database
    import redis

    client = redis.Redis.from_url(redis_url)
    assert int(client.get("lms:throttle:login:user:learner")) == limit
    assert 0 < client.ttl("lms:throttle:login:user:learner") <= first.config[
        "LOGIN_THROTTLE_WINDOW_SECONDS"]
    client.delete("lms:throttle:login:user:learner", "lms:throttle:login:ip:127.0.0.1")
    assert one.login("learner", PASSWORD).status_code == 302
