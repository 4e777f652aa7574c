"""Reference-manager formats: BibTeX (``bibtex``) and RIS (``ris``), UTF-8 text.

Entry types come from :mod:`metadata.crosswalks.genre` (DCMI Type, and a text's genre).
Single-valued fields (title, abstract) take the value in ``context.lang`` (default "vi");
titles in other languages follow (BibTeX ``titleaddon``, RIS ``TT``). People are written
``Family, Given`` (:mod:`metadata.agents`: "Trần, Văn Giảng"), which every BibTeX and RIS
reader splits into family and given names as a Vietnamese name means; organisations are kept
whole (in braces in BibTeX). Identifiers go to their own fields (DOI, ISBN, ISSN, URLs; others
RIS ``AN`` / BibTeX ``note``); rights, license, audience and education level, which have no
field of their own, are kept in notes (RIS ``N1``, BibTeX ``note``) with their labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from metadata.agents import Agent, agent
from metadata.crosswalks.base import RecordContext, display, displays, preferred
from metadata.crosswalks.genre import genre_of
from metadata.model import Metadata
from metadata.profile import Profile
from metadata.schemes import parse_w3cdtf

_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")


def _one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def labels_in(metadata: Metadata, term: str, profile: Profile, lang: str) -> list[str]:
    """One text per statement of ``term``: a vocabulary value's label in ``lang``."""
    out: list[str] = []
    for statement in metadata.get(term):
        item = preferred(display(statement, profile), lang)
        if item is not None and item.text not in out:
            out.append(item.text)
    return out


def _single(metadata: Metadata, term: str, context: RecordContext) -> str | None:
    item = preferred(displays(metadata, term, context.resolved_profile), context.lang)
    return item.text if item else None


def agents(metadata: Metadata, term: str) -> list[Agent]:
    """The creators (or contributors) of a record as agents, in statement order."""
    return [agent(value) for value in dict.fromkeys(metadata.values(term))]


@dataclass
class Identifiers:
    """A record's identifiers sorted by kind (prefixes removed where a field implies them)."""

    doi: list[str] = field(default_factory=list)
    isbn: list[str] = field(default_factory=list)
    issn: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)


_ID_PREFIXES = (("doi:", "doi"), ("https://doi.org/", "doi"), ("urn:isbn:", "isbn"),
                ("urn:issn:", "issn"))


def identifiers(metadata: Metadata) -> Identifiers:
    found = Identifiers()
    for value in dict.fromkeys(metadata.values("identifier")):
        lowered = value.lower()
        for prefix, kind in _ID_PREFIXES:
            if lowered.startswith(prefix):
                getattr(found, kind).append(value[len(prefix):])
                break
        else:
            (found.urls if lowered.startswith(("http://", "https://")) else found.other) \
                .append(value)
    return found


NOTE_TERMS = ("rights", "license", "audience", "educationLevel", "contributor")


def notes(metadata: Metadata, context: RecordContext, terms: tuple[str, ...] = NOTE_TERMS
          ) -> list[str]:
    """``Label: values`` for terms with no field of their own (labels in ``context.lang``)."""
    profile = context.resolved_profile
    lang = "en" if context.lang.lower().startswith("en") else "vi"
    out = []
    for term in terms:
        values = labels_in(metadata, term, profile, context.lang)
        if values:
            out.append(f"{profile.term(term).label(lang)}: {'; '.join(values)}")
    return out


# --- BibTeX -------------------------------------------------------------------------------

_BIBTEX_SPECIAL = re.compile(r"[\\{}$&%#_^~]")
_BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "%": r"\%",
    "#": r"\#", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
}


def bibtex_escape(text: str) -> str:
    """Escape LaTeX special characters; whitespace runs and control characters become a space."""
    return _BIBTEX_SPECIAL.sub(lambda m: _BIBTEX_ESCAPES[m.group()], _one_line(text))


def _bibtex_url(url: str) -> str:
    # url/doi fields are read verbatim by biblatex and the url package; only braces and
    # backslashes could break the entry, and validated URIs contain neither.
    return bibtex_escape(url) if re.search(r"[\\{}]", url) else _one_line(url)


