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
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, text

from lms import create_app
from lms.accounts.models import PersonTerm
from lms.accounts.seeds import seed_rows
from lms.extensions import db

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
    from flask_migrate import upgrade

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
    from lms.search.postgres.schema import TABLES as SEARCH_TABLES

    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables if t.name not in KEPT_TABLES]
        tables += SEARCH_TABLES
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
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


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app on a real WSGI server on loopback, in a thread; yields its base URL."""
    from tests.servers import serving

    with serving(app) as url:
        yield url


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
