"""RDF views of a record: an rdflib graph, serialised as Turtle (``ttl``) or RDF/XML (``rdf``).

The subject is the record URL (else its identifier). Literal terms become language-tagged
literals (vocabulary slugs: one literal per vi/en label); ``type`` is the DCMI Type class
URI; dates are typed ``xsd:gYear``, ``xsd:gYearMonth``, ``xsd:date`` or ``xsd:dateTime``
(``dcterms:W3CDTF`` for a date-time without seconds, which xsd:dateTime does not allow);
relations, source and license are URI references; ``identifier`` stays a literal, as its
DCMI range is a literal. Creators, contributors, publishers and rights holders are agents
(DCMI's range for them): a blank node typed ``dcterms:Agent`` and ``foaf:Person`` or
``foaf:Organization`` (:mod:`metadata.agents`), named by ``foaf:name``, with
``foaf:familyName``/``foaf:givenName`` for people. Both serialisations are deterministic:
rdflib's Turtle writer sorts predicates and objects (blank node ids are derived from the
agent), and the RDF/XML writer here, :func:`graph_to_rdfxml` (our own, on
:mod:`metadata.xmlwriter`; rdflib's is not deterministic), uses the same sort.
"""

from __future__ import annotations

import hashlib

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCMITYPE, DCTERMS, FOAF, RDF, XSD
from rdflib.term import Node

from metadata import xmlwriter as xml
from metadata.agents import agent
from metadata.crosswalks.base import RecordContext, display
from metadata.model import Metadata, Statement
from metadata.profile import Profile
from metadata.schemes import parse_uri, parse_w3cdtf
from metadata.terms import DCMI_TYPES, Syntax, is_term, syntax_of

_DATE_TYPES = {"year": XSD.gYear, "year-month": XSD.gYearMonth, "date": XSD.date}
AGENT_TERMS = frozenset({"creator", "contributor", "publisher", "rightsHolder"})


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


def _add_agent(graph: Graph, statement: Statement) -> BNode:
    who = agent(statement.value)
    node = BNode("agent" + hashlib.sha256(
        f"{statement.value}\x00{statement.lang}".encode()).hexdigest()[:16])
    graph.add((node, RDF.type, DCTERMS.Agent))
    graph.add((node, RDF.type, FOAF.Organization if who.is_organisation else FOAF.Person))
    graph.add((node, FOAF.name, _text_literal(who.name, statement.lang)))
    if not who.is_organisation and who.family:
        graph.add((node, FOAF.familyName, Literal(who.family)))
        if who.given:
            graph.add((node, FOAF.givenName, Literal(who.given)))
    return node


def to_graph(metadata: Metadata, context: RecordContext) -> Graph:
    """The record as an rdflib graph (statements whose term is not a DCMI term are skipped)."""
    graph = Graph(bind_namespaces="none")
    graph.bind("dcterms", DCTERMS)
    graph.bind("dcmitype", DCMITYPE)
    graph.bind("foaf", FOAF)
    graph.bind("xsd", XSD)
    subject = URIRef(context.subject_uri)
    profile = context.resolved_profile
    for statement in metadata:
        if not is_term(statement.term):
            continue
        if statement.term in AGENT_TERMS:
            graph.add((subject, DCTERMS[statement.term], _add_agent(graph, statement)))
            continue
        for obj in _objects(statement, profile):
            graph.add((subject, DCTERMS[statement.term], obj))
    return graph


def to_turtle(metadata: Metadata, context: RecordContext) -> str:
    """The record as Turtle."""
    return to_graph(metadata, context).serialize(format="turtle")


_PREFIXES = {str(DCTERMS): "dcterms", str(RDF): "rdf", str(FOAF): "foaf"}


def _qname(predicate: URIRef) -> str:
    text = str(predicate)
    for namespace, prefix in _PREFIXES.items():
        local = text.removeprefix(namespace)
        if local != text and local and "/" not in local and "#" not in local:
            return f"{prefix}:{local}"
    raise ValueError(f"unsupported predicate {predicate!r}")


def _property_lines(graph: Graph, subject: URIRef | BNode, indent: str) -> list[str]:
    lines = []
    for predicate, obj in sorted(graph.predicate_objects(subject)):
        name = _qname(predicate)
        if isinstance(obj, URIRef):
            lines.append(indent + xml.element(name, None, {"rdf:resource": str(obj)}))
        elif isinstance(obj, Literal):
            attrs = {"xml:lang": obj.language} if obj.language else {
                "rdf:datatype": str(obj.datatype) if obj.datatype else None}
            lines.append(indent + xml.element(name, str(obj), attrs))
        elif isinstance(obj, BNode):
            # A blank node (an agent) is described where it is used, so it needs no id.
            lines.append(indent + xml.start(name))
            lines.append(indent + "  " + xml.start("rdf:Description"))
            lines.extend(_property_lines(graph, obj, indent + "    "))
            lines.append(indent + "  " + xml.end("rdf:Description"))
            lines.append(indent + xml.end(name))
        else:
            raise ValueError(f"unsupported object {obj!r}")
    return lines


def graph_to_rdfxml(graph: Graph) -> str:
    """Deterministic RDF/XML for a graph of URI subjects whose objects are URIs, literals or
    blank nodes used once (written nested). Raises ValueError for predicates outside
    dcterms/rdf/foaf or a blank node at the top (not produced here).
    """
    lines = [xml.DECLARATION + xml.start("rdf:RDF", xml.namespaces(
        {"rdf": str(RDF), "dcterms": str(DCTERMS), "foaf": str(FOAF)}))]
    nested = {o for o in graph.objects() if isinstance(o, BNode)}
    for subject in sorted(set(graph.subjects()) - nested):
        if not isinstance(subject, URIRef):
            raise ValueError(f"unsupported subject {subject!r}")
        lines.append("  " + xml.start("rdf:Description", {"rdf:about": str(subject)}))
        lines.extend(_property_lines(graph, subject, "    "))
        lines.append("  " + xml.end("rdf:Description"))
    lines.append(xml.end("rdf:RDF"))
    return "\n".join(lines) + "\n"


def to_rdfxml(metadata: Metadata, context: RecordContext) -> str:
    """The record as RDF/XML."""
    return graph_to_rdfxml(to_graph(metadata, context))
