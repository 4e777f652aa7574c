"""``marcxml``: MARC 21 bibliographic records in MARCXML (MARC21slim.xsd), for library systems.

The mapping from the application profile (``docs/crosswalks.md`` has the full table):

- leader: type of record and bibliographic level from :mod:`metadata.crosswalks.genre`,
  character coding ``a`` (UCS/Unicode), encoding level ``3`` (abbreviated: derived from DC);
- 001 the record identifier; 008 the publication year, place ``vm`` and the language;
- 020 ISBN, 022 ISSN, 024 7_ DOI (``$2 doi``), 024 8_ other identifiers; 041 languages;
- 100/110 the first creator (a person ``Family, Given``, else an organisation), 700/710 the
  other creators and the contributors, each with a relator term in ``$e``;
- 245 the title in ``context.lang``, 246 31 its parallel titles, 246 3_ alternative titles;
- 264 _1 publisher and date of issue; 300 extent; 500 description; 505 table of contents;
  506 access rights; 520 abstracts; 521 audience and education level; 540 rights and license;
- 653 subjects (labels), 651 spatial coverage, 648 temporal coverage, 655 the genre;
- 773 ``isPartOf``, 786 ``source`` (a harvested record's origin), 787 ``relation``;
- 856 40 the landing page and the main PDF.

Vocabulary values are written as their label in ``context.lang``.
"""

from __future__ import annotations

from collections.abc import Iterable

from metadata import xmlwriter as xml
from metadata.agents import Agent
from metadata.crosswalks.base import RecordContext, displays, preferred
from metadata.crosswalks.citation import agents, identifiers, labels_in
from metadata.crosswalks.genre import genre_of
from metadata.model import Metadata
from metadata.schemes import parse_w3cdtf

MARC_NS = "http://www.loc.gov/MARC21/slim"
MARC_SCHEMA = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"

# ISO 639-1 to the MARC language codes (ISO 639-2/B) of the languages the academy holds.
MARC_LANGUAGES = {"vi": "vie", "en": "eng", "fr": "fre", "ru": "rus", "zh": "chi", "lo": "lao",
                  "km": "khm", "de": "ger", "ja": "jpn", "ko": "kor", "es": "spa", "th": "tha"}

Subfields = Iterable[tuple[str, str | None]]


def marc_language(code: str) -> str | None:
    """The MARC code of a language tag (``vi`` -> ``vie``), or None."""
    primary = code.split("-")[0].lower()
    if primary in MARC_LANGUAGES:
        return MARC_LANGUAGES[primary]
    return primary if len(primary) == 3 and primary.isalpha() else None


def _controlfield(tag: str, value: str) -> str:
    return "  " + xml.element("controlfield", value, {"tag": tag})


def _datafield(tag: str, ind1: str, ind2: str, subfields: Subfields) -> str | None:
    kept = [(code, value) for code, value in subfields if value]
    if not kept:
        return None
    inner = "".join(xml.element("subfield", value, {"code": code}) for code, value in kept)
    return "  " + xml.wrap("datafield", inner, {"tag": tag, "ind1": ind1, "ind2": ind2})


def _name_field(person: Agent, main: bool, relator: str) -> str | None:
    if person.is_organisation:
        return _datafield("110" if main else "710", "2", " ",
                          [("a", person.name), ("e", relator)])
    return _datafield("100" if main else "700", "1", " ", [("a", person.inverted),
                                                            ("e", relator)])


def _fixed_length(metadata: Metadata) -> str:
    issued = parse_w3cdtf(metadata.first("issued") or "")
    language = marc_language(metadata.first("language") or "") or "und"
    date_type, year = ("s", f"{issued.year:04d}") if issued else ("n", "uuuu")
    # 00-05 date entered (not kept: "|" no attempt to code), 06-14 dates, 15-17 place
    # (vm = Vietnam), 18-34 material-specific (not coded), 35-37 language, 38 modified,
    # 39 cataloguing source (d = other).
    return f"||||||{date_type}{year}    vm {'|' * 17}{language} d"


