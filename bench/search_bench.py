"""Search benchmark: our backends against bare Whoosh and bare tantivy on VNTC news articles.

    .venv/bin/python bench/search_bench.py --sizes 10000,80712

Each engine runs in its own subprocess (so peak RSS is per engine): it builds an index from
the first N VNTC documents, then times 54 fixed Vietnamese queries in three modes, and the
parent prints one table per size. See bench/README.md for what each mode measures.

Engines: ``bare-whoosh`` (alias ``bare``) and ``bare-tantivy`` (the fixed baselines), and every
name in ``lms.search.BACKENDS`` (``whoosh``, ``tantivy``, ``postgres``: the last needs
``--database-url`` or ``LMS_BENCH_DATABASE_URL``, a PostgreSQL database whose search tables it
creates if missing and empties; direct indexing only). By default our backends get the
documents directly as SearchDocuments. With ``--through-app`` the articles are imported through
the app's bulk import into a temporary instance (once per size, shared by the engines), each
backend's index is rebuilt from that database as ``lms reindex`` does (timed), queries go
through the search service as an anonymous and a broad user, and the JSON API's overhead over
the service and the time until a newly imported record is found are measured too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from corpus import read_vntc  # bench/corpus.py: scripts run from bench/

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

ENGINES = ("bare-whoosh", "whoosh", "bare-tantivy", "tantivy", "postgres")
#: Our backends, compared with each other per mode in the same run.
OURS = ("whoosh", "tantivy", "postgres")
ALIASES = {"bare": "bare-whoosh"}
#: Which bare engine each backend is compared with (the "x bare" column).
BASELINE_OF = {"whoosh": "bare-whoosh", "tantivy": "bare-tantivy"}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mb()


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


def build_bare_whoosh(recs: list[dict], workdir: Path):
    """Bare Whoosh's index of ``recs`` in ``workdir`` (reopened when already built there):
    (index, query parser, seconds spent building)."""
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
    parser = MultifieldParser(["title", "text"], schema, group=AndGroup)
    if index.exists_in(str(workdir)):
        return index.open_dir(str(workdir)), parser, 0.0
    ix = index.create_in(str(workdir), schema)
    t = time.perf_counter()
    writer = ix.writer(limitmb=256)
    for rec in recs:
        writer.add_document(id=rec["id"], title=rec["title"], text=rec["text"])
    writer.commit()
    return ix, parser, time.perf_counter() - t


def run_bare(recs: list[dict], workdir: Path, repeat: int) -> dict:
    ix, parser, build = build_bare_whoosh(recs, workdir)
    texts = {rec["id"]: rec["text"] for rec in recs}
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


# --- the bare tantivy baseline (fixed: do not tune) ---------------------------------------------


def build_bare_tantivy(recs: list[dict], workdir: Path):
    """Bare tantivy's index of ``recs`` in ``workdir`` (reopened when already built there):
    (index, schema, query parsing function, seconds spent building)."""
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("title")
    sb.add_text_field("text")
    sb.add_text_field("category", tokenizer_name="raw", fast=True)
    schema = sb.build()
    built = (workdir / "meta.json").is_file()
    ix = tantivy.Index(schema, path=str(workdir))
    t = time.perf_counter()
    if not built:
        writer = ix.writer(256_000_000)
        for rec in recs:
            writer.add_document(
                tantivy.Document(
                    id=rec["id"], title=rec["title"], text=rec["text"], category=rec["category"]
                )
            )
        writer.commit()
        writer.wait_merging_threads()
    build = time.perf_counter() - t
    ix.reload()

    def parse(q: str):
        query, _errors = ix.parse_query_lenient(
            q, ["title", "text"], field_boosts={"title": 2.0}, conjunction_by_default=True
        )
        return query

    return ix, schema, parse, build


def run_bare_tantivy(recs: list[dict], workdir: Path, repeat: int) -> dict:
    """tantivy as it comes: the default tokenizer (no folding, so "bong da" does not find
    "bóng đá") on title (boost 2) and text, tantivy's query parser (AND), top 10; faceted adds
    the exact count and a terms aggregation over a raw ``category`` fast field; highlighted adds
    tantivy's SnippetGenerator on the caller's text (like the bare Whoosh baseline)."""
    import tantivy

    ix, schema, parse, build = build_bare_tantivy(recs, workdir)
    texts = {rec["id"]: rec["text"] for rec in recs}
    out: dict = {"docs_per_s": len(recs) / build, "size_mb": dir_size_mb(workdir), "modes": {}}

    def plain(q: str) -> object:
        s = ix.searcher()
        return [s.doc(addr)["id"][0] for _, addr in s.search(parse(q), 10).hits]

    def faceted(q: str) -> object:
        s = ix.searcher()
        query = parse(q)
        res = s.search(query, 10, count=True)
        agg = s.aggregate(query, {"c": {"terms": {"field": "category", "size": 100}}})
        return res.count, [s.doc(addr)["id"][0] for _, addr in res.hits], agg

    def highlighted(q: str) -> object:
        s = ix.searcher()
        query = parse(q)
        gen = tantivy.SnippetGenerator.create(s, query, schema, "text")
        out = []
        for _, addr in s.search(query, 10).hits:
            doc_id = s.doc(addr)["id"][0]
            out.append(gen.snippet_from_doc(tantivy.Document(text=texts[doc_id])).to_html())
        return out

    for mode, fn in (("plain", plain), ("faceted", faceted), ("highlighted", highlighted)):
        out["modes"][mode] = time_queries(fn, repeat)
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


MODE_FLAGS = {
    "plain": {"facets": False, "highlight": False},
    "faceted": {"facets": True, "highlight": False},
    "highlighted": {"facets": False, "highlight": True},
}


def postgres_engine():
    """An engine on ``LMS_BENCH_DATABASE_URL`` with the search tables made (as the migration
    ``0006_search_postgres`` makes them) and emptied."""
    url = os.environ.get("LMS_BENCH_DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("the postgres engine needs --database-url or LMS_BENCH_DATABASE_URL="
                         "postgresql://... (a database whose search tables may be emptied)")
    from sqlalchemy import create_engine, text

    from lms.search.postgres.schema import TABLES, metadata

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)}"))
    return engine


def postgres_size_mb(engine) -> float:
    from sqlalchemy import text

    with engine.connect() as connection:
        size = connection.execute(text("SELECT pg_total_relation_size('search_documents')"))
        return size.scalar_one() / 2**20


def run_backend(name: str, recs: list[dict], workdir: Path, repeat: int) -> dict:
    """Our backend fed SearchDocuments directly, queried with principal sets."""
    from lms.search import SearchQuery, create_backend

    docs = [to_document(i, rec) for i, rec in enumerate(recs, 1)]
    n = len(docs)
    database = postgres_engine() if name == "postgres" else None
    backend = create_backend(name, workdir / "index", None, database=database)
    t = time.perf_counter()
    backend.rebuild(docs)
    build = time.perf_counter() - t
    del docs
    size = postgres_size_mb(database) if database is not None else dir_size_mb(workdir)
    out: dict = {"docs_per_s": n / build, "size_mb": size, "modes": {}}
    for label, principals in PRINCIPAL_SETS.items():
        for mode in MODES:

            def run(q: str, principals=principals, mode=mode) -> object:
                return backend.query(SearchQuery(q, principals, size=10, **MODE_FLAGS[mode]))

            out["modes"][f"{mode}/{label}"] = time_queries(run, repeat)
    backend.close()
    return out


# --- through the app -----------------------------------------------------------------------


def build_instance(work: Path, docs: int) -> dict:
    """Import the first ``docs`` articles into a new instance in ``work`` (mixed access: 80%
    public, 10% one unit, 10% curators) through ``run_import``; the import's figures."""
    import instance

    instance.use_instance(work, "tantivy")  # the index the import keeps up to date
    package = instance.write_package(work / "package", docs, mixed_access=True)
    from lms import create_app

    app = create_app()
    instance.prepare(app)
    result = instance.import_package(app, package, progress=instance.progress_printer(5000))
    shutil.rmtree(work / "package", ignore_errors=True)
    result["docs"] = docs
    result["records_per_s"] = result["created"] / result["seconds"]
    result["peak_rss_mb"] = peak_rss_mb()
    return result


