"""Supported media types and the in-process dispatch to the format readers.

:func:`read_document` parses hostile input in the current process with no limits: call it
only inside the worker (:mod:`lms.extract.worker`), or from tests on files they made.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lms.extract.base import RawText
from lms.labelled import LabelledEnum


class MediaType(LabelledEnum):
    """The media types we read; the label is the short name messages to curators use."""

    PDF = "application/pdf", "PDF"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX"
    PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation", "PPTX"
    XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"
    ODT = "application/vnd.oasis.opendocument.text", "ODT"
    ODP = "application/vnd.oasis.opendocument.presentation", "ODP"
    ODS = "application/vnd.oasis.opendocument.spreadsheet", "ODS"
    HTML = "text/html", "HTML"
    TEXT = "text/plain", "text"


SUPPORTED_MEDIA_TYPES = frozenset(MediaType)


def normalize_media_type(media_type: str) -> str:
    """``"Text/HTML; charset=x"`` -> ``"text/html"``.

    Parameters are dropped on purpose: the type comes from a sniffer whose charset guess is
    worse than our own detection for Vietnamese legacy encodings.
    """
    return media_type.split(";", 1)[0].strip().lower()


def _reader(media_type: str) -> Callable[[Path], RawText]:
    # Imported here so that the parent process, which only needs the tables above, never
    # loads a parser.
    if media_type == MediaType.PDF:
        from lms.extract.pdf import extract_pdf

        return extract_pdf
    if media_type in {MediaType.HTML, MediaType.TEXT}:
        from lms.extract.htmltext import extract_html, extract_plain

        return extract_html if media_type == MediaType.HTML else extract_plain
    from lms.extract import office

    readers: dict[str, Callable[[Path], RawText]] = {
        MediaType.DOCX: office.extract_docx,
        MediaType.PPTX: office.extract_pptx,
        MediaType.XLSX: office.extract_xlsx,
        MediaType.ODT: office.extract_odf,
        MediaType.ODS: office.extract_odf,
        MediaType.ODP: lambda path: office.extract_odf(path, count_pages=True),
    }
    return readers[media_type]


def read_document(path: Path, media_type: str) -> RawText:
    """Raw (not yet normalised) text of ``path`` read as ``media_type``.

    :raise KeyError: unsupported media type.
    :raise ExtractionError: a document we refuse or cannot read; anything else a library
        raises on a damaged file also propagates (the worker maps it).
    """
    return _reader(normalize_media_type(media_type))(path)
