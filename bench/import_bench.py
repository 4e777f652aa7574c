"""Bulk-import benchmark: the first N VNTC articles through the ``lms import`` code path.

    .venv/bin/python bench/import_bench.py --docs 1000 --docs 10000
    git archive main | tar -x -C /tmp/main        # another version, to compare with:
    .venv/bin/python bench/import_bench.py --docs 2000 --compare /tmp/main \
        [--database postgresql://user@host/db_to_empty]

For each N, a fresh subprocess (so peak RSS is per run) has another one build a temporary
instance (SQLite, or the emptied PostgreSQL database of ``--database``; its own DATA_DIR) and
convert the first N articles to the JSONL import shape (the body as a ``.txt`` file beside the
JSONL, the title and category as metadata, public access), then imports them with
``lms.ingest.imports.run_import``, the service behind ``lms import``, with text extraction
done before it returns (no ``--async``). The time is end to end: reading the package, storing
blobs, one transaction per batch of lines, extraction, search and OAI indexing in batches.
A second run of the same package (every line unchanged) is timed too (not with
``--no-rerun``). ``peak MB`` is the process's peak RSS at the end of the first import, ``rerun
MB`` after the rerun, ``anon MB`` the peak of its anonymous memory during the import (RSS
without the pages of mapped files). The corpus is test data only: the temporary instance is
deleted at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import instance  # bench/instance.py: scripts run from bench/


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """The peak RSS of this process, or (``RUSAGE_CHILDREN``) of its largest finished child:
    the import's mirror applier process (``IMPORT_MIRROR_PROCESS``)."""
    return resource.getrusage(who).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (extraction workers): a measure
    that other work on a shared machine disturbs far less than elapsed time."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class MemoryPeaks:
    """Peaks sampled by a thread: the process's anonymous memory every 20 ms (``RssAnon``: its
    heap, not the pages of files it maps, such as the search index's segments while the
    engine merges them, which the peak RSS counts too), and every 200 ms the proportional
    set size of the process and its children together (``Pss``: a page shared by the import
    and its forked mirror applier counts half in each, so the sum is the memory both use),
    and the anonymous part of that sum (``Pss_Anon``)."""

    def __init__(self) -> None:
        self.anonymous_kb = 0
        self.together_kb = 0
        self.together_anonymous_kb = 0
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        status = Path("/proc/self/status")
        ticks = 0
        while status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("RssAnon:"):
                    self.anonymous_kb = max(self.anonymous_kb, int(line.split()[1]))
            if ticks % 10 == 0:
                sizes = [_pss_kb(pid) for pid in [os.getpid(), *_children(os.getpid())]]
                self.together_kb = max(self.together_kb, sum(pss for pss, _ in sizes))
                self.together_anonymous_kb = max(self.together_anonymous_kb,
                                                 sum(anonymous for _, anonymous in sizes))
            ticks += 1
            time.sleep(0.02)

    @property
    def anonymous_mb(self) -> float:
        return self.anonymous_kb / 1024

    @property
    def together_mb(self) -> float:
        return self.together_kb / 1024

    @property
    def together_anonymous_mb(self) -> float:
        return self.together_anonymous_kb / 1024


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _pss_kb(pid: int) -> tuple[int, int]:
    """The process's proportional set size and the part of it that is anonymous memory."""
    found = {"Pss:": 0, "Pss_Anon:": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(" ")
            if name in found:
                found[name] = int(rest.split()[0])
    except OSError:  # it ended meanwhile
        pass
    return found["Pss:"], found["Pss_Anon:"]


def child(docs: int, batch: int | None, rerun: bool = True) -> dict:
    work = Path(tempfile.mkdtemp(prefix="lms-import-bench-"))
    try:
        instance.use_instance(work)
        # The package, the schema and the collection are made by another process, as
        # `lms db upgrade` and whoever wrote the package did before `lms import`: this one
        # holds only what an import loads and leaves behind.
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--prepare", str(work), "--docs", str(docs)],
                       check=True)
        convert = time.perf_counter() - started
        package = work / "package" / "vntc.jsonl"

        from sqlalchemy import func, select

        from lms import create_app
        from lms.extensions import db
        from lms.files.models import RecordFile

        app = create_app()
        memory = MemoryPeaks()
        cpu = cpu_seconds()
        first = instance.import_package(app, package, batch_size=batch,
                                        progress=instance.progress_printer())
        cpu = cpu_seconds() - cpu
        peak = peak_rss_mb()  # the import's; the rerun below may add its own
        peak_anonymous, peak_together = memory.anonymous_mb, memory.together_mb
        peak_together_anonymous = memory.together_anonymous_mb
        peak_applier = peak_rss_mb(resource.RUSAGE_CHILDREN)
        again = instance.import_package(app, package) if rerun else {
            "seconds": float("nan"), "unchanged": 0}
        with app.app_context():
            extracted = db.session.scalar(select(func.count()).select_from(RecordFile).where(
                RecordFile.text_status == "ok"))
            hits = app.test_client().get("/api/v1/search",
                                         query_string={"q": "bóng đá"}).get_json()
        return {"docs": docs, "convert_s": convert, "import_s": first["seconds"],
                "records_per_s": docs / first["seconds"], "cpu_s": cpu,
                "records_per_cpu_s": docs / cpu, "peak_rss_mb": peak,
                "peak_anon_mb": peak_anonymous, "applier_peak_rss_mb": peak_applier,
                "together_peak_pss_mb": peak_together,
                "together_peak_anon_pss_mb": peak_together_anonymous,
                "rerun_peak_rss_mb": peak_rss_mb(),
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
    parser.add_argument("--compare", type=Path, default=None, metavar="DIR",
                        help="also run another checkout of the code (e.g. `git archive main | "
                             "tar -x -C DIR`), alternating with this one, and print the ratio")
    parser.add_argument("--database", default=None, metavar="URL",
                        help="a PostgreSQL database to use (it is emptied) instead of SQLite")
    parser.add_argument("--search-backend", choices=["whoosh", "tantivy", "postgres"],
                        default=None, help="the search backend kept up to date by the import "
                        "(default: the app's, LMS_SEARCH_BACKEND or whoosh)")
    parser.add_argument("--no-rerun", action="store_true",
                        help="skip the second run of the package (long imports)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        from lms import create_app

        instance.use_instance(args.prepare)
        instance.write_package(args.prepare / "package", args.docs[0])
        instance.prepare(create_app())
        return 0
    if args.child:
        print(json.dumps(child(args.child, args.batch_size, rerun=not args.no_rerun)))
        return 0
    sources = [("this", None)] + ([("compare", args.compare.resolve())] if args.compare else [])
    results = []
    for docs in args.docs or [1000]:
        for label, source in reversed(sources):  # the other checkout first, then this one
            print(f"importing {docs} VNTC articles ({label})…", file=sys.stderr, flush=True)
            command = [sys.executable, __file__, "--child", str(docs)]
            if args.batch_size:
                command += ["--batch-size", str(args.batch_size)]
            if args.no_rerun:
                command.append("--no-rerun")
            env = {k: v for k, v in os.environ.items() if k not in ("LMS_BENCH_SOURCE",
                                                                   "LMS_BENCH_DATABASE_URL")}
            if args.search_backend:
                env["LMS_SEARCH_BACKEND"] = args.search_backend
            if source is not None:
                env["LMS_BENCH_SOURCE"] = str(source)
            if args.database:
                env["LMS_BENCH_DATABASE_URL"] = args.database
            done = subprocess.run(command, check=True, capture_output=False, env=env,
                                  stdout=subprocess.PIPE, text=True)
            results.append({"source": label, **json.loads(done.stdout.strip().splitlines()[-1])})
    print(f"{'source':>8} {'docs':>7} {'import s':>9} {'records/s':>10} {'CPU s':>7} "
          f"{'rec/CPU s':>10} {'peak MB':>8} {'created':>8} {'failed':>7} {'text ok':>8} "
          f"{'search':>7} {'rerun s':>8} {'unchanged':>10} {'rerun MB':>9} {'anon MB':>8} "
          f"{'applier MB':>10} {'both PSS MB':>11} {'both anon MB':>12}")
    for r in results:
        print(f"{r['source']:>8} {r['docs']:>7} {r['import_s']:>9.1f} {r['records_per_s']:>10.1f} "
              f"{r['cpu_s']:>7.1f} {r['records_per_cpu_s']:>10.1f} "
              f"{r['peak_rss_mb']:>8.0f} {r['created']:>8} {r['failed']:>7} {r['text_ok']:>8} "
              f"{r['search_total']:>7} {r['rerun_s']:>8.1f} {r['rerun_unchanged']:>10} "
              f"{r.get('rerun_peak_rss_mb', 0):>9.0f} {r.get('peak_anon_mb', 0):>8.0f} "
              f"{r.get('applier_peak_rss_mb', 0):>10.0f} "
              f"{r.get('together_peak_pss_mb', 0):>11.0f} "
              f"{r.get('together_peak_anon_pss_mb', 0):>12.0f}")
    if args.compare:  # results come in pairs: the other checkout, then this one
        for other, this in zip(results[::2], results[1::2], strict=True):
            print(f"{this['docs']} docs: this / compare = "
                  f"{this['records_per_s'] / other['records_per_s']:.3f} (records/s), "
                  f"{this['records_per_cpu_s'] / other['records_per_cpu_s']:.3f} "
                  f"(records per CPU second)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
