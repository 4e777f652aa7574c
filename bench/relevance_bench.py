"""Relevance benchmark: how well our backends rank VNTC news articles, against the bare engines.

    .venv/bin/python bench/relevance_bench.py --sizes 2000,20000
    .venv/bin/python bench/relevance_bench.py --sizes 2000 --engines whoosh --split tuning \\
        --weights '{"phrase": 2}' --keep /var/tmp/lms-relevance      # a tuning run
    .venv/bin/python bench/relevance_bench.py --generate-known-items  # rewrite the known items

The committed query set is ``bench/data/relevance_queries.json``:

* ``topical``: queries written for the ten VNTC categories, each labelled with one category
  (a weak label: an article of that category counts as relevant) and split into a ``tuning``
  half and a ``test`` half. Ranking is tuned on the tuning half only; the test half is what we
  report.
* ``known_item``: a distinctive fragment of one article's title or body (generated
  deterministically from the corpus by ``--generate-known-items``, from the first 2,000
  articles so that every size holds them): that article is the one relevant answer.

Every query is asked as written (accented) and folded (no diacritics, lower case). The script
prints P@10, nDCG@10 (binary gains) and MRR per engine, per query set and per form, and for
known items the share found in the top 3; for our backends also the queries whose two forms
matched a different number of articles. Engines: ``bare-whoosh`` and ``bare-tantivy`` exactly as in
``bench/search_bench.py`` (fixed baselines), and our backends fed ``SearchDocument`` s (title,
source as creator, body as full text; the category is *not* indexed, it is the label), all
public, queried as an anonymous user with ``facets=False, highlight=False``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from corpus import read_vntc  # bench/corpus.py: scripts run from bench/

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
QUERY_FILE = Path(__file__).resolve().parent / "data" / "relevance_queries.json"

ENGINES = ("bare-whoosh", "bare-tantivy", "whoosh", "tantivy")
FORMS = ("accented", "unaccented")
K = 10
#: Known items: every KNOWN_ITEM_STEP-th of the first KNOWN_ITEM_POOL articles.
KNOWN_ITEM_POOL = 2000
KNOWN_ITEM_STEP = 20
FRAGMENT_WORDS = 6
_WORD_RE = re.compile(r"\w+")


def load_queries() -> dict:
    return json.loads(QUERY_FILE.read_text(encoding="utf-8"))


def unaccented(q: str) -> str:
    from lms.search.analysis import fold

    return fold(q)


# --- the known-item queries ------------------------------------------------------------------


def generate_known_items() -> list[dict]:
    """One query per KNOWN_ITEM_STEP-th article of the first KNOWN_ITEM_POOL: alternately its
    headline's first words (headlines only; otherwise the body) and the body window of
    FRAGMENT_WORDS words (no number), after the lead paragraph, whose words are rarest in
    the pool."""
    from lms.search.analysis import fold

    recs = list(read_vntc(KNOWN_ITEM_POOL))
    df: Counter[str] = Counter()
    for rec in recs:
        df.update({fold(w) for w in _WORD_RE.findall(rec["title"] + " " + rec["text"])})
    items = []
    for n, rec in enumerate(recs[::KNOWN_ITEM_STEP]):
        title_words = _WORD_RE.findall(rec["title"])
        if n % 2 == 0 and rec["title_kind"] == "headline" and len(title_words) >= 4:
            items.append({"q": " ".join(title_words[:8]), "id": rec["id"], "from": "title"})
            continue
        paragraphs = rec["text"].split("\n")
        words = _WORD_RE.findall(" ".join(paragraphs[1:]) or rec["text"])
        best, best_score = words[:FRAGMENT_WORDS], -1.0
        for i in range(max(len(words) - FRAGMENT_WORDS + 1, 1)):
            window = words[i : i + FRAGMENT_WORDS]
            if any(w.isdigit() for w in window):  # people remember words, not numbers
                continue
            score = sum(math.log(len(recs) / df[fold(w)]) for w in window if df[fold(w)])
            if score > best_score:
                best, best_score = window, score
        items.append({"q": " ".join(best), "id": rec["id"], "from": "body"})
    return items


# --- the engines: each gives a function query → ranked external ids ----------------------------


def bare_whoosh(recs: list[dict], workdir: Path):
    from search_bench import build_bare_whoosh

    ix, parser, build = build_bare_whoosh(recs, workdir)
    searcher = ix.searcher()

    def ranked(q: str) -> tuple[list[str], int]:
        results = searcher.search(parser.parse(q), limit=K)
        return [hit["id"] for hit in results], len(results)

    return ranked, build


def bare_tantivy(recs: list[dict], workdir: Path):
    from search_bench import build_bare_tantivy

    ix, _schema, parse, build = build_bare_tantivy(recs, workdir)

    def ranked(q: str) -> tuple[list[str], int]:
        s = ix.searcher()
        results = s.search(parse(q), K, count=True)
        return [s.doc(addr)["id"][0] for _, addr in results.hits], results.count

    return ranked, build


def to_document(i: int, rec: dict):
    from lms.search import SearchDocument

    return SearchDocument(
        id=i, external_id=rec["id"], title=[rec["title"]], creator=[rec["source"]], subject=[],
        description=[], fulltext=rec["text"], principals=["public"], type=["Text"],
        language=["vi"],
    )


def ours(name: str, recs: list[dict], workdir: Path, weights: dict):
    from lms.search import SearchQuery, Weights, create_backend

    backend = create_backend(name, workdir, Weights.from_mapping(weights))
    build = 0.0
    if backend.needs_rebuild or backend.doc_count() != len(recs):
        t = time.perf_counter()
        backend.rebuild(to_document(i, rec) for i, rec in enumerate(recs, 1))
        build = time.perf_counter() - t
    public = frozenset({"public"})

    def ranked(q: str) -> tuple[list[str], int]:
        result = backend.query(SearchQuery(q, public, size=K, facets=False, highlight=False))
        return [hit.external_id for hit in result.hits], result.total

    return ranked, build


# --- metrics -----------------------------------------------------------------------------------


def scores(ranked: list[str], relevant) -> tuple[float, float, float, bool]:
    """(P@10, nDCG@10, reciprocal rank, relevant in the top 3) of one ranking; ``relevant``
    tells whether an id is relevant; the ideal ranking has 10 relevant hits (every category has
    more than 10 articles) or, for a known item, one."""
    gains = [1.0 if relevant(i) else 0.0 for i in ranked[:K]]
    dcg = sum(g / math.log2(r + 2) for r, g in enumerate(gains))
    ideal_hits = 1 if getattr(relevant, "single", False) else K
    idcg = sum(1 / math.log2(r + 2) for r in range(ideal_hits))
    first = next((r for r, g in enumerate(gains) if g), None)
    return (sum(gains) / K, dcg / idcg, 0.0 if first is None else 1 / (first + 1),
            first is not None and first < 3)


class Category:
    def __init__(self, code: str, category_of: dict[str, str]) -> None:
        self.code, self.category_of = code, category_of

    def __call__(self, external_id: str) -> bool:
        return self.category_of.get(external_id) == self.code


class Item:
    single = True

    def __init__(self, external_id: str) -> None:
        self.external_id = external_id

    def __call__(self, external_id: str) -> bool:
        return external_id == self.external_id


def evaluate(ranked, queries: dict, category_of: dict[str, str], splits: set[str]) -> dict:
    """Mean metrics per (query set, form), the queries whose forms disagree and, for topical
    sets, each query's category and accented ranking (for :func:`misses`)."""
    sets: dict[str, list[tuple[str, object]]] = {}
    for t in queries["topical"]:
        if t["split"] in splits:
            sets.setdefault(f"topical-{t['split']}", []).append(
                (t["q"], Category(t["category"], category_of)))
    if "known" in splits:
        sets["known-item"] = [(k["q"], Item(k["id"])) for k in queries["known_item"]]
    out: dict = {}
    for name, items in sets.items():
        diverging = []
        per_form: dict[str, list[tuple]] = {f: [] for f in FORMS}
        worst: list[tuple[float, str]] = []
        rankings: list[tuple[str, str, list[str]]] = []
        for q, relevant in items:
            totals = {}
            for form in FORMS:
                ids, totals[form] = ranked(q if form == "accented" else unaccented(q))
                per_form[form].append(scores(ids, relevant))
                if form == "accented" and isinstance(relevant, Category):
                    rankings.append((q, relevant.code, ids[:K]))
            if totals["accented"] != totals["unaccented"]:
                diverging.append(q)
            worst.append((per_form["accented"][-1][0 if name != "known-item" else 2], q))
        out[name] = {
            form: {
                "n": len(rows),
                "p10": sum(r[0] for r in rows) / len(rows),
                "ndcg10": sum(r[1] for r in rows) / len(rows),
                "mrr": sum(r[2] for r in rows) / len(rows),
                "top3": sum(r[3] for r in rows) / len(rows),
            }
            for form, rows in per_form.items()
        }
        out[name]["diverging"] = diverging
        out[name]["worst"] = sorted(worst)[:8]
        out[name]["rankings"] = rankings
    return out


