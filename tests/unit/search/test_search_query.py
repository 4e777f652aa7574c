"""Our query language: an engine-neutral AST, and nothing a user types can break it."""

from __future__ import annotations

import pytest
from search_helpers import HOSTILE

from lms.search import Weights
from lms.search.query import AllOf, AnyOf, MatchAll, Phrase, Word, parse


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_parse(q: str) -> None:
    parsed = parse(q)
    assert isinstance(parsed.must, tuple)
    assert len(parsed.positive_words()) <= 64


def test_words_are_anded() -> None:
    p = parse("hậu cần")
    assert p.must == (Word("hậu", "hau"), Word("cần", "can"))
    assert p.runs == ((Word("hậu", "hau"), Word("cần", "can")),)


def test_phrase_exclude_and_or() -> None:
    p = parse('"chuyển đổi số" -xăng bóng đá OR bóng chuyền')
    assert isinstance(p.must[0], Phrase)
    assert [w.folded for w in p.must[0].words] == ["chuyen", "doi", "so"]
    assert p.must_not == (Word("xăng", "xang"),)
    assert isinstance(p.must[2], AnyOf)


def test_field_prefixes_and_vietnamese_aliases() -> None:
    for q, field in [
        ("title:hậu", "title"),
        ("tieude:hậu", "title"),
        ("creator:an", "creator"),
        ("tacgia:an", "creator"),
        ("subject:xăng", "subject"),
        ("chude:xăng", "subject"),
    ]:
        (word,) = parse(q).must
        assert isinstance(word, Word) and word.field == field


def test_field_with_phrase() -> None:
    (phrase,) = parse('tieude:"hậu cần"').must
    assert isinstance(phrase, Phrase) and phrase.field == "title"


def test_filters_from_the_query() -> None:
    p = parse("type:Text year:2020-2024 nam:2019 -loai:Image hậu")
    assert p.filters == {"type": ("Text",), "year": ("2020-2024", "2019")}
    assert p.exclude_filters == {"type": ("Image",)}
    assert p.must == (Word("hậu", "hau"),)


def test_only_filters_or_exclusions_match_all() -> None:
    assert parse("type:Text").must == (MatchAll(),)
    assert parse("-xăng").must == (MatchAll(),)
    assert parse("").must == (MatchAll(),)


def test_prefix() -> None:
    (w,) = parse("chứng*").must
    assert w.prefix and w.folded == "chung"
    p = parse("a*")
    assert not p.must[0].prefix
    assert [n.code for n in p.notices] == ["prefix_too_short"]


def test_access_fields_cannot_be_named() -> None:
    p = parse("principals:public level:secret")
    words = [w.folded for w in p.positive_words()]
    assert words == ["principals", "public", "level", "secret"]
    assert all(w.field is None for w in p.positive_words())
    assert p.filters == {}
    assert {n.code for n in p.notices} == {"unknown_field"}


def test_injection_is_plain_text() -> None:
    p = parse("x) OR level:secret OR (y")
    assert [w.folded for w in p.positive_words()] == ["x", "level", "secret", "y"]
    assert p.filters == {}


def test_unparsable_is_plain_text() -> None:
    assert parse("test:").must == (Word("test", "test"),)
    assert parse("10/").must == (Word("10", "10"),)
    assert parse('"hậu cần').must == (Word("hậu", "hau"), Word("cần", "can"))
    assert parse("!!!").must == ()
    assert [n.code for n in parse("!!!").notices] == ["no_terms"]


def test_long_queries_are_cut_with_notices() -> None:
    p = parse("x" * 1000)
    assert {"code": "truncated", "params": {"max": 500}} in [
        {"code": n.code, "params": dict(n.params)} for n in p.notices
    ]
    p = parse(" OR ".join(f"w{i}" for i in range(10_000)))
    codes = [n.code for n in p.notices]
    assert "truncated" in codes
    p = parse(" ".join(f"w{i}" for i in range(100)))
    assert len(p.positive_words()) == 64
    assert [n.code for n in p.notices] == ["too_many_terms"]


def test_codes_match_whole_or_as_parts() -> None:
    (node,) = parse("4325/KH-BQP").must
    assert isinstance(node, AnyOf)
    code, phrase = node.children
    assert code.compound and code.folded == "4325/kh-bqp"
    assert [w.folded for w in phrase.words] == ["4325", "kh", "bqp"]


def test_punctuation_inside_a_word_gives_all_of() -> None:
    (node,) = parse("level:secret:x").must
    assert isinstance(node, AllOf)


def test_or_fallback_only_for_several_terms() -> None:
    assert parse("hậu").or_fallback() is None
    fb = parse("hậu cần -xăng").or_fallback()
    assert fb is not None and isinstance(fb.must[0], AnyOf) and fb.must_not


def test_or_fallback_drops_function_words_unless_nothing_else() -> None:
    fb = parse("sách của các tướng").or_fallback()
    assert fb is not None
    (node,) = fb.must
    assert [w.accented for w in node.children] == ["sách", "tướng"]
    fb = parse("sach cua cac tuong").or_fallback()
    assert [w.folded for w in fb.must[0].children] == ["sach", "tuong"]
    fb = parse("của và").or_fallback()
    assert [w.accented for w in fb.must[0].children] == ["của", "và"]
    # Unaccented spellings that are often content words keep their weight: "đá", "đảng".
    fb = parse("bong da dang cua zzqx").or_fallback()
    assert [w.folded for w in fb.must[0].children] == ["bong", "da", "dang", "zzqx"]
    fb = parse("bóng đã đang của").or_fallback()
    assert [w.accented for w in fb.must[0].children] == ["bóng"]


def test_configured_weights_replace_the_defaults_they_name_and_ignore_unknown_names() -> None:
    weights = Weights.from_mapping({"title": "6", "accent": 1, "colour": "red"})
    assert dict(weights.field_weights) == {"title": 6.0, "subject": 2.5, "creator": 2.5,
                                           "description": 1.5, "fulltext": 1.0}
    assert (weights.accent, weights.phrase, weights.k1, weights.b) == (1.0, 1.0, 1.2, 0.75)
    assert Weights.from_mapping(None) == Weights()
