"""Faults of issue 21, each with the command that recovers (docs/deploy.md, "Faults"):

* the disk fills during an upload (a real tmpfs, mounted by the test);
* the database connection drops in the middle of a request (a killed connection: the
  PostgreSQL backend terminated with ``pg_terminate_backend``, the SQLite handle closed);
* the search index is deleted or corrupted while the app runs;
* the worker is killed: covered where job recovery lives (see docs/deploy.md).
"""

# The fixtures `collection` and `samples` come from test_files (imported below): F811 is how
# ruff sees a fixture requested by name.
# ruff: noqa: F811

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask, request_started
from sqlalchemy import create_engine, func, select, text

from lms.catalog import access_settings
from lms.catalog.models import AccessLevel, Record, RecordStatus
from lms.cli import cli
from lms.extensions import db
from lms.files.models import Blob, RecordFile
from lms.files.stores import get_storage
from tests.conftest import (
    CSRF_INPUT,
    ON_POSTGRES,
    Browser,
    ClosingClient,
    csrf_token,
    search_backend_params,
)
from tests.factories import make_collection, publish_record
from tests.functional.test_files import (  # noqa: F401 - fixtures shared with that module
    as_user,
    collection,
    leftovers,
    new_draft,
    record_state,
    samples,
)

pytestmark = pytest.mark.functional


def count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


# --- the disk fills during an upload ---------------------------------------------------------

@pytest.fixture
def small_disk(app: Flask, tmp_path: Path):
    """DATA_DIR on a 4 MiB tmpfs, mounted before the app writes anything there."""
    data_dir = Path(app.config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs",
                              str(data_dir)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): "
                    f"{mounted.stderr.strip()}")
    try:
        yield data_dir
    finally:
        with app.app_context():
            db.session.remove()
        subprocess.run(["umount", "--lazy", str(data_dir)], check=True)


def upload(browser: Browser, record_id: int, name: str, content: bytes):
    """The files step's form, encoded here: the test client would spool a body this large
    to a temporary file of its own and leave it to the garbage collector."""
    page = f"/records/{record_id}/files"
    boundary = "----lmsfaults"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{csrf_token(browser.client, page)}\r\n--{boundary}\r\nContent-Disposition: "
            f"form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: "
            f"application/pdf\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return browser.client.post(page, data=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})


def fill(data_dir: Path, leave: int) -> Path:
    """Write a filler file until only about ``leave`` bytes are free on ``data_dir``."""
    stats = os.statvfs(data_dir)
    free = stats.f_bavail * stats.f_frsize
    filler = data_dir / "filler"
    with filler.open("wb") as out:
        out.write(b"\0" * max(free - leave, 0))
    return filler


@pytest.mark.parametrize("size", [300_000, 700_000], ids=["while-storing", "while-receiving"])
def test_a_full_disk_during_an_upload_is_a_clear_503_and_nothing_is_half_written(
        app, users, collection, samples, small_disk, size):
    """300 KB is received in memory and fails while the blob is written; 700 KB already fails
    while the request body is spooled to disk. Either way: a clear 503, no row, no blob, no
    temporary file; once space is freed (the recovery) the same upload succeeds."""
    app.test_client_class = ClosingClient
    record_id = new_draft(app, collection)
    browser = as_user(app, "instructor")
    filler = fill(small_disk, leave=150_000)
    body = samples["pdf"] + b"%" * (size - len(samples["pdf"]))
    response = upload(browser, record_id, "đầy-đĩa.pdf", body)
    assert response.status_code == 503
    assert "nothing was saved" in response.get_data(as_text=True).lower()
    assert count(app, RecordFile) == 0 and count(app, Blob) == 0
    assert list(get_storage(app).keys()) == [] and leftovers(app) == []
    assert record_state(app, record_id).status == RecordStatus.DRAFT

    filler.unlink()
    assert upload(browser, record_id, "đầy-đĩa.pdf", body).status_code == 302
    with app.app_context():
        stored = db.session.scalars(select(RecordFile.blob_key)).all()
    assert len(stored) == 1 and stored[0] in set(get_storage(app).keys())
    assert leftovers(app) == []


# --- the database connection drops mid-request -----------------------------------------------

def kill_the_next_requests_connection(app: Flask) -> list[int]:
    """The next request's database connection is killed as soon as the request has started,
    before anything reads through it: PostgreSQL's backend is terminated from another
    connection, SQLite's handle is closed. Returns the list the killed backends go to."""
    killed: list[int] = []

    def kill(sender: Flask, **extra) -> None:
        if killed:
            return
        connection = db.session.connection()
        if ON_POSTGRES:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            other = create_engine(db.engine.url)
            with other.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.dispose()
        else:
            pid = 0
            connection.connection.dbapi_connection.close()
        killed.append(pid)

    request_started.connect(kill, app, weak=False)
    return killed


