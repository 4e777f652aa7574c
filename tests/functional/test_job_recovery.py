"""Jobs survive their worker (observation 5): a heartbeat, jobs of a dead worker marked
interrupted by the next one, imports resumed after their last committed line (page button and
``lms jobs resume``), and temporary folders removed once no job needs them."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.catalog.models import Record
from lms.cli import cli
from lms.db import utcnow
from lms.extensions import db
from lms.ingest.imports import ImportOptions, run_import
from lms.ingest.jobs import JobJournal, remove_stale_uploads, upload_root
from lms.jobs import JobContext, recover_interrupted_jobs
from lms.models import Job, WorkerHeartbeat
from tests.conftest import Browser, make_app
from tests.factories import PASSWORD, make_collection
from tests.processes import SECRET_KEY, process_env, spawn, stop, wait_for

pytestmark = pytest.mark.functional

LINES = 1500
WORKER = [sys.executable, "-m", "lms", "worker"]


def jsonl(count: int, start: int = 0) -> bytes:
    return "".join(json.dumps({"id": f"j-{n}", "access": "public", "metadata": {
        "title": [{"value": f"Tài liệu {n}", "lang": "vi"}]}}, ensure_ascii=False) + "\n"
        for n in range(start, count)).encode()


@pytest.fixture
def collection(app, users) -> str:
    with app.app_context():
        make_collection("khoa-hau-can", steps=1)
        db.session.commit()
    return "khoa-hau-can"


def job_row(app, job_id: int) -> Job:
    with app.app_context():
        row = db.session.get(Job, job_id)
        db.session.expunge(row)
        return row


def test_an_import_whose_worker_was_killed_is_interrupted_then_resumed_exactly(
        app, users, collection, tmp_path):
    producer = make_app(app.config["SQLALCHEMY_DATABASE_URI"], Path(app.config["DATA_DIR"]),
                        JOBS_IMMEDIATE=False, SECRET_KEY=SECRET_KEY)
    with app.app_context():
        db.session.get(User, users["admin"].id).locale = "en"  # messages in English
        db.session.commit()
    admin = Browser(producer.test_client())
    assert admin.login("admin", PASSWORD).status_code == 302
    first = spawn(WORKER, app, tmp_path, "first")
    second = None
    try:
        response = admin.post("/admin/import/", {
            "package": (io.BytesIO(jsonl(LINES)), "goi.jsonl"),
            "collection": collection}, page="/admin/import/")
        assert response.status_code == 302
        job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        wait_for(lambda: job_row(app, job_id).progress_done >= 200, 300, "200 lines")
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed = job_row(app, job_id)
        assert killed.status == "running"  # what observation 5 saw, for ever
        token = killed.params["upload"]
        assert (upload_root_of(app) / token).is_dir()

        second = spawn(WORKER, app, tmp_path, "second")
        started = time.monotonic()
        interrupted = wait_for(lambda: (row := job_row(app, job_id)).status == "interrupted"
                               and row, 60, "the job to be marked interrupted")
        assert time.monotonic() - started < 60
        assert "stopped before it finished" in interrupted.message
        committed = interrupted.checkpoint["line"]
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Record)) == committed
        assert (upload_root_of(app) / token).is_dir()  # kept for the resume

        listed = subprocess.run([sys.executable, "-m", "lms", "jobs", "list", "--status",
                                 "interrupted"], env=process_env(app, tmp_path),
                                capture_output=True, text=True, timeout=120, check=False)
        assert listed.returncode == 0, listed.stderr
        assert f"{job_id:>6}  ingest.import" in listed.stdout

        page = admin.client.get(f"/admin/import/{job_id}").get_data(as_text=True)
        assert "Resume from where it stopped" in page
        resumed = admin.post(f"/jobs/{job_id}/resume", {"next": f"/admin/import/{job_id}"},
                             page=f"/admin/import/{job_id}")
        assert resumed.status_code == 302
        done = wait_for(lambda: (row := job_row(app, job_id)).status in ("done", "failed")
                        and row, 600, "the resumed job")
        assert done.status == "done", done.message
        report = done.result
        assert [line["number"] for line in report["lines"]] == list(range(1, LINES + 1))
        # Every line created exactly once: the resume went on after the last committed
        # line, so no line was imported twice (which would say "unchanged").
        assert report["counts"]["created"] == LINES and report["counts"]["unchanged"] == 0
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Record)) == LINES
        assert not (upload_root_of(app) / token).exists()
        assert not (upload_root_of(app) / f"{token}.lines.jsonl").exists()
    finally:
        stop(first)
        stop(second)
        with producer.app_context():
            db.engine.dispose()


def upload_root_of(app) -> Path:
    with app.app_context():
        return upload_root()


def test_recovery_marks_only_jobs_of_dead_workers(app_ctx):
    now = utcnow()
    db.session.add_all([
        WorkerHeartbeat(worker_id="alive", host="h", pid=1, started_at=now, beat_at=now),
        WorkerHeartbeat(worker_id="dead", host="h", pid=2, started_at=now,
                        beat_at=now - timedelta(minutes=5)),
    ])
    jobs = {name: Job(name="search.rebuild", status="running", worker_id=worker, params={})
            for name, worker in (("alive", "alive"), ("dead", "dead"), ("unknown", None))}
    jobs["queued"] = Job(name="search.rebuild", status="queued", params={})
    db.session.add_all(jobs.values())
    db.session.commit()

    assert sorted(recover_interrupted_jobs()) == sorted([jobs["dead"].id, jobs["unknown"].id])
    statuses = {name: db.session.get(Job, job.id).status for name, job in jobs.items()}
    assert statuses == {"alive": "running", "dead": "interrupted", "unknown": "interrupted",
                        "queued": "queued"}
    message = db.session.get(Job, jobs["dead"].id).message
    assert message.startswith("Bộ xử lý nền chạy tác vụ này đã dừng trước khi xong")


def test_jobs_resume_command_goes_on_after_the_last_committed_line(app, users, collection):
    """The state a killed import leaves (lines 1-2 committed, its place in the job), made by
    running the import itself over the first two lines; then ``lms jobs resume``."""
    with app.app_context():
        admin = db.session.get(User, users["admin"].id)
        token = "0" * 32
        folder = upload_root() / token
        folder.mkdir(parents=True)
        package = folder / "package.jsonl"
        package.write_bytes(jsonl(2))
        job = Job(name="ingest.import", owner_id=admin.id, status="running", worker_id="gone",
                  params={"upload": token, "collection": collection, "dry_run": False,
                          "review": False})
        db.session.add(job)
        db.session.commit()
        journal = JobJournal(JobContext(job), upload_root() / f"{token}.lines.jsonl")
        first = run_import(admin, package, ImportOptions(collection=collection, via="web"),
                           journal=journal)
        journal.close()
        assert [line.outcome for line in first.lines] == ["created", "created"]
        package.write_bytes(jsonl(3))
        assert recover_interrupted_jobs() == [job.id]
        job_id = job.id

    refused = app.test_cli_runner().invoke(cli, ["jobs", "resume", "999"])
    assert refused.exit_code == 1
    result = app.test_cli_runner().invoke(cli, ["jobs", "resume", str(job_id)])
    assert result.exit_code == 0, result.output
    assert f"Job {job_id} (ingest.import) resumed" in result.output
    done = job_row(app, job_id)
    assert done.status == "done", done.message
    assert [(line["number"], line["outcome"]) for line in done.result["lines"]] == [
        (1, "created"), (2, "created"), (3, "created")]
    again = app.test_cli_runner().invoke(cli, ["jobs", "resume", str(job_id)])
    assert again.exit_code == 1 and "Only an interrupted job can be resumed" in again.output


def test_temporary_folders_of_finished_and_dead_jobs_are_removed(app, users, tmp_path):
    with app.app_context():
        root = upload_root()
        now = utcnow()
        kinds = {"done": "done", "failed": "failed", "waiting": "interrupted",
                 "expired": "interrupted", "running": "running"}
        jobs = {}
        for name, status in kinds.items():
            token = name.ljust(32, "0")
            (root / token).mkdir(parents=True)
            (root / token / "package.jsonl").write_text("{}\n")
            (root / f"{token}.lines.jsonl").write_text("")
            finished = now - timedelta(days=10) if name == "expired" else now
            jobs[name] = Job(name="ingest.import", status=status, params={"upload": token},
                             finished_at=finished)
        db.session.add_all(jobs.values())
        (root / "orphan".ljust(32, "0")).mkdir()
        db.session.commit()
        old = time.time() - 3600
        for entry in root.iterdir():
            os.utime(entry, (old, old))
        unpacked = Path(app.config["DATA_DIR"]) / "tmp" / "imports"
        (unpacked / "import-abandoned").mkdir(parents=True)
        (unpacked / "import-abandoned.lock").write_bytes(b"")

        removed = remove_stale_uploads()

        kept = {"waiting", "running"}
        assert sorted(p.name for p in root.iterdir()) == sorted(
            name.ljust(32, "0") + suffix for name in kept for suffix in ("", ".lines.jsonl"))
        assert "import-abandoned" in removed and not (unpacked / "import-abandoned").exists()
        expired = db.session.get(Job, jobs["expired"].id)
        assert expired.status == "failed" and "72" in expired.message
