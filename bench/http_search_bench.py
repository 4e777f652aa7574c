"""The API's default search request over HTTP, through gunicorn, on an instance of
``search_bench.py --through-app --keep-instances DIR``.

    .venv/bin/python bench/http_search_bench.py /var/tmp/lms-bench/vntc-20000 --port 5301

Starts ``gunicorn wsgi:app`` (``--workers``, default 1, with ``--threads``) on the instance with
``--backend`` (default whoosh; its index must have been built there, as the search benchmark's
reindex leaves it), sends ``GET /api/v1/search?q=…`` (the default request: facets and
highlighting on, 10 hits, anonymous) for :data:`HTTP_QUERIES` once to warm up and then
``--repeat`` times, one at a time over one keep-alive connection, prints p50/p95 and stops the
server.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import instance
from search_bench import percentile

REPO = Path(__file__).resolve().parents[1]

#: 20 typical queries of the search benchmark's set, with and without diacritics.
HTTP_QUERIES = [
    "bóng đá", "bong da", "đội tuyển Việt Nam", "huấn luyện viên", "chứng khoán",
    "thị trường chứng khoán", "giá vàng", "lãi suất ngân hàng", "sức khỏe", "suc khoe",
    "bệnh viện", "cúm gia cầm H5N1", "hoa binh", "Hà Nội", "giáo dục", "tòa án xét xử",
    "tai nạn giao thông", "máy tính", "phần mềm", "văn hóa",
]


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/v1/search?q=a")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not answer in time")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("instance", help="an instance folder of search_bench.py --keep-instances")
    ap.add_argument("--port", type=int, default=5301)
    ap.add_argument("--backend", default="whoosh")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    instance.use_instance(Path(args.instance), args.backend)
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "--threads",
           str(args.threads), "-b", f"127.0.0.1:{args.port}", "wsgi:app"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_ready(args.port, proc)
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)

        def get(q: str) -> float:
            began = time.perf_counter()
            conn.request("GET", "/api/v1/search?" + urlencode({"q": q}))
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"{q!r} answered {response.status}")
            return (time.perf_counter() - began) * 1000

        for q in HTTP_QUERIES:
            get(q)
        times = [get(q) for _ in range(args.repeat) for q in HTTP_QUERIES]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    print(f"{args.backend} over HTTP (gunicorn -w {args.workers} --threads {args.threads}), "
          f"{len(times)} requests of the default search (facets, highlighting): "
          f"p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms "
          f"(load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