def test_a_dropped_connection_fails_the_request_cleanly_and_the_next_one_works(
        app, users, collection):
    from lms.accounts.models import User
    from lms.catalog.models import Collection

    with app.app_context():
        record_id = publish_record(db.session.get(User, users["instructor"].id),
                                   db.session.get(User, users["curator"].id),
                                   db.session.get(Collection, collection),
                                   access_settings.AccessSettings(level=AccessLevel.PUBLIC),
                                   title="Bảo đảm xăng dầu").id
    browser = as_user(app, "instructor")
    form = {"collection": "khoa-hau-can", "action": "save", "dc.title.0.value": "Bản nháp",
            "dc.title.0.lang": "vi"}
    token_page = browser.client.get("/records/new").get_data(as_text=True)
    killed = kill_the_next_requests_connection(app)

    response = browser.client.post("/records/new", data={
        "csrf_token": CSRF_INPUT.search(token_page).group(1), **form})
    assert killed and response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    page = response.get_data(as_text=True)
    assert "The database cannot be reached at the moment, so nothing was saved." in page
    assert "Traceback" not in page and "psycopg" not in page and "sqlite" not in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Record)
                                 .where(Record.id != record_id)) == 0

    # The next requests get a fresh connection: the page, the same form, anonymous readers.
    assert browser.client.get(f"/records/{record_id}").status_code == 200
    assert browser.post("/records/new", form, page="/records/new").status_code == 302
    assert as_user(app, None).client.get(f"/records/{record_id}").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Record)) == 2


def test_a_client_asking_for_json_gets_a_json_503(app, users):
    kill_the_next_requests_connection(app)
    json = {"Accept": "application/json"}
    response = app.test_client().get("/records/1", headers=json)
    assert response.status_code == 503
    assert response.get_json()["error"]["status"] == 503
    assert app.test_client().get("/records/1", headers=json).status_code == 404


# --- the search index deleted or corrupted ---------------------------------------------------

LOCAL_ENGINES = [p for p in search_backend_params() if p.values[0] != "postgres"]


def searchable_library(app: Flask, users, engine: str, **config) -> dict[str, int]:
    app.config.update(SEARCH_BACKEND=engine, **config)
    with app.app_context():
        from lms.accounts.models import User

        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        collection = make_collection("khoa-hau-can", curators=[curator], steps=1)
        public = access_settings.AccessSettings(level=AccessLevel.PUBLIC)
        internal = access_settings.AccessSettings(level=AccessLevel.INTERNAL)
        return {"public": publish_record(owner, curator, collection, public,
                                         title="Bảo đảm xăng dầu trong huấn luyện").id,
                "internal": publish_record(owner, curator, collection, internal,
                                           title="Kế hoạch xăng dầu nội bộ").id}


def index_dir(app: Flask, engine: str) -> Path:
    return Path(app.config["DATA_DIR"]) / "search" / engine


def hits(client, q: str = "xang dau") -> tuple[int, list[int], list[str]]:
    response = client.get("/api/v1/search", query_string={"q": q})
    body = response.get_json()
    return response.status_code, [h["id"] for h in body["hits"]], \
        [n["code"] for n in body["notices"]]


def corrupt(folder: Path) -> None:
    """Overwrite every file of the live index with garbage of the same size."""
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "CURRENT":
            path.write_bytes(b"\xde\xad" * (max(path.stat().st_size, 2) // 2))


@pytest.mark.parametrize("damage", ["deleted", "corrupted"])
@pytest.mark.parametrize("engine", LOCAL_ENGINES)
def test_a_damaged_index_is_detected_and_rebuilt_without_a_failed_search(app, users, engine,
                                                                          damage):
    """A small index is rebuilt within the search that finds it damaged: the answer is the
    rebuilt index's, with nothing the reader may not see."""
    library = searchable_library(app, users, engine)
    anonymous = app.test_client()
    assert hits(anonymous) == (200, [library["public"]], [])
    folder = index_dir(app, engine)
    if damage == "deleted":
        shutil.rmtree(folder)
    else:
        corrupt(folder)
    # A new reader (another worker process, a restart) sees the same damage.
    with app.app_context():
        from lms.discovery.services import backend

        backend()  # the live one, opened before the damage
    assert hits(anonymous) == (200, [library["public"]], [])
    assert anonymous.get("/search?q=xang+dau").status_code == 200
    learner = as_user(app, "learner")
    assert sorted(hits(learner.client)[1]) == sorted(library.values())
    assert anonymous.get("/health").get_json()["checks"]["search"] == "ok"


@pytest.mark.parametrize("engine", LOCAL_ENGINES)
def test_while_a_large_index_is_rebuilt_searches_answer_with_a_notice(app, users, engine):
    """Too many records to rebuild within a request: the rebuild is queued for the worker,
    searches answer at once with a notice (and never more than the reader may see), and
    `lms reindex` — the documented recovery — brings the results back."""
    library = searchable_library(app, users, engine)
    # From now on there are too many records to rebuild in a request, and jobs wait for a
    # worker (none runs here): the queue is made again, as a worker's.
    app.config.update(SEARCH_INLINE_REBUILD_MAX=0, JOBS_IMMEDIATE=False)
    app.extensions.pop("huey", None)
    anonymous = app.test_client()
    assert hits(anonymous) == (200, [library["public"]], [])
    shutil.rmtree(index_dir(app, engine))

    assert hits(anonymous) == (200, [], ["index_rebuilding"])
    page = as_user(app, None).client.get("/search?q=xang+dau")
    assert page.status_code == 200
    assert "The search index is being rebuilt" in page.get_data(as_text=True)
    assert hits(as_user(app, "learner").client) == (200, [], ["index_rebuilding"])
    assert anonymous.get("/health").get_json()["checks"]["search"] == "degraded"
    with app.app_context():
        from lms.models import Job

        assert db.session.scalars(select(Job.name)).all() == ["search.rebuild"]

    result = app.test_cli_runner().invoke(cli, ["reindex"])
    assert result.exit_code == 0, result.output
    assert hits(anonymous) == (200, [library["public"]], [])
    assert anonymous.get("/health").get_json()["checks"]["search"] == "ok"
