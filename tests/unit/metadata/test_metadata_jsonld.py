import json

from metadata import Metadata, RecordContext, Statement
from metadata.crosswalks.jsonld import jsonld_object, to_jsonld


def test_exact_output(record, context, golden):
    assert to_jsonld(record, context) == golden("record.jsonld")


def test_learning_resource_mapping(record, context):
    data = json.loads(to_jsonld(record, context))
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "LearningResource"
    assert data["name"] == [{"@value": "Giáo trình Hậu cần xăng dầu", "@language": "vi"},
                            {"@value": "Petroleum Logistics: a Textbook", "@language": "en"}]
    assert [a["name"] for a in data["author"]] == ["Nguyễn Văn An", "Trần Thị Bích Ngọc"]
    assert all(a["@type"] == "Person" for a in data["author"])
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
    assert data == {"@context": "https://schema.org", "@type": "LearningResource",
                    "identifier": "x", "name": "Chỉ nhan đề"}
