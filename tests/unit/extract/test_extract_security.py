"""Hostile documents: XXE, billion laughs, zip bombs, broken and looping PDFs."""

from __future__ import annotations

import time
import zipfile

import pytest

from lms.extract import extract_text
from lms.extract.base import OUT_OF_MEMORY, UNSAFE_XML, ZIP_BOMB, RefusedDocument
from lms.extract.core import MediaType
from lms.extract.office import extract_docx
from lms.extract.safezip import SafeZip
from lms.extract.samples import PROBE_TEXT, font_path, write_demo_docx, write_demo_pdf

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _document_xml(body: str, doctype: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
        f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>{body}</w:t></w:r></w:p>'
        "</w:body></w:document>"
    ).encode()


@pytest.fixture
def docx(tmp_path):
    return write_demo_docx(tmp_path / "base.docx", "Tiêu đề", [PROBE_TEXT])


def _assert_safe_failure(result, tmp_path, message):
    assert result.status == "failed"
    assert result.message == message
    assert result.text == ""
    assert str(tmp_path) not in result.message
    assert "Traceback" not in result.message


def test_xxe_in_docx_leaks_nothing(tmp_path, docx, rezip):
    secret = tmp_path / "secret.txt"
    secret.write_text("BÍ-MẬT-QUÂN-SỰ")
    doctype = (
        f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{secret}">'
        '<!ENTITY pw SYSTEM "file:///etc/passwd">]>'
    )
    path = rezip(
        docx, tmp_path / "xxe.docx", {"word/document.xml": _document_xml("&xxe;&pw;", doctype)}
    )

    result = extract_text(path, MediaType.DOCX)

    _assert_safe_failure(result, tmp_path, UNSAFE_XML)
    assert "BÍ-MẬT" not in result.message
    assert "root:" not in result.message


def test_external_dtd_and_xxe_in_other_formats_are_refused(tmp_path, docx, rezip):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active["A1"] = "chuỗi"
    xlsx = tmp_path / "a.xlsx"
    workbook.save(str(xlsx))
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE w SYSTEM "http://127.0.0.1:9/evil.dtd">'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row><c t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>'
    )
    xlsx_evil = rezip(xlsx, tmp_path / "evil.xlsx", {"xl/worksheets/sheet1.xml": evil})

    odt = tmp_path / "a.odt"
    with zipfile.ZipFile(odt, "w") as package:
        package.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        package.writestr(
            "content.xml",
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
            'office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
            "<office:body><office:text><text:p>&e;</text:p></office:text></office:body>"
            "</office:document-content>",
        )

    for path, media_type in ((xlsx_evil, MediaType.XLSX), (odt, MediaType.ODT)):
        _assert_safe_failure(extract_text(path, media_type), tmp_path, UNSAFE_XML)


def test_billion_laughs_fails_fast_within_a_small_memory_limit(tmp_path, docx, rezip):
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    payload = _document_xml("&lol9;", f"<!DOCTYPE lolz [{entities}]>")
    path = rezip(docx, tmp_path / "laughs.docx", {"word/document.xml": payload})

    started = time.monotonic()
    result = extract_text(path, MediaType.DOCX, timeout=30, memory_mb=256)

    assert time.monotonic() - started < 10  # refused at the DOCTYPE, not cut by the timeout
    _assert_safe_failure(result, tmp_path, UNSAFE_XML)


def _bomb_docx(docx, tmp_path, rezip, megabytes=60):
    filler = " " * (megabytes * 1024 * 1024)
    return rezip(
        docx, tmp_path / "bomb.docx", {"word/document.xml": _document_xml(filler)}, level=9
    )


def test_zip_bomb_docx_is_refused(tmp_path, docx, rezip):
    path = _bomb_docx(docx, tmp_path, rezip)
    info = zipfile.ZipFile(path).getinfo("word/document.xml")
    assert info.file_size // info.compress_size > 500  # really a bomb-like ratio

    started = time.monotonic()
    result = extract_text(path, MediaType.DOCX, memory_mb=256)

    assert time.monotonic() - started < 10
    _assert_safe_failure(result, tmp_path, ZIP_BOMB)


def test_zip_bomb_is_refused_before_anything_is_inflated(tmp_path, docx, rezip, monkeypatch):
    path = _bomb_docx(docx, tmp_path, rezip)
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)

    with pytest.raises(RefusedDocument) as refused:
        extract_docx(path)

    assert refused.value.message == ZIP_BOMB
    assert "word/document.xml" not in opened


def test_inflated_bytes_are_capped_across_parts(tmp_path):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for n in range(3):
            package.writestr(f"part{n}.xml", b"<a/>" * 100_000)  # 400 kB each, ratio ~ 400

    with SafeZip(path, max_total_bytes=1_000_000) as package:
        package.read("part0.xml")
        package.read("part1.xml")
        with pytest.raises(RefusedDocument):
            package.read("part2.xml")  # declared size alone is over what is left

    # Streaming is charged too (belt and braces: zipfile already stops at the declared size).
    with SafeZip(path) as package, package.open("part0.xml") as stream:
        package._left = 100_000  # as if other parts had used up the budget meanwhile
        with pytest.raises(RefusedDocument):
            while stream.read(65536):
                pass


