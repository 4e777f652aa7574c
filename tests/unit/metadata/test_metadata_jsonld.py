import json

import pytest
from pyld import jsonld
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from metadata import Metadata, RecordContext, Statement
from metadata.crosswalks.jsonld import CONTEXT, jsonld_object, to_jsonld

SCHEMA = "http://schema.org/"


def offline_loader(url, options=None):
    """A JSON-LD document loader for a closed network: any fetch is a test failure."""
    raise AssertionError(f"the JSON-LD processor tried to fetch {url}")


def test_exact_output(record, context, golden):
    assert to_jsonld(record, context) == golden("record.jsonld")


def test_learning_resource_mapping(record, context):
    data = json.loads(to_jsonld(record, context))
    assert data["@context"] == CONTEXT
    assert data["@type"] == "LearningResource"
    assert data["name"] == [{"@value": "Giáo trình Hậu cần xăng dầu", "@language": "vi"},
                            {"@value": "Petroleum Logistics: a Textbook", "@language": "en"}]
    assert [(a["@type"], a["familyName"], a["givenName"]) for a in data["author"]] == [
        ("Person", "Nguyễn", "Văn An"), ("Person", "Trần", "Thị Bích Ngọc")]
    assert data["datePublished"] == "2024-09-05"
    assert data["inLanguage"] == "vi"
    assert [a["educationalRole"] for a in data["audience"]] == ["cadet-year-3", "bdhvs-citizens"]
    assert all(a["@type"] == "EducationalAudience" for a in data["audience"])
    assert data["educationalLevel"][1] == {"@value": "Undergraduate", "@language": "en"}
    assert data["learningResourceType"] == "Text"
    assert data["license"] == "https://creativecommons.org/licenses/by-nc/4.0/"
    assert data["publisher"]["@type"] == "Organization"
    assert data["url"] == data["@id"] == context.url
    assert data["identifier"] == [context.identifier, "doi:10.1234/hvhc.2024.42"]
    assert data["about"]["termCode"] == "petroleum"


def test_minimal_record_omits_empty_fields():
    data = jsonld_object(Metadata([Statement("title", "Chỉ nhan đề")]), RecordContext("x"))
    assert data == {"@context": CONTEXT, "@type": "LearningResource",
                    "identifier": "x", "name": "Chỉ nhan đề"}


def test_pyld_expands_without_fetching_anything(record, context):
    expanded = jsonld.expand(json.loads(to_jsonld(record, context)),
                             {"documentLoader": offline_loader})
    [node] = expanded
    assert node["@id"] == context.url
    assert node["@type"] == [SCHEMA + "LearningResource"]
    assert node[SCHEMA + "url"] == [{"@id": context.url}]
    assert {"@value": "Petroleum Logistics: a Textbook", "@language": "en"} in node[
        SCHEMA + "name"]
    [encoding] = node[SCHEMA + "encoding"]
    assert encoding[SCHEMA + "contentUrl"] == [{"@id": context.pdf_url}]


# rdflib 7's JSON-LD parser itself builds a ConjunctiveGraph, which rdflib deprecates.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_rdflib_reads_the_document_offline(record, context):
    graph = Graph().parse(data=to_jsonld(record, context), format="json-ld")
    subject = URIRef(context.url)
    assert (subject, RDF.type, URIRef(SCHEMA + "LearningResource")) in graph
    assert (subject, URIRef(SCHEMA + "license"),
            URIRef("https://creativecommons.org/licenses/by-nc/4.0/")) in graph


@pytest.mark.parametrize(("name", "kind"), [
    ("VnExpress", "Organization"), ("Phòng Đào tạo", "Organization"),
    ("Học viện Hậu cần", "Organization"), ("Trần Văn Giảng", "Person"),
    ("John Smith", "Person")])
def test_creators_are_people_or_organisations(name, kind):
    md = Metadata([Statement("title", "T", "vi"), Statement("creator", name)])
    expanded = jsonld.expand(jsonld_object(md, RecordContext("x")),
                             {"documentLoader": offline_loader})
    [author] = expanded[0][SCHEMA + "author"]
    assert author["@type"] == [SCHEMA + kind]
    assert author[SCHEMA + "name"] == [{"@value": name}]
