"""The ``lms`` command line: accounts, units, the demo, ``--help`` and the job worker.

Commands are invoked on our own click group with the test app (``app.test_cli_runner()``
supplies it); ``--help`` and the worker run as real processes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from lms.accounts.models import Group, Unit, User
from lms.accounts.services import find_unit
from lms.auth.services import find_user
from lms.cli import cli
from lms.db import utcnow
from lms.extensions import db
from lms.models import AuditEvent, Job, ThrottleCounter
from lms.passwords import verify_password
from tests.conftest import Browser, make_app
from tests.factories import UnitFactory

pytestmark = pytest.mark.functional

SECRET_KEY = "a-secret-key-for-the-cli-tests-0123456789abcdef"
GOOD_PASSWORD = "mật khẩu đủ dài 2024"


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def lms(runner: FlaskCliRunner, *args: str, input: str | None = None):
    """Run ``lms ARGS`` on our command group against the test app."""
    return runner.invoke(cli, list(args), input=input)


def assert_refused(result, message: str) -> None:
    """The command stopped with status 1 and said why (not a crash)."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert f"Error: {message}" in result.stderr


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (User, Unit, Group)}


def account(app: Flask, username: str) -> dict | None:
    with app.app_context():
        user = find_user(username)
        if user is None:
            return None
        return {"username": user.username, "full_name": user.full_name,
                "roles": user.role_names, "unit": user.unit.path if user.unit else None,
                "must_change_password": user.must_change_password,
                "password_hash": user.password_hash, "is_demo": user.is_demo}


def subprocess_env(**lms_settings: str) -> dict[str, str]:
    """This process's environment without any LMS_* setting, plus ``lms_settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update({f"LMS_{key}": value for key, value in lms_settings.items()})
    return env


# --- lms user create -----------------------------------------------------------------------

def test_user_create_with_role_and_unit_prints_a_one_time_password(app, runner):
    with app.app_context():
        UnitFactory(name="B", parent=UnitFactory(name="A"))
        db.session.commit()
    result = lms(runner, "user", "create", "alice", "--role", "learner", "--unit", "A/B",
                 "--full-name", "Nguyễn Thị Alice")
    assert result.exit_code == 0, result.output
    assert "Created alice (learner)." in result.stdout
    one_time = re.search(r"One-time password \(must be changed at first login\): (\S+)",
                         result.stdout).group(1)

    stored = account(app, "alice")
    assert stored["roles"] == {"learner"}
    assert stored["unit"] == "A/B"
    assert stored["full_name"] == "Nguyễn Thị Alice"
    assert stored["must_change_password"] is True
    assert verify_password(stored["password_hash"], one_time)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "user_create")).one()
        assert event.actor_id is None  # an operator at the server, not a web user
        assert event.details == {"username": "alice", "roles": ["learner"], "unit": "A/B"}


def test_user_create_reads_the_password_from_stdin(app, runner):
    result = lms(runner, "user", "create", "bob", "--role", "curator", "--role", "instructor",
                 "--password-stdin", input=f"{GOOD_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Created bob (curator, instructor)." in result.stdout
    assert "One-time password" not in result.output
    assert GOOD_PASSWORD not in result.output

    stored = account(app, "bob")
    assert stored["roles"] == {"curator", "instructor"}
    assert stored["unit"] is None
    assert stored["must_change_password"] is False
    assert verify_password(stored["password_hash"], GOOD_PASSWORD)
    # The account works through the web form.
    browser = Browser(app.test_client())
    response = browser.login("bob", GOOD_PASSWORD)
    assert (response.status_code, response.headers["Location"]) == (302, "/")


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["--role", "wizard"], None,
     "Unknown role: wizard. Known roles: admin, curator, instructor, learner, trainer."),
    (["--role", "learner", "--role", "Admin"], None, "Unknown role: Admin."),
    (["--role", "learner", "--unit", "Nowhere/Else"], None, "No unit at Nowhere/Else."),
    (["--role", "learner", "--unit", "Nowhere\x00"], None,
     "Unit name contains invalid characters."),
    (["--role", "learner", "--password-stdin"], "short\n",
     "The password must have at least 10 characters."),
    (["--role", "learner", "--password-stdin"], "", "The password must have at least"),
])
def test_user_create_refusals_create_nothing(app, runner, args, stdin, message):
    result = lms(runner, "user", "create", "carol", *args, input=stdin)
    assert_refused(result, message)
    assert account(app, "carol") is None
    assert counts(app)["User"] == 0


@pytest.mark.parametrize("username", ["a", "has space", "x" * 65, "_x", "nguyễn"])
def test_user_create_refuses_bad_usernames(app, runner, username):
    result = lms(runner, "user", "create", username, "--role", "learner")
    assert_refused(result, "A username has 2–64 characters")
    assert counts(app)["User"] == 0


def test_user_create_refuses_a_taken_username_whatever_its_case(app, runner):
    assert lms(runner, "user", "create", "dave", "--role", "learner").exit_code == 0
    first = account(app, "dave")
    for name in ("dave", "DAVE"):
        result = lms(runner, "user", "create", name, "--role", "admin")
        assert_refused(result, f"The username {name} is already taken.")
    assert counts(app)["User"] == 1
    assert account(app, "dave") == first


def test_user_create_requires_a_role(app, runner):
    result = lms(runner, "user", "create", "erin")
    assert result.exit_code == 2
    assert "--role" in result.stderr
    assert counts(app)["User"] == 0


# --- lms unit create -----------------------------------------------------------------------

def test_unit_create_makes_missing_parents_and_is_repeatable(app, runner):
    path = "Học viện Hậu cần/Khoa Tài chính"
    result = lms(runner, "unit", "create", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["Created Học viện Hậu cần", f"Created {path}"]
    with app.app_context():
        faculty = find_unit(path)
        assert faculty.parent.name == "Học viện Hậu cần"
        assert faculty.parent.parent is None

    again = lms(runner, "unit", "create", f" {path}/ ")
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == f"{path} already exists."
    assert counts(app)["Unit"] == 2

    sibling = lms(runner, "unit", "create", "Học viện Hậu cần/Khoa Vận tải")
    assert sibling.stdout.strip() == "Created Học viện Hậu cần/Khoa Vận tải"
    assert counts(app)["Unit"] == 3


@pytest.mark.parametrize("path", ["/", "///", " / / ", ""])
def test_unit_create_refuses_a_path_without_names(app, runner, path):
    assert_refused(lms(runner, "unit", "create", path), "A unit path must name at least one unit.")
    assert counts(app)["Unit"] == 0


@pytest.mark.parametrize("path", [
    "Học viện/Khoa\x00",
    "Học viện/\u202eKhoa",
    "Học viện/Khoa\tTab",
])
def test_unit_create_refuses_control_characters(app, runner, path):
    assert_refused(lms(runner, "unit", "create", path), "Unit name contains invalid characters.")
    assert counts(app)["Unit"] == 0  # not even the valid parent was created


# --- lms demo ------------------------------------------------------------------------------

def demo_logins(output: str) -> dict[str, tuple[str, str]]:
    """{username: (password, role)} from ``lms demo``'s table."""
    rows = re.findall(r"^  (\S+) +(\S+) +(\S+)$", output, re.M)
    return {username: (password, role) for username, password, role in rows}


