"""Display names: cleaning, ASCII fallback, Content-Disposition."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.http import parse_options_header

from lms.files.names import (
    MAX_NAME_CHARS,
    ascii_fallback,
    clean_filename,
    content_disposition,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Giáo trình Hậu cần.pdf", "Giáo trình Hậu cần.pdf"),
        ("../../x", "x"),
        ("../../app/config.py", "config.py"),
        ("..\\..\\x.pdf", "x.pdf"),
        ("C:\\Users\\An\\Bài giảng.pptx", "Bài giảng.pptx"),
        ("/etc/passwd", "passwd"),
        ("x/..", "x"),
        ("..", "file"),
        ("", "file"),
        (None, "file"),
        ("   ", "file"),
        ("....", "file"),
        ("  report.pdf. . ", "report.pdf"),
        (".htaccess", "htaccess"),
        ("a\tb\nc.txt", "a b c.txt"),
        ("x\r\nSet-Cookie: a=b.pdf", "x Set-Cookie_ a=b.pdf"),
        ("nul\x00byte.pdf", "nulbyte.pdf"),
        ('a<b>:"|?*.pdf', "a_b______.pdf"),
        ("zero\u200bwidth\ufeff.pdf", "zerowidth.pdf"),
        ("line\u2028sep.pdf", "line sep.pdf"),
        ("many     spaces.pdf", "many spaces.pdf"),
    ],
)
def test_clean_filename(raw, clean):
    assert clean_filename(raw) == clean


def test_clean_filename_composes_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Giáo trình Hậu cần.pdf")
    assert decomposed != "Giáo trình Hậu cần.pdf"
    assert clean_filename(decomposed) == "Giáo trình Hậu cần.pdf"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\u202efdp.exe", "fdp.exe"),  # shows as "exe.pdf" with the override
        ("Bao cao\u202egpj.exe", "Bao caogpj.exe"),
        ("\u2066a\u2067b\u2068c\u2069.pdf", "abc.pdf"),
        ("\u202a\u202b\u202c\u202dx\u200e\u200f.pdf", "x.pdf"),
        ("\u061cx.pdf", "x.pdf"),
    ],
)
def test_bidi_controls_are_removed(raw, clean):
    assert clean_filename(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("NUL", "_NUL"),
        ("nul.tar.gz", "_nul.tar.gz"),
        ("COM1.pdf", "_COM1.pdf"),
        ("LPT9", "_LPT9"),
        ("AUX .txt", "_AUX .txt"),
        ("PRN.", "_PRN"),
        ("CONTROL.txt", "CONTROL.txt"),
        ("icon.png", "icon.png"),
        ("COM10.txt", "COM10.txt"),
    ],
)
def test_windows_device_names_are_prefixed(raw, clean):
    assert clean_filename(raw) == clean


def test_long_names_are_capped_keeping_the_extension():
    name = "Tài liệu " + "ấ" * 300 + ".docx"
    cleaned = clean_filename(name)
    assert len(cleaned) == MAX_NAME_CHARS
    assert cleaned.endswith("ấ.docx")
    assert cleaned.startswith("Tài liệu ")


def test_long_names_without_extension_are_capped():
    assert clean_filename("a" * 300) == "a" * MAX_NAME_CHARS
    # A 300-character "extension" is not an extension.
    assert len(clean_filename("x." + "b" * 300)) == MAX_NAME_CHARS


def test_cut_does_not_leave_a_dangling_combining_mark():
    name = ("e\u0301\u0323" * 150) + ".pdf"  # no precomposed form with both marks
    cleaned = clean_filename(name)
    assert len(cleaned) <= MAX_NAME_CHARS
    stem = cleaned[: -len(".pdf")]
    assert unicodedata.normalize("NFC", stem) == stem
    assert not unicodedata.combining(stem[0])


@pytest.mark.parametrize(
    ("raw", "fallback"),
    [
        ("Giáo trình Hậu cần.pdf", "Giao trinh Hau can.pdf"),
        ("Đề cương đào tạo.docx", "De cuong dao tao.docx"),
        ("Ưu tiên ưu đãi Ơn.txt", "Uu tien uu dai On.txt"),
        ("Полевой устав.pdf", "file.pdf"),
        ("日本.pdf", "file.pdf"),
        ("Báo cáo 日本.pdf", "Bao cao __.pdf"),
        ('100% "chắc".pdf', "100_ _chac_.pdf"),
        ("plain.txt", "plain.txt"),
        ("", "file"),
    ],
)
def test_ascii_fallback(raw, fallback):
    assert ascii_fallback(raw) == fallback


def test_ascii_fallback_is_never_a_bare_extension():
    for name in ("Полевой устав.pdf", "  .pdf", "…‥.pdf", "\u202e.pdf"):
        result = ascii_fallback(name)
        assert not result.startswith((" ", "."))
        assert result.isascii()


def test_content_disposition_for_a_vietnamese_name():
    value = content_disposition("attachment", "Giáo trình Hậu cần.pdf")
    assert value == (
        'attachment; filename="Giao trinh Hau can.pdf"; '
        "filename*=UTF-8''Gi%C3%A1o%20tr%C3%ACnh%20H%E1%BA%ADu%20c%E1%BA%A7n.pdf"
    )
    disposition, params = parse_options_header(value)
    assert disposition == "attachment"
    assert params["filename"] == "Giáo trình Hậu cần.pdf"  # Werkzeug prefers filename*


def test_content_disposition_encodes_the_nfc_name():
    value = content_disposition("inline", unicodedata.normalize("NFD", "Hậu cần.pdf"))
    encoded = value.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == unicodedata.normalize("NFC", "Hậu cần.pdf")


@pytest.mark.parametrize(
    "name",
    [
        "x\r\nSet-Cookie: session=evil.pdf",
        'a"; filename="evil.exe',
        "back\\slash\\..\\x.pdf",
        "semi;colon.pdf",
        "\x00\x1f\x7f.pdf",
        "%0d%0aSet-Cookie:x.pdf",
    ],
)
def test_content_disposition_cannot_be_injected(name):
    value = content_disposition("attachment", name)
    assert value.isascii()
    assert "\r" not in value and "\n" not in value and "\x00" not in value
    disposition, params = parse_options_header(value)
    assert disposition == "attachment"
    assert set(params) == {"filename"}  # exactly one name, no smuggled parameter
    fallback = value.split('filename="', 1)[1].split('"; filename*=', 1)[0]
    assert '"' not in fallback.replace('\\"', "")
    assert "%" not in fallback


def test_content_disposition_rejects_unknown_dispositions():
    with pytest.raises(ValueError):
        content_disposition("form-data", "x.pdf")


@settings(database=None, max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_clean_filename_properties(raw):
    cleaned = clean_filename(raw)
    assert 0 < len(cleaned) <= MAX_NAME_CHARS
    assert cleaned == clean_filename(cleaned)  # idempotent
    assert cleaned == unicodedata.normalize("NFC", cleaned) or len(cleaned) == MAX_NAME_CHARS
    assert "/" not in cleaned and "\\" not in cleaned
    assert cleaned not in (".", "..")
    assert cleaned == cleaned.strip(" .")
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in cleaned)


@settings(database=None, max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["inline", "attachment"]))
def test_content_disposition_properties(raw, disposition):
    value = content_disposition(disposition, raw)
    assert value.isascii()
    assert all(" " <= c <= "~" for c in value)
    assert ascii_fallback(raw).strip(" ") != ""
    _, params = parse_options_header(value)
    assert params["filename"] == clean_filename(raw)