FRESH_WORD = "zqxtươimới"


def time_freshness(app, services) -> dict:
    """Import one new public record through ``run_import`` and search for it until found:
    seconds from the start of the import, and from the import's return, to the first hit."""
    import instance

    folder = Path(tempfile.mkdtemp(prefix="fresh-"))
    package = folder / "fresh.jsonl"
    line = {"id": f"fresh-{os.getpid()}", "access": "public",
            "metadata": {"title": [{"value": f"Bản tin {FRESH_WORD}", "lang": "vi"}],
                         "type": [{"value": "Text"}], "language": [{"value": "vi"}]}}
    package.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    began = time.perf_counter()
    counts = instance.import_package(app, package)
    imported = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    if counts["created"] != 1:
        raise SystemExit(f"the freshness record was not imported: {counts}")
    with app.app_context():
        while services.search(None, FRESH_WORD, facets=False, highlight=False).total < 1:
            if time.perf_counter() - began > 30:
                raise SystemExit("the imported record was not found within 30 s")
            time.sleep(0.001)
    found = time.perf_counter()
    return {"from_start_s": found - began, "after_import_s": found - imported}


def run_app_backend(name: str, work: Path, repeat: int) -> dict:
    """Our backend in the instance in ``work``: reindex from the database as ``lms reindex``
    does (SEARCH_REBUILD_PROCESSES readers), then queries through the search service and the
    JSON API."""
    import instance

    instance.use_instance(work, name)
    from sqlalchemy import select

    from lms import create_app
    from lms.accounts.models import User
    from lms.discovery import services
    from lms.extensions import db

    app = create_app()
    with app.app_context():
        services.backend()  # opened (and found outdated) before the timing
        t = time.perf_counter()
        count = services.rebuild_index()  # what `lms reindex` runs
        build = time.perf_counter() - t
        index_dir = Path(app.config["DATA_DIR"]) / "search" / name
        out: dict = {"docs_per_s": count / build, "indexed": count,
                     "size_mb": dir_size_mb(index_dir), "modes": {}}
        reader = db.session.scalar(select(User).where(User.username == instance.READER))
        for label, user in (("anon", None), ("broad", reader)):
            for mode in MODES:

                def run(q: str, user=user, mode=mode) -> object:
                    return services.search(user, q, size=10, **MODE_FLAGS[mode])

                out["modes"][f"{mode}/{label}"] = time_queries(run, repeat)

        # The JSON API against the service call it makes (same defaults: facets, highlights).
        client = app.test_client()

        def api(q: str) -> object:
            response = client.get("/api/v1/search", query_string={"q": q})
            if response.status_code != 200:
                raise SystemExit(f"/api/v1/search?q={q} answered {response.status_code}")
            return response.data

        out["service"] = time_queries(lambda q: services.search(None, q), repeat)
        out["api"] = time_queries(api, repeat)
    out["freshness"] = time_freshness(app, services)
    return out


