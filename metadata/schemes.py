"""Syntax encoding schemes: W3CDTF dates, BCP 47 / ISO 639 languages, IMT media types, URIs.

Each ``parse_*`` function returns the normalised value, or None when the value does not
conform. None of them raises on user input.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from urllib.parse import urlsplit

from metadata.terms import DCMI_TYPES, DCMITYPE_NS

# --- W3CDTF -------------------------------------------------------------------------------

_W3CDTF = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?"
    r"(?P<tz>Z|[+-](?P<tzh>\d{2}):(?P<tzm>\d{2})))?)?)?"
)


@dataclass(frozen=True, slots=True)
class W3CDate:
    """A parsed W3CDTF value; ``precision`` is year, year-month, date or datetime."""

    text: str
    precision: str
    year: int
    month: int | None = None
    day: int | None = None


def parse_w3cdtf(value: str) -> W3CDate | None:
    """Parse a W3CDTF date (YYYY, YYYY-MM, YYYY-MM-DD, or a date-time with a TZ designator)."""
    match = _W3CDTF.fullmatch(value)
    if match is None:
        return None
    year = int(match["y"])
    if match["m"] is None:
        return W3CDate(value, "year", year) if year > 0 else None
    month = int(match["m"])
    if match["d"] is None:
        return W3CDate(value, "year-month", year, month) if year > 0 and 1 <= month <= 12 else None
    day = int(match["d"])
    try:
        dt.date(year, month, day)
    except ValueError:
        return None
    if match["H"] is None:
        return W3CDate(value, "date", year, month, day)
    hour, minute, second = int(match["H"]), int(match["M"]), int(match["S"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    if match["tzh"] is not None and (int(match["tzh"]) > 23 or int(match["tzm"]) > 59):
        return None
    return W3CDate(value, "datetime", year, month, day)


# --- Languages ----------------------------------------------------------------------------

_BCP47 = re.compile(
    r"(?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"
    r"(?:-(?P<script>[a-z]{4}))?"
    r"(?:-(?P<region>[a-z]{2}|\d{3}))?"
    r"(?P<rest>(?:-(?:[a-z0-9]{5,8}|\d[a-z0-9]{3}))*"
    r"(?:-[a-wyz0-9](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?)",
    re.IGNORECASE,
)


@dataclass(frozen=True)  # no slots: all_codes is cached in the instance's __dict__
class LanguageCodes:
    """ISO 639 code tables shipped in ``metadata/data``."""

    part1: frozenset[str]
    part2: frozenset[str]
    part3: frozenset[str]
    names: dict[str, str]  # folded English name -> preferred code
    part1_of: dict[str, str]  # three-letter code -> two-letter code

    @cached_property
    def all_codes(self) -> frozenset[str]:
        # Built once: the union of three tables of thousands of codes costs ~0.3 ms a call.
        return self.part1 | self.part2 | self.part3


# Vietnamese names of the languages met most often in the academy's collections.
_VIETNAMESE_NAMES = {
    "tieng viet": "vi", "tieng anh": "en", "tieng nga": "ru", "tieng trung": "zh",
    "tieng phap": "fr", "tieng lao": "lo", "tieng khmer": "km", "tieng duc": "de",
    "tieng nhat": "ja", "tieng han": "ko", "tieng tay ban nha": "es",
}


@cache
def language_codes() -> LanguageCodes:
    """Load the ISO 639 tables (cached)."""
    data = resources.files("metadata") / "data"
    part1: set[str] = set()
    part2: set[str] = set()
    names: dict[str, str] = {}
    part1_of: dict[str, str] = {}
    for line in (data / "iso639.tsv").read_text("utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        code, bibliographic, two, name = line.split("\t")
        part2.add(code)
        if bibliographic:
            part2.add(bibliographic)
        if two:
            part1.add(two)
            part1_of[code] = two
            if bibliographic:
                part1_of[bibliographic] = two
        for each in name.split(";"):
            names.setdefault(fold_ascii(each), two or code)
    part3: set[str] = set()
    for line in (data / "iso639-3.txt").read_text("utf-8").splitlines():
        if not line.startswith("#"):
            part3.update(line.split())
    names.update(_VIETNAMESE_NAMES)
    return LanguageCodes(frozenset(part1), frozenset(part2), frozenset(part3), names, part1_of)


def parse_language_tag(value: str) -> str | None:
    """Check a BCP 47 tag whose primary subtag is an ISO 639 code; return it in canonical case.

    ``vi``, ``en-US``, ``vie``, ``zh-Hant-TW`` pass; ``xx-yy-zz`` and ``english`` do not.
    """
    match = _BCP47.fullmatch(value)
    if match is None:
        return None
    primary = match["language"].split("-")[0].lower()
    if primary not in language_codes().all_codes:
        return None
    parts = [match["language"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    tag = "-".join(parts) + match["rest"].lower()
    return tag


def parse_language_value(value: str) -> str | None:
    """Value of the ``language`` term: a BCP 47 tag, or an English/Vietnamese language name.

    Names are normalised to the ISO 639-1 code when there is one ("Tiếng Việt" -> "vi").
    """
    tag = parse_language_tag(value)
    if tag is not None:
        return tag
    return language_codes().names.get(fold_ascii(value))


def fold_ascii(text: str) -> str:
    """Case-, diacritics- and spacing-insensitive key: "Tiếng  Việt" -> "tieng viet"."""
    # đ/Đ (and the look-alike Ð) carry no combining mark, so NFD alone does not strip them.
    text = text.replace("đ", "d").replace("Đ", "D").replace("Ð", "D").replace("ð", "d")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


# --- Media types --------------------------------------------------------------------------

_TOP_LEVEL_TYPES = frozenset(
    {"application", "audio", "example", "font", "haptics", "image", "message", "model",
     "multipart", "text", "video"}
)
_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_PARAM_CHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_IMT = re.compile(
    rf"(?P<type>{_NAME})/(?P<subtype>{_NAME})"
    rf"(?P<params>(?:[ \t]*;[ \t]*{_PARAM_CHARS}=(?:{_PARAM_CHARS}|\"[^\"\\]*\"))*)"
)


def parse_media_type(value: str) -> str | None:
    """Check an IMT (RFC 6838) media type such as ``application/pdf``; lower-cases type/subtype."""
    match = _IMT.fullmatch(value)
    if match is None or match["type"].lower() not in _TOP_LEVEL_TYPES:
        return None
    return f"{match['type'].lower()}/{match['subtype'].lower()}{match['params']}"


# --- URIs ---------------------------------------------------------------------------------

ALLOWED_URI_SCHEMES = ("http", "https", "urn", "doi", "hdl", "oai")
_URI_FORBIDDEN = re.compile(r"[\s<>\"{}|\\^`\x00-\x1f\x7f]")
_URI_PATTERNS = {
    "urn": re.compile(r"urn:[a-z0-9][a-z0-9-]{0,31}:\S+", re.IGNORECASE),
    "doi": re.compile(r"doi:10\.\d{4,9}/\S+", re.IGNORECASE),
    "hdl": re.compile(r"hdl:[^/\s]+/\S+", re.IGNORECASE),
    "oai": re.compile(
        r"oai:[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+:[a-z0-9\-_.!~*'();/?:@&=+$,%]+",
        re.IGNORECASE,
    ),
}


def parse_uri(value: str) -> str | None:
    """Check a URI whose scheme is http, https, urn, doi, hdl or oai; lower-cases the scheme.

    Anything else, ``javascript:`` and ``data:`` included, is refused.
    """
    if _URI_FORBIDDEN.search(value) or ":" not in value:
        return None
    scheme, rest = value.split(":", 1)
    scheme = scheme.lower()
    if scheme not in ALLOWED_URI_SCHEMES:
        return None
    normalised = f"{scheme}:{rest}"
    if scheme in ("http", "https"):
        try:
            parts = urlsplit(normalised)
            parts.port  # noqa: B018 -- raises ValueError on a bad port
        except ValueError:
            return None
        if not parts.hostname or not rest.startswith("//"):
            return None
        return normalised
    return normalised if _URI_PATTERNS[scheme].fullmatch(normalised) else None


# --- DCMI Type ----------------------------------------------------------------------------

_DCMI_TYPES_FOLDED = {name.casefold(): name for name in DCMI_TYPES}


def parse_dcmi_type(value: str) -> str | None:
    """A DCMI Type class name, given as its name (any case), ``dcmitype:Name`` or its URI."""
    for prefix in (DCMITYPE_NS, DCMITYPE_NS.replace("http:", "https:"), "dcmitype:"):
        if value.startswith(prefix):
            value = value[len(prefix):]
            break
    return _DCMI_TYPES_FOLDED.get(value.casefold())
