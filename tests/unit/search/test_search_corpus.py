"""Relevance on real Vietnamese text: the first 2,000 VNTC news articles."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import pytest
from search_helpers import (
    CORPUS_DOCS,
    backend_params,
    corpus_document,
    empty_search_tables,
    read_corpus,
)

from lms.search import SearchBackend, SearchQuery, create_backend
from lms.search.analysis import index_forms
from tests.conftest import at_once

PUBLIC = frozenset({"public"})


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return read_corpus(CORPUS_DOCS)


@pytest.fixture(scope="module", params=backend_params())
def corpus_backend(request, corpus, tmp_path_factory) -> Iterator[SearchBackend]:
    database = None
    if request.param == "postgres":
        database = request.getfixturevalue("postgres_engine")
        empty_search_tables(database)
    b = create_backend(request.param, tmp_path_factory.mktemp(f"vntc-{request.param}"), None,
                       database=database)
    docs = (corpus_document(i, rec) for i, rec in enumerate(corpus, 1))
    assert b.rebuild(docs) == len(corpus)
    yield b
    b.close()


def all_ids(b: SearchBackend, q: str) -> tuple[int, set[int]]:
    first = b.query(SearchQuery(q, PUBLIC, size=100, facets=False, highlight=False))
    found = {h.id for h in first.hits}
    page = 2
    while len(found) < first.total and page <= 30:
        r = b.query(SearchQuery(q, PUBLIC, size=100, page=page, facets=False, highlight=False))
        found |= {h.id for h in r.hits}
        page += 1
    return first.total, found


def accented_text(rec: dict) -> str:
    return index_forms(rec["title"] + "\n" + rec["text"])[0]


@pytest.mark.parametrize(
    ("exact", "alternatives"),
    [
        ("bóng đá", ["bong da", "BÓNG ĐÁ"]),
        ("hòa bình", ["hoà bình", "hoa binh"]),
        ("sức khỏe", ["sức khoẻ", "suc khoe"]),
        ("Đà Nẵng", ["da nang", unicodedata.normalize("NFD", "Đà Nẵng"), "Ðà Nẵng"]),
        ("chứng khoán", ["chung khoan"]),
    ],
)
def test_alternative_spellings_find_the_same_documents(
    corpus_backend: SearchBackend, corpus: list[dict], exact: str, alternatives: list[str]
) -> None:
    total, found = all_ids(corpus_backend, exact)
    assert total >= 5, f"the sample should hold {exact!r}"
    for alt in alternatives:
        assert all_ids(corpus_backend, alt) == (total, found), alt
    top = corpus_backend.query(SearchQuery(exact, PUBLIC, size=3))
    wanted = index_forms(exact)[0]
    for hit in top.hits:
        assert wanted in accented_text(corpus[hit.id - 1]), hit.title


def test_adjacent_phrase_ranks_above_scattered_words(
    corpus_backend: SearchBackend, corpus: list[dict]
) -> None:
    q = "chứng khoán"
    _, found = all_ids(corpus_backend, q)
    adjacent = {i for i in found if "chứng khoán" in accented_text(corpus[i - 1])}
    scattered = found - adjacent
    r = corpus_backend.query(SearchQuery(q, PUBLIC, size=100, facets=False, highlight=False))
    ranked = [h.id for h in r.hits]
    assert adjacent and set(ranked[: min(len(adjacent), 10)]) <= adjacent
    if scattered:
        last_adjacent = max(ranked.index(i) for i in adjacent if i in ranked)
        first_scattered = min(
            (ranked.index(i) for i in scattered if i in ranked), default=len(ranked)
        )
        assert first_scattered > min(last_adjacent, 9)


def test_folded_query_finds_and_highlights_the_accented_text(corpus_backend: SearchBackend) -> None:
    r = corpus_backend.query(SearchQuery("bong da", PUBLIC))
    assert r.suggestion is None  # it found records holding both words: nothing to suggest
    assert any("<mark>" in h.snippet_html for h in r.hits)
    assert any("<mark>bóng</mark> <mark>đá</mark>" in h.snippet_html.lower() for h in r.hits)


def test_facets_over_the_corpus(corpus_backend: SearchBackend, corpus: list[dict]) -> None:
    r = corpus_backend.query(SearchQuery("", PUBLIC, size=1))
    assert r.total == len(corpus)
    subjects = {fv.value: fv.count for fv in r.facets["subject"]}
    assert subjects["tin-tuc"] == len(corpus)
    assert sum(n for v, n in subjects.items() if v.count("/") == 1) == len(corpus)
    r = corpus_backend.query(
        SearchQuery("bóng đá", PUBLIC, filters={"subject": ["tin-tuc/the-thao"]})
    )
    assert r.total > 0
    assert {fv.value for fv in r.facets["type"]} == {"Text"}


def test_autocomplete_from_corpus_titles(corpus_backend: SearchBackend) -> None:
    completions = corpus_backend.autocomplete("bóng đ", PUBLIC)
    assert "bóng đá" in completions


THREAD_QUERIES = [
    "bóng đá", "th*", "bong da", "ng*", "kỹ năng số", "ch*", "ky nang so", "tr*",
    "chứng khoán", "kh*", "chung khoan", "nh*", "hòa bình", "ph*", "hoa binh", "chứn*",
    "việt nam", "10*", "ha noi", "tha*",
]


def test_searches_from_many_threads_share_one_backend(corpus_backend: SearchBackend) -> None:
    """8 threads × 50 prefix and plain queries (accented and not) on one backend instance:
    no error, and each answer is the one a single thread gets."""

    def answer(q: str) -> tuple:
        r = corpus_backend.query(SearchQuery(q, PUBLIC, size=10))
        return (r.total, [h.id for h in r.hits], [h.snippet_html for h in r.hits],
                {f: [(v.value, v.count) for v in vs] for f, vs in r.facets.items()},
                r.suggestion)

    expected = {q: answer(q) for q in THREAD_QUERIES}
    errors: list[str] = []
    wrong: list[str] = []

    def worker(n: int) -> None:
        for i in range(50):
            q = THREAD_QUERIES[(n * 7 + i) % len(THREAD_QUERIES)]
            try:
                if answer(q) != expected[q]:
                    wrong.append(q)
            except Exception as exc:  # every failure is reported, none may happen
                errors.append(f"{q}: {type(exc).__name__}: {exc}")

    at_once(worker, 8)
    assert errors == []
    assert wrong == []