def run_engine(engine: str, docs: int, repeat: int, workdir: Path,
               instance_dir: Path | None = None) -> dict:
    through_app = instance_dir is not None and not engine.startswith("bare")
    recs = [] if through_app else list(read_vntc(docs))
    loaded = current_rss_mb()
    if engine == "bare-whoosh":
        result = run_bare(recs, workdir, repeat)
    elif engine == "bare-tantivy":
        result = run_bare_tantivy(recs, workdir, repeat)
    elif through_app:
        result = run_app_backend(engine, instance_dir, repeat)
    else:
        result = run_backend(engine, recs, workdir, repeat)
    result["engine"] = engine
    result["docs"] = result.get("indexed", len(recs))
    result["peak_rss_mb"] = peak_rss_mb()
    result["corpus_rss_mb"] = loaded  # RSS with the corpus loaded, before the engine starts
    result["through_app"] = through_app
    return result


# --- driver ------------------------------------------------------------------------------------


#: p95 targets: the tantivy backend at the full corpus (80,712 docs); the Whoosh backend's
#: original targets at 10,000 docs. The Whoosh backend must also stay within MAX_RATIO of bare
#: Whoosh per mode; tantivy must reindex at MIN_TANTIVY_DOCS_PER_S or faster.
TARGETS_MS = {
    "tantivy": {"plain": 10.0, "faceted": 15.0, "highlighted": 25.0},
    "whoosh": {"plain": 80.0, "faceted": 160.0, "highlighted": 120.0},
}
MAX_RATIO = 1.5
MIN_TANTIVY_DOCS_PER_S = 2000