def test_demo_is_idempotent_and_its_logins_work(app, runner):
    first = lms(runner, "demo")
    assert first.exit_code == 0, first.output
    logins = demo_logins(first.stdout)
    assert {u: role for u, (_pw, role) in logins.items()} == {
        "admin": "admin", "thuthu": "curator", "giangvien": "instructor",
        "huanluyen": "trainer", "hocvien": "learner"}
    after_first = counts(app)
    assert after_first == {"User": 5, "Unit": 8, "Group": 1}

    second = lms(runner, "demo")
    assert second.exit_code == 0, second.output
    assert demo_logins(second.stdout) == logins
    assert counts(app) == after_first

    stored = account(app, "hocvien")
    assert stored["is_demo"] is True
    assert stored["unit"] == "Học viện Hậu cần/Khoa Hậu cần/Lớp Hậu cần 1"
    for username, (password, _role) in logins.items():
        browser = Browser(app.test_client())
        response = browser.login(username, password)
        assert (response.status_code, response.headers["Location"]) == (302, "/"), username


def test_demo_is_refused_in_production(app, tmp_path):
    production = make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "prod-data",
                          ENV="production", SECRET_KEY=SECRET_KEY,
                          ALLOW_SQLITE_IN_PRODUCTION=True,
                          PUBLIC_BASE_URL="https://kho.hvhc.edu.vn",
                          TRUSTED_HOSTS=["kho.hvhc.edu.vn"])
    try:
        result = production.test_cli_runner().invoke(cli, ["demo"])
        assert_refused(result, "lms demo is refused in production")
        assert counts(production) == {"User": 0, "Unit": 0, "Group": 0}
        assert not (Path(production.instance_path) / "demo-logins.json").exists()
    finally:
        with production.app_context():
            db.engine.dispose()


# --- lms --help and lms worker -------------------------------------------------------------

