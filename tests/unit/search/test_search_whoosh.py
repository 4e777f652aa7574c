"""What only the Whoosh backend needs checking: its search loop scores the top hits only,
skipping posting blocks that cannot enter them, and must rank exactly as scoring every match.
Everything else runs for every backend (``backend`` fixture)."""

from __future__ import annotations

from search_helpers import doc

from lms.search import SearchQuery
from lms.search.query import parse
from lms.search.whoosh import WhooshBackend
from lms.search.whoosh.collector import _best_scored

PUBLIC = frozenset({"public"})


def every_match_scored(view, query) -> list[tuple[float, int]]:
    searcher = view.searcher
    context = searcher.context(needs_current=True)
    scored = []
    for sub, offset in searcher.leaf_searchers():
        m = query.matcher(sub, context)
        while m.is_active():
            scored.append((m.score(), offset + m.id()))
            m.next()
    return sorted(scored, key=lambda item: (-item[0], item[1]))


def test_block_skipping_keeps_the_exact_top_hits(tmp_path) -> None:
    """600 documents in several segments (posting blocks of 128): the best 10 of the matches
    a filter lets through, by score then document number, are those of scoring everything."""
    backend = WhooshBackend(tmp_path / "index")
    filler = "một hai ba bốn năm sáu bảy tám chín mười"
    for batch in range(3):
        backend.index(
            doc(i, f"Tin {i}", " ".join(["xăng dầu"] * (1 + i % 7) + [filler] * (i % 5)),
                principals=["public"] if i % 4 else ["unit:1"])
            for i in range(batch * 200 + 1, batch * 200 + 201)
        )
    with backend._use() as view:
        query = backend._compiler(view, []).compile(
            parse("xăng dầu"))[0]
        query = query.normalize()
        everything = every_match_scored(view, query)
        passing = frozenset(g for _, g in everything[::3])
        leaves = view.searcher.leaf_searchers()
        assert len(leaves) == 3
        expected = [(s, g) for s, g in everything if g in passing][:10]
        assert _best_scored(view.searcher, leaves, query, passing, 10) == expected
    result = backend.query(SearchQuery("xăng dầu", PUBLIC, facets=False, highlight=False))
    assert result.total == 450
    backend.close()
