"""Suggestion helpers on plain texts, without a backend."""

from __future__ import annotations

from collections import Counter

from lms.search.suggest import (
    SPELLING_TEXT_CHARS,
    accented_spellings,
    prepare_text,
    prepare_texts,
    restore_accents,
    vocabulary,
)

RUNS = [["hau", "can"], ["hau"], ["can"]]


def test_phrase_matches_whole_words_only() -> None:
    text = "Bóng đá, xbong da; bóng  đá\nbong dax. BÓNG ĐÁ"
    assert accented_spellings(["bong", "da"], [text]) == Counter({("bóng", "đá"): 3})
    assert accented_spellings(["da"], ["đá-đà xda đay"]) == Counter({("đá",): 1, ("đà",): 1})
    assert accented_spellings([], [text]) == Counter()


def test_prepared_texts_count_like_plain_ones() -> None:
    texts = ["Hậu cần", "hậu cần, hậu căn", "Hoà bình, hòa bình"]
    prepared = prepare_texts(texts)
    for words in (["hau", "can"], ["can"], ["hoa", "binh"]):
        assert accented_spellings(words, prepared) == accented_spellings(words, texts)
    assert prepare_texts(prepared) == prepared  # prepared once, kept as they are


def test_text_whose_length_changes_when_lower_cased_is_skipped() -> None:
    assert prepare_text("İstanbul hậu cần") is None
    assert accented_spellings(["hau", "can"], ["İstanbul hậu cần"]) == Counter()


def test_restore_accents_prefers_phrases_then_words() -> None:
    texts = ["Công tác hậu cần", "hậu cần quân đội, cần thiết, căn nhà"]
    assert restore_accents(RUNS, texts) == {"hau": "hậu", "can": "cần"}
    assert restore_accents([["ca"]], ["bài ca, con cá"]) == {"ca": "ca"}  # typed ties win


def test_only_the_start_of_a_long_text_is_read_but_titles_are_used() -> None:
    filler = "một hai ba bốn năm " * (SPELLING_TEXT_CHARS // 19 + 1)
    body = filler + "hậu căn " * 5
    assert len(filler) > SPELLING_TEXT_CHARS
    # The spelling beyond the bound is not needed: the title decides.
    assert restore_accents(RUNS, ["Hậu cần", body]) == {"hau": "hậu", "can": "cần"}
    assert restore_accents(RUNS, [body]) == {}
    # Without the bound the body's five occurrences would outvote the title.
    assert restore_accents(RUNS, ["Hậu cần", body], limit=100_000)["can"] == "căn"


def test_cut_does_not_leave_a_shorter_word() -> None:
    text = "ừ " * 49 + "đáng kể"  # the cut at 100 goes through "đáng"
    assert prepare_text(text, 100).text.endswith("ừ")
    assert restore_accents([["da"]], [text], limit=100) == {}
    assert restore_accents([["da"]], [text + " đá"], limit=200) == {"da": "đá"}
    assert prepare_text("đáng" * 50, 100).text == "đáng" * 25  # one long word: a plain cut


def test_vocabulary_counts_words_and_the_parts_of_codes() -> None:
    vocab = vocabulary(["Hoà bình, hòa BÌNH", "COVID-19 hoà"])
    assert vocab["hoa"] == Counter({"hòa": 3})
    assert vocab["binh"] == Counter({"bình": 2})
    assert vocab["covid"] == Counter({"covid": 1}) and "covid-19" not in vocab
