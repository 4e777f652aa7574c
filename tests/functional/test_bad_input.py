"""Bad input answered clearly: over-long addresses (observation 11) and commands run on an
instance whose schema was never created (observation 12)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL

pytestmark = pytest.mark.functional

SECRET_KEY = "a-secret-key-for-the-bad-input-tests-0123456789"


# --- observation 12: a command before `lms db upgrade` ----------------------------------------

@pytest.fixture
def empty_database(tmp_path) -> Iterator[str]:
    """The URL of a database without any table (a new SQLite file, or an empty PostgreSQL
    schema)."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    schema = f"empty_{uuid.uuid4().hex[:8]}"
    engine = create_engine(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{TEST_DATABASE_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def lms_process(tmp_path, database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_INSTANCE_PATH=str(tmp_path / "instance"), LMS_DATA_DIR=str(tmp_path / "data"),
               LMS_DATABASE_URL=database_url, LMS_SECRET_KEY=SECRET_KEY)
    return subprocess.run([sys.executable, "-m", "lms", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.mark.parametrize("command", [
    ["user", "create", "quantri", "--role", "admin"],
    ["collection", "create", "khoa", "--title", "Khoa"],
    ["worker"],
    ["reindex"],
])
def test_commands_before_the_schema_exists_say_to_upgrade_first(tmp_path, empty_database,
                                                                 command):
    result = lms_process(tmp_path, empty_database, *command)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "run `lms db upgrade` first" in result.stderr
    assert "Traceback" not in result.stderr and "sqlalchemy" not in result.stderr.lower()


def test_upgrade_and_help_work_on_an_empty_database_and_then_commands_run(tmp_path,
                                                                           empty_database):
    helped = lms_process(tmp_path, empty_database, "user", "create", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "Create an account" in helped.stdout

    upgraded = lms_process(tmp_path, empty_database, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr

    created = lms_process(tmp_path, empty_database, "user", "create", "quantri", "--role",
                          "admin")
    assert created.returncode == 0, created.stderr
    assert "Created quantri (admin)." in created.stdout


# --- observation 11: over-long addresses -------------------------------------------------------

def raw_get(base_url: str, target: str) -> tuple[int, str, str]:
    """GET ``target`` exactly as given (no client-side limits); (status, content type, body)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.putrequest("GET", target, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return (response.status, response.getheader("Content-Type", ""),
                response.read().decode("utf-8"))
    finally:
        connection.close()


HUGE_QUERY = "hậu cần " * 8_000  # about 100 KB once percent-encoded


@pytest.fixture
def searchable(app, users) -> int:
    from lms.accounts.models import User
    from lms.catalog.access_settings import AccessSettings
    from lms.catalog.models import AccessLevel
    from lms.extensions import db
    from tests.factories import make_collection, publish_record

    with app.app_context():
        curator = db.session.get(User, users["curator"].id)
        owner = db.session.get(User, users["instructor"].id)
        collection = make_collection("khoa-hau-can", curators=[curator], steps=1)
        db.session.commit()
        return publish_record(owner, curator, collection,
                              AccessSettings(level=AccessLevel.PUBLIC), title="Hậu cần quân đội").id


# Beyond what the server reads of a request line (cut by our request handler), and beyond
# MAX_URL_BYTES only (handled by the app itself).
LONG_QUERIES = pytest.mark.parametrize("query", [HUGE_QUERY, HUGE_QUERY[:5000]],
                                       ids=["huge", "long"])


@LONG_QUERIES
def test_over_long_api_address_answers_a_json_error(live_server, searchable, query):
    status, content_type, body = raw_get(live_server, f"/api/v1/search?q={quote(query)}")

    assert status == 414, body[:300]
    assert content_type == "application/problem+json"  # RFC 9457, as every API error
    problem = json.loads(body)
    assert problem["status"] == 414
    assert "quá dài" in problem["detail"]  # the default language


@LONG_QUERIES
def test_over_long_search_is_cut_and_searched_with_a_notice(live_server, searchable, query):
    status, content_type, body = raw_get(live_server, f"/search?q={quote(query)}")

    assert status == 200, body[:300]
    assert content_type.startswith("text/html")
    assert "Câu tìm kiếm quá dài" in body  # the notice, in the default language
    assert f'href="/records/{searchable}"' in body  # and the cut query was searched
