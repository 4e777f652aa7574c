"""OAI-PMH harvest benchmark: N VNTC records served by gunicorn (2 workers) on loopback.

Usage: .venv/bin/python bench/oai_bench.py [--records 10000] [--page-size 100] [--runs 3]

Builds a temporary instance (SQLite), loads N VNTC articles as published public records
(bulk-inserted rows, then the OAI projection is computed by the app's own code), starts
gunicorn and harvests ListRecords/oai_dc two ways: raw page fetches without XML parsing, and
full harvests with Sickle. Prints records/s (median of the runs) and the server's memory.
The corpus is test data only: the temporary instance is deleted at the end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from corpus import read_vntc  # bench/corpus.py: scripts run from bench/

ROOT = Path(__file__).resolve().parents[1]
TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")


def load(records: int, env: dict[str, str]) -> float:
    """Create the schema and N published public records; returns the seconds it took."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import insert
    from sqlalchemy.orm import selectinload

    from lms import create_app
    from lms.catalog.models import Collection, Record, RecordVersion
    from lms.extensions import db
    from lms.oai.models import OaiItem, OaiItemSet
    from lms.oai.projection import _rendered
    from lms.schema import upgrade

    started = time.perf_counter()
    app = create_app()
    with app.app_context():
        upgrade()
        collection = Collection(slug="vntc", title="VNTC (dữ liệu thử)", default_access="public")
        db.session.add(collection)
        db.session.commit()
        base = datetime(2025, 1, 1, tzinfo=UTC)
        batch: list[dict] = []
        versions: list[dict] = []
        for i, doc in enumerate(read_vntc(records), start=1):
            published = base + timedelta(seconds=i)
            rows = [["title", doc["title"], "vi", None], ["creator", doc["source"], None, None],
                    ["subject", doc["category"], "vi", None],
                    ["description", doc["text"][:600], "vi", None],
                    ["type", "Text", None, "DCMIType"], ["issued", "2006", None, None],
                    ["language", "vi", None, None]]
            batch.append({"id": i, "external_id": doc["id"], "collection_id": collection.id,
                          "status": "published", "title": doc["title"][:500],
                          "access_level": "public", "discoverable": True,
                          "current_version": 1, "lock_version": 1, "ever_public": True,
                          "metadata_incomplete": False, "embargo_reason": "",
                          "withdrawal_reason": "", "created_at": published,
                          "updated_at": published, "published_at": published})
            versions.append({"record_id": i, "number": 1, "title": doc["title"][:500],
                             "statements": rows, "published_at": published})
        db.session.execute(insert(Record), batch)
        db.session.execute(insert(RecordVersion), versions)
        db.session.commit()
        # The projection, rendered by the app's own code, written in bulk.
        for first in range(1, records + 1, 2000):
            chunk = db.session.scalars(
                db.select(Record).where(Record.id.between(first, first + 1999))
                .options(selectinload(Record.versions), selectinload(Record.mapped_collections))
            ).all()
            items, memberships = [], []
            for record in chunk:
                specs, oai_dc, qdc = _rendered(record)
                stamp = record.published_at
                items.append({"record_id": record.id, "datestamp": stamp, "deleted": False,
                              "set_specs": " ".join(specs), "oai_dc": oai_dc, "qdc": qdc})
                memberships += [{"record_id": record.id, "set_spec": s, "datestamp": stamp}
                                for s in specs]
            db.session.execute(insert(OaiItem), items)
            db.session.execute(insert(OaiItemSet), memberships)
            db.session.commit()
            db.session.expunge_all()
        db.engine.dispose()
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def raw_harvest(port: int) -> tuple[int, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    path = "/oai?verb=ListRecords&metadataPrefix=oai_dc"
    count = 0
    while path:
        connection.request("GET", path)
        body = connection.getresponse().read()
        count += body.count(b"<record>")
        match = TOKEN.search(body)
        path = f"/oai?verb=ListRecords&resumptionToken={match.group(1).decode()}" if match \
            else None
    connection.close()
    return count, time.perf_counter() - started


def sickle_harvest(port: int) -> tuple[int, float]:
    from sickle import Sickle

    started = time.perf_counter()
    harvester = Sickle(f"http://127.0.0.1:{port}/oai", max_retries=0, timeout=60)
    count = sum(1 for _record in harvester.ListRecords(metadataPrefix="oai_dc"))
    return count, time.perf_counter() - started


def rss_mb(pids: list[int], field: str) -> list[float]:
    values = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        kb = int(re.search(rf"{field}:\s+(\d+)", status).group(1))
        values.append(kb / 1024)
    return values


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="lms-oai-bench-"))
    env = {
        "LMS_INSTANCE_PATH": str(folder / "instance"),
        "LMS_DATA_DIR": str(folder / "data"),
        "LMS_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite'}",
        "LMS_SECRET_KEY": "benchmark-secret-key-0123456789abcdefghij",
        "LMS_OAI_PAGE_SIZE": str(args.page_size),
    }
    server = None
    try:
        seconds = load(args.records, env)
        print(f"loaded {args.records} records and their OAI projection in {seconds:.1f} s")
        port = free_port()
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b",
             f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)})
        wait_for(port)
        raw_harvest(port)  # warm-up: both workers import, connect and compile
        workers = worker_pids(server.pid)
        before = rss_mb(workers, "VmRSS")
        results = {}
        for name, harvest in (("raw page fetches", raw_harvest), ("sickle", sickle_harvest)):
            rates = []
            for _ in range(args.runs):
                count, elapsed = harvest(port)
                assert count == args.records, f"{name} harvested {count} records"
                rates.append(count / elapsed)
            results[name] = statistics.median(rates)
        after = rss_mb(workers, "VmRSS")
        peak = rss_mb(workers, "VmHWM")
        print()
        print(f"| harvest (ListRecords, oai_dc, {args.records} records, page {args.page_size},"
              f" gunicorn 2 workers) | records/s (median of {args.runs}) |")
        print("|---|---:|")
        for name, rate in results.items():
            print(f"| {name} | {rate:,.0f} |")
        print()
        print("| server worker memory | MB |")
        print("|---|---:|")
        print(f"| RSS after warm-up (per worker) | {', '.join(f'{v:.0f}' for v in before)} |")
        print(f"| RSS after all harvests (per worker) | {', '.join(f'{v:.0f}' for v in after)} |")
        print(f"| peak RSS (per worker) | {', '.join(f'{v:.0f}' for v in peak)} |")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
