from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCMITYPE, DCTERMS, FOAF, RDF, XSD

from metadata import Metadata, RecordContext, Statement
from metadata.crosswalks.rdf import to_graph, to_rdfxml, to_turtle

SUBJECT = URIRef("https://kho.hvhc.edu.vn/records/42")


def expected_graph() -> Graph:
    """The fixture's triples, written out by hand: a wrong mapping changes this set."""
    graph = Graph()
    d = DCTERMS
    triples = [
        (d.title, Literal("Giáo trình Hậu cần xăng dầu", lang="vi")),
        (d.title, Literal("Petroleum Logistics: a Textbook", lang="en")),
        (d.alternative, Literal("Xăng dầu quân sự & an toàn <cơ bản>", lang="vi")),
        (d.subject, Literal("Xăng dầu", lang="vi")),
        (d.subject, Literal("Petroleum, oil and lubricants", lang="en")),
        (d.subject, Literal("Kho xăng dầu dã chiến", lang="vi")),
        (d.abstract, Literal("Giáo trình trình bày công tác bảo đảm xăng dầu, \"kho\" dã chiến "
                             "và 100% an toàn.", lang="vi")),
        (d.abstract, Literal("The textbook covers fuel supply, field depots & safety_rules.",
                             lang="en")),
        (d.issued, Literal("2024-09-05", datatype=XSD.date)),
        (d.created, Literal("2023", datatype=XSD.gYear)),
        (d.type, DCMITYPE.Text),
        (d.format, Literal("application/pdf", datatype=DCTERMS.IMT)),
        (d.extent, Literal("245 tr.", lang="vi")),
        (d.language, Literal("vi", datatype=DCTERMS.RFC5646)),
        (d.audience, Literal("Học viên năm thứ ba", lang="vi")),
        (d.audience, Literal("Third-year cadets", lang="en")),
        (d.audience, Literal("Người dân", lang="vi")),
        (d.audience, Literal("Citizens", lang="en")),
        (d.educationLevel, Literal("Đại học", lang="vi")),
        (d.educationLevel, Literal("Undergraduate", lang="en")),
        (d.instructionalMethod, Literal("Giảng bài", lang="vi")),
        (d.instructionalMethod, Literal("Lecture", lang="en")),
        (d.identifier, Literal("doi:10.1234/hvhc.2024.42")),
        (d.isPartOf, URIRef("urn:isbn:9786040000000")),
        (d.rights, Literal("Lưu hành nội bộ; © 2024 Học viện Hậu cần", lang="vi")),
        (d.license, URIRef("https://creativecommons.org/licenses/by-nc/4.0/")),
        (d.spatial, Literal("Việt Nam", lang="vi")),
    ]
    for predicate, obj in triples:
        graph.add((SUBJECT, predicate, obj))
    # Creators, contributors and publishers are agents (DCMI's range), not literals.
    agents = [
        (d.creator, FOAF.Person, Literal("Nguyễn Văn An"), "Nguyễn", "Văn An"),
        (d.creator, FOAF.Person, Literal("Trần Thị Bích Ngọc"), "Trần", "Thị Bích Ngọc"),
        (d.contributor, FOAF.Person, Literal("Lê Đức Thắng"), "Lê", "Đức Thắng"),
        (d.publisher, FOAF.Organization, Literal("Học viện Hậu cần", lang="vi"), None, None),
    ]
    for predicate, kind, name, family, given in agents:
        node = BNode()
        graph.add((SUBJECT, predicate, node))
        graph.add((node, RDF.type, DCTERMS.Agent))
        graph.add((node, RDF.type, kind))
        graph.add((node, FOAF.name, name))
        if family:
            graph.add((node, FOAF.familyName, Literal(family)))
            graph.add((node, FOAF.givenName, Literal(given)))
    return graph


def test_graph_mapping(record, context):
    graph = to_graph(record, context)
    assert isomorphic(graph, expected_graph()), graph.serialize(format="turtle")


def test_turtle_exact_output_and_meaning(record, context, golden):
    text = to_turtle(record, context)
    assert text == golden("record.ttl")
    assert isomorphic(Graph().parse(data=text, format="turtle"), expected_graph())


def test_rdfxml_exact_output_and_meaning(record, context, golden):
    text = to_rdfxml(record, context)
    assert text == golden("record.rdf")
    assert isomorphic(Graph().parse(data=text, format="xml"), expected_graph())


def test_date_typing():
    md = Metadata([Statement("issued", "2024-03"), Statement("modified", "2024-03-05T10:00:00Z"),
                   Statement("available", "2024-03-05T10:00+07:00"),
                   Statement("dateAccepted", "not a date")])
    graph = to_graph(md, RecordContext("oai:kho.hvhc.edu.vn:1"))
    subject = URIRef("oai:kho.hvhc.edu.vn:1")
    assert graph.value(subject, DCTERMS.issued).datatype == XSD.gYearMonth
    assert graph.value(subject, DCTERMS.modified).datatype == XSD.dateTime
    assert graph.value(subject, DCTERMS.available).datatype == DCTERMS.W3CDTF
    assert graph.value(subject, DCTERMS.dateAccepted).datatype is None


def test_hostile_literals_round_trip_through_rdfxml():
    md = Metadata([Statement("title", "</rdf:RDF> & \"quotes\" \r\n", "vi"),
                   Statement("relation", "javascript:alert(1)"),
                   Statement("title", "bad lang", "not a tag")])
    context = RecordContext("r", url="https://kho.hvhc.edu.vn/records/1?a=1&b=2")
    graph = to_graph(md, context)
    assert Literal("javascript:alert(1)") in set(graph.objects())  # not a URI reference
    assert Literal("bad lang") in set(graph.objects())
    parsed = Graph().parse(data=to_rdfxml(md, context), format="xml")
    assert isomorphic(parsed, graph)
    assert isomorphic(Graph().parse(data=to_turtle(md, context), format="turtle"), graph)


def test_organisation_creators_are_organisations():
    md = Metadata([Statement("title", "Tin tức", "vi"), Statement("creator", "VnExpress"),
                   Statement("creator", "Phòng Đào tạo"), Statement("creator", "Trần Văn Giảng")])
    graph = Graph().parse(data=to_rdfxml(md, RecordContext("https://x.test/r/1")), format="xml")
    kinds = {str(graph.value(node, FOAF.name)): set(graph.objects(node, RDF.type))
             for node in graph.objects(URIRef("https://x.test/r/1"), DCTERMS.creator)}
    assert kinds == {"VnExpress": {DCTERMS.Agent, FOAF.Organization},
                     "Phòng Đào tạo": {DCTERMS.Agent, FOAF.Organization},
                     "Trần Văn Giảng": {DCTERMS.Agent, FOAF.Person}}
