"""Bulk-import benchmark: the first N VNTC articles through the ``lms import`` code path.

    .venv/bin/python bench/import_bench.py --docs 1000 --docs 10000

For each N, a fresh subprocess (so peak RSS is per run) builds a temporary instance (SQLite,
its own DATA_DIR), converts the first N articles to the JSONL import shape (the body as a
``.txt`` file beside the JSONL, the title and category as metadata, public access), and
imports them with ``lms.ingest.imports.run_import``, the service behind ``lms import``, with
text extraction done before it returns (no ``--async``). The time is end to end: reading the
package, storing blobs, one transaction per line, extraction, search and OAI indexing in
batches. A second run of the same package (every line unchanged) is timed too. The corpus is
test data only: the temporary instance is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import instance  # bench/instance.py: scripts run from bench/


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(docs: int, batch: int | None) -> dict:
    work = Path(tempfile.mkdtemp(prefix="lms-import-bench-"))
    try:
        instance.use_instance(work)
        started = time.perf_counter()
        package = instance.write_package(work / "package", docs)
        convert = time.perf_counter() - started

        from sqlalchemy import func, select

        from lms import create_app
        from lms.extensions import db
        from lms.files.models import RecordFile

        app = create_app()
        instance.prepare(app)
        first = instance.import_package(app, package, batch_size=batch,
                                        progress=instance.progress_printer())
        again = instance.import_package(app, package)
        with app.app_context():
            extracted = db.session.scalar(select(func.count()).select_from(RecordFile).where(
                RecordFile.text_status == "ok"))
            hits = app.test_client().get("/api/v1/search",
                                         query_string={"q": "bóng đá"}).get_json()
        return {"docs": docs, "convert_s": convert, "import_s": first["seconds"],
                "records_per_s": docs / first["seconds"], "peak_rss_mb": peak_rss_mb(),
                "created": first["created"], "failed": first["error"],
                "text_ok": extracted, "search_total": hits["total"],
                "rerun_s": again["seconds"], "rerun_unchanged": again["unchanged"]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, action="append",
                        help="articles to import (repeatable; default 1000)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="lines per search/OAI batch (default IMPORT_BATCH_SIZE)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.batch_size)))
        return 0
    results = []
    for docs in args.docs or [1000]:
        print(f"importing {docs} VNTC articles…", file=sys.stderr, flush=True)
        command = [sys.executable, __file__, "--child", str(docs)]
        if args.batch_size:
            command += ["--batch-size", str(args.batch_size)]
        done = subprocess.run(command, check=True, capture_output=False,
                              stdout=subprocess.PIPE, text=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"{'docs':>7} {'import s':>9} {'records/s':>10} {'peak MB':>8} {'created':>8} "
          f"{'failed':>7} {'text ok':>8} {'search':>7} {'rerun s':>8} {'unchanged':>10}")
    for r in results:
        print(f"{r['docs']:>7} {r['import_s']:>9.1f} {r['records_per_s']:>10.1f} "
              f"{r['peak_rss_mb']:>8.0f} {r['created']:>8} {r['failed']:>7} {r['text_ok']:>8} "
              f"{r['search_total']:>7} {r['rerun_s']:>8.1f} {r['rerun_unchanged']:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