def test_help_lists_the_commands_and_touches_nothing(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lms", "--help"], cwd=tmp_path, capture_output=True, text=True,
        env=subprocess_env(INSTANCE_PATH=str(tmp_path)), timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    commands = set(re.findall(r"^  (\w+) ", result.stdout, re.M))
    assert {"db", "user", "unit", "demo", "worker", "run"} <= commands
    assert list(tmp_path.iterdir()) == []  # no secret_key, no lms.sqlite, no data folder


def in_a_new_process(tmp_path, script: str) -> list[str]:
    """The lines ``python -c script`` prints, run with an instance of its own in ``tmp_path``."""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
        env=subprocess_env(INSTANCE_PATH=str(tmp_path), DATA_DIR=str(tmp_path / "data")),
        timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_process_that_queues_no_job_loads_neither_the_queue_nor_the_migrations(tmp_path):
    """huey with its storage clients and Alembic are about 20 MB of every process that imports
    them: an app that answers a page and checks its schema (every ``lms`` command, a server
    worker, an import's applier) imports none of them until it queues a job or migrates."""
    script = ("import sys; from lms import create_app; from lms.schema import schema_state; "
              "app = create_app(); app.test_client().get('/'); "
              "ctx = app.app_context(); ctx.push(); schema_state(); "
              "print(sorted({m.split('.')[0] for m in sys.modules} "
              "& {'huey', 'redis', 'alembic', 'flask_migrate', 'mako'})); "
              "from lms.jobs import huey_for; huey_for(app); print('huey' in sys.modules)")
    assert in_a_new_process(tmp_path, script) == ["[]", "True"]


def test_a_fresh_worker_knows_every_job(tmp_path):
    """The app factory names the job modules: a new process (the worker) must know every job
    declared anywhere in ``lms``, not only those some earlier import happened to load."""
    script = ("import importlib, pkgutil, lms; from lms import create_app; "
              "from lms.jobs import huey_for, jobs_in; "
              "app = create_app(); huey_for(app); print(sorted(app.extensions['huey_tasks'])); "
              "names = [m.name for m in pkgutil.walk_packages(lms.__path__, 'lms.') "
              "if not m.name.startswith(('lms.migrations', 'lms.__main__'))]; "
              "print(sorted(s.name for s in jobs_in(map(importlib.import_module, names))))")
    wired, declared = in_a_new_process(tmp_path, script)
    assert wired == declared
    assert "'search.rebuild'" in wired and "'mirrors.check'" in wired


def test_worker_refuses_to_run_when_jobs_run_inline(runner):
    assert runner.app.config["JOBS_IMMEDIATE"] is True
    result = lms(runner, "worker")
    assert_refused(result, "JOBS_IMMEDIATE is on")


def test_worker_process_runs_a_queued_job_and_stops_on_sigterm(app, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]  # a migrated SQLite copy, or PostgreSQL
    data_dir = tmp_path / "worker-data"
    producer = make_app(url, data_dir, JOBS_IMMEDIATE=False)
    with producer.app_context():
        now = utcnow()
        db.session.add_all([
            ThrottleCounter(key="login:ip:stale", window_start=now - timedelta(hours=2), count=4),
            ThrottleCounter(key="login:ip:fresh", window_start=now, count=1),
        ])
        db.session.commit()

    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "lms", "worker"], stdout=log, stderr=subprocess.STDOUT,
            env=subprocess_env(INSTANCE_PATH=str(tmp_path / "worker-instance"),
                               DATA_DIR=str(data_dir), DATABASE_URL=url,
                               SECRET_KEY=SECRET_KEY))
    try:
        with producer.app_context():
            from lms.jobs import enqueue

            job_id = enqueue("maintenance.expire_throttle_counters").id

        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and worker.poll() is None:
            with producer.app_context():
                status = db.session.get(Job, job_id).status
            if status in ("done", "failed"):
                break
            time.sleep(0.2)
        assert status == "done", (status, worker.poll(), log_path.read_text())

        with producer.app_context():
            job = db.session.get(Job, job_id)
            assert job.result == {"deleted": 1}
            assert job.started_at is not None and job.finished_at >= job.started_at
            keys = db.session.scalars(select(ThrottleCounter.key)).all()
            assert keys == ["login:ip:fresh"]

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0, log_path.read_text()
        assert "Worker started" in log_path.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        with producer.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_run_serves_and_stops_with_its_worker(app, tmp_path, stop):
    """`lms run`: the development server and a worker; Ctrl-C (or SIGTERM) stops both."""
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "lms", "run", "--port", str(port)], stdout=log,
            stderr=subprocess.STDOUT,
            env=subprocess_env(INSTANCE_PATH=str(tmp_path / "instance"),
                               DATA_DIR=str(tmp_path / "data"),
                               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                               SECRET_KEY=SECRET_KEY,
                               PUBLIC_BASE_URL=f"http://localhost:{port}"))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.3)
        # It prints the address every absolute URL is written under (scripts/start sets it).
        assert f"running at http://localhost:{port}/" in log_path.read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/oai?verb=Identify") as r:
            assert f"<baseURL>http://localhost:{port}/oai</baseURL>" in r.read().decode()
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        assert len(children) == 1  # the worker
        server.send_signal(stop)
        # An orderly exit either way: Werkzeug's server ends on Ctrl-C, SIGTERM exits 0.
        assert server.wait(timeout=40) == 0, log_path.read_text()
        # `lms run` waited for its worker, so the worker is gone, reaped, before it exits.
        assert not Path(f"/proc/{children[0]}").exists()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