def matching_in_category(recs: list[dict], topical: list[dict]) -> dict[str, int]:
    """Per topical query: the articles of its category holding all its words (folded, in
    the title or the text), so the best P@10 any ranking of the matches can reach is
    min(that, 10) / 10."""
    from lms.search.analysis import fold

    wanted = [(t["q"], t["category"], set(fold(t["q"]).split())) for t in topical]
    counts = dict.fromkeys((q for q, _, _ in wanted), 0)
    for rec in recs:
        words = None
        for q, code, needed in wanted:
            if rec["category_code"] != code:
                continue
            if words is None:
                words = set(_WORD_RE.findall(fold(rec["title"] + " " + rec["text"])))
            if needed <= words:
                counts[q] += 1
    return counts


def misses(rankings: list[tuple[str, str, list[str]]], category_of: dict[str, str],
           title_of: dict[str, str], matching: dict[str, int] | None = None) -> dict:
    """Where the precision of topical queries goes (accented form): per category P@10, and
    each of the K slots of every query counted as relevant, empty (fewer than K matches),
    off-topic with the query's words adjacent in its title (the article is about what was
    asked: its label is another category's), or off-topic otherwise; the labels the off-topic
    hits carry; the worst queries with their off-topic titles."""
    from lms.search.analysis import fold

    slots: Counter[str] = Counter()
    per_category: dict[str, list[float]] = {}
    confusion: Counter[tuple[str, str]] = Counter()
    worst = []
    for q, code, ids in rankings:
        phrase = fold(q)
        off = []
        for i in ids:
            if category_of.get(i) == code:
                slots["relevant"] += 1
                continue
            in_title = phrase in " ".join(_WORD_RE.findall(fold(title_of.get(i, ""))))
            slots["off-topic, query in title" if in_title else "off-topic"] += 1
            confusion[(code, category_of.get(i, "?"))] += 1
            off.append((category_of.get(i, "?"), in_title, title_of.get(i, "")))
        slots["empty"] += K - len(ids)
        p10 = (len(ids) - len(off)) / K
        per_category.setdefault(code, []).append(p10)
        worst.append((p10, q, code, len(ids), off))
    worst.sort(key=lambda w: (w[0], w[1]))
    ceiling = None
    if matching is not None:
        ceiling = sum(min(matching.get(q, 0), K) for q, _, _ in rankings) / K / len(rankings)
    return {
        "ceiling": ceiling,
        "slots": dict(slots),
        "per_category": {c: sum(v) / len(v) for c, v in sorted(per_category.items())},
        "confusion": confusion.most_common(8),
        "worst": worst[:6],
    }


