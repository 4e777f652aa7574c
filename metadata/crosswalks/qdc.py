"""``qdc``: qualified Dublin Core XML in the shape DSpace's OAI-PMH ``qdc`` format uses.

Root ``<qdc:qualifieddc xmlns:qdc="http://dspace.org/qualifieddc/">``; the 15 elements are
written in the ``http://purl.org/dc/elements/1.1/`` namespace (``dc:title``) and the other 40
DCMI properties in ``http://purl.org/dc/terms/`` (``dcterms:abstract``, ``dcterms:issued``),
which is how DSpace and the DCMI XML schemas (dc.xsd / dcterms.xsd, 2008-02-11) pair them.
Values with a built-in syntax get the DCMI ``xsi:type`` (``dcterms:W3CDTF``, ``dcterms:URI``,
``dcterms:IMT``, ``dcterms:RFC4646``, ``dcterms:DCMIType``). Vocabulary slugs are written as
their vi and en labels; language-tagged values carry ``xml:lang``. Order: statement order.
"""

from __future__ import annotations

from metadata import xmlwriter as xml
from metadata.crosswalks.base import RecordContext, display
from metadata.model import Metadata
from metadata.terms import DC_NS, DCTERMS_NS, ELEMENTS, Syntax, is_term, syntax_of

QDC_NS = "http://dspace.org/qualifieddc/"
# DSpace's qdc format declares this wrapper schema for its namespace (ListMetadataFormats
# names it too); dc and dcterms point at DCMI's 2008-02-11 schemas.
QDC_SCHEMA = "http://www.ukoln.ac.uk/metadata/dcmi/xmlschema/qualifieddc.xsd"
SCHEMA_LOCATIONS = (
    (DC_NS, "http://dublincore.org/schemas/xmls/qdc/2008/02/11/dc.xsd"),
    (DCTERMS_NS, "http://dublincore.org/schemas/xmls/qdc/2008/02/11/dcterms.xsd"),
    (QDC_NS, QDC_SCHEMA),
)
_XSI_TYPE = {
    Syntax.W3CDTF: "dcterms:W3CDTF",
    Syntax.URI: "dcterms:URI",
    Syntax.IMT: "dcterms:IMT",
    Syntax.LANGUAGE: "dcterms:RFC4646",
    Syntax.DCMI_TYPE: "dcterms:DCMIType",
}
_ROOT_ATTRIBUTES = xml.namespaces({"qdc": QDC_NS, "dc": DC_NS, "dcterms": DCTERMS_NS},
                                  SCHEMA_LOCATIONS)


def qdc_fragment(metadata: Metadata, context: RecordContext) -> str:
    """The ``<qdc:qualifieddc>`` element, without XML declaration (terms that are not DCMI
    terms are skipped)."""
    profile = context.resolved_profile
    lines = [xml.start("qdc:qualifieddc", _ROOT_ATTRIBUTES)]
    seen: set[tuple[str, str, str | None]] = set()
    for statement in metadata:
        if not is_term(statement.term):
            continue
        name = f"dc:{statement.term}" if statement.term in ELEMENTS else f"dcterms:{statement.term}"
        xsi_type = _XSI_TYPE.get(syntax_of(statement.term))
        for item in display(statement, profile):
            if (name, item.text, item.lang) in seen:
                continue
            seen.add((name, item.text, item.lang))
            lines.append("  " + xml.element(name, item.text,
                                            [("xsi:type", xsi_type), ("xml:lang", item.lang)]))
    lines.append(xml.end("qdc:qualifieddc"))
    return "\n".join(lines)


def to_qdc(metadata: Metadata, context: RecordContext) -> str:
    """The record as a qualified DC XML document."""
    return xml.DECLARATION + qdc_fragment(metadata, context) + "\n"
