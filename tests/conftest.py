"""Fixtures: a fresh app and database per test, on SQLite or (``LMS_TEST_DATABASE_URL``) PostgreSQL.

The schema always comes from the Alembic migrations, as in production. They run once per
session into a template; each test then gets a copy (SQLite) or emptied tables (PostgreSQL).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, text

from lms import create_app
from lms.accounts.models import PersonTerm
from lms.accounts.seeds import seed_rows
from lms.extensions import db
from lms.passwords import use_hasher

# argon2id's cheapest settings for the passwords this process hashes (the factories' and the
# logins'): the standard ones cost 0.1–0.2 s a login, a fifth of some test modules' time.
# Servers the tests start as processes of their own keep the standard ones.
use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

TEST_DATABASE_URL = os.environ.get("LMS_TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgres")
KEPT_TABLES = {"alembic_version", "roles"}  # seeded by the migrations themselves
#: The postgres search backend keeps its index in PostgreSQL: its tests run only there.
NEEDS_POSTGRES = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="the postgres search backend keeps its index in PostgreSQL: run the suite with "
    "LMS_TEST_DATABASE_URL=postgresql://... (CI does)",
)


def search_backend_params() -> list:
    """Every search backend as a pytest param; postgres skipped on SQLite runs."""
    from lms.search import BACKENDS

    return [pytest.param(name, id=name, marks=[NEEDS_POSTGRES] if name == "postgres" else [])
            for name in BACKENDS]


def at_once(worker: Callable[[int], None], threads: int) -> None:
    """``worker(n)`` for n in 0..threads-1, each in a thread of its own, all started together
    (a barrier), and wait for them all."""
    start = threading.Barrier(threads)

    def run(n: int) -> None:
        start.wait()
        worker(n)

    running = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()


def make_app(database_url: str, data_dir: Path, **overrides) -> Flask:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "JOBS_IMMEDIATE": True,
        "SERVER_NAME": None,
    }
    config.update(overrides)
    app = create_app(config)
    _apps_made.append(app)
    return app


_apps_made: list[Flask] = []


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    """Close every pooled connection of the apps a test made, so none is left to the GC."""
    yield
    while _apps_made:
        with _apps_made.pop().app_context():
            db.session.remove()
            db.engine.dispose()


def migrate(app: Flask) -> None:
    from lms.schema import upgrade

    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """Run the migrations once; return the template's URL (SQLite) or the database URL."""
    base = tmp_path_factory.mktemp("template")
    os.environ["LMS_INSTANCE_PATH"] = str(base / "instance")
    if ON_POSTGRES:
        app = make_app(TEST_DATABASE_URL, base / "data")
        with app.app_context():
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            db.engine.dispose()
        migrate(app)
        return TEST_DATABASE_URL
    path = base / "template.sqlite"
    migrate(make_app(f"sqlite:///{path}", base / "data"))
    return str(path)


def _empty_postgres_tables(app: Flask) -> None:
    """Empty the tables a test wrote to and start every sequence again at 1. TRUNCATE costs
    about 1 ms a table whether it holds rows or not, so only the tables that hold rows are
    truncated (a test writes to a few of the 80)."""
    from lms.search.postgres.schema import TABLES as SEARCH_TABLES

    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables if t.name not in KEPT_TABLES]
        tables += SEARCH_TABLES
        with db.engine.begin() as connection:
            written = list(connection.scalars(text(" UNION ALL ".join(
                f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})"  # noqa: S608
                for name in tables))))
            if written:
                connection.execute(text(f"TRUNCATE {', '.join(written)} CASCADE"))
            connection.execute(text(
                "SELECT setval(d.objid::regclass, 1, false) FROM pg_depend d "
                "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
                "JOIN pg_class t ON t.oid = d.refobjid "
                "WHERE d.deptype IN ('a', 'i') AND t.relname = ANY(:tables)"),
                {"tables": tables})
            connection.execute(insert(PersonTerm), seed_rows())
        db.engine.dispose()


