"""Generated sample files for the file layer tests (nothing is read from disk but fonts)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from lms.files.object_storage import S3Storage
from lms.files.storage import LocalStorage, Storage

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
VIETNAMESE = "Giáo trình Hậu cần — Đề cương ôn tập"

HTML_WITH_SCRIPT = (
    b"<!doctype html><html><head><title>ok</title></head>"
    b"<body><script>document.title='pwned'</script></body></html>"
)
SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.domain)</script></svg>"
)
# A DOS stub and PE signature: what an .exe starts with.
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8"
    + b"\x00" * 43
    + struct.pack("<I", 64)
    + b"PE\x00\x00\x4c\x01"
    + b"\x00" * 200
)
POLYGLOT = b"%PDF-1.4\n<html><body><script>alert(1)</script></body></html>\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 100
WEBM = bytes.fromhex("1a45dfa3") + (
    b"\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
    b"\x42\x82\x84webm\x42\x87\x81\x02\x42\x85\x81\x02"
)
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + b"\x00" * 400
OGG = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x1e\x01vorbis" + b"\x00" * 40

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="{part}" ContentType="{content_type}"/></Types>'
)
OOXML_MAIN = {
    "docx": ("/word/document.xml",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "docm": ("/word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
    "xlsx": ("/xl/workbook.xml",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": ("/ppt/presentation.xml",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
}


def make_zip(entries: list[tuple[str, bytes | str]], *, stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(entries):
            compress = zipfile.ZIP_STORED if stored_first and index == 0 else None
            archive.writestr(name, data, compress_type=compress)
    return buffer.getvalue()


def make_ooxml(kind: str, *, content_types_first: bool = True) -> bytes:
    part, content_type = OOXML_MAIN[kind]
    types = ("[Content_Types].xml", CONTENT_TYPES.format(part=part, content_type=content_type))
    body = (part.lstrip("/"), "<root/>")
    return make_zip([types, body] if content_types_first else [body, types])


def make_odt() -> bytes:
    return make_zip(
        [("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", "<x/>")],
        stored_first=True,
    )


def make_pdf(text: str = VIETNAMESE, pages: int = 1) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(DEJAVU))
    pdf.set_font("DejaVu", size=18)
    for number in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 10, text=f"{text} ({number + 1})")
    return bytes(pdf.output())


def make_image(fmt: str, size: tuple[int, int] = (1000, 600), color: str = "navy") -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 2, size[1] // 2), fill=color)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def make_png_header_only(width: int, height: int, *, rows: bool = False) -> bytes:
    """A grayscale PNG claiming ``width`` x ``height``; with ``rows`` the (all-zero) pixel data
    is really there, compressed to almost nothing; without, a "pixel flood" header only."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    parts = []
    if rows:
        row = b"\x00" * (width + 1)
        parts.extend(compressor.compress(row) for _ in range(height))
    parts.append(compressor.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "data" / "blobs", tmp_path / "data" / "tmp")


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path: Path) -> Storage:
    """Each store in turn: files under a data folder, then a bucket of moto's S3 server."""
    if request.param == "local":
        return request.getfixturevalue("local_storage")
    settings = request.getfixturevalue("s3_settings")
    return S3Storage.from_config(settings, tmp_path / "data" / "tmp")


@pytest.fixture(scope="session")
def pdf_bytes() -> bytes:
    return make_pdf()


class Samples:
    """The builders and constants above, for tests (which take them through a fixture rather
    than importing a conftest)."""

    VIETNAMESE = VIETNAMESE
    HTML_WITH_SCRIPT = HTML_WITH_SCRIPT
    SVG_WITH_SCRIPT = SVG_WITH_SCRIPT
    EXE = EXE
    POLYGLOT = POLYGLOT
    MP4 = MP4
    WEBM = WEBM
    MP3 = MP3
    OGG = OGG
    zip = staticmethod(make_zip)
    ooxml = staticmethod(make_ooxml)
    odt = staticmethod(make_odt)
    pdf = staticmethod(make_pdf)
    image = staticmethod(make_image)
    png_header_only = staticmethod(make_png_header_only)


@pytest.fixture(scope="session")
def samples() -> type[Samples]:
    return Samples
