"""Search benchmark: our backends against a bare Whoosh baseline on VNTC news articles.

    .venv/bin/python bench/search_bench.py --docs 10000

Each engine runs in its own subprocess (so peak RSS is per engine): it builds an index from
the first N VNTC documents, then times 54 fixed Vietnamese queries in three modes, and the
parent prints one table. See bench/README.md for what each mode measures.

Engines: ``bare`` (the fixed baseline), and every name in ``lms.search.BACKENDS`` (documents
indexed directly as SearchDocuments). A later ``--through-app`` mode can add an engine that
imports through the app; add it to ``ENGINES`` and ``run_engine``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MODES = ("plain", "faceted", "highlighted")

#: 54 realistic queries from the corpus domains: with and without diacritics, old/new tone
#: placement, phrases, field queries, exclusions, prefixes and filters.
QUERIES = [
    "bóng đá",
    "bong da",
    "thể thao",
    "the thao",
    "đội tuyển Việt Nam",
    "doi tuyen viet nam",
    "World Cup",
    '"bóng đá"',
    "huấn luyện viên",
    "chứng khoán",
    "chung khoan",
    "thị trường chứng khoán",
    "giá vàng",
    "lãi suất ngân hàng",
    "xuất khẩu gạo",
    "doanh nghiệp nhà nước",
    "sức khỏe",
    "sức khoẻ",
    "suc khoe",
    "bệnh viện",
    "cúm gia cầm H5N1",
    "ung thư",
    "thuốc kháng sinh",
    "hòa bình",
    "hoà bình",
    "hoa binh",
    "Đà Nẵng",
    "da nang",
    "Hà Nội",
    "ha noi",
    "thành phố Hồ Chí Minh",
    "giáo dục",
    "thi đại học",
    "tuyển sinh",
    "pháp luật",
    "tòa án xét xử",
    "toà án",
    "công an điều tra",
    "tai nạn giao thông",
    "máy tính",
    "phần mềm",
    "internet",
    "điện thoại di động",
    "khoa học",
    "vũ trụ",
    "văn hóa",
    "âm nhạc",
    "điện ảnh",
    "thế giới",
    "Mỹ Iraq",
    "title:bóng đá",
    "tieude:chứng khoán",
    "kinh tế -chứng khoán",
    "thuỷ điện",
]
assert len(QUERIES) == 54

CORPUS_FILES = [f"corpus/vntc-10topics-0{i}.jsonl.gz" for i in range(4)]
ENGINES = ("bare", "whoosh")


def shared_dir() -> Path:
    return Path(os.environ.get("LMS_SHARED_DIR") or REPO.parent / "shared")


def read_corpus(limit: int) -> Iterator[dict]:
    n = 0
    for name in CORPUS_FILES:
        path = shared_dir() / name
        if not path.is_file():
            raise SystemExit(f"VNTC corpus not found at {path} (set LMS_SHARED_DIR)")
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)
                n += 1
                if n >= limit:
                    return


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def time_queries(run: Callable[[str], object], repeat: int) -> list[float]:
    for q in QUERIES:  # warm-up
        run(q)
    times = []
    for _ in range(repeat):
        for q in QUERIES:
            t = time.perf_counter()
            run(q)
            times.append((time.perf_counter() - t) * 1000)
    return times


# --- the bare Whoosh baseline (fixed: do not tune) -------------------------------------------


def run_bare(recs: list[dict], workdir: Path, repeat: int) -> dict:
    from whoosh import fields, index
    from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer
    from whoosh.qparser import AndGroup, MultifieldParser
    from whoosh.support.charset import accent_map

    def analyzer():
        return RegexTokenizer(r"\w+") | LowercaseFilter() | CharsetFilter(accent_map)

    schema = fields.Schema(
        id=fields.ID(stored=True),
        title=fields.TEXT(analyzer=analyzer(), field_boost=2.0),
        text=fields.TEXT(analyzer=analyzer()),
    )
    ix = index.create_in(str(workdir), schema)
    t = time.perf_counter()
    writer = ix.writer(limitmb=256)
    for rec in recs:
        writer.add_document(id=rec["id"], title=rec["title"], text=rec["text"])
    writer.commit()
    build = time.perf_counter() - t
    texts = {rec["id"]: rec["text"] for rec in recs}
    parser = MultifieldParser(["title", "text"], schema, group=AndGroup)
    out: dict = {"docs_per_s": len(recs) / build, "size_mb": dir_size_mb(workdir), "modes": {}}
    with ix.searcher() as s:

        def plain(q: str) -> object:
            return [hit["id"] for hit in s.search(parser.parse(q), limit=10)]

        def faceted(q: str) -> object:
            results = s.search(parser.parse(q), limit=10)
            return len(results), [hit["id"] for hit in results]  # exact total

        def highlighted(q: str) -> object:
            results = s.search(parser.parse(q), limit=10)
            return [hit.highlights("text", text=texts[hit["id"]]) for hit in results]

        for mode, fn in (("plain", plain), ("faceted", faceted), ("highlighted", highlighted)):
            out["modes"][mode] = time_queries(fn, repeat)
    ix.close()
    return out


# --- our backends ------------------------------------------------------------------------------


def slug(text: str) -> str:
    from lms.search.analysis import fold

    return "-".join(fold(text).split())


def principals_for(i: int) -> list[str]:
    """80% public, 10% one unit, 10% curators only."""
    r = i % 10
    if r == 8:
        return ["unit:1"]
    if r == 9:
        return ["role:curator"]
    return ["public"]


def to_document(i: int, rec: dict):
    from lms.search import SearchDocument

    return SearchDocument(
        id=i,
        external_id=rec["id"],
        title=[rec["title"]],
        creator=[rec["source"]],
        subject=[rec["category"]],
        description=[],
        fulltext=rec["text"],
        principals=principals_for(i),
        type=["Text"],
        subject_path=[f"tin-tuc/{slug(rec['category'])}"],
        language=["vi"],
        year=2005 + i % 2,
        collection_path=[f"vntc/{slug(rec['source'])}", f"split/{rec['split']}"],
        format=["text/plain"],
        has_files=i % 3 != 0,
        published_at=datetime(2005, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
        downloads=(i * 7919) % 1000,
    )


PRINCIPAL_SETS = {
    "anon": frozenset({"public"}),
    "broad": frozenset({"public", "authenticated", "unit:1", "role:curator", "user:7"}),
}


def run_backend(name: str, recs: list[dict], workdir: Path, repeat: int) -> dict:
    from lms.search import SearchQuery, create_backend

    docs = [to_document(i, rec) for i, rec in enumerate(recs, 1)]
    backend = create_backend(name, workdir, None)
    t = time.perf_counter()
    backend.rebuild(docs)
    build = time.perf_counter() - t
    out: dict = {"docs_per_s": len(docs) / build, "size_mb": dir_size_mb(workdir), "modes": {}}
    flags = {
        "plain": {"facets": False, "highlight": False},
        "faceted": {"facets": True, "highlight": False},
        "highlighted": {"facets": False, "highlight": True},
    }
    for label, principals in PRINCIPAL_SETS.items():
        for mode in MODES:

            def run(q: str, principals=principals, mode=mode) -> object:
                return backend.query(SearchQuery(q, principals, size=10, **flags[mode]))

            out["modes"][f"{mode}/{label}"] = time_queries(run, repeat)
    backend.close()
    return out


def run_engine(engine: str, docs: int, repeat: int, workdir: Path) -> dict:
    recs = list(read_corpus(docs))
    if engine == "bare":
        result = run_bare(recs, workdir, repeat)
    else:
        result = run_backend(engine, recs, workdir, repeat)
    result["engine"] = engine
    result["docs"] = len(recs)
    result["peak_rss_mb"] = peak_rss_mb()
    return result


# --- driver ------------------------------------------------------------------------------------


TARGETS_MS = {"plain": 80.0, "faceted": 160.0, "highlighted": 120.0}
MAX_RATIO = 1.5


def print_table(results: list[dict]) -> None:
    bare = next((r for r in results if r["engine"] == "bare"), None)
    print()
    print(f"Documents: {results[0]['docs']:,}   queries: {len(QUERIES)} per mode")
    print()
    head = f"{'engine':<8} {'mode':<22} {'p50 ms':>8} {'p95 ms':>8} {'target':>8} {'x bare':>7}"
    print(head)
    print("-" * len(head))
    for r in results:
        for mode, times in r["modes"].items():
            base_mode = mode.split("/")[0]
            p95 = percentile(times, 95)
            ratio = ""
            target = ""
            if r["engine"] != "bare":
                target = f"{TARGETS_MS[base_mode]:.0f}"
                if bare:
                    ratio = f"{p95 / percentile(bare['modes'][base_mode], 95):.2f}"
            print(
                f"{r['engine']:<8} {mode:<22} {statistics.median(times):8.1f} {p95:8.1f} "
                f"{target:>8} {ratio:>7}"
            )
    print()
    head = f"{'engine':<8} {'index docs/s':>13} {'index MB':>9} {'peak RSS MB':>12}"
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r['engine']:<8} {r['docs_per_s']:13.0f} {r['size_mb']:9.1f} {r['peak_rss_mb']:12.0f}"
        )
    print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--docs", type=int, default=10_000, help="first N VNTC documents")
    ap.add_argument("--repeat", type=int, default=3, help="timed passes over the 54 queries")
    ap.add_argument(
        "--engines", default=",".join(ENGINES), help=f"comma-separated, from {ENGINES}"
    )
    ap.add_argument("--engine", help=argparse.SUPPRESS)  # child mode: one engine, JSON out
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    ap.add_argument("--json", action="store_true", help="print raw results as JSON")
    args = ap.parse_args(argv)

    if args.engine:
        result = run_engine(args.engine, args.docs, args.repeat, Path(args.workdir))
        print(json.dumps(result))
        return 0

    results = []
    root = Path(tempfile.mkdtemp(prefix="search-bench-"))
    try:
        for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
            workdir = root / engine
            workdir.mkdir()
            cmd = [
                sys.executable, __file__, "--engine", engine, "--docs", str(args.docs),
                "--repeat", str(args.repeat), "--workdir", str(workdir),
            ]
            print(f"running {engine} ...", file=sys.stderr, flush=True)
            proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(results))
    print_table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