def test_lying_size_header_gives_damaged_not_more_bytes(tmp_path, docx, rezip):
    path = rezip(docx, tmp_path / "liar.docx", {})
    data = bytearray(path.read_bytes())
    # Shrink the declared size of word/document.xml in the central directory and local header.
    name = b"word/document.xml"
    with zipfile.ZipFile(path) as package:
        info = package.getinfo("word/document.xml")
    local = info.header_offset
    central = data.index(b"PK\x01\x02")  # the central directory's first entry
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 24 : central + 28] = (50).to_bytes(4, "little")
    data[local + 22 : local + 26] = (50).to_bytes(4, "little")
    path.write_bytes(bytes(data))

    result = extract_text(path, MediaType.DOCX)

    _assert_safe_failure(result, tmp_path, "could not read DOCX: damaged or invalid file")


def test_not_a_zip_and_wrong_type_fail_cleanly(tmp_path):
    pdf = write_demo_pdf(tmp_path / "a.pdf", "Tiêu đề", [PROBE_TEXT])

    result = extract_text(pdf, MediaType.DOCX)

    _assert_safe_failure(result, tmp_path, "could not read DOCX: damaged or invalid file")


def _pdf(objects: list[str]) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


CATALOG = "<< /Type /Catalog /Pages 2 0 R >>"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_pdf([CATALOG, "<< /Type /Pages /Kids [2 0 R] /Count 1 >>"]), id="self-kid"),
        pytest.param(
            _pdf(
                [
                    CATALOG,
                    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    "<< /Type /Pages /Kids [2 0 R] /Parent 2 0 R /Count 1 >>",
                ]
            ),
            id="kids-cycle",
        ),
        pytest.param(_pdf([CATALOG]).replace(b"xref\n0 2", b"xref\n0 999999999"), id="huge-xref"),
        pytest.param(
            b"%PDF-1.7\n" + CATALOG.encode() + b"\nstartxref\n99999999999\n%%EOF",
            id="bad-startxref",
        ),
        pytest.param(b"%PDF-1.7\n" + bytes(range(256)) * 40, id="garbage"),
        pytest.param(b"", id="empty-file"),
    ],
)
def test_broken_or_looping_pdf_fails_quickly(tmp_path, data):
    path = tmp_path / "bad.pdf"
    path.write_bytes(data)

    started = time.monotonic()
    result = extract_text(path, MediaType.PDF, timeout=10)

    assert time.monotonic() - started < 10
    assert result.status in {"failed", "empty"}
    assert result.text == ""
    assert str(tmp_path) not in result.message


def test_exploding_form_xobjects_stay_bounded(tmp_path):
    """Each form draws the next twice: 2**30 draws, so PDFium hits the memory limit."""
    depth = 30
    objects = [
        CATALOG,
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R"
        " /Resources << /XObject << /X 6 0 R >> >> >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]

    def stream(content: str, extra: str = "") -> str:
        return f"<< /Length {len(content)} {extra}>>\nstream\n{content}\nendstream"

    objects.append(stream("/X Do"))
    for level in range(depth):
        if level == depth - 1:
            content, resources = "BT /F1 12 Tf 10 10 Td (lol) Tj ET", "/Font << /F1 4 0 R >>"
        else:
            content, resources = "/X Do /X Do", f"/XObject << /X {7 + level} 0 R >>"
        objects.append(
            stream(
                content,
                f"/Type /XObject /Subtype /Form /BBox [0 0 9 9] /Resources << {resources} >> ",
            )
        )
    path = tmp_path / "forms.pdf"
    path.write_bytes(_pdf(objects))

    started = time.monotonic()
    result = extract_text(path, MediaType.PDF, timeout=15, memory_mb=512)

    assert time.monotonic() - started < 16
    assert result.status == "failed"
    assert result.message == OUT_OF_MEMORY
    assert result.text == ""


def _encrypted_pdf(path, user_password: str):
    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(font_path()))
    pdf.add_page()
    pdf.set_font("DejaVu", size=12)
    pdf.cell(text=PROBE_TEXT)
    # RC4 passwords are Latin-1 in fpdf2.
    pdf.set_encryption(owner_password="chu", user_password=user_password,
                       encryption_method=EncryptionMethod.RC4)
    pdf.output(str(path))
    return path


def test_password_protected_pdf_fails_with_a_reason(tmp_path):
    locked = _encrypted_pdf(tmp_path / "locked.pdf", "mat-khau")
    owner_only = _encrypted_pdf(tmp_path / "owner.pdf", "")

    _assert_safe_failure(
        extract_text(locked, MediaType.PDF),
        tmp_path,
        "encrypted or password-protected document: text cannot be extracted",
    )
    opened = extract_text(owner_only, MediaType.PDF)  # no user password: readers open it, so do we
    assert opened.status == "ok"
    assert PROBE_TEXT in opened.text
