"""Browser journeys against the real service: ``lms run`` (what ``scripts/start`` runs) on
loopback, in a fresh instance with ``lms demo`` loaded, exactly as a new installation.

Screenshots of every journey step go to ``build/screenshots/`` (``LMS_SCREENSHOT_DIR`` moves
it); the README shows four of them, copied to ``docs/screenshots/``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("LMS_SCREENSHOT_DIR") or ROOT / "build" / "screenshots")
DEMO_USERS = {"admin": "admin", "curator": "thuthu", "instructor": "giangvien",
              "trainer": "huanluyen", "learner": "hocvien"}
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class Site:
    url: str
    passwords: dict[str, str]  # by role
    instance: Path

    def username(self, role: str) -> str:
        return DEMO_USERS[role]


def _lms(*args: str, env: dict[str, str], timeout: float = 600) -> None:
    subprocess.run([sys.executable, "-m", "lms", *args], env=env, check=True, timeout=timeout,
                   stdout=subprocess.DEVNULL)


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"lms run exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):  # noqa: S310 (loopback)
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"lms run did not answer at {url} within {timeout} s")


@pytest.fixture(scope="session")
def site(chromium, tmp_path_factory) -> Iterator[Site]:
    """A fresh instance (SQLite, files, search index under a temporary folder) with the demo,
    served by ``lms run`` (web server and worker) on a loopback port. It is SQLite whatever
    database the suite runs on, so a run on PostgreSQL leaves its tests to the SQLite run."""
    if ON_POSTGRES:
        pytest.skip("the demo site is SQLite on every run: the suite's SQLite run drives it")
    instance = tmp_path_factory.mktemp("e2e-instance")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_INSTANCE_PATH=str(instance), LMS_ENV="development", PYTHONUNBUFFERED="1")
    _lms("db", "upgrade", env=env)
    _lms("demo", env=env)
    passwords = json.loads((instance / "demo-logins.json").read_text())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (instance / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "lms", "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_up(url, process)
        yield Site(url, {role: passwords[name] for role, name in DEMO_USERS.items()}, instance)
    finally:
        process.send_signal(signal.SIGTERM)  # `lms run` stops its worker too
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture
def desktop(chromium):
    context = chromium.new_context(viewport=DESKTOP, locale="vi-VN")
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True,
                                   has_touch=True, device_scale_factor=2)
    yield context.new_page()
    context.close()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot of a journey step as ``<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, site: Site, role: str) -> None:
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", site.username(role))
    page.fill("input[name=password]", site.passwords[role])
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def horizontal_overflow(page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth")
