"""Running the ``lms`` command (or gunicorn) as real processes against a test's instance, for
tests that kill them."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from flask import Flask

import lms

ROOT = Path(lms.__file__).resolve().parent.parent
SECRET_KEY = "a-secret-key-for-tests-with-processes-0123456789"
T = TypeVar("T")


def process_env(app: Flask, tmp_path: Path) -> dict[str, str]:
    """This environment without LMS_* settings, plus the test app's database and data folder,
    and a worker heartbeat fast enough for a test (a worker silent for 4 s is dead)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_INSTANCE_PATH=str(tmp_path / "instance"), LMS_DATA_DIR=app.config["DATA_DIR"],
               LMS_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], LMS_SECRET_KEY=SECRET_KEY,
               LMS_WORKER_HEARTBEAT_SECONDS="1", LMS_WORKER_DEAD_AFTER_SECONDS="4",
               PYTHONWARNINGS="ignore")
    return env


def spawn(args: list[str], app: Flask, tmp_path: Path, name: str,
          **settings: str) -> subprocess.Popen:
    """Start ``args`` in the project folder, its output in ``tmp_path/<name>.log``, with
    ``settings`` added to its environment."""
    with (tmp_path / f"{name}.log").open("a") as log:
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**process_env(app, tmp_path), **settings})


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM, as systemd would; SIGKILL if it has not stopped within a minute."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(predicate: Callable[[], T], timeout: float, what: str) -> T:
    """The first true value of ``predicate()``, polled until ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
