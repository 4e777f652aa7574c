"""From a harvested ``oai_dc`` or ``qdc`` record to the application profile's statements.

- ``oai_dc``: each ``dc:*`` element is the DCMI term of the same name; ``qdc`` (DSpace's
  ``qdc:qualifieddc``): ``dc:*`` and ``dcterms:*`` children by their local name. ``xml:lang``
  becomes the value's language; whitespace is collapsed.
- Values that fit no syntax of the profile are repaired where the meaning is clear (a
  ``format`` with a number is an ``extent``; an identifier that is a sentence is a
  ``bibliographicCitation``, as EPrints writes them; a text genre such as "Article" or
  ``info:eu-repo/semantics/article`` is the DCMI Type ``Text``) and otherwise left out, each
  with a warning. A record without a title cannot be imported.
- Provenance: ``dcterms:source`` is the original's address (its first http(s) identifier,
  else the source's GetRecord URL for it) and ``identifier`` gains its OAI identifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode
from xml.etree.ElementTree import Element

from metadata import Metadata, Statement, validate
from metadata.terms import DC_NS, DCMI_TYPES, DCTERMS_NS, is_term

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NAMESPACES = {"oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
              "qdc": "http://dspace.org/qualifieddc/"}
_SPACE = re.compile(r"\s+")
_TEXT_GENRES = re.compile(
    r"\b(article|book|thesis|dissertation|report|preprint|paper|text|chapter|lecture|"
    r"proceedings|review|working ?paper|bài báo|sách|luận|báo cáo|giáo trình)", re.I)
_IMAGE = re.compile(r"^(image|photo|picture|hình ảnh|ảnh)", re.I)
_VIDEO = re.compile(r"^(video|film|moving ?image|phim)", re.I)


@dataclass
class Mapped:
    statements: list[Statement]
    original_url: str
    incomplete: bool = False
    warnings: list[str] = field(default_factory=list)


class Unmappable(ValueError):
    """The record cannot become a record here (no title); the message says why."""


def _statements(payload: Element) -> list[Statement]:
    out = []
    for element in payload:
        if not isinstance(element.tag, str) or not element.tag.startswith("{"):
            continue
        namespace, _, local = element.tag[1:].partition("}")
        if namespace not in (DC_NS, DCTERMS_NS) or not is_term(local):
            continue
        value = _SPACE.sub(" ", "".join(element.itertext())).strip()
        if value:
            out.append(Statement(local, value, element.get(XML_LANG) or None))
    return out


def _dcmi_type(value: str) -> str | None:
    tail = value.rstrip("/").rsplit("/", 1)[-1].replace(" ", "")
    for name in DCMI_TYPES:
        if tail.lower() == name.lower():
            return name
    if _VIDEO.search(value):
        return "MovingImage"
    if _IMAGE.search(value):
        return "StillImage"
    if _TEXT_GENRES.search(value):
        return "Text"
    return None


def _repair(statement: Statement, problem_code: str) -> Statement | None:
    """A statement that keeps the meaning of one the profile refused, or None."""
    if statement.term == "type" and problem_code == "unknown_type":
        name = _dcmi_type(statement.value)
        return Statement("type", name) if name else None
    if statement.term == "format" and problem_code == "bad_media_type" and \
            any(c.isdigit() for c in statement.value):
        return Statement("extent", statement.value, statement.lang)  # "245 pages"
    if statement.term == "identifier" and problem_code == "bad_uri" and " " in statement.value:
        # EPrints lists the citation among the identifiers.
        return Statement("bibliographicCitation", statement.value, statement.lang)
    return None


def map_record(payload: Element, oai_identifier: str, base_url: str, prefix: str) -> Mapped:
    """The statements for one harvested record's metadata element.

    :raise Unmappable: it has no title.
    """
    raw = _statements(payload)
    urls = [s.value for s in raw if s.term == "identifier"
            and s.value.lower().startswith(("http://", "https://"))]
    original = urls[0] if urls else f"{base_url}?" + urlencode(
        {"verb": "GetRecord", "metadataPrefix": prefix, "identifier": oai_identifier})
    raw.append(Statement("identifier", oai_identifier))
    raw.append(Statement("source", original))
    warnings: list[str] = []
    result = validate(raw, mode="import")
    # Repair or drop each statement with an error, then validate what is left once more.
    problems = {p.index: p for p in result.errors if p.index is not None}
    if problems:
        kept = []
        for index, statement in enumerate(raw):
            problem = problems.get(index)
            if problem is None:
                kept.append(statement)
                continue
            repaired = _repair(statement, problem.code)
            if repaired is not None:
                kept.append(repaired)
            else:
                warnings.append(f"{statement.term}: {problem.message('en')}")
        result = validate(kept, mode="import")
    if not result.ok:
        messages = "; ".join(p.message("en") for p in result.errors)
        raise Unmappable(messages)
    return Mapped(list(Metadata(result.statements)), original, result.incomplete, warnings)
