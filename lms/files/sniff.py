"""The media type of a file, from its content only (libmagic), compared with its name.

The type the client claimed is never consulted, and the extension only decides whether the
content *agrees* with the name. libmagic's answers are normalised: OOXML and ODF documents are
recognised by looking inside the ZIP (``[Content_Types].xml``, ``mimetype``) with size caps,
because libmagic calls a DOCX ``application/zip`` when its entries come in another order.
"""

from __future__ import annotations

import io
import os
import re
import struct
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import magic
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

# libmagic reads at most this much of a file; we hand it the same head.
HEAD_BYTES = 1024 * 1024
MAX_ZIP_ENTRIES = 20_000
MAX_CONTENT_TYPES_BYTES = 256 * 1024
MAX_MIMETYPE_BYTES = 200

OCTET_STREAM = "application/octet-stream"
ZIP = "application/zip"
EXECUTABLE = "application/vnd.microsoft.portable-executable"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOCM = "application/vnd.ms-word.document.macroEnabled.12"
XLSM = "application/vnd.ms-excel.sheet.macroEnabled.12"
PPTM = "application/vnd.ms-powerpoint.presentation.macroEnabled.12"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
EPUB = "application/epub+zip"

# Main part content type in [Content_Types].xml -> package type (keys compared lower-cased:
# media types are case-insensitive).
_OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.ms-word.document.macroEnabled.main+xml": DOCM,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": XLSM,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": PPTM,
}
_OOXML_MAIN_PARTS = {key.lower(): value for key, value in _OOXML_MAIN_PARTS.items()}
_PACKAGE_PREFIXES = ("application/vnd.openxmlformats", "application/vnd.oasis",
                     "application/vnd.ms-")
_ODF_TYPES = frozenset({ODT, ODS, ODP, "application/vnd.oasis.opendocument.graphics", EPUB})

# libmagic spellings that vary across versions -> the one we use.
_ALIASES = {
    "application/x-dosexec": EXECUTABLE,
    "application/x-msdownload": EXECUTABLE,
    "application/xml": "text/xml",
    "image/svg": "image/svg+xml",
    "audio/mp3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
    "application/ogg": "audio/ogg",
    "video/x-m4v": "video/mp4",
    "audio/x-wav": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "application/x-zip-compressed": ZIP,
}

# Extensions that announce a type; content disagreeing with them is a mismatch.
EXTENSIONS: dict[str, frozenset[str]] = {
    ext: frozenset(types)
    for ext, types in {
        "pdf": {"application/pdf"},
        "png": {"image/png"},
        "jpg": {"image/jpeg"},
        "jpeg": {"image/jpeg"},
        "jpe": {"image/jpeg"},
        "gif": {"image/gif"},
        "webp": {"image/webp"},
        "bmp": {"image/bmp"},
        "tif": {"image/tiff"},
        "tiff": {"image/tiff"},
        "svg": {"image/svg+xml"},
        "mp4": {"video/mp4"},
        "m4v": {"video/mp4"},
        "m4a": {"audio/mp4", "video/mp4", "audio/x-m4a"},
        "webm": {"video/webm", "audio/webm"},
        "mp3": {"audio/mpeg"},
        "ogg": {"audio/ogg", "video/ogg"},
        "oga": {"audio/ogg"},
        "ogv": {"video/ogg"},
        "opus": {"audio/ogg"},
        "wav": {"audio/wav"},
        "docx": {DOCX},
        "xlsx": {XLSX},
        "pptx": {PPTX},
        "docm": {DOCM},
        "xlsm": {XLSM},
        "pptm": {PPTM},
        "odt": {ODT},
        "ods": {ODS},
        "odp": {ODP},
        "epub": {EPUB},
        "doc": {"application/msword", "application/vnd.ms-office"},
        "xls": {"application/vnd.ms-excel", "application/vnd.ms-office"},
        "ppt": {"application/vnd.ms-powerpoint", "application/vnd.ms-office"},
        "zip": {ZIP},
        "txt": {"text/plain"},
        "csv": {"text/csv", "text/plain"},
        "md": {"text/plain", "text/markdown"},
        "html": {"text/html"},
        "htm": {"text/html"},
        "xml": {"text/xml"},
        "json": {"application/json", "text/plain"},
        "exe": {EXECUTABLE},
        "dll": {EXECUTABLE},
    }.items()
}

# Content that a browser could execute or render as a document in our origin.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "text/javascript",
        "application/javascript",
        "application/x-shockwave-flash",
        EXECUTABLE,
        "application/x-executable",
        "application/x-sharedlib",
        "application/x-pie-executable",
        "application/x-mach-binary",
        "text/x-shellscript",
    }
)

# Markers of HTML or script hidden in another format (a %PDF+HTML polyglot sniffs as PDF).
_HTML_MARKERS = re.compile(
    rb"<\s*(?:script|html|body|svg|iframe|object|embed|img|meta|!doctype\s+html)"
    rb"|javascript:",
    re.IGNORECASE,
)
_SVG = re.compile(rb"<svg[\s>]", re.IGNORECASE)


@dataclass(frozen=True)
class Sniffed:
    """What the content is, and whether the original file name agrees.

    ``mismatch`` is true when the name's extension announces a type the content is not
    (``report.pdf`` holding an EXE or HTML), or when the content is active (HTML, SVG, XML,
    script, executable) and the name does not say so. Serve a mismatch as an attachment.
    """

    media_type: str
    extension_matches: bool
    mismatch: bool


_magic_lock = threading.Lock()
_magic: magic.Magic | None = None


