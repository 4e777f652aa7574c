"""Request rates and file-serving throughput of the production server (`lms serve`: gunicorn
gthread workers) on loopback, for the deployment sizing note (docs/deploy.md).

    .venv/bin/python bench/serve_bench.py                       # SQLite, local files and S3
    .venv/bin/python bench/serve_bench.py --database-url postgresql://lms@127.0.0.1:5432/bench
    .venv/bin/python bench/serve_bench.py --stores local --seconds 20 --clients 16

For each file store (local files; an S3 bucket on moto's standalone server, streamed through
the app, then answered with presigned redirects) a fresh instance gets the demo content and one
public record holding a --file-mb file, and `lms serve --no-worker` serves it. Closed-loop
clients (keep-alive, one request at a time each) then hit each endpoint for --seconds: the
home page, a record page, a search, a small PDF download, the large file. Prints requests/s,
p50/p95 latency, MB/s and errors per endpoint. Nothing leaves loopback; every loop is bounded.

moto is a test double written in Python: its S3 figures bound what the app does around the
store, not what MinIO or Ceph deliver.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - a throwaway instance


def free_port(ports: str) -> int:
    candidates = [0]
    if ports:
        low, _, high = ports.partition("-")
        candidates = list(range(int(low), int(high or low) + 1))
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise SystemExit(f"no free port in {ports}")


def wait_for(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


def instance_env(work: Path, database_url: str | None, store: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update({
        "LMS_INSTANCE_PATH": str(work / "instance"),
        "LMS_DATA_DIR": str(work / "data"),
        "LMS_DATABASE_URL": database_url or f"sqlite:///{work / 'bench.sqlite'}",
        "LMS_SECRET_KEY": SECRET,
        "LMS_ACCESS_LOG": json.dumps(""),
        **{f"LMS_{k}": v for k, v in store.items()},
    })
    return env


SETUP = """
import io, json, sys
from pathlib import Path
from lms import create_app
from lms.catalog import deposit, workflow
from lms.catalog.access_settings import AccessSettings
from lms.catalog.collections import create_collection
from lms.catalog.models import AccessLevel, Record
from lms.extensions import db
from lms.files.upload import Upload, upload_files
from lms.accounts.models import User
from metadata import Statement

app = create_app({"JOBS_IMMEDIATE": True})
with app.app_context():
    owner = db.session.scalar(db.select(User).where(User.username == "admin"))
    collection = create_collection(None, "bench", "Bench", workflow_steps=1,
                                   default_access="public", curators=[owner])
    statements = [Statement("title", "Tệp lớn", "vi"), Statement("creator", "Nguyễn Văn A"),
                  Statement("subject", "logistics"), Statement("issued", "2025-09-22"),
                  Statement("type", "Text"), Statement("audience", "cadet-year-1"),
                  Statement("rights", "Lưu hành nội bộ", "vi")]
    record = deposit.create_draft(owner, collection, statements,
                                  AccessSettings(level=AccessLevel.PUBLIC))
    big = bytes(range(256)) * (int(sys.argv[1]) * 4096)
    from lms.extract.samples import FUEL_SUPPLY, write_demo_pdf
    Path(sys.argv[2]).mkdir(parents=True, exist_ok=True)
    pdf_path = write_demo_pdf(Path(sys.argv[2]) / "small.pdf", FUEL_SUPPLY.title,
                              FUEL_SUPPLY.paragraphs)
    files = upload_files(owner, record, [Upload(io.BytesIO(pdf_path.read_bytes()), "nho.pdf"),
                                         Upload(io.BytesIO(big), "lon.bin")])
    record = db.session.get(Record, record.id)
    workflow.submit(owner, record, record.lock_version)
    task = next(t for t in workflow.review_queue(owner).pool if t.record_id == record.id)
    workflow.claim(owner, task.id)
    workflow.accept(owner, task.id)
    print(json.dumps({"record": f"/records/{record.id}",
                      "pdf": f"/records/{record.id}/files/{files[0].id}",
                      "big": f"/records/{record.id}/files/{files[1].id}"}))
