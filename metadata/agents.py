"""Creators and contributors as agents: a person (family and given names) or an organisation.

The profile asks for "full name (family name first) or unit name" in one plain value, so
formats that distinguish people from organisations (schema.org, RDF agents, BibTeX, CSL-JSON,
MARC 100/110, MODS ``name@type``) need to tell them apart from the text:

- an organisation starts with a Vietnamese unit word (``Phòng``, ``Khoa``, ``Học viện``,
  ``Nhà xuất bản``...), contains an organisation word (``University``, ``Ministry``...), or
  is one word written like a brand or acronym (``VnExpress``, ``BQP``);
- anything else is a person. ``Family, Given`` is taken as written; a name without a comma
  is read family-name-first when it looks Vietnamese (diacritics, or a common Vietnamese
  family name first), otherwise given-names-first (``John Smith``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Leading words of Vietnamese unit and organisation names (compared without case).
_VI_ORG_HEADS = (
    "ban", "báo", "bệnh viện", "bộ", "bộ môn", "bộ tư lệnh", "cơ quan", "công ty", "cục",
    "đài", "đại học", "đảng ủy", "đoàn", "hệ", "hiệp hội", "hội", "học viện", "khoa",
    "liên đoàn", "lữ đoàn", "nhà xuất bản", "nxb", "phòng", "quân chủng", "quân đoàn",
    "quân khu", "sở", "sư đoàn", "tạp chí", "tập đoàn", "thư viện", "tiểu đoàn", "tổng cục",
    "trung đoàn", "trung tâm", "trường", "ủy ban", "văn phòng", "viện",
)
_ORG_WORDS = frozenset({
    "academy", "agency", "association", "bureau", "center", "centre", "college", "committee",
    "company", "corporation", "council", "department", "division", "faculty", "inc",
    "institute", "library", "ltd", "ministry", "news", "office", "press", "publisher",
    "publishing", "school", "society", "university",
})
# The most common Vietnamese family names, written without diacritics.
_VI_FAMILY_NAMES = frozenset({
    "bui", "cao", "chu", "dang", "dao", "dinh", "do", "doan", "duong", "ha", "ho", "hoang",
    "huynh", "khuat", "kieu", "la", "lam", "le", "luong", "ly", "mai", "ngo", "nguyen",
    "nong", "pham", "phan", "phung", "quach", "ta", "thai", "tieu", "to", "ton", "tran",
    "trinh", "truong", "vi", "vo", "vu", "vuong",
})
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Agent:
    """A creator or contributor: ``family``/``given`` for a person, ``name`` always."""

    name: str
    is_organisation: bool
    family: str | None = None
    given: str | None = None

    @property
    def inverted(self) -> str:
        """``Family, Given`` for a person (MARC, BibTeX), the name itself otherwise."""
        if self.is_organisation or not self.family:
            return self.name
        return f"{self.family}, {self.given}" if self.given else self.family


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _has_vietnamese_marks(text: str) -> bool:
    return _fold(text) != text.lower()


def looks_like_organisation(name: str) -> bool:
    """True for a unit or organisation name (see the module docstring)."""
    text = " ".join(name.split())
    lowered = text.lower()
    if any(lowered == head or lowered.startswith(head + " ") for head in _VI_ORG_HEADS):
        return True
    words = _WORD.findall(text)
    if any(word.lower() in _ORG_WORDS for word in words):
        return True
    if len(words) == 1 and "," not in text:
        word = words[0]
        # VnExpress, BQP: capitals inside one word. A single plain word ("Homer") is a person.
        return any(c.isupper() for c in word[1:])
    return False


def agent(name: str) -> Agent:
    """The agent a creator/contributor value names."""
    text = " ".join(name.split())
    if looks_like_organisation(text):
        return Agent(text, True)
    if "," in text:
        family, _, given = text.partition(",")
        return Agent(text, False, family.strip() or None, given.strip() or None)
    parts = text.split(" ")
    if len(parts) == 1:
        return Agent(text, False, text, None)
    vietnamese = _has_vietnamese_marks(text) or _fold(parts[0]) in _VI_FAMILY_NAMES
    if vietnamese:
        return Agent(text, False, parts[0], " ".join(parts[1:]))
    return Agent(text, False, parts[-1], " ".join(parts[:-1]))
