"""What kind of work a record is, for formats that type their entries (BibTeX, RIS, CSL-JSON,
MARC 21, MODS): from the DCMI Type and, for texts, the genre.

The profile has no genre term; in Vietnamese the genre is the head of the title ("Giáo trình
Hậu cần", "Luận án tiến sĩ...", "Báo cáo tổng kết..."), so a text's genre is read from the
beginning of its titles (in any language). One table maps each genre to every format's type,
so the formats cannot disagree. ``docs/crosswalks.md`` lists it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from metadata.model import Metadata


@dataclass(frozen=True, slots=True)
class Genre:
    key: str
    bibtex: str          # entry type
    ris: str             # TY
    csl: str             # CSL 1.0.2 type
    marc_type: str       # leader/06
    marc_level: str      # leader/07
    mods_resource: str   # typeOfResource
    label: str           # English genre name (MODS genre, BibTeX/RIS type of work)


def _g(key: str, bibtex: str, ris: str, csl: str, marc: str, mods: str, label: str) -> Genre:
    return Genre(key, bibtex, ris, csl, marc[0], marc[1], mods, label)


GENRES: dict[str, Genre] = {g.key: g for g in (
    _g("textbook", "book", "BOOK", "book", "am", "text", "textbook"),
    _g("book", "book", "BOOK", "book", "am", "text", "book"),
    _g("dictionary", "book", "DICT", "book", "am", "text", "dictionary"),
    _g("lecture", "misc", "GEN", "document", "am", "text", "lecture notes"),
    _g("lesson-plan", "misc", "GEN", "document", "am", "text", "lesson plan"),
    _g("article", "article", "JOUR", "article-journal", "ab", "text", "article"),
    _g("phd-thesis", "phdthesis", "THES", "thesis", "am", "text", "doctoral thesis"),
    _g("masters-thesis", "mastersthesis", "THES", "thesis", "am", "text", "master's thesis"),
    _g("report", "techreport", "RPRT", "report", "am", "text", "report"),
    _g("proceedings", "proceedings", "CONF", "book", "am", "text", "conference proceedings"),
    _g("regulation", "misc", "STAT", "legislation", "am", "text", "regulation"),
    _g("text", "book", "BOOK", "book", "am", "text", "text"),
    _g("document", "misc", "GEN", "document", "am", "text", "document"),
    _g("video", "misc", "VIDEO", "motion_picture", "gm", "moving image", "video"),
    _g("audio", "misc", "SOUND", "song", "im", "sound recording-nonmusical", "sound recording"),
    _g("image", "misc", "ART", "graphic", "km", "still image", "image"),
    _g("dataset", "misc", "DATA", "dataset", "mm", "software, multimedia", "dataset"),
    _g("software", "misc", "COMP", "software", "mm", "software, multimedia", "software"),
    _g("interactive", "misc", "ELEC", "webpage", "mm", "software, multimedia",
       "interactive resource"),
    _g("collection", "misc", "GEN", "collection", "pc", "mixed material", "collection"),
    _g("event", "misc", "GEN", "event", "pm", "mixed material", "event"),
    _g("object", "misc", "GEN", "document", "rm", "three dimensional object",
       "physical object"),
    _g("service", "misc", "ELEC", "webpage", "mm", "software, multimedia", "service"),
)}

_BY_DCMI_TYPE = {
    "Text": "text", "MovingImage": "video", "Sound": "audio", "Image": "image",
    "StillImage": "image", "Dataset": "dataset", "Software": "software",
    "InteractiveResource": "interactive", "Collection": "collection", "Event": "event",
    "PhysicalObject": "object", "Service": "service",
}

# Title heads (lower case, without diacritics) naming a text's genre, longest first.
_TITLE_HEADS = sorted({
    "giao trinh": "textbook", "textbook": "textbook", "sach giao khoa": "textbook",
    "sach chuyen khao": "book", "sach": "book", "chuyen khao": "book", "monograph": "book",
    "tu dien": "dictionary", "dictionary": "dictionary",
    "bai giang": "lecture", "lecture": "lecture", "giao an": "lesson-plan",
    "bai bao": "article", "article": "article",
    "luan an": "phd-thesis", "dissertation": "phd-thesis", "doctoral thesis": "phd-thesis",
    "luan van": "masters-thesis", "khoa luan": "masters-thesis", "thesis": "masters-thesis",
    "bao cao": "report", "report": "report",
    "ky yeu": "proceedings", "proceedings": "proceedings",
    "quyet dinh": "regulation", "thong tu": "regulation", "nghi dinh": "regulation",
    "chi thi": "regulation", "dieu lenh": "regulation", "luat": "regulation",
    "tai lieu": "document",
}.items(), key=lambda item: -len(item[0]))


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c))
                    .lower().split())


def _title_genre(metadata: Metadata) -> str | None:
    for title in metadata.values("title"):
        folded = _fold(title)
        for head, key in _TITLE_HEADS:
            if folded == head or folded.startswith((head + " ", head + ":")):
                return key
    return None


def genre_of(metadata: Metadata) -> Genre:
    """The record's genre: its first DCMI Type, refined by the title for texts."""
    types = metadata.values("type")
    key = _BY_DCMI_TYPE.get(types[0], "text") if types else None
    if key in ("text", None):
        key = _title_genre(metadata) or key or "document"
    return GENRES[key]
