"""DCMI term names, taken from rdflib's DC, DCTERMS and DCMITYPE namespaces.

``ELEMENTS`` are the 15 elements of the Dublin Core Metadata Element Set, ``PROPERTIES`` the
55 properties of the DCMI Metadata Terms namespace (a superset of the 15 names), and
``DCMI_TYPES`` the 12 classes of the DCMI Type Vocabulary. rdflib's DCTERMS namespace also
declares classes (``Agent``) and encoding schemes (``W3CDTF``); only properties, whose names
start with a lower-case letter, are kept.
"""

from __future__ import annotations

from enum import StrEnum

from rdflib.namespace import DC, DCMITYPE, DCTERMS


def _declared(namespace: type) -> tuple[str, ...]:
    # DefinedNamespace subclasses declare their terms as class annotations.
    return tuple(name for name in namespace.__annotations__ if not name.startswith("_"))


DC_NS = str(DC)
DCTERMS_NS = str(DCTERMS)
DCMITYPE_NS = str(DCMITYPE)

ELEMENTS: tuple[str, ...] = _declared(DC)
PROPERTIES: tuple[str, ...] = tuple(n for n in _declared(DCTERMS) if n[0].islower())
DCMI_TYPES: tuple[str, ...] = _declared(DCMITYPE)

# Encoding schemes declared by DCMI (classes of DCTERMS that name a scheme, not a range).
DCMI_SCHEMES: frozenset[str] = frozenset(
    {"DCMIType", "DDC", "IMT", "LCC", "LCSH", "MESH", "NLM", "TGN", "UDC", "Box", "ISO3166",
     "ISO639-2", "ISO639-3", "Period", "Point", "RFC1766", "RFC3066", "RFC4646", "RFC5646",
     "URI", "W3CDTF"}
)

_PROPERTY_SET = frozenset(PROPERTIES)


def is_term(name: str) -> bool:
    """True if ``name`` is one of the 55 DCMI Metadata Terms properties."""
    return name in _PROPERTY_SET


def term_uri(name: str) -> str:
    """The ``http://purl.org/dc/terms/`` URI of a term. Raises KeyError if not a term."""
    if name not in _PROPERTY_SET:
        raise KeyError(name)
    return DCTERMS_NS + name


class Syntax(StrEnum):
    """How the values of a term are checked and normalised."""

    LITERAL = "literal"
    W3CDTF = "W3CDTF"
    URI = "URI"
    IMT = "IMT"
    LANGUAGE = "language"
    DCMI_TYPE = "DCMIType"


DATE_TERMS = ("date", "available", "created", "dateAccepted", "dateCopyrighted",
              "dateSubmitted", "issued", "modified", "valid")
RELATION_TERMS = ("relation", "conformsTo", "hasFormat", "hasPart", "hasVersion", "isFormatOf",
                  "isPartOf", "isReferencedBy", "isReplacedBy", "isRequiredBy", "isVersionOf",
                  "references", "replaces", "requires")

# Built in rather than configurable: these follow from DCMI's definitions and the
# serializers rely on them (typed RDF literals, xsi:type in qdc).
TERM_SYNTAX: dict[str, Syntax] = {
    **dict.fromkeys(DATE_TERMS, Syntax.W3CDTF),
    **dict.fromkeys((*RELATION_TERMS, "identifier", "source", "license"), Syntax.URI),
    "format": Syntax.IMT,
    "language": Syntax.LANGUAGE,
    "type": Syntax.DCMI_TYPE,
}


def syntax_of(term: str) -> Syntax:
    """The built-in syntax of a term (LITERAL when nothing stricter applies)."""
    return TERM_SYNTAX.get(term, Syntax.LITERAL)


# Qualified term -> simple DC element, following DCMI's rdfs:subPropertyOf where it exists.
# rightsHolder is not a sub-property of rights in DCMI but is a rights statement in
# practice. Terms absent here (audience, educationLevel, mediator, instructionalMethod,
# accrual*, provenance) have no simple DC element and are dropped from oai_dc.
ELEMENT_OF: dict[str, str] = {
    **{name: name for name in ELEMENTS},
    "alternative": "title",
    "abstract": "description",
    "tableOfContents": "description",
    **dict.fromkeys(DATE_TERMS, "date"),
    "extent": "format",
    "medium": "format",
    "bibliographicCitation": "identifier",
    **dict.fromkeys(RELATION_TERMS, "relation"),
    "spatial": "coverage",
    "temporal": "coverage",
    "accessRights": "rights",
    "license": "rights",
    "rightsHolder": "rights",
}
