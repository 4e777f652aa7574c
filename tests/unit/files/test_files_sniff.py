"""Media types come from the content; the name only decides whether it agrees."""

from __future__ import annotations

import io
import time

import pytest

from lms.files import sniff as sniff_module
from lms.files.sniff import (
    DOCM,
    DOCX,
    EXECUTABLE,
    ODT,
    PPTX,
    XLSX,
    ZIP,
    Sniffed,
    extension_of,
    has_active_markup,
    sniff,
    sniff_bytes,
    sniff_file,
    sniff_stream,
)


def test_pdf(samples, pdf_bytes):
    assert sniff_bytes(pdf_bytes, "Giáo trình.pdf") == Sniffed("application/pdf", True, False)


@pytest.mark.parametrize(
    ("fmt", "name", "media_type"),
    [
        ("PNG", "a.png", "image/png"),
        ("JPEG", "a.jpg", "image/jpeg"),
        ("JPEG", "A.JPEG", "image/jpeg"),
        ("GIF", "a.gif", "image/gif"),
        ("WEBP", "a.webp", "image/webp"),
    ],
)
def test_images(samples, fmt, name, media_type):
    data = samples.image(fmt, size=(40, 30))
    assert sniff_bytes(data, name) == Sniffed(media_type, True, False)


@pytest.mark.parametrize(
    ("attr", "name", "media_type"),
    [
        ("MP4", "bai-giang.mp4", "video/mp4"),
        ("WEBM", "bai-giang.webm", "video/webm"),
        ("MP3", "nhac.mp3", "audio/mpeg"),
        ("OGG", "nhac.ogg", "audio/ogg"),
    ],
)
def test_audio_and_video(samples, attr, name, media_type):
    assert sniff_bytes(getattr(samples, attr), name) == Sniffed(media_type, True, False)


@pytest.mark.parametrize(
    ("kind", "media_type"), [("docx", DOCX), ("xlsx", XLSX), ("pptx", PPTX), ("docm", DOCM)]
)
@pytest.mark.parametrize("content_types_first", [True, False])
def test_ooxml_is_recognised_whatever_the_entry_order(samples, kind, media_type,
                                                      content_types_first):
    # libmagic says application/zip for one of these orders; the peek decides.
    data = samples.ooxml(kind, content_types_first=content_types_first)
    assert sniff_bytes(data, f"x.{kind}") == Sniffed(media_type, True, False)


def test_macro_document_renamed_docx_is_a_mismatch(samples):
    result = sniff_bytes(samples.ooxml("docm"), "De cuong.docx")
    assert result == Sniffed(DOCM, False, True)


def test_odt(samples):
    assert sniff_bytes(samples.odt(), "x.odt") == Sniffed(ODT, True, False)


def test_plain_zip(samples):
    data = samples.zip([("a.txt", "x"), ("b/c.txt", "y")])
    assert sniff_bytes(data, "goi.zip") == Sniffed(ZIP, True, False)
    assert sniff_bytes(data, "goi.docx") == Sniffed(ZIP, False, True)


def test_zip_with_a_huge_content_types_entry_is_not_read(samples):
    # 50 MB of zeros deflate to ~50 KB: over the cap, so never inflated.
    data = samples.zip([("[Content_Types].xml", b"\x00" * 50_000_000), ("word/x.xml", "<x/>")])
    started = time.perf_counter()
    assert sniff_bytes(data, "x.docx").media_type in (ZIP, DOCX)
    assert time.perf_counter() - started < 2


def test_zip_content_types_with_xxe_is_not_resolved(samples, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("application/vnd.ms-word.document.macroEnabled.main+xml")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Override PartName="/word/document.xml" ContentType="&x;"/></Types>'
    )
    data = samples.zip([("[Content_Types].xml", xxe), ("word/document.xml", "<w/>")])
    assert sniff_bytes(data, "x.docx").media_type != DOCM


def test_zip_content_types_billion_laughs_is_refused_fast(samples):
    lol = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    bomb = f'<?xml version="1.0"?><!DOCTYPE t [{lol}]><Types>&a9;</Types>'
    data = samples.zip([("[Content_Types].xml", bomb), ("word/document.xml", "<w/>")])
    started = time.perf_counter()
    assert sniff_bytes(data, "x.docx").media_type != DOCX
    assert time.perf_counter() - started < 2