def print_table(results: list[dict]) -> None:
    by_engine = {r["engine"]: r for r in results}
    print()
    how = "through the app" if any(r.get("through_app") for r in results) else "direct indexing"
    print(
        f"Documents: {results[0]['docs']:,}   queries: {len(QUERIES)} per mode   ({how}; "
        f"load average at start {results[0].get('loadavg', '?')})"
    )
    print()
    head = f"{'engine':<13} {'mode':<22} {'p50 ms':>8} {'p95 ms':>8} {'target':>8} {'x bare':>7}"
    print(head)
    print("-" * len(head))
    for r in results:
        for mode, times in r["modes"].items():
            base_mode = mode.split("/")[0]
            p95 = percentile(times, 95)
            ratio = ""
            target = ""
            if r["engine"] in TARGETS_MS:
                target = f"{TARGETS_MS[r['engine']][base_mode]:.0f}"
            bare = by_engine.get(BASELINE_OF.get(r["engine"], ""))
            if bare:
                ratio = f"{p95 / percentile(bare['modes'][base_mode], 95):.2f}"
            print(
                f"{r['engine']:<13} {mode:<22} {statistics.median(times):8.1f} {p95:8.1f} "
                f"{target:>8} {ratio:>7}"
            )
    print()
    head = (
        f"{'engine':<13} {'index docs/s':>13} {'index MB':>9} {'peak RSS MB':>12} "
        f"{'corpus RSS MB':>14}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r['engine']:<13} {r['docs_per_s']:13.0f} {r['size_mb']:9.1f} "
            f"{r['peak_rss_mb']:12.0f} {r.get('corpus_rss_mb', 0):14.0f}"
        )
    print()
    print_ratios([r for r in results if r["engine"] in OURS])
    app_results = [r for r in results if r.get("through_app")]
    for r in app_results:
        service, api = statistics.median(r["service"]), statistics.median(r["api"])
        fresh = r["freshness"]
        print(
            f"{r['engine']}: JSON API p50 {api:.1f} ms vs search service p50 {service:.1f} ms "
            f"(+{api - service:.1f} ms; target +5); a newly imported record found "
            f"{fresh['from_start_s']:.2f} s after its import started, "
            f"{fresh['after_import_s'] * 1000:.0f} ms after it returned (target 1 s)"
        )
    if app_results:
        print()


def print_ratios(ours: list[dict]) -> None:
    """p95 of our backends side by side per mode, with each one's ratio to the others."""
    if len(ours) < 2:
        return
    names = [r["engine"] for r in ours]
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    head = f"{'mode':<22}" + "".join(f"{n + ' p95':>14}" for n in names)
    head += "".join(f"{b + '/' + a:>18}" for a, b in pairs)
    print(head)
    print("-" * len(head))
    for mode in ours[0]["modes"]:
        p95 = {r["engine"]: percentile(r["modes"][mode], 95) for r in ours if mode in r["modes"]}
        if len(p95) != len(names):
            continue
        line = f"{mode:<22}" + "".join(f"{p95[n]:14.1f}" for n in names)
        line += "".join(f"{p95[b] / p95[a]:18.2f}" for a, b in pairs)
        print(line)
    print()