"""


def prepare(env: dict[str, str], file_mb: int) -> dict[str, str]:
    lms = str(ROOT / ".venv" / "bin" / "lms")
    for command in ([lms, "db", "upgrade"], [lms, "demo"]):
        subprocess.run(command, env=env, check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-c", SETUP, str(file_mb), env["LMS_DATA_DIR"]],
                         env=env, check=False,
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"setting up the instance failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def hammer(port: int, path: str, clients: int, seconds: float) -> dict[str, float]:
    """Closed-loop clients on keep-alive connections; redirects are not followed."""
    latencies: list[float] = []
    counts = {"bytes": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, received, errors = [], 0, 0
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                body = response.read()
                if response.status >= 400:
                    errors += 1
                received += len(body)
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            mine.append(time.perf_counter() - began)
        connection.close()
        with lock:
            latencies.extend(mine)
            counts["bytes"] += received
            counts["errors"] += errors

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies) or [0.0]
    return {"requests": len(latencies), "rps": len(latencies) / elapsed,
            "p50": statistics.median(ordered) * 1000,
            "p95": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000,
            "mbps": counts["bytes"] / elapsed / 1e6, "errors": counts["errors"]}


def run_store(name: str, store: dict[str, str], args) -> list[tuple[str, dict[str, float]]]:
    work = Path(tempfile.mkdtemp(prefix=f"lms-serve-bench-{name}-"))
    try:
        env = instance_env(work, args.database_url, store)
        if args.database_url:
            _reset_postgres(args.database_url)
        paths = prepare(env, args.file_mb)
        port = free_port(args.ports)
        with subprocess.Popen(serve_command(port, args), env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) as server:
            try:
                wait_for(f"http://127.0.0.1:{port}/health", server)
                query = "/search?q=" + urllib.parse.quote("xăng dầu")
                endpoints = [("home page", "/"), ("record page", paths["record"]),
                             ("search page", query), ("small PDF", paths["pdf"]),
                             (f"{args.file_mb} MB file", paths["big"])]
                results = []
                for label, path in endpoints:
                    hammer(port, path, 2, 1.0)  # warm up every worker's caches
                    results.append((label, hammer(port, path, args.clients, args.seconds)))
                return results
            finally:
                server.terminate()
                server.wait(timeout=60)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the served app and of the output, shared with load_bench.py."""
    parser.add_argument("--workers", type=int, default=0, help="default: lms serve's choice")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--ports", default=os.environ.get("LMS_TEST_PORTS", ""),
                        help="a port range to use, e.g. 5800-5899 (default: any free port)")
    parser.add_argument("--json", action="store_true")


def serve_command(port: int, args: argparse.Namespace) -> list[str]:
    """`lms serve` on loopback without the job worker, with --workers/--threads if given."""
    command = [str(ROOT / ".venv" / "bin" / "lms"), "serve", "--host", "127.0.0.1", "--port",
               str(port), "--no-worker"]
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    return command


def _reset_postgres(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import create_engine, text

    from lms.config import _normalise_database_url

    engine = create_engine(_normalise_database_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def start_moto(ports: str) -> tuple[subprocess.Popen, str]:
    port = free_port(ports)
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                                str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/moto-api/", process)
    return process, url


def s3_store(endpoint: str, bucket: str, serve: str) -> dict[str, str]:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")  # noqa: S106
    client.create_bucket(Bucket=bucket)
    return {"STORAGE": f"s3://{bucket}/blobs", "S3_ENDPOINT_URL": endpoint,
            "S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "bench",
            "S3_SECRET_ACCESS_KEY": "bench", "S3_SERVE": serve}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL (emptied!); default: SQLite")
    parser.add_argument("--stores", default="local,s3-stream,s3-redirect")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--file-mb", type=int, default=20)
    add_server_arguments(parser)
    args = parser.parse_args()

    stores = args.stores.split(",")
    moto = None
    table = []
    try:
        for name in stores:
            settings: dict[str, str] = {}
            if name.startswith("s3"):
                if moto is None:
                    moto = start_moto(args.ports)
                settings = s3_store(moto[1], f"bench-{name}-{os.getpid()}",
                                    "redirect" if name == "s3-redirect" else "stream")
            print(f"== {name}", file=sys.stderr, flush=True)
            for label, figures in run_store(name, settings, args):
                table.append({"store": name, "endpoint": label, **figures})
    finally:
        if moto is not None:
            moto[0].terminate()
            moto[0].wait(timeout=30)

    if args.json:
        print(json.dumps(table, indent=2))
        return
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{database}, {os.cpu_count()} cores, {args.clients} clients x {args.seconds:.0f} s"
          f" per row\n")
    print("| store | endpoint | req/s | p50 ms | p95 ms | MB/s | errors |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in table:
        print(f"| {row['store']} | {row['endpoint']} | {row['rps']:.0f} | {row['p50']:.1f} | "
              f"{row['p95']:.1f} | {row['mbps']:.1f} | {row['errors']} |")


if __name__ == "__main__":
    main()
