"""Text of PDF files with pypdfium2 (PDFium, the engine of Chromium's PDF viewer).

The same library renders the first page for thumbnails (:mod:`lms.files.thumbnail_worker`),
so one PDF parser is shipped and kept up to date. PDFium reads ToUnicode maps (embedded subset
fonts such as DejaVu give back Vietnamese), refuses cyclic page trees and caps nested form
XObjects. It is native code: it only ever runs inside the extraction worker, whose address
space, CPU time and output limits and wall-clock kill contain a crash or a runaway file
(:mod:`lms.extract.runner`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from lms.extract.base import ENCRYPTED, DamagedDocument, ExtractionError, RawText

log = logging.getLogger(__name__)


def extract_pdf(path: Path) -> RawText:
    """Text of every page, pages separated by a paragraph break; ``pages`` = page count.

    A page that fails on its own is skipped and counted in ``note``.

    :raise ExtractionError: encrypted with a non-empty password, or an unknown security handler.
    :raise DamagedDocument: the file cannot be opened or no page can be read.
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise ExtractionError(ENCRYPTED, detail="PDF encryption") from None
        if exc.err_code == pdfium_c.FPDF_ERR_FILE:
            raise FileNotFoundError(path) from None
        raise DamagedDocument(detail=f"PdfiumError {exc.err_code}") from None
    try:
        page_count = len(document)
        texts: list[str] = []
        failed = 0
        for index in range(page_count):
            try:
                texts.append(_page_text(document, index))
            except MemoryError:
                raise
            except Exception as exc:  # one bad page must not cost the text of the others
                log.debug("PDF page failed: %s", type(exc).__name__)
                failed += 1
    finally:
        document.close()
    if page_count and failed == page_count:
        raise DamagedDocument(detail="no page readable")
    notes = []
    if failed:
        notes.append(f"text could not be read from {failed} of {page_count} pages")
    blank = sum(1 for text in texts if not text.strip())
    if texts and 0 < blank < len(texts):
        notes.append(f"{blank} of {page_count} pages have no text layer (scanned?)")
    return RawText("\n\n".join(texts), pages=page_count, note="; ".join(notes))


def _page_text(document, index: int) -> str:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            # The bounded form decodes all of Unicode (the range form stops at UCS-2) and
            # keeps to the visible page, as a reader would see it.
            return textpage.get_text_bounded()
        finally:
            textpage.close()
    finally:
        page.close()
