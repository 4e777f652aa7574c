"""Metadata as a reader sees it: grouped by term, labelled in the UI language."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from metadata import Metadata, Profile, Statement
from metadata.profile import DCMI_TYPE_VOCABULARY

# Terms shown apart on the record page (title block), not in the metadata table.
HEADLINE_TERMS = ("title",)
TYPE_TERMS = ("type",)


@dataclass(frozen=True)
class ShownValue:
    text: str
    lang: str | None
    is_link: bool = False


@dataclass(frozen=True)
class ShownTerm:
    term: str
    label: str
    values: list[ShownValue]


LANGUAGE_NAMES = {
    "vi": {"vi": "Tiếng Việt", "en": "Vietnamese"}, "en": {"vi": "Tiếng Anh", "en": "English"},
    "fr": {"vi": "Tiếng Pháp", "en": "French"}, "ru": {"vi": "Tiếng Nga", "en": "Russian"},
    "zh": {"vi": "Tiếng Trung", "en": "Chinese"}, "lo": {"vi": "Tiếng Lào", "en": "Lao"},
    "km": {"vi": "Tiếng Khmer", "en": "Khmer"},
}

FORMAT_NAMES = {
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (DOCX)",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation":
        "PowerPoint (PPTX)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (XLSX)",
    "application/vnd.oasis.opendocument.text": "OpenDocument (ODT)",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument (ODS)",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument (ODP)",
    "application/msword": "Word (DOC)", "application/vnd.ms-excel": "Excel (XLS)",
    "application/vnd.ms-powerpoint": "PowerPoint (PPT)", "application/rtf": "RTF",
    "application/epub+zip": "EPUB", "text/csv": "CSV", "application/json": "JSON",
    "application/xml": "XML", "text/xml": "XML", "image/svg+xml": "SVG", "image/tiff": "TIFF",
    "application/zip": "ZIP", "text/plain": "TXT", "text/html": "HTML",
    "image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WebP",
    "video/mp4": "MP4", "video/webm": "WebM", "audio/mpeg": "MP3", "audio/ogg": "OGG",
}


def language_name(code: str, lang: str) -> str:
    return LANGUAGE_NAMES.get(code.lower(), {}).get(lang, code)


def format_name(media_type: str | None) -> str:
    """A file format as people name it ("Word (DOCX)"), never a bare media type."""
    if not media_type:
        return ""
    known = FORMAT_NAMES.get(media_type)
    if known is not None:
        return known
    kind, _slash, subtype = media_type.partition("/")
    subtype = subtype.split(";")[0].removeprefix("x-").removeprefix("vnd.")
    if subtype and len(subtype) <= 5 and subtype.isalnum():
        return subtype.upper()
    return str({"image": _l("Image"), "video": _l("Video"), "audio": _l("Audio"),
                "text": _l("Text")}.get(kind, _l("Other file")))


def value_text(statement: Statement, profile: Profile, lang: str) -> str:
    """A controlled value's label in ``lang``; a language code's name; any other value as is."""
    if statement.term == "language":
        return language_name(statement.value, lang)
    scheme = statement.scheme
    if statement.term in TYPE_TERMS:
        scheme = scheme or DCMI_TYPE_VOCABULARY
    if scheme and scheme in profile.vocabularies:
        vocabulary = profile.vocabulary(scheme)
        if vocabulary.contains(statement.value):
            return vocabulary.label(statement.value, lang)
    return statement.value


def shown_terms(metadata: Metadata, profile: Profile, lang: str) -> list[ShownTerm]:
    """Every term present, in profile order (terms not on the profile last), labelled."""
    terms = sorted(set(metadata.terms()) - set(HEADLINE_TERMS), key=profile.term_rank)
    shown = []
    for term in terms:
        spec = profile.term(term)
        values = [
            ShownValue(value_text(s, profile, lang), s.lang,
                       is_link=s.value.startswith(("http://", "https://")))
            for s in metadata.get(term)
        ]
        shown.append(ShownTerm(term, spec.label(lang), values))
    return shown
