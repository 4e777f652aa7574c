"""Crash tests for real (observations 1 and 2): an import or the worker is killed with SIGKILL
while records change from public to restricted; the service is then started as in production
(gunicorn and ``lms worker``). Until the worker has caught up nothing the database no longer
allows is shown anonymously; once it has, every channel agrees with the database and
``lms check`` finds no difference. Two imports of one file at once lose nothing either."""

from __future__ import annotations

import io
import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from lxml import etree
from sqlalchemy import func, select

from lms.catalog.models import AccessLevel, Record
from lms.changelog import pending_counts
from lms.cli import cli
from lms.extensions import db
from lms.oai.projection import harvestable_clause
from tests.conftest import Browser, make_app
from tests.factories import PASSWORD, make_collection
from tests.processes import ROOT, SECRET_KEY, process_env, spawn, stop, wait_for

pytestmark = pytest.mark.functional

COUNT = 300
KILL_AFTER = 60
NS = {"o": "http://www.openarchives.org/OAI/2.0/"}
REPO = "kho.hvhc.edu.vn"


def word(n: int) -> str:
    """A word only record ``n`` has."""
    return f"xq{n:04d}zu"


def line(n: int, access: object) -> dict:
    return {"id": f"c-{n}", "access": access, "metadata": {
        "title": [{"value": f"Tài liệu {word(n)}", "lang": "vi"}],
        "description": [{"value": "Kho chung của học viện"}]}}


RESTRICTED = {"level": "restricted", "users": ["learner"]}


def write_jsonl(path: Path, access: object) -> Path:
    path.write_text("".join(json.dumps(line(n, access), ensure_ascii=False) + "\n"
                            for n in range(COUNT)), encoding="utf-8")
    return path


@pytest.fixture
def instance(app, users, tmp_path) -> Path:
    """COUNT public records, imported and applied; returns the restricting import's file."""
    with app.app_context():
        make_collection("khoa-hau-can", steps=1)
        db.session.commit()
    public = write_jsonl(tmp_path / "public.jsonl", "public")
    result = app.test_cli_runner().invoke(cli, ["import", str(public), "--collection",
                                                "khoa-hau-can"])
    assert result.exit_code == 0, result.output
    return write_jsonl(tmp_path / "restrict.jsonl", RESTRICTED)


def restricted_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Record).where(
            Record.access_level == AccessLevel.RESTRICTED)) or 0


def pending(app) -> dict[str, int]:
    with app.app_context():
        return pending_counts()


def free_port() -> int:
    for port in range(5600, 5700):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port in 5600-5699")


@contextmanager
def production(app, tmp_path, *, worker: bool) -> Iterator[tuple[str, subprocess.Popen | None]]:
    """gunicorn serving ``wsgi:app`` (and ``lms worker`` if asked); yields the base URL and
    the worker process."""
    port = free_port()
    server = spawn([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                    "wsgi:app"], app, tmp_path, "gunicorn")
    running = spawn([sys.executable, "-m", "lms", "worker"], app, tmp_path, "worker") \
        if worker else None
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(base), 120, "gunicorn")
        yield base, running
    finally:
        stop(running)
        stop(server)


def _up(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=5):  # noqa: S310 (http only)
            return True
    except OSError:
        return False


