"""In-process units: normalisation, decoding, HTML and the XML block walker."""

from __future__ import annotations

import io
import unicodedata

import pytest

from lms.extract.base import UNKNOWN_ENCODING, UNSAFE_XML, ExtractionError, RefusedDocument
from lms.extract.htmltext import declared_charset, html_to_text
from lms.extract.samples import DEMO_DOCUMENTS, PROBE_TEXT
from lms.extract.text import decode_bytes, normalize_text, python_codec
from lms.extract.xmltext import BlockSpec, iter_blocks


def test_normalize_composes_nfd_to_nfc():
    nfd = unicodedata.normalize("NFD", PROBE_TEXT)

    assert normalize_text(nfd) == PROBE_TEXT
    assert unicodedata.is_normalized("NFC", normalize_text(nfd))


def test_normalize_composes_across_removed_controls():
    assert normalize_text("Ha\x00\u0300 No\u0302\u200b\u0323i") == "Hà Nội"


def test_normalize_removes_controls_and_invisible_characters():
    text = "A\x00B\x07C\x1b[31mD\x7fE\u0085F\u202eG\u2066H\ufeffI\u00adJ\ud800K"

    assert normalize_text(text) == "ABC[31mDE\nFGHIJK"


def test_normalize_tidies_whitespace_but_keeps_paragraphs():
    text = "  Đoạn\t một \u00a0 dòng 1  \r\n  dòng 2\r\n\r\n\r\n\r\nĐoạn hai\fTrang hai\u2029Cuối  "

    assert normalize_text(text) == ("Đoạn một dòng 1\ndòng 2\n\nĐoạn hai\n\nTrang hai\n\nCuối")


def test_normalize_is_idempotent_on_the_demo_texts():
    for doc in DEMO_DOCUMENTS:
        text = "\n\n".join(doc.paragraphs)
        assert normalize_text(text) == text
        assert normalize_text(normalize_text(text)) == text


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1258"]
)
def test_decode_bytes_finds_the_encoding(encoding, cp1258):
    text = f"{PROBE_TEXT}\nTiếng Việt có dấu: ắ ằ ẳ ẵ ặ ơ ư Ư"
    data = cp1258(text) if encoding == "cp1258" else text.encode(encoding)

    assert normalize_text(decode_bytes(data)) == text


def test_decode_bytes_utf16_without_bom_even_if_ascii():
    assert decode_bytes("Hello, world".encode("utf-16-le")) == "Hello, world"


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 4,  # binary with cp1258's undefined bytes
        b"\x00\x01\x02\x03" * 100,  # valid UTF-8, but control characters
        b"\xef\xbb\xbf" + b"\xff\xfe\xfd",  # a UTF-8 BOM on invalid UTF-8
    ],
)
def test_decode_bytes_refuses_binary(data):
    with pytest.raises(ExtractionError) as error:
        decode_bytes(data)

    assert error.value.message == UNKNOWN_ENCODING


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("UTF-8", "utf-8"),
        ("windows-1258", "cp1258"),
        ("iso-8859-1", "cp1252"),
        ("utf-16le", "utf-8"),
        ("x-no-such-thing", None),
    ],
)
def test_python_codec_follows_whatwg_where_it_matters(label, codec):
    assert python_codec(label) == codec


def test_declared_charset_reads_both_meta_forms():
    assert declared_charset(b'<meta charset="windows-1258">') == "cp1258"
    assert (
        declared_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=utf-8">')
        == "utf-8"
    )
    assert declared_charset(b" " * 5000 + b'<meta charset="windows-1258">') is None


def test_html_bom_wins_over_meta_and_pre_keeps_lines():
    page = '<meta charset="windows-1258"><pre>dòng 1\ndòng 2</pre><p>&#7853; &quot;x&quot;'

    assert normalize_text(html_to_text(page.encode("utf-8-sig"))) == 'dòng 1\ndòng 2\n\nậ "x"'


def test_html_unclosed_script_hides_the_rest_only():
    assert normalize_text(html_to_text(b"<p>Hi\xe1\xbb\x87n<script>bad()</p><p>lost")) == "Hiện"


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DOCX_LIKE = BlockSpec(
    blocks=frozenset({"p"}),
    text=frozenset({"t"}),
    inline={"tab": "\t", "br": "\n"},
    skip=frozenset({"del", "Fallback"}),
)


def _blocks(xml: str, spec: BlockSpec = _DOCX_LIKE) -> list[str]:
    return list(iter_blocks(io.BytesIO(xml.encode()), spec))


def test_blocks_keep_order_skip_deleted_text_and_split_text_boxes():
    xml = (
        f'<w:document xmlns:w="{W}" xmlns:mc="urn:mc"><w:body>'
        "<w:p><w:r><w:t>Một</w:t><w:tab/><w:t>hai</w:t></w:r>"
        "<w:del><w:r><w:delText>xóa</w:delText><w:t>cũng xóa</w:t></w:r></w:del>"
        "<w:r><mc:AlternateContent><mc:Choice><w:txbxContent><w:p><w:r><w:t>Hộp chữ</w:t>"
        "</w:r></w:p></w:txbxContent></mc:Choice><mc:Fallback><w:txbxContent><w:p><w:r>"
        "<w:t>Hộp chữ</w:t></w:r></w:p></w:txbxContent></mc:Fallback></mc:AlternateContent>"
        "<w:t>ba</w:t><w:br/><w:t>bốn</w:t></w:r></w:p>"
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>ô</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
        "<w:p/></w:body></w:document>"
    )

    assert _blocks(xml) == ["Một\thaiba\nbốn", "Hộp chữ", "ô", ""]


def test_blocks_survive_very_deep_nesting():
    depth = 100_000
    xml = f'<w:p xmlns:w="{W}">' + "<w:r>" * depth + "<w:t>sâu</w:t>" + "</w:r>" * depth + "</w:p>"

    assert _blocks(xml) == ["sâu"]


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE x [<!ENTITY a "b">]>',
        '<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd">',
        '<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
        "<!DOCTYPE x>",
    ],
)
def test_any_doctype_is_refused(prolog):
    with pytest.raises(RefusedDocument) as refused:
        _blocks(f'<?xml version="1.0"?>{prolog}<w:p xmlns:w="{W}"><w:t>x</w:t></w:p>')

    assert refused.value.message == UNSAFE_XML
