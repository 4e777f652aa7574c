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

from metadata.crosswalks.base import RecordContext, display, xml_attr, xml_text
from metadata.model import Metadata
from metadata.terms import DC_NS, DCTERMS_NS, ELEMENTS, Syntax, is_term, syntax_of

QDC_NS = "http://dspace.org/qualifieddc/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = (
    f"{DC_NS} http://dublincore.org/schemas/xmls/qdc/2008/02/11/dc.xsd "
    f"{DCTERMS_NS} http://dublincore.org/schemas/xmls/qdc/2008/02/11/dcterms.xsd "
    f"{QDC_NS} http://www.ukoln.ac.uk/metadata/dcmi/xmlschema/qualifieddc.xsd"
)
_XSI_TYPE = {
    Syntax.W3CDTF: "dcterms:W3CDTF",
    Syntax.URI: "dcterms:URI",
    Syntax.IMT: "dcterms:IMT",
    Syntax.LANGUAGE: "dcterms:RFC4646",
    Syntax.DCMI_TYPE: "dcterms:DCMIType",
}
_OPEN = (
    f'<qdc:qualifieddc xmlns:qdc="{QDC_NS}" xmlns:dc="{DC_NS}" xmlns:dcterms="{DCTERMS_NS}" '
    f'xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{SCHEMA_LOCATION}">'
)


def to_qdc(metadata: Metadata, context: RecordContext) -> str:
    """The record as a qualified DC XML document (terms that are not DCMI terms are skipped)."""
    profile = context.resolved_profile
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', _OPEN]
    seen: set[tuple[str, str, str | None]] = set()
    for statement in metadata:
        if not is_term(statement.term):
            continue
        name = f"dc:{statement.term}" if statement.term in ELEMENTS else f"dcterms:{statement.term}"
        xsi_type = _XSI_TYPE.get(syntax_of(statement.term))
        type_attr = f' xsi:type="{xsi_type}"' if xsi_type else ""
        for item in display(statement, profile):
            if (name, item.text, item.lang) in seen:
                continue
            seen.add((name, item.text, item.lang))
            lang = f' xml:lang="{xml_attr(item.lang)}"' if item.lang else ""
            lines.append(f"  <{name}{type_attr}{lang}>{xml_text(item.text)}</{name}>")
    lines.append("</qdc:qualifieddc>")
    return "\n".join(lines) + "\n"
