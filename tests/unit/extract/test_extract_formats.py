"""Every supported format gives back Vietnamese text, through the real worker process."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import pytest

from lms.extract import SUPPORTED_MEDIA_TYPES, extract_text
from lms.extract.base import SCANNED
from lms.extract.core import MediaType, read_document
from lms.extract.samples import (
    DEMO_DOCUMENTS,
    PROBE_TEXT,
    write_demo_docx,
    write_demo_pdf,
    write_demo_pptx,
)

DOC = DEMO_DOCUMENTS[0]


def test_supported_media_types_cover_the_issue():
    assert {media_type.name for media_type in SUPPORTED_MEDIA_TYPES} == {
        "PDF", "DOCX", "PPTX", "XLSX", "ODT", "ODP", "ODS", "HTML", "TEXT"}


def test_pdf_round_trips_vietnamese(tmp_path):
    path = write_demo_pdf(tmp_path / "a.pdf", DOC.title, [PROBE_TEXT, *DOC.paragraphs])

    result = extract_text(path, MediaType.PDF)

    assert result.status == "ok"
    assert result.pages == 1
    assert PROBE_TEXT in result.text
    assert DOC.title in result.text
    assert result.chars == len(result.text)
    # PDF lines wrap where the page did; the words are all there, in order.
    assert " ".join(DOC.paragraphs[-1].split()) in " ".join(result.text.split())


def test_pdf_written_in_nfd_comes_back_nfc(tmp_path):
    nfd = unicodedata.normalize("NFD", PROBE_TEXT)
    assert nfd != PROBE_TEXT
    path = write_demo_pdf(tmp_path / "nfd.pdf", nfd, [nfd])

    raw = read_document(path, MediaType.PDF).text  # what PDFium itself gives: still decomposed
    result = extract_text(path, MediaType.PDF)

    assert nfd in raw
    assert PROBE_TEXT not in raw
    assert result.status == "ok"
    # Without text shaping the marks take room, so the title may wrap: compare words.
    assert " ".join(result.text.split()) == f"{PROBE_TEXT} {PROBE_TEXT}"
    assert unicodedata.is_normalized("NFC", result.text)


def _image_pdf(path: Path, *, text_first: bool = False) -> Path:
    from fpdf import FPDF
    from PIL import Image

    picture = io.BytesIO()
    Image.new("L", (400, 200), 255).save(picture, format="PNG")
    pdf = FPDF()
    if text_first:
        pdf.add_page()
        pdf.add_font("DejaVu", fname="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
        pdf.set_font("DejaVu", size=12)
        pdf.cell(text=PROBE_TEXT)
    pdf.add_page()
    pdf.image(picture, x=10, y=10, w=180)
    pdf.output(str(path))
    return path


def test_scanned_pdf_is_empty_with_a_reason(tmp_path):
    result = extract_text(_image_pdf(tmp_path / "scan.pdf"), MediaType.PDF)

    assert result.status == "empty"
    assert result.message == SCANNED
    assert result.text == ""
    assert result.chars == 0
    assert result.pages == 1


def test_partly_scanned_pdf_keeps_text_and_says_so(tmp_path):
    result = extract_text(_image_pdf(tmp_path / "mixed.pdf", text_first=True), MediaType.PDF)

    assert result.status == "ok"
    assert result.text == PROBE_TEXT
    assert result.pages == 2
    assert result.message == "1 of 2 pages have no text layer (scanned?)"


def test_docx_round_trips_vietnamese(tmp_path):
    path = write_demo_docx(tmp_path / "a.docx", DOC.title, [PROBE_TEXT, *DOC.paragraphs])

    result = extract_text(path, MediaType.DOCX)

    assert result.status == "ok"
    assert result.pages is None
    assert result.text == "\n".join([DOC.title, PROBE_TEXT, *DOC.paragraphs])


def test_docx_tabs_tables_and_headers(tmp_path):
    from docx import Document

    document = Document()
    paragraph = document.add_paragraph("Cột một")
    paragraph.add_run().add_tab()
    paragraph.add_run("cột hai")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Đơn vị"
    table.cell(0, 1).text = "Số lượng"
    document.sections[0].header.paragraphs[0].text = "Tài liệu huấn luyện"
    path = tmp_path / "t.docx"
    document.save(str(path))

    result = extract_text(path, MediaType.DOCX)

    assert result.status == "ok"
    assert result.text.split("\n") == [
        "Cột một cột hai",
        "Đơn vị",
        "Số lượng",
        "",
        "Tài liệu huấn luyện",
    ]


def test_pptx_round_trips_vietnamese_in_slide_order(tmp_path):
    slides = [("Mở đầu", [PROBE_TEXT]), *DOC.slides]
    path = write_demo_pptx(tmp_path / "a.pptx", DOC.title, slides)

    result = extract_text(path, MediaType.PPTX)

    assert result.status == "ok"
    assert result.pages == 1 + len(slides)  # the title slide, then one per (heading, bullets)
    text = result.text
    assert PROBE_TEXT in text
    positions = [text.index(heading) for heading, _ in slides]
    assert positions == sorted(positions)
    for _, bullets in DOC.slides:
        for bullet in bullets:
            assert bullet in text


def test_pptx_speaker_notes_are_included(tmp_path):
    from pptx import Presentation

    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "Tiêu đề"
    slide.notes_slide.notes_text_frame.text = "Ghi chú của giảng viên: " + PROBE_TEXT
    path = tmp_path / "notes.pptx"
    presentation.save(str(path))

    result = extract_text(path, MediaType.PPTX)

    assert result.text == "Tiêu đề\nGhi chú của giảng viên: " + PROBE_TEXT


def test_xlsx_round_trips_vietnamese(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Xăng dầu"
    sheet.append(["Đơn vị", "Số lít", "Ghi chú"])
    sheet.append(["Tiểu đoàn 1", 1250, PROBE_TEXT])
    second = workbook.create_sheet("Đà Nẵng")
    second["B2"] = "ở, ý"
    path = tmp_path / "a.xlsx"
    workbook.save(str(path))

    result = extract_text(path, MediaType.XLSX)

    assert result.status == "ok"
    assert result.text == (
        f"Xăng dầu\nĐơn vị Số lít Ghi chú\nTiểu đoàn 1 1250 {PROBE_TEXT}\n\nĐà Nẵng\nở, ý"
    )


def test_xlsx_shared_and_rich_strings(tmp_path):
    import xlsxwriter  # writes shared strings, as Excel does (openpyxl writes inline ones)

    path = tmp_path / "shared.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Bảng")
    bold = workbook.add_format({"bold": True})
    sheet.write_string("A1", PROBE_TEXT)
    sheet.write_rich_string("B1", "Hậu cần ", bold, "quân đội")
    sheet.write_string("A2", PROBE_TEXT)
    sheet.write_formula("B2", '="Đà "&"Nẵng"', None, "Đà Nẵng")
    sheet.write_boolean("C2", True)
    workbook.close()

    result = extract_text(path, MediaType.XLSX)

    assert result.text == f"Bảng\n{PROBE_TEXT} Hậu cần quân đội\n{PROBE_TEXT} Đà Nẵng"


def test_odt_round_trips_vietnamese_with_spaces_tabs_and_breaks(tmp_path):
    from odf import teletype
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=DOC.title))
    paragraph = P()
    teletype.addTextToElement(paragraph, f"{PROBE_TEXT}\nDòng hai\tcột   cuối")
    document.text.addElement(paragraph)
    path = tmp_path / "a.odt"
    document.save(str(path))

    result = extract_text(path, MediaType.ODT)

    assert result.status == "ok"
    assert result.text == f"{DOC.title}\n{PROBE_TEXT}\nDòng hai cột cuối"


def test_odp_round_trips_vietnamese_and_counts_slides(tmp_path):
    from odf.draw import Frame, Page, TextBox
    from odf.opendocument import OpenDocumentPresentation
    from odf.style import MasterPage, PageLayout
    from odf.text import P

    document = OpenDocumentPresentation()
    layout = PageLayout(name="Trang")
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Mặc định", pagelayoutname=layout)
    document.masterstyles.addElement(master)
    for heading in ("Trang một", PROBE_TEXT):
        page = Page(masterpagename=master)
        document.presentation.addElement(page)
        frame = Frame(width="20cm", height="3cm", x="1cm", y="1cm")
        page.addElement(frame)
        box = TextBox()
        frame.addElement(box)
        box.addElement(P(text=heading))
    path = tmp_path / "a.odp"
    document.save(str(path))

    result = extract_text(path, MediaType.ODP)

    assert result.status == "ok"
    assert result.pages == 2
    assert result.text == f"Trang một\n{PROBE_TEXT}"


def test_ods_round_trips_vietnamese(tmp_path):
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Bảng 1")
    row = TableRow()
    for value in ("Đơn vị", PROBE_TEXT):
        cell = TableCell(valuetype="string")
        cell.addElement(P(text=value))
        row.addElement(cell)
    table.addElement(row)
    document.spreadsheet.addElement(table)
    path = tmp_path / "a.ods"
    document.save(str(path))

    result = extract_text(path, MediaType.ODS)

    assert result.status == "ok"
    assert result.text == f"Đơn vị\n{PROBE_TEXT}"


HTML_PAGE = """<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>Học liệu</title>
<style>.ẩn {{ display: none }} body::after {{ content: "STYLE-MARKER" }}</style>
<script>var bí_mật = "SCRIPT-MARKER"; if (a < b && c > d) {{ document.write("<p>x</p>") }}</script>
</head><body>
<h1>Hậu cần &amp; quân đội</h1>
<p>Chuyển   đổi&nbsp;số, &lt;Bình dân học vụ số&gt;, &#272;à N&#7861;ng</p>
<noscript>NOSCRIPT-MARKER</noscript>
<ul><li>ở</li><li>ý</li></ul>
<table><tr><td>Ô 1</td><td>Ô 2</td></tr></table>
<!-- COMMENT-MARKER -->
</body></html>"""
HTML_TEXT = (
    "Học liệu\n\nHậu cần & quân đội\n\nChuyển đổi số, <Bình dân học vụ số>, Đà Nẵng\n\nở\ný"
    "\n\nÔ 1 Ô 2"
)


@pytest.mark.parametrize("charset", ["utf-8", "windows-1258"])
def test_html_text_without_script_style_or_comments(tmp_path, charset, cp1258):
    page = HTML_PAGE.format(charset=charset)
    data = cp1258(page) if charset == "windows-1258" else page.encode()
    path = tmp_path / "a.html"
    path.write_bytes(data)

    result = extract_text(path, MediaType.HTML)

    assert result.status == "ok"
    assert result.text == HTML_TEXT
    for marker in ("SCRIPT", "STYLE", "NOSCRIPT", "COMMENT"):
        assert f"{marker}-MARKER" not in result.text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1258"])
def test_plain_text_encodings(tmp_path, encoding, cp1258):
    text = f"{PROBE_TEXT}\r\n\r\n\r\nĐoạn hai"
    data = cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    path = tmp_path / "a.txt"
    path.write_bytes(data)

    result = extract_text(path, "text/plain; charset=iso-8859-1")  # sniffer's guess ignored

    assert result.status == "ok"
    assert result.text == f"{PROBE_TEXT}\n\nĐoạn hai"


def test_binary_sent_as_text_fails(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(bytes(range(256)) * 64)

    result = extract_text(path, MediaType.TEXT)

    assert result.status == "failed"
    assert result.message == "unknown text encoding or not a text file"
    assert result.text == ""


def test_empty_documents_are_empty_not_ok(tmp_path):
    blank = write_demo_docx(tmp_path / "blank.docx", " ", [])
    spaces = tmp_path / "spaces.txt"
    spaces.write_text(" \n\t\u200b\n")

    for path, media_type in ((blank, MediaType.DOCX), (spaces, MediaType.TEXT)):
        result = extract_text(path, media_type)
        assert (result.status, result.message) == ("empty", "no text found in the document")