def run_child(engine: str, docs: int, repeat: int, workdir: Path,
              instance_dir: Path | None) -> dict:
    cmd = [sys.executable, __file__, "--engine", engine, "--docs", str(docs),
           "--repeat", str(repeat), "--workdir", str(workdir)]
    if instance_dir is not None:
        cmd += ["--instance", str(instance_dir)]
    print(f"running {engine} on {docs:,} docs ...", file=sys.stderr, flush=True)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["loadavg"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  {engine}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    return result


BUILT = "built.json"


def ensure_instance(folder: Path, docs: int) -> dict:
    """The instance of ``docs`` articles in ``folder``: built now by a child process (its
    import figures printed), or reused when an earlier run finished building it."""
    marker = folder / BUILT
    if marker.is_file():
        built = json.loads(marker.read_text())
        print(f"reusing the instance in {folder} ({built['docs']:,} articles imported at "
              f"{built['records_per_s']:.0f} records/s)", file=sys.stderr, flush=True)
        return built
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"importing {docs:,} articles through the app into {folder} ...", file=sys.stderr,
          flush=True)
    proc = subprocess.run([sys.executable, __file__, "--build-instance", str(folder),
                           "--docs", str(docs)], stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit("building the instance failed")
    built = json.loads(proc.stdout.strip().splitlines()[-1])
    marker.write_text(json.dumps(built))
    return built


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--docs", type=int, default=10_000, help="first N VNTC documents")
    ap.add_argument(
        "--sizes", help="comma-separated document counts, one table each (e.g. 10000,80712)"
    )
    ap.add_argument("--repeat", type=int, default=3, help="timed passes over the 54 queries")
    ap.add_argument(
        "--engines",
        help=f"comma-separated, from {ENGINES} (default: all; postgres with --database-url)",
    )
    ap.add_argument(
        "--through-app",
        action="store_true",
        help="import the articles through the app's bulk import into an instance per size and "
        "reindex our backends from its database",
    )
    ap.add_argument(
        "--keep-instances",
        metavar="DIR",
        help="with --through-app: keep each size's instance in DIR/vntc-N and reuse it on the "
        "next run (the import of 80,712 articles takes about half an hour)",
    )
    ap.add_argument(
        "--database-url",
        default=os.environ.get("LMS_BENCH_DATABASE_URL", ""),
        help="PostgreSQL for the postgres engine (its search tables are emptied)",
    )
    ap.add_argument("--engine", help=argparse.SUPPRESS)  # child mode: one engine, JSON out
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    ap.add_argument("--instance", help=argparse.SUPPRESS)
    ap.add_argument("--build-instance", help=argparse.SUPPRESS)  # child mode: import only
    ap.add_argument("--json", action="store_true", help="print raw results as JSON")
    args = ap.parse_args(argv)

    if args.build_instance:
        print(json.dumps(build_instance(Path(args.build_instance), args.docs)))
        return 0
    if args.engine:
        engine = ALIASES.get(args.engine, args.engine)
        instance_dir = Path(args.instance) if args.instance else None
        result = run_engine(engine, args.docs, args.repeat, Path(args.workdir), instance_dir)
        print(json.dumps(result))
        return 0

    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else [args.docs]
    if args.engines is None:
        engines = [e for e in ENGINES if e != "postgres" or args.database_url]
    else:
        engines = [ALIASES.get(e.strip(), e.strip()) for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e!r}; known: {', '.join(ENGINES)}")
    if "postgres" in engines:
        if args.through_app:
            ap.error("postgres runs with direct indexing only (the instances are SQLite)")
        if not args.database_url.startswith("postgres"):
            ap.error("the postgres engine needs --database-url postgresql://... "
                     "(or LMS_BENCH_DATABASE_URL)")
        os.environ["LMS_BENCH_DATABASE_URL"] = args.database_url  # read by the child
    all_results = []
    for size in sizes:
        results = []
        root = Path(tempfile.mkdtemp(prefix="search-bench-"))
        instance_dir = None
        try:
            if args.through_app:
                keep = Path(args.keep_instances) if args.keep_instances else root
                instance_dir = keep / f"vntc-{size}"
                built = ensure_instance(instance_dir, size)
            for engine in engines:
                workdir = root / engine
                workdir.mkdir()
                results.append(run_child(engine, size, args.repeat, workdir, instance_dir))
                shutil.rmtree(workdir, ignore_errors=True)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        if instance_dir is not None:
            print(
                f"\nImport through the app (run_import: files, extraction, search and OAI "
                f"batches): {built['created']:,} records in {built['seconds']:.0f} s = "
                f"{built['records_per_s']:.1f} records/s, peak RSS {built['peak_rss_mb']:.0f} MB"
            )
        print_table(results)
        sys.stdout.flush()
        all_results.append(results)
    if args.json:
        print(json.dumps(all_results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
