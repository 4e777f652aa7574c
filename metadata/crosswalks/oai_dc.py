"""``oai_dc``: simple Dublin Core for OAI-PMH (validates against oai_dc.xsd).

Qualified terms are mapped down to their element (:data:`metadata.terms.ELEMENT_OF`):
abstract -> description, issued -> date, isPartOf -> relation, license -> rights, and so on.
Terms without a simple DC element (audience, educationLevel, instructionalMethod, mediator,
accrual*, provenance) are dropped. Vocabulary slugs are written as their vi and en labels.
Every language-tagged value carries ``xml:lang``. The record URL is added as an identifier.
Elements come in the schema's order, values in statement order, repeats removed.
"""

from __future__ import annotations

from lxml import etree

from metadata.crosswalks.base import Display, RecordContext, display, xml_attr, xml_text
from metadata.model import Metadata
from metadata.terms import DC_NS, ELEMENT_OF

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
ELEMENT_ORDER = ("title", "creator", "subject", "description", "publisher", "contributor",
                 "date", "type", "format", "identifier", "source", "language", "relation",
                 "coverage", "rights")

_OPEN = (
    f'<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}" xmlns:xsi="{XSI_NS}" '
    f'xsi:schemaLocation="{SCHEMA_LOCATION}">'
)


def simple_dc(metadata: Metadata, context: RecordContext) -> list[tuple[str, Display]]:
    """The (element, value) pairs of the simple DC view of a record, in output order."""
    profile = context.resolved_profile
    by_element: dict[str, list[Display]] = {name: [] for name in ELEMENT_ORDER}
    for statement in metadata:
        element = ELEMENT_OF.get(statement.term)
        if element is None:
            continue
        for item in display(statement, profile):
            if item not in by_element[element]:
                by_element[element].append(item)
    if context.url and Display(context.url, None) not in by_element["identifier"]:
        by_element["identifier"].append(Display(context.url, None))
    return [(element, item) for element, items in by_element.items() for item in items]


def oai_dc_fragment(metadata: Metadata, context: RecordContext) -> str:
    """The ``<oai_dc:dc>`` element as a string, without XML declaration, for embedding."""
    lines = [_OPEN]
    for element, item in simple_dc(metadata, context):
        lang = f' xml:lang="{xml_attr(item.lang)}"' if item.lang else ""
        lines.append(f"  <dc:{element}{lang}>{xml_text(item.text)}</dc:{element}>")
    lines.append("</oai_dc:dc>")
    return "\n".join(lines)


def oai_dc_element(metadata: Metadata, context: RecordContext) -> etree._Element:
    """The ``<oai_dc:dc>`` element as an lxml element."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(oai_dc_fragment(metadata, context).encode("utf-8"), parser)


def to_oai_dc(metadata: Metadata, context: RecordContext) -> str:
    """A standalone oai_dc XML document."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + oai_dc_fragment(metadata, context) + "\n"