def print_misses(name: str, analysis: dict) -> None:
    total = sum(analysis["slots"].values())
    print(f"{'':<13}   {name}, accented: where the {total} slots of the top {K} go: " + ", ".join(
        f"{k} {v} ({v / total:.0%})" for k, v in sorted(analysis["slots"].items())))
    if analysis["ceiling"] is not None:
        print(f"{'':<13}   best P@{K} reachable by ranking the matches (articles of the "
              f"query's category holding all its words, at most {K}): {analysis['ceiling']:.3f}")
    print(f"{'':<13}   P@{K} per category: " + ", ".join(
        f"{c} {p:.2f}" for c, p in analysis["per_category"].items()))
    print(f"{'':<13}   off-topic hits' labels (query category > label): " + ", ".join(
        f"{a}>{b} {n}" for (a, b), n in analysis["confusion"]))
    for p10, q, code, n, off in analysis["worst"]:
        print(f"{'':<13}   {q!r} ({code}, P@{K} {p10:.1f}, {n} hits); off-topic:")
        for label, in_title, title in off:
            mark = "*" if in_title else " "
            print(f"{'':<13}     {mark} [{label}] {title[:90]}")


def print_table(size: int, results: dict[str, dict], verbose: bool,
                category_of: dict[str, str] | None = None,
                title_of: dict[str, str] | None = None,
                matching: dict[str, int] | None = None) -> None:
    print(f"\nDocuments: {size:,}")
    head = (f"{'engine':<13} {'query set':<16} {'form':<11} {'n':>4} {'P@10':>6} {'nDCG@10':>8} "
            f"{'MRR':>6} {'top 3':>6} {'totals differ':>14}")
    print(head)
    print("-" * len(head))
    for engine, sets in results.items():
        for name, forms in sorted(sets.items()):
            for form in FORMS:
                m = forms[form]
                differ = f"{len(forms['diverging'])}" if form == "accented" else ""
                print(f"{engine:<13} {name:<16} {form:<11} {m['n']:4d} {m['p10']:6.3f} "
                      f"{m['ndcg10']:8.3f} {m['mrr']:6.3f} {m['top3']:6.2f} {differ:>14}")
            if verbose:
                worst = "; ".join(f"{q} ({s:.2f})" for s, q in forms["worst"])
                print(f"{'':<13}   worst: {worst}")
                if forms["diverging"]:
                    print(f"{'':<13}   forms differ: " + "; ".join(forms["diverging"][:10]))
                if forms["rankings"] and category_of is not None:
                    print_misses(name, misses(forms["rankings"], category_of, title_of or {},
                                               matching))
    if verbose:
        print(f"{'':<13}   (* the query's words are adjacent in the off-topic hit's title)")
    print()