def _libmagic(head: bytes) -> str:
    global _magic
    # A libmagic handle is not thread-safe; one shared handle behind a lock.
    with _magic_lock:
        if _magic is None:
            _magic = magic.Magic(mime=True)
        return _magic.from_buffer(head)


def _zip_entry_count(fh: BinaryIO, size: int) -> int | None:
    """Entries announced by the end-of-central-directory record, read before ``zipfile``
    builds one object per entry (a crafted directory could claim millions)."""
    tail_size = min(size, 22 + 65535)
    fh.seek(size - tail_size)
    tail = fh.read(tail_size)
    position = tail.rfind(b"PK\x05\x06")
    if position < 0 or position + 22 > len(tail):
        return None
    (entries,) = struct.unpack("<H", tail[position + 10 : position + 12])
    return None if entries == 0xFFFF else entries  # 0xFFFF: ZIP64, count elsewhere


def _read_entry(archive: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        return None
    with archive.open(info) as entry:
        # The declared size may lie: never read more than the limit.
        data = entry.read(limit + 1)
    return data if len(data) <= limit else None


def _ooxml_type(content_types: bytes) -> str | None:
    try:
        root = ElementTree.fromstring(content_types, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return None
    for element in root:
        if element.tag.rsplit("}", 1)[-1] != "Override":
            continue
        package = _OOXML_MAIN_PARTS.get((element.get("ContentType") or "").strip().lower())
        if package is not None:
            return package
    return None


def _zip_package_type(fh: BinaryIO, size: int) -> str | None:
    """OOXML or ODF type of a ZIP, or ``None`` if it is another (or a broken) ZIP."""
    try:
        count = _zip_entry_count(fh, size)
        if count is None or count > MAX_ZIP_ENTRIES:
            return None
        fh.seek(0)
        with zipfile.ZipFile(fh) as archive:
            content_types = _read_entry(archive, "[Content_Types].xml", MAX_CONTENT_TYPES_BYTES)
            if content_types is not None:
                return _ooxml_type(content_types)
            mimetype = _read_entry(archive, "mimetype", MAX_MIMETYPE_BYTES)
            if mimetype is not None:
                value = mimetype.decode("ascii", "replace").strip()
                return value if value in _ODF_TYPES else None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError,
            NotImplementedError, ValueError):
        # RuntimeError: encrypted entry; NotImplementedError: unknown compression.
        return None
    return None


def _normalise(raw: str, head: bytes) -> str:
    media_type = _ALIASES.get(raw, raw)
    if media_type == OCTET_STREAM and head.startswith(b"MZ"):
        # A bare DOS/PE header libmagic does not name is still an executable.
        return EXECUTABLE
    if media_type in ("text/xml", "text/plain") and _SVG.search(head[:4096]):
        # An SVG without an XML declaration or namespace libmagic may call text.
        return "image/svg+xml"
    return media_type


def _detect(fh: BinaryIO, size: int) -> str:
    fh.seek(0)
    head = fh.read(HEAD_BYTES)
    if not head:
        return "application/x-empty"
    media_type = _normalise(_libmagic(head), head)
    if head.startswith(b"PK\x03\x04") and (
        media_type in (ZIP, OCTET_STREAM) or media_type.startswith(_PACKAGE_PREFIXES)
    ):
        # libmagic's answer for packages depends on entry order and version: look inside.
        package = _zip_package_type(fh, size)
        if package is not None:
            return package
        return media_type if media_type.startswith(_PACKAGE_PREFIXES) else ZIP
    return media_type


def extension_of(filename: str | None) -> str:
    """The lower-case extension without its dot (``""`` if none)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem.strip(" .") else ""


def _judge(media_type: str, filename: str | None) -> Sniffed:
    extension = extension_of(filename)
    matches = media_type in EXTENSIONS.get(extension, frozenset())
    mismatch = not matches and (extension in EXTENSIONS or media_type in ACTIVE_TYPES)
    return Sniffed(media_type, extension_matches=matches, mismatch=mismatch)


def sniff(source: Path | str | bytes | BinaryIO, filename: str | None) -> Sniffed:
    """Sniff a path, bytes or a seekable binary file; ``filename`` is the client's name for it
    (used only to judge agreement, never to decide the type)."""
    if isinstance(source, bytes):
        return sniff_bytes(source, filename)
    if isinstance(source, str | Path):
        return sniff_file(source, filename)
    return sniff_stream(source, filename)


def sniff_file(path: Path | str, filename: str | None) -> Sniffed:
    """Sniff the file at ``path``; ``filename`` is the name the client gave."""
    with open(path, "rb") as fh:
        return sniff_stream(fh, filename)


def sniff_stream(fh: BinaryIO, filename: str | None) -> Sniffed:
    """Sniff a seekable binary file object (its position is left at 0)."""
    size = fh.seek(0, os.SEEK_END)
    try:
        return _judge(_detect(fh, size), filename)
    finally:
        fh.seek(0)


def sniff_bytes(data: bytes, filename: str | None) -> Sniffed:
    """Sniff an in-memory file."""
    return sniff_stream(io.BytesIO(data), filename)


def has_active_markup(fh: BinaryIO, limit: int = HEAD_BYTES) -> bool:
    """Whether the first ``limit`` bytes hold HTML or script markers (a polyglot suspect).

    The file is served with ``nosniff`` and its sniffed type anyway; this decides what is
    never *processed* (thumbnails, previews).
    """
    fh.seek(0)
    try:
        return _HTML_MARKERS.search(fh.read(limit)) is not None
    finally:
        fh.seek(0)