def database_for_test(migrated_database: str, folder: Path) -> str:
    """A migrated database of the test's own: a copy of the template (SQLite), or the test
    database, emptied by whoever used it before (PostgreSQL)."""
    if ON_POSTGRES:
        return migrated_database
    shutil.copyfile(migrated_database, folder / "test.sqlite")
    return f"sqlite:///{folder / 'test.sqlite'}"


@pytest.fixture
def app(migrated_database: str, tmp_path: Path, monkeypatch) -> Iterator[Flask]:
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    application = make_app(database_for_test(migrated_database, tmp_path), tmp_path / "data")
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if ON_POSTGRES:
        _empty_postgres_tables(application)


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


CSRF_INPUT = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(client: FlaskClient, page: str = "/") -> str:
    """The CSRF token a real browser would find on ``page``."""
    html = client.get(page).get_data(as_text=True)
    match = CSRF_INPUT.search(html) or re.search(r'id="csrf_token" name="csrf_token" '
                                                 r'type="hidden" value="([^"]+)"', html)
    assert match, f"no CSRF token on {page}"
    return match.group(1)


class ClosingClient(FlaskClient):
    """A test client that reads and closes every response, as a WSGI server does.

    File responses hold an open blob until closed; tests of file channels use this client
    (``app.test_client_class = ClosingClient``) so none is left to the garbage collector.
    """

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        response.get_data()
        response.close()
        return response


class Browser:
    """Drives the app through its real forms, CSRF tokens included."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def post(self, url: str, data: dict | None = None, *, page: str = "/", **kwargs):
        form = {"csrf_token": csrf_token(self.client, page), **(data or {})}
        return self.client.post(url, data=form, **kwargs)

    def login(self, username: str, password: str, **kwargs):
        return self.post("/login", {"username": username, "password": password, **kwargs},
                         page="/login")

    def logout(self):
        return self.post("/logout")


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)


@dataclass(frozen=True)
class Account:
    id: int
    username: str


@pytest.fixture
def users(app: Flask) -> dict[str, Account]:
    """One active account per role, named after it, each with ``factories.PASSWORD``.

    Built in a context of its own: a context left pushed would be shared by the test
    client's requests, and with it ``g`` (a cached CSRF token, a loaded user...).
    """
    from tests.factories import UserFactory

    with app.app_context():
        made = {role: UserFactory(username=role, roles=[role])
                for role in ("admin", "curator", "instructor", "trainer", "learner")}
        db.session.commit()
        return {role: Account(user.id, user.username) for role, user in made.items()}


def free_port() -> int:
    """A free TCP port on loopback, within ``LMS_TEST_PORTS`` when set (tests.servers), for
    servers started as other processes."""
    import socket

    from tests.servers import port_range

    for port in port_range():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError(f"no free port in {port_range()} (set LMS_TEST_PORTS)")


def wait_for_http(url: str, process, log: Path, timeout: float = 90.0) -> None:
    """Wait until ``url`` answers; fail with the end of ``log`` if ``process`` exits first."""
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n"
                        + log.read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 - our loopback server
                return
        except urllib.error.HTTPError:
            return  # it answers (an error status is still an answer)
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"no answer from {url} within {timeout:.0f} s:\n"
                + log.read_text(errors="replace")[-3000:])


def stop_process(process, timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout``."""
    import signal
    import subprocess

    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Test-only settings that must not reach a served instance: it runs as production does
# (its own job worker, no inline jobs).
_NOT_SERVED = {"TESTING", "JOBS_IMMEDIATE", "SERVER_NAME", "DATABASE_URL"}


def served_environment(app: Flask) -> dict[str, str]:
    """The environment that makes ``lms`` build the same instance as ``app``: its database,
    data folder, secret key and every setting a test changed from the default."""
    import json

    from lms.config import Config

    env = {name: value for name, value in os.environ.items() if not name.startswith("LMS_")}
    for name in dir(Config):
        if not name.isupper() or name in _NOT_SERVED:
            continue
        value = app.config.get(name)
        if value == getattr(Config, name):
            continue
        try:
            env[f"LMS_{name}"] = json.dumps(value)
        except TypeError:
            continue  # not expressible in the environment (timedelta): tests keep defaults
    env["LMS_DATABASE_URL"] = json.dumps(app.config["SQLALCHEMY_DATABASE_URI"])
    env["LMS_INSTANCE_PATH"] = app.instance_path
    return env


