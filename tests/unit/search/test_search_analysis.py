"""Vietnamese analysis: one canonical token stream for every backend."""

from __future__ import annotations

import unicodedata

import pytest

from lms.search.analysis import (
    ANALYZER_VERSION,
    collation_key,
    fold,
    fold_aligned,
    index_forms,
    tokenize,
)


def acc(text: str) -> list[str]:
    return [t.accented for t in tokenize(text)]


def folded(text: str) -> list[str]:
    return [t.folded for t in tokenize(text)]


def test_analyzer_version_is_recorded() -> None:
    assert isinstance(ANALYZER_VERSION, str) and ANALYZER_VERSION


@pytest.mark.parametrize("text", ["Đà Nẵng", "Tiếng Việt có dấu", "Hòa bình, khỏe mạnh", "ở ý"])
def test_nfc_and_nfd_inputs_give_the_same_tokens(text: str) -> None:
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert acc(nfd) == acc(text)
    assert index_forms(nfd) == index_forms(text)


def test_eth_is_read_as_d_with_stroke() -> None:
    assert acc("Ðây là Ðiều lệ") == acc("Đây là Điều lệ") == ["đây", "là", "điều", "lệ"]
    assert folded("Ðà Nẵng") == ["da", "nang"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("hoà", "hòa"),
        ("Hoà bình", "Hòa bình"),
        ("thuỷ", "thủy"),
        ("khoẻ", "khỏe"),
        ("hoá học", "hóa học"),
        ("uỷ ban", "ủy ban"),
        ("luỹ tre", "lũy tre"),
        ("xoè", "xòe"),
        ("toạ đàm", "tọa đàm"),
    ],
)
def test_old_and_new_tone_placement_are_one_token(old: str, new: str) -> None:
    assert acc(old) == acc(new)
    assert acc(new) == [w.lower() for w in new.split()]  # the canonical form is the new style


@pytest.mark.parametrize("word", ["hoàng", "quý", "quỳnh", "thuyền", "khuya", "toán", "hoài"])
def test_syllables_without_ambiguity_are_unchanged(word: str) -> None:
    assert acc(word) == [word]


def test_one_letter_syllables_are_kept() -> None:
    assert acc("Ở đây ý kiến của tôi là ạ") == ["ở", "đây", "ý", "kiến", "của", "tôi", "là", "ạ"]
    assert folded("ở ý") == ["o", "y"]


def test_codes_are_kept_whole_and_as_parts() -> None:
    toks = tokenize("Kế hoạch 4325/KH-BQP về H5N1 và PMU18")
    words = [t.accented for t in toks]
    assert "4325/kh-bqp" in words
    assert {"4325", "kh", "bqp", "h5n1", "pmu18"} <= set(words)
    code = next(t for t in toks if t.compound)
    assert code.folded == "4325/kh-bqp"
    _, fol_form = index_forms("4325/KH-BQP")
    assert fol_form == "4325 +4325/kh-bqp kh bqp"  # the code shares its first part's position


def test_trailing_punctuation_is_not_part_of_a_code() -> None:
    assert acc("số 10/ năm.") == ["số", "10", "năm"]


def test_folded_forms() -> None:
    assert fold("Đà Nẵng") == "da nang"
    assert folded("Chứng khoán tăng điểm") == ["chung", "khoan", "tang", "diem"]
    assert folded("Hoà/hòa") == ["hoa/hoa", "hoa", "hoa"]


def test_stray_combining_marks_do_not_break_tokens() -> None:
    # A second tone mark cannot compose: NFC keeps it as a stray mark inside the word.
    text = "Ha\u0300\u0300 Nội đe\u0323\u0301p"
    assert unicodedata.normalize("NFC", text).count("\u0300") == 1
    assert acc(text) == ["hà", "nội", "đẹp"]
    assert folded("\u0301 bóng\u0303 đá") == ["bong", "da"]


def test_no_stemming_or_stop_words() -> None:
    assert acc("the running of và là") == ["the", "running", "of", "và", "là"]


def test_offsets_point_into_the_original_text() -> None:
    text = "Ông Nguyễn (Hà Nội)"
    for t in tokenize(text):
        assert fold(text[t.start : t.end]) == t.folded


def test_fold_aligned_keeps_length() -> None:
    text = "Đà Nẵng hoà bình Ðiều"
    f = fold_aligned(text)
    assert f is not None and len(f) == len(text)
    assert f == "da nang hoa binh dieu"


def test_vietnamese_title_collation() -> None:
    titles = ["đá", "Dê", "ăn", "An", "âm", "bò", "Êm", "em", "ơi", "ông", "ổ", "ô", "ư", "uống"]
    assert sorted(titles, key=collation_key) == [
        "An", "ăn", "âm", "bò", "Dê", "đá", "em", "Êm", "ô", "ổ", "ông", "ơi", "uống", "ư",
    ]


def test_collation_tone_marks_are_secondary() -> None:
    words = ["mạ", "má", "mã", "mả", "mà", "ma", "mai"]
    assert sorted(words, key=collation_key) == ["ma", "mà", "mả", "mã", "má", "mạ", "mai"]


def test_collation_is_word_by_word() -> None:
    assert sorted(["anh hùng", "an ninh", "an"], key=collation_key) == ["an", "an ninh", "anh hùng"]
