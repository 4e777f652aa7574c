"""Reference-manager formats: BibTeX (``bibtex``) and RIS (``ris``), UTF-8 text.

Single-valued fields (title, abstract) take the value in ``context.lang`` (default "vi");
RIS also lists other-language titles as TT (translated title). DCMI ``Text`` becomes
``@book`` / ``TY  - BOOK``; other types become ``@misc`` and the matching RIS type.
Vietnamese personal names are written whole ("Nguyễn Văn An"), in braces in BibTeX, so
that no tool re-orders them as Western given/family names.
"""

from __future__ import annotations

import re

from metadata.crosswalks.base import RecordContext, display, displays, preferred
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


def _doi(metadata: Metadata) -> str | None:
    for value in metadata.values("identifier"):
        if value.lower().startswith("doi:"):
            return value[4:]
    return None


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


def to_bibtex(metadata: Metadata, context: RecordContext) -> str:
    """One BibTeX entry."""
    profile = context.resolved_profile
    entry_type = "book" if "Text" in metadata.values("type") else "misc"
    issued = parse_w3cdtf(metadata.first("issued") or "")
    fields: list[tuple[str, str | None]] = [
        ("title", _single(metadata, "title", context)),
        ("author", " and ".join(
            "{" + bibtex_escape(name) + "}"
            for name in labels_in(metadata, "creator", profile, context.lang)
        ) or None),
        ("year", str(issued.year) if issued else None),
        ("date", issued.text[:10] if issued else None),
        ("publisher", _single(metadata, "publisher", context)),
        ("abstract", _single(metadata, "abstract", context)),
        ("keywords", ", ".join(labels_in(metadata, "subject", profile, context.lang)) or None),
        ("language", ", ".join(metadata.values("language")) or None),
    ]
    lines = [f"@{entry_type}{{{bibtex_key(context.identifier)},"]
    for name, value in fields:
        if value:
            escaped = value if name == "author" else bibtex_escape(value)
            lines.append(f"  {name} = {{{escaped}}},")
    doi = _doi(metadata)
    if doi:
        lines.append(f"  doi = {{{_bibtex_url(doi)}}},")
    if context.url:
        lines.append(f"  url = {{{_bibtex_url(context.url)}}},")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- RIS ----------------------------------------------------------------------------------

_RIS_TYPES = {
    "Text": "BOOK", "MovingImage": "VIDEO", "Sound": "SOUND", "Dataset": "DATA",
    "Software": "COMP", "Image": "ART", "StillImage": "ART", "InteractiveResource": "ELEC",
}


def to_ris(metadata: Metadata, context: RecordContext) -> str:
    """One RIS record, CRLF line ends, closed by ``ER  - ``."""
    profile = context.resolved_profile
    types = metadata.values("type")
    ris_type = _RIS_TYPES.get(types[0], "GEN") if types else "GEN"
    titles = displays(metadata, "title", profile)
    title = preferred(titles, context.lang)
    issued = parse_w3cdtf(metadata.first("issued") or "")
    lines: list[tuple[str, str | None]] = [("TY", ris_type), ("ID", context.identifier)]
    lines.append(("TI", title.text if title else None))
    lines += [("TT", item.text) for item in titles if item != title]
    lines += [("AU", name) for name in labels_in(metadata, "creator", profile, context.lang)]
    lines += [("A2", name) for name in labels_in(metadata, "contributor", profile, context.lang)]
    if issued:
        month = f"{issued.month:02d}" if issued.month else ""
        day = f"{issued.day:02d}" if issued.day else ""
        lines += [("PY", str(issued.year)), ("DA", f"{issued.year}/{month}/{day}/")]
    lines.append(("AB", _single(metadata, "abstract", context)))
    lines += [("KW", kw) for kw in labels_in(metadata, "subject", profile, context.lang)]
    lines.append(("PB", _single(metadata, "publisher", context)))
    lines += [("LA", code) for code in metadata.values("language")]
    lines.append(("DO", _doi(metadata)))
    lines.append(("UR", context.url))
    lines.append(("L1", context.pdf_url))
    out = [f"{tag}  - {_one_line(value)}" for tag, value in lines if value]
    out.append("ER  - ")
    return "\r\n".join(out) + "\r\n"

