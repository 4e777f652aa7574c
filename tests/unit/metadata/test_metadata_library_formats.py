"""CSL-JSON read by citeproc-py; MARCXML and MODS validated by the official Library of
Congress schemas (tests/schemas.py resolves them offline) and read back with lxml."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from metadata import Metadata, RecordContext, Statement, serialize
from tests.schemas import marcxml_schema, mods_schema

MARC = {"m": "http://www.loc.gov/MARC21/slim"}
MODS = {"m": "http://www.loc.gov/mods/v3"}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@pytest.fixture(scope="module")
def marc_xsd():
    return marcxml_schema()


@pytest.fixture(scope="module")
def mods_xsd():
    return mods_schema()


def parse(text: str) -> etree._Element:
    return etree.fromstring(text.encode("utf-8"), PARSER)


HOSTILE = Metadata([
    Statement("title", "</record> & <mods> \x00\x0b \"x\"", "vi"),
    Statement("creator", "]]> <b>"), Statement("creator", "Phòng Đào tạo"),
    Statement("identifier", "urn:isbn:978604"), Statement("language", "xx-invalid"),
    Statement("type", "Sound"),
])


def render_csl(metadata: Metadata, context: RecordContext) -> str:
    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON

    data = json.loads(serialize("csl", metadata, context))
    source = CiteProcJSON(data)
    bibliography = CitationStylesBibliography(
        CitationStylesStyle("harvard-cite-them-right", validate=False), source, formatter.plain)
    bibliography.register(Citation([CitationItem(data[0]["id"])]))
    return str(bibliography.bibliography()[0])


def test_exact_outputs(record, context, golden):
    assert serialize("csl", record, context) == golden("record.csl.json")
    assert serialize("marcxml", record, context) == golden("record.marcxml.xml")
    assert serialize("mods", record, context) == golden("record.mods.xml")


def test_citeproc_formats_the_csl_item(record, context):
    assert render_csl(record, context) == (
        "Nguyễn, V.A. and Trần, T.B.N. (2024) Giáo trình Hậu cần xăng dầu. Học viện Hậu cần. "
        "Available at: https://doi.org/10.1234/hvhc.2024.42.")


def test_csl_organisations_are_literal_names():
    md = Metadata([Statement("title", "Bản tin", "vi"), Statement("creator", "VnExpress"),
                   Statement("issued", "2025")])
    [item] = json.loads(serialize("csl", md, RecordContext("tin-1")))
    assert item["author"] == [{"literal": "VnExpress"}]
    assert item["issued"] == {"date-parts": [[2025]]}
    assert render_csl(md, RecordContext("tin-1")) == "VnExpress (2025) “Bản tin”."


def test_marcxml_is_valid_and_mapped(record, context, marc_xsd):
    root = parse(serialize("marcxml", record, context))
    marc_xsd.assertValid(root)

    def sub(tag: str, code: str) -> list[str]:
        return root.xpath(f"m:datafield[@tag='{tag}']/m:subfield[@code='{code}']/text()",
                          namespaces=MARC)

    assert root.findtext("m:leader", namespaces=MARC)[6:8] == "am"
    assert sub("100", "a") == ["Nguyễn, Văn An"]
    assert sub("700", "a") == ["Trần, Thị Bích Ngọc", "Lê, Đức Thắng"]
    assert sub("245", "a") == ["Giáo trình Hậu cần xăng dầu"]
    assert sub("246", "a")[0] == "Petroleum Logistics: a Textbook"
    assert sub("024", "a") == ["10.1234/hvhc.2024.42"] and sub("024", "2") == ["doi"]
    assert sub("041", "a") == ["vie"]
    assert sub("264", "b") == ["Học viện Hậu cần"] and sub("264", "c") == ["2024-09-05"]
    assert sub("856", "u") == [context.url, context.pdf_url]
    assert sub("540", "u") == ["https://creativecommons.org/licenses/by-nc/4.0/"]


def test_mods_is_valid_and_mapped(record, context, mods_xsd):
    root = parse(serialize("mods", record, context))
    mods_xsd.assertValid(root)
    assert root.xpath("m:titleInfo[not(@type)]/m:title/text()", namespaces=MODS) == [
        "Giáo trình Hậu cần xăng dầu"]
    assert root.xpath("m:titleInfo[@type='translated']/m:title/text()", namespaces=MODS) == [
        "Petroleum Logistics: a Textbook"]
    families = root.xpath("m:name[@type='personal']/m:namePart[@type='family']/text()",
                          namespaces=MODS)
    assert families == ["Nguyễn", "Trần", "Lê"]
    assert root.findtext("m:typeOfResource", namespaces=MODS) == "text"
    assert root.xpath("m:identifier[@type='doi']/text()", namespaces=MODS) == [
        "10.1234/hvhc.2024.42"]
    assert root.xpath("m:location/m:url[@usage='primary display']/text()",
                      namespaces=MODS) == [context.url]


def test_hostile_values_stay_valid_xml(marc_xsd, mods_xsd):
    context = RecordContext("x&<y>", url="https://kho.test/records/1?a=1&b=2")
    marc = parse(serialize("marcxml", HOSTILE, context))
    marc_xsd.assertValid(marc)
    assert marc.xpath("m:datafield[@tag='245']/m:subfield/text()", namespaces=MARC) == [
        "</record> & <mods> \ufffd\ufffd \"x\""]
    assert marc.xpath("m:datafield[@tag='110']/m:subfield[@code='a']/text()",
                      namespaces=MARC) == []  # the first creator is a person
    assert marc.xpath("m:datafield[@tag='710']/m:subfield[@code='a']/text()",
                      namespaces=MARC) == ["Phòng Đào tạo"]
    mods = parse(serialize("mods", HOSTILE, context))
    mods_xsd.assertValid(mods)
    assert mods.findtext("m:typeOfResource", namespaces=MODS) == "sound recording-nonmusical"
    assert mods.xpath("m:name[@type='corporate']/m:namePart/text()", namespaces=MODS) == [
        "Phòng Đào tạo"]


def test_schemas_really_check(marc_xsd, mods_xsd):
    marc = parse(serialize("marcxml", Metadata([Statement("title", "T", "vi")]),
                           RecordContext("x")))
    marc.find("m:leader", MARC).text = "00000nam a2200000"  # too short
    assert not marc_xsd.validate(marc)
    mods = parse(serialize("mods", Metadata([Statement("title", "T", "vi")]),
                           RecordContext("x")))
    etree.SubElement(mods, "{http://www.loc.gov/mods/v3}notAnElement")
    assert not mods_xsd.validate(mods)