@contextmanager
def serving(app: Flask, log: Path, *options: str, env: dict[str, str] | None = None):
    """Run ``lms serve`` for ``app``'s instance on a free loopback port until the block ends;
    yields ``(base URL, process)`` once it answers."""
    import subprocess
    import sys

    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "lms", "serve", "--host", "127.0.0.1", "--port", str(port),
             *options],
            env={**served_environment(app), **(env or {})}, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/health", process, log)
        yield base, process
    finally:
        stop_process(process)


@pytest.fixture
def served_app(app: Flask, tmp_path: Path) -> Iterator[str]:
    """``app``'s instance served by ``lms serve`` — gunicorn and the job worker, what
    ``scripts/start`` and production run — on a free loopback port; yields its base URL.

    Browser tests use this one. Settings must be made before it starts (it is another
    process): put ``app.config`` changes in a fixture the test requests first.
    """
    with serving(app, tmp_path / "served-app.log", "--workers", "2", "--threads", "4") \
            as (base, _process):
        yield base


@pytest.fixture
def live_server(app: Flask, request) -> Iterator[str]:
    """The app on a Werkzeug server in a thread of this process; yields its base URL.

    For HTTP clients that need a socket (a real OAI-PMH harvester), never for browser tests:
    those run against ``served_app``, the server ``scripts/start`` runs.
    """
    from tests.servers import serving as serving_in_a_thread

    if request.node.get_closest_marker("e2e"):
        pytest.fail("Browser tests use the served_app fixture (gunicorn, as scripts/start "
                    "runs), not live_server.")
    with serving_in_a_thread(app) as url:
        yield url


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory) -> Iterator[str]:
    """moto's standalone server — a real HTTP S3 endpoint — on a free loopback port for the
    whole session; yields its URL. (``moto[server]`` is in the test extra.)"""
    import subprocess
    import sys

    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "false"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/moto-api/", process, log, timeout=60)
        yield url
    finally:
        stop_process(process)


@pytest.fixture
def s3_settings(moto_s3: str) -> dict[str, str]:
    """Settings that put an app's files in a new, empty bucket of ``moto_s3``."""
    from tests.storage_tools import new_bucket

    return new_bucket(moto_s3)


@pytest.fixture(params=["local", "s3"])
def file_store(request, app: Flask) -> str:
    """Run the test once with files under ``DATA_DIR``, once in a bucket of moto's S3 server
    (``pytestmark = pytest.mark.usefixtures("file_store")`` for a whole module)."""
    if request.param == "s3":
        app.config.update(request.getfixturevalue("s3_settings"))
    return request.param


@pytest.fixture(scope="session")
def redis_server() -> str:
    """A real Redis server's URL: ``LMS_TEST_REDIS_URL`` (CI starts one and sets it), else
    database 15 of a local server. Skipped when none answers, except under CI, where a
    missing Redis is a failure."""
    import redis

    url = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        message = f"no Redis server answers at {url} ({error})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: .ci/run must start one and export LMS_TEST_REDIS_URL")
        pytest.skip(f"{message}; start redis-server or set LMS_TEST_REDIS_URL to run this test")
    return url


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """``redis_server``, emptied before and after the test (its database is the test's)."""
    import redis

    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    yield redis_server
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def oai_dc_schema():
    """oai_dc.xsd with its imports resolved offline. Fails (never skips) if shared/ is missing."""
    from tests.schemas import load_schema

    return load_schema("oai_dc.xsd")


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (no browser download: the network is closed)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run the browser tests
        pytest.skip(f"{message}: browser tests skipped outside CI")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    page = context.new_page()
    yield page
    context.close()
