"""RDF views of a record: an rdflib graph, serialised as Turtle (``ttl``) or RDF/XML (``rdf``).

The subject is the record URL (else its identifier). Literal terms become language-tagged
literals (vocabulary slugs: one literal per vi/en label); ``type`` is the DCMI Type class
URI; dates are typed ``xsd:gYear``, ``xsd:gYearMonth``, ``xsd:date`` or ``xsd:dateTime``
(``dcterms:W3CDTF`` for a date-time without seconds, which xsd:dateTime does not allow);
relations, source and license are URI references; ``identifier`` stays a literal, as its
DCMI range is a literal. Both serialisations are deterministic: rdflib's Turtle writer
sorts predicates and objects, and the RDF/XML writer here uses the same sort.
"""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCMITYPE, DCTERMS, RDF, XSD
from rdflib.term import Node

from metadata import xmlwriter as xml
from metadata.crosswalks.base import RecordContext, display
from metadata.model import Metadata, Statement
from metadata.profile import Profile
from metadata.schemes import parse_uri, parse_w3cdtf
from metadata.terms import DCMI_TYPES, Syntax, is_term, syntax_of

_DATE_TYPES = {"year": XSD.gYear, "year-month": XSD.gYearMonth, "date": XSD.date}


def _date_literal(value: str) -> Literal:
    parsed = parse_w3cdtf(value)
    if parsed is None:
        return Literal(value)
    if parsed.precision != "datetime":
        return Literal(value, datatype=_DATE_TYPES[parsed.precision])
    has_seconds = value[16:17] == ":"  # YYYY-MM-DDThh:mm:ss...
    return Literal(value, datatype=XSD.dateTime if has_seconds else DCTERMS.W3CDTF)


def _text_literal(text: str, lang: str | None) -> Literal:
    try:
        return Literal(text, lang=lang)
    except ValueError:  # rdflib refuses malformed language tags
        return Literal(text)


def _objects(statement: Statement, profile: Profile) -> list[Node]:
    syntax = syntax_of(statement.term)
    value = statement.value
    if syntax is Syntax.DCMI_TYPE:
        return [DCMITYPE[value] if value in DCMI_TYPES else Literal(value)]
    if syntax is Syntax.W3CDTF:
        return [_date_literal(value)]
    if syntax is Syntax.URI:
        if statement.term == "identifier" or parse_uri(value) is None:
            return [Literal(value)]
        return [URIRef(value)]
    if syntax is Syntax.IMT:
        return [Literal(value, datatype=DCTERMS.IMT)]
    if syntax is Syntax.LANGUAGE:
        return [Literal(value, datatype=DCTERMS.RFC5646)]
    return [_text_literal(item.text, item.lang) for item in display(statement, profile)]


def to_graph(metadata: Metadata, context: RecordContext) -> Graph:
    """The record as an rdflib graph (statements whose term is not a DCMI term are skipped)."""
    graph = Graph(bind_namespaces="none")
    graph.bind("dcterms", DCTERMS)
    graph.bind("dcmitype", DCMITYPE)
    graph.bind("xsd", XSD)
    subject = URIRef(context.subject_uri)
    profile = context.resolved_profile
    for statement in metadata:
        if is_term(statement.term):
            for obj in _objects(statement, profile):
                graph.add((subject, DCTERMS[statement.term], obj))
    return graph


def to_turtle(metadata: Metadata, context: RecordContext) -> str:
    """The record as Turtle."""
    return to_graph(metadata, context).serialize(format="turtle")


def graph_to_rdfxml(graph: Graph) -> str:
    """Deterministic RDF/XML for a graph of URI subjects with URI or literal objects.

    Raises ValueError for blank nodes or predicates outside dcterms/rdf (not produced here).
    """
    prefixes = {str(DCTERMS): "dcterms", str(RDF): "rdf"}
    lines = [xml.DECLARATION + xml.start("rdf:RDF", xml.namespaces({"rdf": str(RDF),
                                                                    "dcterms": str(DCTERMS)}))]
    for subject in sorted(set(graph.subjects())):
        if not isinstance(subject, URIRef):
            raise ValueError(f"unsupported subject {subject!r}")
        lines.append("  " + xml.start("rdf:Description", {"rdf:about": str(subject)}))
        for predicate, obj in sorted(graph.predicate_objects(subject)):
            namespace, _, local = str(predicate).rpartition("/")
            prefix = prefixes.get(namespace + "/")
            if prefix is None or not local:
                raise ValueError(f"unsupported predicate {predicate!r}")
            name = f"{prefix}:{local}"
            if isinstance(obj, URIRef):
                lines.append("    " + xml.element(name, None, {"rdf:resource": str(obj)}))
            elif isinstance(obj, Literal):
                attrs = {"xml:lang": obj.language} if obj.language else {
                    "rdf:datatype": str(obj.datatype) if obj.datatype else None}
                lines.append("    " + xml.element(name, str(obj), attrs))
            else:
                raise ValueError(f"unsupported object {obj!r}")
        lines.append("  " + xml.end("rdf:Description"))
    lines.append(xml.end("rdf:RDF"))
    return "\n".join(lines) + "\n"


def to_rdfxml(metadata: Metadata, context: RecordContext) -> str:
    """The record as RDF/XML."""
    return graph_to_rdfxml(to_graph(metadata, context))
