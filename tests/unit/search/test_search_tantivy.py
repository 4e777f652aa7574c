"""What only the tantivy backend needs checking: its layout of our analysis (the fast chunk
analyser, codes last) and how it maps field weights. Everything else runs for every backend
(``backend`` fixture)."""

from __future__ import annotations

import unicodedata

import pytest
from search_helpers import read_corpus

from lms.search import Weights
from lms.search import tantivy as tantivy_backend
from lms.search.analysis import ChunkAnalyser, index_forms, normalize_text
from lms.search.tantivy.schema import field_copies


def expected(text: str) -> tuple[str, str]:
    """index_forms() with each code's whole token moved after the words (tantivy's layout)."""
    acc, fol = index_forms(text)
    acc_tokens = [t.lstrip("+") for t in acc.split(" ") if t.strip("+")]
    words = [t for t in fol.split(" ") if t and not t.startswith("+")]
    codes = [t[1:] for t in fol.split(" ") if t.startswith("+") and len(t) > 1]
    return " ".join(acc_tokens), " ".join(words + codes)


def tokens(pair: tuple[str, str]) -> tuple[list[str], list[str]]:
    return pair[0].split(), pair[1].split()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Hoà bình và hòa bình, THUỶ điện",
        unicodedata.normalize("NFD", "Đà Nẵng khỏe"),
        "Ðây là Ðiều",
        "Kế hoạch 4325/KH-BQP về COVID-19, 1.500 người",
        "x",
        "a\u0301\u0301 stray marks",
        "!!! ??? ...",
    ],
)
def test_fast_analysis_gives_the_analysis_tokens(text: str) -> None:
    assert tokens(ChunkAnalyser(codes_last=True).forms(text)) == tokens(expected(text))
    assert tokens(ChunkAnalyser(codes_last=False).forms(text)) == tokens(index_forms(text))


def test_fast_analysis_on_corpus_texts() -> None:
    codes_last, inline = ChunkAnalyser(codes_last=True), ChunkAnalyser(codes_last=False)
    for rec in read_corpus(300):
        for text in (rec["title"], rec["text"]):
            assert tokens(codes_last.forms(text)) == tokens(expected(text)), rec["id"]
            assert tokens(inline.forms(text)) == tokens(index_forms(text)), rec["id"]


def test_fast_analysis_survives_a_cache_reset() -> None:
    analyser = ChunkAnalyser(codes_last=True, max_chunks=5)
    for rec in read_corpus(20):
        assert tokens(analyser.forms(rec["text"])) == tokens(expected(rec["text"]))


def test_a_rebuild_raises_the_cache_bound_of_live_writes_while_it_runs() -> None:
    analyser = ChunkAnalyser(codes_last=True, max_chunks=50, rebuild_chunks=100_000)
    texts = [rec["text"] for rec in read_corpus(20)]
    with analyser.rebuilding():
        for text in texts:
            analyser.forms(text)
        assert len(analyser._acc) > 1000  # every chunk of the 20 texts kept
    assert (analyser.max_chunks, len(analyser._acc)) == (50, 1)  # only the empty chunk
    for text in texts:
        assert tokens(analyser.forms(text)) == tokens(expected(text))
        # Full, it is emptied before a text's new chunks go in: at most one text over.
        assert len(analyser._acc) <= 50 + len(set(normalize_text(text).split())) + 1


def test_field_weights_become_value_copies() -> None:
    assert field_copies(Weights()) == {
        "title": 5,
        "subject": 3,
        "creator": 3,
        "description": 2,
        "fulltext": 1,
    }
    copies = field_copies(Weights.from_mapping({"title": 0.1, "fulltext": 10.0}))
    assert copies["title"] == 1 and copies["fulltext"] > copies["title"]


def test_rebuild_with_forked_readers(tmp_path) -> None:
    from search_helpers import doc

    from lms.search import SearchQuery

    def shard(k: int, n: int):
        return lambda: (doc(i, f"Bài {i}", "hậu cần chung") for i in range(1, 1201) if i % n == k)

    b = tantivy_backend.TantivyBackend(tmp_path / "ix")
    try:
        assert b.rebuild_parallel([shard(k, 3) for k in range(3)]) == 1200
        r = b.query(SearchQuery("hau can", frozenset({"public"})))
        assert r.total == 1200
        assert b.query(SearchQuery("hau cann", frozenset({"public"}))).suggestion == "hậu cần"
    finally:
        b.close()


def test_a_failing_reader_leaves_the_index_as_it_was(tmp_path) -> None:
    from search_helpers import doc

    from lms.search import SearchError, SearchQuery

    def broken():
        yield doc(2, "Bài hỏng", "hậu cần")
        raise RuntimeError("database went away")

    b = tantivy_backend.TantivyBackend(tmp_path / "ix")
    try:
        b.rebuild([doc(1, "Bài cũ", "hậu cần")])
        with pytest.raises(SearchError, match="database went away"):
            b.rebuild_parallel([lambda: [doc(3, "Bài mới", "hậu cần")], broken])
        r = b.query(SearchQuery("hau can", frozenset({"public"})))
        assert [h.id for h in r.hits] == [1]
        assert [p.name for p in (tmp_path / "ix").iterdir() if p.name.startswith("gen-")] == [
            b._gen]
    finally:
        b.close()
