"""Text clean-up shared by every format, and decoding of plain text and HTML bytes.

Pure functions without I/O, so they can be tested in-process.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from lms.extract.base import UNKNOWN_ENCODING, ExtractionError

# Format effectors that mean "new line" or "new paragraph" in the sources we read.
_NEWLINES = re.compile(r"\r\n?|[\x0b\x85\u2028]")
_PARAGRAPHS = re.compile(r"[\x0c\u2029]")
# Horizontal white space: TAB and every Unicode space separator (NBSP, thin space, ...).
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_SPACE_AROUND_NEWLINE = re.compile(r" ?\n ?")
_BLANK_LINES = re.compile(r"\n{3,}")

# Invisible format characters that only get in the way of search and display: soft hyphen,
# zero-width space/joiners, bidi embeddings/overrides/isolates (a spoofing vector), word
# joiner, invisible operators, BOM and interlinear annotation marks.
_INVISIBLE = [
    0x00AD,
    0x061C,
    0x180E,
    0xFEFF,
    *range(0x200B, 0x2010),
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2065),
    *range(0x2066, 0x2070),
    *range(0xFFF9, 0xFFFC),
]
_DELETE: dict[int, str | None] = {cp: None for cp in _INVISIBLE}
_DELETE.update({cp: None for cp in range(0x20)})  # C0 controls ...
_DELETE.update({cp: None for cp in range(0x7F, 0xA0)})  # ... DEL and C1 controls
_DELETE.update({cp: None for cp in range(0xD800, 0xE000)})  # lone surrogates (not UTF-8)
_DELETE[0x09] = " "
_DELETE[0x0A] = "\n"


def normalize_text(text: str) -> str:
    """Tidy extracted text for storage and indexing.

    NFC, line breaks unified to ``\\n`` (form feeds and U+2029 become paragraph breaks), control
    and invisible format characters removed, runs of horizontal white space collapsed to one
    space, spaces trimmed at line ends, at most one blank line between paragraphs.
    """
    text = _NEWLINES.sub("\n", text)
    text = _PARAGRAPHS.sub("\n\n", text)
    text = text.translate(_DELETE)
    # After removing controls, so a stray control between a letter and its combining mark
    # does not block composition.
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", text)
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


_BOMS = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Share of control characters (other than TAB/LF/CR/FF) above which "text" is really binary.
_MAX_CONTROL_SHARE = 0.01
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def bom_encoding(data: bytes) -> str | None:
    """The codec named by a byte-order mark at the start of ``data``, if any."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def _plausible(text: str) -> bool:
    if not text:
        return True
    return len(_CONTROLS.findall(text)) <= _MAX_CONTROL_SHARE * len(text)


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the NUL bytes fall on one side, as in mostly-Latin text."""
    if len(data) < 4 or len(data) % 2:
        return None
    sample = data[:65536]
    pairs = len(sample) // 2
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    if odd_nuls > 0.3 * pairs and even_nuls < 0.02 * pairs:
        return "utf-16-le"
    if even_nuls > 0.3 * pairs and odd_nuls < 0.02 * pairs:
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode text whose encoding is unknown or only declared.

    Order: a byte-order mark; ``declared`` (from an HTML ``<meta>``) if it decodes cleanly;
    UTF-8; UTF-16 without a BOM (NUL pattern); Windows-1258, the Vietnamese ANSI code page
    of older Windows files (its combining tone marks compose under NFC later).

    :raise ExtractionError: nothing above gives plausible text (binary data).
    """
    encoding = bom_encoding(data)
    if encoding:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise ExtractionError(UNKNOWN_ENCODING, detail=f"bad {encoding} after BOM") from None
        if _plausible(text):
            return text
        raise ExtractionError(UNKNOWN_ENCODING, detail="binary after BOM")
    candidates = [declared] if declared else []
    candidates += ["utf-8", _utf16_without_bom(data), "cp1258"]
    for candidate in candidates:
        if not candidate:
            continue
        try:
            text = data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
        if _plausible(text):
            return text
    raise ExtractionError(UNKNOWN_ENCODING, detail="no plausible encoding")


def python_codec(label: str) -> str | None:
    """Map a charset label from an HTML page to a Python codec name, or ``None`` if unknown.

    As in the WHATWG Encoding Standard, ``iso-8859-1``/``ascii`` mean windows-1252 and a
    ``<meta>`` claiming UTF-16 (readable as ASCII, so it cannot be) means UTF-8.
    """
    label = label.strip().lower()
    if label in {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "ascii", "us-ascii"}:
        return "cp1252"
    if label.startswith(("utf-16", "utf16")):
        return "utf-8"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None
