"""Text of PDF files with pypdf.

pypdf is pure Python (no native code to crash the worker), maintained, reads ToUnicode maps
(so embedded subset fonts such as DejaVu give back Vietnamese), and since 5.x/6.x refuses
cyclic page trees and caps nested form XObjects. Everything it cannot handle is contained by
the worker's process limits anyway.
"""

from __future__ import annotations

import logging
from pathlib import Path

from lms.extract.base import ENCRYPTED, DamagedDocument, ExtractionError, RawText

log = logging.getLogger(__name__)


def extract_pdf(path: Path) -> RawText:
    """Text of every page, pages separated by a paragraph break; ``pages`` = page count.

    A page that fails on its own is skipped and counted in ``note``.

    :raise ExtractionError: encrypted with a non-empty password.
    :raise DamagedDocument: the file cannot be opened or no page can be read.
    """
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError(ENCRYPTED, detail="PDF user password")
        pages = list(reader.pages)
    except (DependencyError, FileNotDecryptedError, NotImplementedError):
        # AES without the optional crypto library, or an unknown security handler.
        raise ExtractionError(ENCRYPTED, detail="PDF encryption") from None
    except PyPdfError as exc:
        raise DamagedDocument(detail=type(exc).__name__) from None

    texts: list[str] = []
    failed = 0
    for page in pages:
        try:
            texts.append(page.extract_text() or "")
        except MemoryError:
            raise
        except Exception as exc:  # one bad page must not cost the text of the others
            log.debug("PDF page failed: %s", type(exc).__name__)
            failed += 1
    if pages and failed == len(pages):
        raise DamagedDocument(detail="no page readable")
    notes = []
    if failed:
        notes.append(f"text could not be read from {failed} of {len(pages)} pages")
    blank = sum(1 for text in texts if not text.strip())
    if texts and 0 < blank < len(texts):
        notes.append(f"{blank} of {len(pages)} pages have no text layer (scanned?)")
    note = "; ".join(notes)
    return RawText("\n\n".join(texts), pages=len(pages), note=note)
