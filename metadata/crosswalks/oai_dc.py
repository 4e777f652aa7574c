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

from metadata import xmlwriter as xml
from metadata.crosswalks.base import Display, RecordContext, display
from metadata.model import Metadata
from metadata.terms import DC_NS, ELEMENT_OF

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
SCHEMA_LOCATION = f"{OAI_DC_NS} {OAI_DC_SCHEMA}"
ELEMENT_ORDER = ("title", "creator", "subject", "description", "publisher", "contributor",
                 "date", "type", "format", "identifier", "source", "language", "relation",
                 "coverage", "rights")

_ROOT_ATTRIBUTES = xml.namespaces({"oai_dc": OAI_DC_NS, "dc": DC_NS},
                                  [(OAI_DC_NS, OAI_DC_SCHEMA)])


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
    lines = [xml.start("oai_dc:dc", _ROOT_ATTRIBUTES)]
    for element, item in simple_dc(metadata, context):
        lines.append("  " + xml.element(f"dc:{element}", item.text, {"xml:lang": item.lang}))
    lines.append(xml.end("oai_dc:dc"))
    return "\n".join(lines)


def oai_dc_element(metadata: Metadata, context: RecordContext) -> etree._Element:
    """The ``<oai_dc:dc>`` element as an lxml element."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(oai_dc_fragment(metadata, context).encode("utf-8"), parser)


def to_oai_dc(metadata: Metadata, context: RecordContext) -> str:
    """A standalone oai_dc XML document."""
    return xml.DECLARATION + oai_dc_fragment(metadata, context) + "\n"