def get(base: str, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(base + path, timeout=60) as response:  # noqa: S310
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


# --- what each channel shows an anonymous reader -------------------------------------------

@dataclass
class Channels:
    search: set[int]
    search_page_links: set[int]
    oai_live: set[int]
    oai_deleted: set[int]
    list_records_with_metadata: set[int]


HIT_LINK = re.compile(r'class="hit-title"><a href="/records/(\d+)"')


def anonymous_view(base: str) -> Channels:
    search: set[int] = set()
    page_links: set[int] = set()
    for number in range(1, COUNT // 100 + 2):
        status, body = get(base, f"/api/v1/search?q=kho+chung&size=100&page={number}")
        assert status == 200, body[:200]
        search |= {hit["id"] for hit in json.loads(body)["hits"]}
        status, page = get(base, f"/search?q=kho+chung&size=100&page={number}")
        assert status == 200
        page_links |= {int(n) for n in HIT_LINK.findall(page)}
    live, deleted = _harvest(base, "ListIdentifiers")
    with_metadata, _ = _harvest(base, "ListRecords")
    return Channels(search, page_links, live, deleted, with_metadata)


def _harvest(base: str, verb: str) -> tuple[set[int], set[int]]:
    """(ids served with metadata or as live headers, ids served as deleted)."""
    live: set[int] = set()
    deleted: set[int] = set()
    query = f"verb={verb}&metadataPrefix=oai_dc"
    while True:
        status, body = get(base, f"/oai?{query}")
        assert status == 200
        document = etree.fromstring(body.encode("utf-8"))
        if verb == "ListRecords":
            for record in document.iterfind(".//o:record", NS):
                record_id = int(record.findtext("o:header/o:identifier", namespaces=NS)
                                .rsplit(":", 1)[1])
                (live if record.find("o:metadata", NS) is not None else deleted).add(record_id)
        else:
            for header in document.iterfind(".//o:header", NS):
                record_id = int(header.findtext("o:identifier", namespaces=NS).rsplit(":", 1)[1])
                (deleted if header.get("status") == "deleted" else live).add(record_id)
        token = document.findtext(".//o:resumptionToken", namespaces=NS)
        if not token:
            return live, deleted
        query = f"verb={verb}&resumptionToken={quote(token)}"


def database_view(app) -> tuple[set[int], set[int]]:
    """(records an anonymous reader may see, records restricted now)."""
    with app.app_context():
        public = set(db.session.scalars(select(Record.id).where(harvestable_clause())))
        restricted = set(db.session.scalars(select(Record.id).where(
            Record.access_level == AccessLevel.RESTRICTED)))
    return public, restricted


def assert_nothing_restricted_is_shown(app, base: str) -> None:
    _public, restricted = database_view(app)
    seen = anonymous_view(base)
    assert restricted, "nothing was restricted before the kill"
    for channel in (seen.search, seen.search_page_links, seen.oai_live,
                    seen.list_records_with_metadata):
        assert not channel & restricted
    with app.app_context():
        sample = db.session.scalars(select(Record).where(Record.id.in_(sorted(restricted)[:5])))
        titles = [(r.id, r.external_id) for r in sample]
    for record_id, external_id in titles:
        n = int(external_id.removeprefix("c-"))
        _status, body = get(base, f"/api/v1/search?q={word(n)}")
        assert json.loads(body)["hits"] == [] and word(n) not in body
        _status, body = get(base, f"/api/v1/suggest?q={word(n)[:5]}")
        assert word(n) not in body
        assert get(base, f"/records/{record_id}")[0] == 404
        _status, body = get(base, "/oai?" + urlencode({
            "verb": "GetRecord", "metadataPrefix": "oai_dc",
            "identifier": f"oai:{REPO}:{record_id}"}))
        assert 'status="deleted"' in body and word(n) not in body


def assert_every_channel_agrees(app, base: str) -> None:
    public, restricted = database_view(app)
    seen = anonymous_view(base)
    assert seen.search == public
    assert seen.search_page_links == public
    assert seen.oai_live == public and seen.list_records_with_metadata == public
    assert seen.oai_deleted == restricted  # they were public once: deleted headers
    for record_id in sorted(public)[:3]:
        assert get(base, f"/records/{record_id}")[0] == 200


def assert_check_is_clean(app, tmp_path) -> None:
    result = subprocess.run([sys.executable, "-m", "lms", "check"], cwd=ROOT,
                            env=process_env(app, tmp_path), capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "0 difference(s)."


def recover(app, tmp_path, killed_at: float) -> float:
    """Start the service as in production: the server first (nothing leaks while changes wait),
    then the worker; returns the seconds from the kill to every change applied."""
    with production(app, tmp_path, worker=False) as (base, _):
        assert sum(pending(app).values()) > 0
        assert_nothing_restricted_is_shown(app, base)
    started = time.monotonic()
    with production(app, tmp_path, worker=True) as (base, _):
        wait_for(lambda: not any(pending(app).values()), 300, "the worker to catch up")
        elapsed = time.monotonic() - killed_at
        catch_up = time.monotonic() - started
        assert_every_channel_agrees(app, base)
        assert_nothing_restricted_is_shown(app, base)
    assert_check_is_clean(app, tmp_path)
    # The measured figures (pytest -s); the kill-to-consistent time includes the test's own
    # check of every channel while only the server ran.
    print(f"\nkill -> consistent: {elapsed:.1f} s; server and worker start -> consistent: "
          f"{catch_up:.1f} s")
    return elapsed


def kill_import_after_commits(app, tmp_path, restrict: Path) -> float:
    """``lms import`` with one batch for the whole file: its lines commit one by one, the
    mirrors would only hear of them at the end. Killed after KILL_AFTER lines."""
    child = spawn([sys.executable, "-m", "lms", "import", str(restrict), "--collection",
                   "khoa-hau-can", "--batch-size", str(COUNT)], app, tmp_path, "import")
    try:
        wait_for(lambda: restricted_count(app) >= KILL_AFTER or child.poll() is not None,
                 300, f"{KILL_AFTER} lines")
        child.send_signal(signal.SIGKILL)
        child.wait()
        killed_at = time.monotonic()
    finally:
        stop(child)
    assert KILL_AFTER <= restricted_count(app) < COUNT, "the import was not killed half-way"
    return killed_at


# --- the kill points --------------------------------------------------------------------------

def test_import_killed_after_commits_before_the_mirrors_heard(app, instance, tmp_path):
    killed_at = kill_import_after_commits(app, tmp_path, instance)
    recover(app, tmp_path, killed_at)


def test_worker_killed_while_applying_the_change_log(app, instance, tmp_path):
    kill_import_after_commits(app, tmp_path, instance)
    before = pending(app)
    # Small rounds, so that the kill lands between two of them (a round of the default size
    # would apply everything the killed import left before the test can kill the worker).
    worker = spawn([sys.executable, "-m", "lms", "worker"], app, tmp_path, "worker-killed",
                   LMS_CHANGE_LOG_APPLY_BATCH="5")
    try:
        # As soon as it has applied something (or a few seconds into its work).
        wait_for(lambda: pending(app) != before or worker.poll() is not None, 120,
                 "the worker to start applying")
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        killed_at = time.monotonic()
    finally:
        stop(worker)
    if not any(pending(app).values()):
        pytest.fail("the worker finished before it could be killed: lower its apply batch")
    recover(app, tmp_path, killed_at)


def test_worker_killed_while_running_an_import_job(app, instance, tmp_path):
    producer = make_app(app.config["SQLALCHEMY_DATABASE_URI"], Path(app.config["DATA_DIR"]),
                        JOBS_IMMEDIATE=False, SECRET_KEY=SECRET_KEY)
    admin = Browser(producer.test_client())
    assert admin.login("admin", PASSWORD).status_code == 302
    worker = spawn([sys.executable, "-m", "lms", "worker"], app, tmp_path, "worker-job")
    try:
        response = admin.post("/admin/import/", {
            "package": (io.BytesIO(instance.read_bytes()), "restrict.jsonl"),
            "collection": "khoa-hau-can"}, page="/admin/import/")
        assert response.status_code == 302
        wait_for(lambda: restricted_count(app) >= KILL_AFTER, 300, f"{KILL_AFTER} lines")
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        killed_at = time.monotonic()
    finally:
        stop(worker)
        with producer.app_context():
            db.engine.dispose()
    assert restricted_count(app) < COUNT, "the job was not killed half-way"
    # The job applies a batch (IMPORT_BATCH_SIZE lines) at a time: the first was not done.
    recover(app, tmp_path, killed_at)


def test_two_imports_of_one_file_at_once_lose_nothing(app, users, tmp_path):
    """Observation 2: two imports of one file at the same moment; every record must reach
    search and OAI-PMH (before, a few were missing from oai_items and nothing said so) and
    no line may fail because the other import created its record first."""
    with app.app_context():
        make_collection("khoa-hau-can", steps=1)
        db.session.commit()
    path = write_jsonl(tmp_path / "public.jsonl", "public")
    command = [sys.executable, "-m", "lms", "import", str(path), "--collection",
               "khoa-hau-can", "--batch-size", "20"]
    children = [spawn(command, app, tmp_path, f"import-{n}") for n in range(2)]
    for child in children:
        assert child.wait(timeout=900) == 0, (tmp_path / "import-0.log").read_text()[-3000:]
    for n in range(2):
        summary = (tmp_path / f"import-{n}.log").read_text().strip().splitlines()[-1]
        assert summary.startswith(f"{COUNT} line(s): ") and " 0 failed" in summary, summary
    public, _restricted = database_view(app)
    assert len(public) == COUNT
    with production(app, tmp_path, worker=False) as (base, _):
        assert_every_channel_agrees(app, base)
    assert_check_is_clean(app, tmp_path)
