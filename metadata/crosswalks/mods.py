"""``mods``: MODS 3.7 (mods-3-7.xsd), the Library of Congress's bibliographic XML.

The mapping from the application profile (``docs/crosswalks.md`` has the full table):
titles -> ``titleInfo`` (other languages ``type="translated"``, alternative titles
``type="alternative"``); creators and contributors -> ``name`` (``personal`` with family and
given ``namePart``, or ``corporate``) with a MARC relator ``roleTerm``; the genre ->
``typeOfResource`` and ``genre``; publisher, issued, created, modified -> ``originInfo``
(dates ``encoding="w3cdtf"``); language -> ``language/languageTerm`` (ISO 639-2/B codes);
format and extent -> ``physicalDescription``; abstract, table of contents, description ->
``abstract``, ``tableOfContents``, ``note``; audience and education level ->
``targetAudience``; subjects, spatial and temporal coverage -> ``subject``; isPartOf,
relation, source -> ``relatedItem`` (``host``, ``references``, ``original``); identifiers ->
``identifier`` typed doi/isbn/issn/uri/local; the landing page and PDF -> ``location/url``;
rights and license -> ``accessCondition type="use and reproduction"``, accessRights ->
``type="restriction on access"``; the record identifier -> ``recordInfo``. Every
language-tagged value keeps ``xml:lang``; vocabulary values appear once per label language.
"""

from __future__ import annotations

from metadata import xmlwriter as xml
from metadata.crosswalks.base import Display, RecordContext, displays, preferred
from metadata.crosswalks.citation import agents, identifiers
from metadata.crosswalks.genre import genre_of
from metadata.crosswalks.marcxml import marc_language
from metadata.model import Metadata

MODS_NS = "http://www.loc.gov/mods/v3"
MODS_SCHEMA = "http://www.loc.gov/standards/mods/v3/mods-3-7.xsd"


def _text(name: str, item: Display, pairs: dict[str, str | None] | None = None) -> str:
    return xml.element(name, item.text, {**(pairs or {}), "xml:lang": item.lang})


def mods_fragment(metadata: Metadata, context: RecordContext) -> str:
    """The ``<mods>`` element, without XML declaration."""
    profile = context.resolved_profile

    def shown(term: str) -> list[Display]:
        return displays(metadata, term, profile)

    genre = genre_of(metadata)
    ids = identifiers(metadata)
    parts: list[str] = []
    titles = shown("title")
    title = preferred(titles, context.lang)
    for item in titles:
        kind = None if item == title else "translated"
        parts.append(xml.wrap("titleInfo", _text("title", item),
                              {"type": kind, "xml:lang": item.lang}))
    parts += [xml.wrap("titleInfo", _text("title", item), {"type": "alternative"})
              for item in shown("alternative")]
    for term, relator in (("creator", "author"), ("contributor", "contributor")):
        for who in agents(metadata, term):
            if who.is_organisation or not who.family:
                name_parts = xml.element("namePart", who.name)
            else:
                name_parts = xml.element("namePart", who.family, {"type": "family"}) + (
                    xml.element("namePart", who.given, {"type": "given"}) if who.given else "")
            role = xml.wrap("role", xml.element("roleTerm", relator,
                                                {"type": "text", "authority": "marcrelator"}))
            parts.append(xml.wrap("name", name_parts + role, {
                "type": "corporate" if who.is_organisation else "personal"}))
    parts.append(xml.element("typeOfResource", genre.mods_resource))
    parts.append(xml.element("genre", genre.label))
    origin = [_text("publisher", p) for p in shown("publisher")]
    for term, element in (("issued", "dateIssued"), ("created", "dateCreated"),
                          ("modified", "dateModified")):
        origin += [xml.element(element, v, {"encoding": "w3cdtf"})
                   for v in metadata.values(term)]
    if origin:
        parts.append(xml.wrap("originInfo", "".join(origin)))
    for code in dict.fromkeys(metadata.values("language")):
        marc = marc_language(code)
        term = xml.element("languageTerm", marc, {"type": "code", "authority": "iso639-2b"}) \
            if marc else xml.element("languageTerm", code, {"type": "code",
                                                            "authority": "rfc5646"})
        parts.append(xml.wrap("language", term))
    physical = [xml.element("internetMediaType", v) for v in metadata.values("format")]
    physical += [_text("extent", e) for e in shown("extent")]
    if physical:
        parts.append(xml.wrap("physicalDescription", "".join(physical)))
    parts += [_text("abstract", a) for a in shown("abstract")]
    parts += [_text("tableOfContents", t) for t in shown("tableOfContents")]
    parts += [_text("targetAudience", a) for a in shown("audience") + shown("educationLevel")]
    parts += [_text("note", d) for d in shown("description")]
    parts += [xml.wrap("subject", _text("topic", s)) for s in shown("subject")]
    parts += [xml.wrap("subject", _text("geographic", s)) for s in shown("spatial")]
    parts += [xml.wrap("subject", _text("temporal", s)) for s in shown("temporal")]
    for term, kind in (("isPartOf", "host"), ("relation", "references"),
                       ("source", "original")):
        for value in metadata.values(term):
            link = value.startswith(("http://", "https://"))
            inner = xml.wrap("location", xml.element("url", value)) if link else \
                xml.element("identifier", value)
            parts.append(xml.wrap("relatedItem", inner, {"type": kind}))
    parts += [xml.element("identifier", v, {"type": "doi"}) for v in ids.doi]
    parts += [xml.element("identifier", v, {"type": "isbn"}) for v in ids.isbn]
    parts += [xml.element("identifier", v, {"type": "issn"}) for v in ids.issn]
    parts += [xml.element("identifier", v, {"type": "uri"}) for v in ids.urls]
    parts += [xml.element("identifier", v, {"type": "local"}) for v in ids.other]
    urls = []
    if context.url:
        urls.append(xml.element("url", context.url, {"usage": "primary display",
                                                     "access": "object in context"}))
    if context.pdf_url:
        urls.append(xml.element("url", context.pdf_url, {"access": "raw object"}))
    if urls:
        parts.append(xml.wrap("location", "".join(urls)))
    parts += [_text("accessCondition", r, {"type": "use and reproduction"})
              for r in shown("rights")]
    parts += [xml.element("accessCondition", v, {"type": "use and reproduction"})
              for v in metadata.values("license")]
    parts += [_text("accessCondition", r, {"type": "restriction on access"})
              for r in shown("accessRights")]
    parts.append(xml.wrap("recordInfo", xml.element("recordIdentifier", context.identifier)))
    root = xml.namespaces({"": MODS_NS}, [(MODS_NS, MODS_SCHEMA)])
    return "\n".join([xml.start("mods", [*root, ("version", "3.7")]),
                      *("  " + part for part in parts), xml.end("mods")])


def to_mods(metadata: Metadata, context: RecordContext) -> str:
    """A standalone MODS document."""
    return xml.DECLARATION + mods_fragment(metadata, context) + "\n"