def bibtex_key(identifier: str) -> str:
    """A citation key derived from the record identifier (stable across exports)."""
    return re.sub(r"[^A-Za-z0-9_.:-]+", "_", identifier) or "record"


def _bibtex_name(person: Agent) -> str:
    if person.is_organisation:
        return "{" + bibtex_escape(person.name) + "}"
    return bibtex_escape(person.inverted)


def to_bibtex(metadata: Metadata, context: RecordContext) -> str:
    """One BibTeX entry."""
    profile = context.resolved_profile
    genre = genre_of(metadata)
    titles = displays(metadata, "title", profile)
    title = preferred(titles, context.lang)
    ids = identifiers(metadata)
    issued = parse_w3cdtf(metadata.first("issued") or "")
    fields: list[tuple[str, str | None]] = [
        ("title", title.text if title else None),
        ("titleaddon", " = ".join(t.text for t in titles if t != title) or None),
        ("year", str(issued.year) if issued else None),
        ("date", issued.text[:10] if issued else None),
        ("publisher", _single(metadata, "publisher", context)),
        ("type", genre.label if genre.bibtex in ("misc", "techreport") else None),
        ("abstract", _single(metadata, "abstract", context)),
        ("keywords", ", ".join(labels_in(metadata, "subject", profile, context.lang)) or None),
        ("language", ", ".join(metadata.values("language")) or None),
        ("isbn", ", ".join(ids.isbn) or None),
        ("issn", ", ".join(ids.issn) or None),
        ("copyright", "; ".join(labels_in(metadata, "rights", profile, context.lang)) or None),
        ("note", ". ".join([*notes(metadata, context, NOTE_TERMS[1:]), *ids.other]) or None),
    ]
    lines = [f"@{genre.bibtex}{{{bibtex_key(context.identifier)},"]
    authors = " and ".join(_bibtex_name(a) for a in agents(metadata, "creator"))
    if authors:
        lines.append(f"  author = {{{authors}}},")
    for name, value in fields:
        if value:
            lines.append(f"  {name} = {{{bibtex_escape(value)}}},")
    if ids.doi:
        lines.append(f"  doi = {{{_bibtex_url(ids.doi[0])}}},")
    url = context.url or (ids.urls[0] if ids.urls else None)
    if url:
        lines.append(f"  url = {{{_bibtex_url(url)}}},")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- RIS ----------------------------------------------------------------------------------

def to_ris(metadata: Metadata, context: RecordContext) -> str:
    """One RIS record, CRLF line ends, closed by ``ER  - ``."""
    profile = context.resolved_profile
    genre = genre_of(metadata)
    titles = displays(metadata, "title", profile)
    title = preferred(titles, context.lang)
    issued = parse_w3cdtf(metadata.first("issued") or "")
    ids = identifiers(metadata)
    lines: list[tuple[str, str | None]] = [("TY", genre.ris), ("ID", context.identifier)]
    lines.append(("TI", title.text if title else None))
    lines += [("TT", item.text) for item in titles if item != title]
    lines += [("AU", person.inverted) for person in agents(metadata, "creator")]
    lines += [("A2", person.inverted) for person in agents(metadata, "contributor")]
    if issued:
        month = f"{issued.month:02d}" if issued.month else ""
        day = f"{issued.day:02d}" if issued.day else ""
        lines += [("PY", str(issued.year)), ("DA", f"{issued.year}/{month}/{day}/")]
    lines.append(("AB", _single(metadata, "abstract", context)))
    lines += [("KW", kw) for kw in labels_in(metadata, "subject", profile, context.lang)]
    lines.append(("PB", _single(metadata, "publisher", context)))
    lines += [("LA", code) for code in metadata.values("language")]
    lines.append(("M3", genre.label))
    lines += [("DO", doi) for doi in ids.doi]
    lines += [("SN", number) for number in [*ids.isbn, *ids.issn]]
    lines += [("AN", other) for other in ids.other]
    lines += [("UR", url) for url in dict.fromkeys([context.url, *ids.urls]) if url]
    lines.append(("L1", context.pdf_url))
    lines += [("N1", note) for note in notes(metadata, context, NOTE_TERMS[:-1])]
    out = [f"{tag}  - {_one_line(value)}" for tag, value in lines if value]
    out.append("ER  - ")
    return "\r\n".join(out) + "\r\n"
