"""What format readers return (:class:`RawText`) and raise inside the extraction worker.

Every ``message`` is shown to curators as is: short, fixed wording, never a path, a library's
own error text or a traceback. ``detail`` is a short token for the server log only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RawText:
    """What a format reader found, before normalisation."""

    text: str
    pages: int | None = None
    #: a note for curators about a partial result (pages that could not be read, ...)
    note: str = ""


class ExtractionError(Exception):
    """The document cannot be read; ``message`` is safe to show, ``detail`` goes to the log.

    A ``message`` of ``None`` means "damaged or invalid file": the worker words it with the
    format's label, so readers need not know which media type they were called for.
    """

    def __init__(self, message: str | None = None, *, detail: str = "") -> None:
        super().__init__(message or detail or "damaged document")
        self.message = message
        self.detail = detail


class DamagedDocument(ExtractionError):
    """The file is not a valid document of its declared type."""


class RefusedDocument(ExtractionError):
    """The file looks hostile (zip bomb, DTD or entities in XML) and was not read further."""


# Messages for curators (English; the app may translate them by exact match).
UNSUPPORTED = "no text extraction for this file type"
NOT_FOUND = "file not found or unreadable"
NO_TEXT = "no text found in the document"
SCANNED = "no text layer: scanned document?"
NO_PAGES = "the PDF has no pages"
OUT_OF_MEMORY = "memory limit exceeded"
ZIP_BOMB = "archive refused: too large when uncompressed (zip bomb?)"
TOO_MANY_ENTRIES = "archive refused: too many entries"
UNSAFE_XML = "unsafe XML refused: DTD or entity declarations are not allowed"
ENCRYPTED = "encrypted or password-protected document: text cannot be extracted"
UNKNOWN_ENCODING = "unknown text encoding or not a text file"

#: Starts the worker's one result line on stderr (see :mod:`lms.extract.worker`).
RESULT_MARKER = "LMS-EXTRACT-RESULT "