def test_zip_with_too_many_entries_is_not_opened(samples, monkeypatch):
    monkeypatch.setattr(sniff_module, "MAX_ZIP_ENTRIES", 1)
    assert sniff_bytes(samples.ooxml("docx"), "x.docx").media_type != XLSX


def test_broken_zip_is_not_an_error(samples):
    data = samples.ooxml("docx")[:200]
    assert sniff_bytes(data, "x.docx").mismatch in (True, False)  # no exception


def test_exe_renamed_pdf_is_a_mismatch(samples):
    assert sniff_bytes(samples.EXE, "giao-trinh.pdf") == Sniffed(EXECUTABLE, False, True)


def test_bare_mz_header_is_still_an_executable():
    result = sniff_bytes(b"MZ" + b"\x00" * 100, "tai-lieu.pdf")
    assert result == Sniffed(EXECUTABLE, False, True)


def test_html_renamed_pdf_is_a_mismatch(samples):
    assert sniff_bytes(samples.HTML_WITH_SCRIPT, "brief.pdf") == Sniffed("text/html", False, True)


def test_html_is_active_even_without_an_extension(samples):
    assert sniff_bytes(samples.HTML_WITH_SCRIPT, "brief") == Sniffed("text/html", False, True)
    assert sniff_bytes(samples.HTML_WITH_SCRIPT, "page.html") == Sniffed("text/html", True, False)


@pytest.mark.parametrize("with_declaration", [True, False])
def test_svg(samples, with_declaration):
    data = samples.SVG_WITH_SCRIPT
    if not with_declaration:
        data = data.split(b"\n", 1)[1]
    assert sniff_bytes(data, "logo.svg") == Sniffed("image/svg+xml", True, False)
    assert sniff_bytes(data, "logo.png") == Sniffed("image/svg+xml", False, True)


def test_the_extension_is_not_trusted(samples):
    png = samples.image("PNG", size=(8, 8))
    assert sniff_bytes(png, "report.pdf") == Sniffed("image/png", False, True)


def test_plain_text():
    data = "Ghi chú: học phần Hậu cần\n".encode()
    assert sniff_bytes(data, "ghi-chu.txt") == Sniffed("text/plain", True, False)
    assert sniff_bytes(data, "README") == Sniffed("text/plain", False, False)
    assert sniff_bytes(data, "data.unknownext") == Sniffed("text/plain", False, False)


def test_zero_byte_file():
    result = sniff_bytes(b"", "empty.pdf")
    assert result.media_type == "application/x-empty"
    assert result.mismatch is True


def test_polyglot_sniffs_as_pdf_but_is_flagged(samples):
    assert sniff_bytes(samples.POLYGLOT, "x.pdf").media_type == "application/pdf"
    assert has_active_markup(io.BytesIO(samples.POLYGLOT)) is True


def test_ordinary_files_have_no_active_markup(samples, pdf_bytes):
    for data in (pdf_bytes, samples.image("PNG"), samples.image("JPEG"), samples.MP4):
        assert has_active_markup(io.BytesIO(data)) is False


def test_sniff_file_and_stream(tmp_path, pdf_bytes):
    path = tmp_path / "upload.bin"
    path.write_bytes(pdf_bytes)
    assert sniff_file(path, "x.pdf").media_type == "application/pdf"
    with path.open("rb") as fh:
        fh.seek(100)
        assert sniff_stream(fh, "x.pdf").media_type == "application/pdf"
        assert fh.tell() == 0
        assert sniff(fh, "x.pdf") == sniff(path, "x.pdf") == sniff(pdf_bytes, "x.pdf")
    assert sniff(str(path), "x.exe") == Sniffed("application/pdf", False, True)


def test_html_page_with_inline_svg_is_still_html():
    page = b"<!doctype html><html><body><svg width='1' height='1'></svg></body></html>"
    assert sniff_bytes(page, "page.html") == Sniffed("text/html", True, False)


@pytest.mark.parametrize(
    ("name", "extension"),
    [("a.PDF", "pdf"), ("a.tar.gz", "gz"), (".pdf", ""), ("noext", ""), ("dir.d/x", ""),
     ("C:\\x\\y.DOCX", "docx"), (None, ""), ("x.", "")],
)
def test_extension_of(name, extension):
    assert extension_of(name) == extension