def marcxml_fragment(metadata: Metadata, context: RecordContext) -> str:
    """The ``<record>`` element, without XML declaration."""
    profile = context.resolved_profile
    lang = context.lang

    def labels(term: str) -> list[str]:
        return labels_in(metadata, term, profile, lang)

    genre = genre_of(metadata)
    ids = identifiers(metadata)
    titles = displays(metadata, "title", profile)
    title = preferred(titles, lang)
    creators = agents(metadata, "creator")
    issued = metadata.first("issued")
    fields: list[str | None] = [
        _controlfield("001", context.identifier),
        _controlfield("008", _fixed_length(metadata)),
        *(_datafield("020", " ", " ", [("a", isbn)]) for isbn in ids.isbn),
        *(_datafield("022", " ", " ", [("a", issn)]) for issn in ids.issn),
        *(_datafield("024", "7", " ", [("a", doi), ("2", "doi")]) for doi in ids.doi),
        *(_datafield("024", "8", " ", [("a", other)]) for other in ids.other),
        _datafield("041", "0", " ", [("a", code) for code in dict.fromkeys(
            marc_language(v) for v in metadata.values("language"))]),
    ]
    if creators:
        fields.append(_name_field(creators[0], True, "author"))
    fields.append(_datafield("245", "1" if creators else "0", "0",
                             [("a", title.text if title else context.identifier)]))
    fields += [_datafield("246", "3", "1", [("a", t.text)]) for t in titles if t != title]
    fields += [_datafield("246", "3", " ", [("a", t)]) for t in labels("alternative")]
    fields.append(_datafield("264", " ", "1", [("b", "; ".join(labels("publisher"))),
                                               ("c", issued)]))
    fields += [_datafield("300", " ", " ", [("a", extent)]) for extent in labels("extent")]
    fields += [_datafield("500", " ", " ", [("a", d.text)])
               for d in displays(metadata, "description", profile)]
    fields += [_datafield("505", "0", " ", [("a", t.text)])
               for t in displays(metadata, "tableOfContents", profile)]
    fields += [_datafield("506", " ", " ", [("a", r)]) for r in labels("accessRights")]
    fields += [_datafield("520", "3", " ", [("a", a.text)])
               for a in displays(metadata, "abstract", profile)]
    fields += [_datafield("521", " ", " ", [("a", a)])
               for a in labels("audience") + labels("educationLevel")]
    fields += [_datafield("540", " ", " ", [("a", r)]) for r in labels("rights")]
    fields += [_datafield("540", " ", " ", [("u", u)]) for u in metadata.values("license")]
    fields += [_datafield("648", " ", "4", [("a", t)]) for t in labels("temporal")]
    fields += [_datafield("651", " ", "4", [("a", s)]) for s in labels("spatial")]
    fields += [_datafield("653", " ", " ", [("a", s)]) for s in labels("subject")]
    fields.append(_datafield("655", " ", "4", [("a", genre.label)]))
    fields += [_name_field(person, False, "author") for person in creators[1:]]
    fields += [_name_field(person, False, "contributor")
               for person in agents(metadata, "contributor")]
    fields += [_datafield("773", "0", " ", [("o", v)]) for v in metadata.values("isPartOf")]
    fields += [_datafield("786", "0", " ", [("o", v)]) for v in metadata.values("source")]
    fields += [_datafield("787", "0", " ", [("o", v)]) for v in metadata.values("relation")]
    if context.url:
        fields.append(_datafield("856", "4", "0", [("u", context.url)]))
    if context.pdf_url:
        fields.append(_datafield("856", "4", "0", [("u", context.pdf_url),
                                                   ("q", "application/pdf")]))
    leader = f"00000n{genre.marc_type}{genre.marc_level} a22000003u 4500"
    lines = [xml.start("record", xml.namespaces({"": MARC_NS}, [(MARC_NS, MARC_SCHEMA)])),
             "  " + xml.element("leader", leader),
             *(f for f in fields if f), xml.end("record")]
    return "\n".join(lines)


def to_marcxml(metadata: Metadata, context: RecordContext) -> str:
    """A standalone MARCXML document holding one record."""
    return xml.DECLARATION + marcxml_fragment(metadata, context) + "\n"