def index_dir(keep: Path | None, root: Path, engine: str, size: int, weights: dict) -> Path:
    """Where an engine's index of ``size`` articles lives: under ``keep`` (reused by the next
    run; our backends' folders are keyed by the index-time weights too) or a temporary root."""
    from lms.search.document import TEXT_FIELDS

    key = f"{engine}-{size}"
    if not engine.startswith("bare"):
        fields = {k: v for k, v in weights.items() if k in TEXT_FIELDS}
        key += "-" + hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:8]
    folder = (keep or root) / key
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="2000,20000", help="comma-separated document counts")
    ap.add_argument("--engines", default=",".join(ENGINES), help=f"from {ENGINES}")
    ap.add_argument("--split", default="test,known",
                    help="query sets: tuning, test (topical halves), known (known items)")
    ap.add_argument("--weights", default="{}", help="JSON Weights for our backends")
    ap.add_argument("--keep", metavar="DIR", help="keep the indexes in DIR and reuse them")
    ap.add_argument("--verbose", action="store_true",
                    help="worst queries, diverging forms, where topical precision goes")
    ap.add_argument("--json", action="store_true", help="print the raw results as JSON too")
    ap.add_argument("--generate-known-items", action="store_true",
                    help=f"rewrite the known-item queries of {QUERY_FILE.name}")
    args = ap.parse_args(argv)

    if args.generate_known_items:
        queries = load_queries()
        queries["known_item"] = generate_known_items()
        QUERY_FILE.write_text(json.dumps(queries, ensure_ascii=False, indent=1) + "\n",
                              encoding="utf-8")
        print(f"{len(queries['known_item'])} known items written to {QUERY_FILE}")
        return 0

    queries = load_queries()
    weights = json.loads(args.weights)
    splits = {s.strip() for s in args.split.split(",")}
    keep = Path(args.keep) if args.keep else None
    everything = {}
    for size in [int(x) for x in args.sizes.split(",")]:
        recs = list(read_vntc(size))
        category_of = {rec["id"]: rec["category_code"] for rec in recs}
        title_of = {rec["id"]: rec["title"] for rec in recs}
        matching = matching_in_category(recs, queries["topical"]) if args.verbose else None
        root = Path(tempfile.mkdtemp(prefix="relevance-bench-"))
        results: dict[str, dict] = {}
        try:
            for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
                folder = index_dir(keep, root, engine, size, weights)
                print(f"{engine} on {size:,} docs ...", file=sys.stderr, flush=True)
                if engine == "bare-whoosh":
                    ranked, build = bare_whoosh(recs, folder)
                elif engine == "bare-tantivy":
                    ranked, build = bare_tantivy(recs, folder)
                elif engine in ENGINES:
                    ranked, build = ours(engine, recs, folder, weights)
                else:
                    ap.error(f"unknown engine {engine!r}")
                t = time.perf_counter()
                results[engine] = evaluate(ranked, queries, category_of, splits)
                print(f"  built in {build:.0f} s, evaluated in {time.perf_counter() - t:.0f} s",
                      file=sys.stderr, flush=True)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print_table(size, results, args.verbose, category_of, title_of, matching)
        sys.stdout.flush()
        everything[size] = results
    if args.json:
        print(json.dumps(everything, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
