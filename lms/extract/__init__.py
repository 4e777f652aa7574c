"""Full-text extraction for the indexing worker: PDF, OOXML, OpenDocument, HTML and text.

``extract_text(path, media_type)`` runs the parsers in a separate, resource-limited process
and always answers with an :class:`Extraction`; it never raises for a bad document and never
truncates the text. Independent of the database models.
"""

from lms.extract.core import SUPPORTED_MEDIA_TYPES
from lms.extract.runner import Extraction, Status, extract_text

__all__ = ["SUPPORTED_MEDIA_TYPES", "Extraction", "Status", "extract_text"]
