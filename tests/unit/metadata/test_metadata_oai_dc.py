from lxml import etree

from metadata import Metadata, RecordContext, Statement
from metadata.crosswalks.oai_dc import (
    SCHEMA_LOCATION,
    oai_dc_element,
    oai_dc_fragment,
    simple_dc,
    to_oai_dc,
)

DC = "{http://purl.org/dc/elements/1.1/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def parse(text: str) -> etree._Element:
    return etree.fromstring(text.encode("utf-8"), PARSER)


def test_exact_output(record, context, golden):
    assert to_oai_dc(record, context) == golden("record.oai_dc.xml")


def test_validates_against_the_oai_dc_schema(record, context, oai_dc_schema):
    document = parse(to_oai_dc(record, context))
    assert oai_dc_schema.validate(document), oai_dc_schema.error_log
    assert oai_dc_schema.validate(oai_dc_element(record, context))


def test_schema_really_checks_content(oai_dc_schema):
    ns = ('xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/"')
    assert oai_dc_schema.validate(parse(f'<oai_dc:dc {ns}><dc:title xml:lang="vi">x</dc:title>'
                                        "</oai_dc:dc>"))
    assert not oai_dc_schema.validate(parse(f"<oai_dc:dc {ns}><dc:audience>x</dc:audience>"
                                            "</oai_dc:dc>"))
    assert not oai_dc_schema.validate(parse(f'<oai_dc:dc {ns}><dc:title foo="1">x</dc:title>'
                                            "</oai_dc:dc>"))


def test_schema_location_and_namespaces(record, context):
    root = oai_dc_element(record, context)
    assert root.tag == "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"
    location = root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation")
    assert location == SCHEMA_LOCATION == (
        "http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
    )


def test_qualified_terms_map_down(record, context):
    root = oai_dc_element(record, context)
    by_tag = [(el.tag.removeprefix(DC), el.text, el.get(XML_LANG)) for el in root]
    assert ("description", "The textbook covers fuel supply, field depots & safety_rules.",
            "en") in by_tag
    assert ("title", "Xăng dầu quân sự & an toàn <cơ bản>", "vi") in by_tag  # alternative
    assert ("date", "2024-09-05", None) in by_tag and ("date", "2023", None) in by_tag
    assert ("relation", "urn:isbn:9786040000000", None) in by_tag  # isPartOf
    assert ("coverage", "Việt Nam", "vi") in by_tag  # spatial
    assert ("format", "245 tr.", "vi") in by_tag  # extent
    assert ("rights", "https://creativecommons.org/licenses/by-nc/4.0/", None) in by_tag
    assert ("subject", "Xăng dầu", "vi") in by_tag and (
        "subject", "Petroleum, oil and lubricants", "en") in by_tag
    assert ("identifier", context.url, None) in by_tag
    texts = {text for _, text, _ in by_tag}
    assert "Third-year cadets" not in texts and "cadet-year-3" not in texts  # audience dropped
    assert "Đại học" not in texts  # educationLevel dropped


def test_every_language_tagged_value_has_xml_lang(record, context):
    root = oai_dc_element(record, context)
    tagged = [el for el in root if el.get(XML_LANG)]
    assert len(tagged) == sum(1 for s in record if s.lang) + 2  # + the subject's vi/en labels
    assert all(el.get(XML_LANG) in ("vi", "en") for el in tagged)


def test_hostile_values_stay_well_formed_and_valid(oai_dc_schema):
    md = Metadata([
        Statement("title", "</dc:title><script>alert(1)</script>&amp; \"'", "vi"),
        Statement("description", "nul\x00 and \x0b and \r\n line", None),
        Statement("creator", "a]]>b"),
        Statement("title", "tag", 'x" onload="1'),
    ])
    text = oai_dc_fragment(md, RecordContext("r1"))
    root = parse(text)
    assert oai_dc_schema.validate(root), oai_dc_schema.error_log
    assert root[0].text == "</dc:title><script>alert(1)</script>&amp; \"'"
    assert (root[1].text, root[1].get(XML_LANG)) == ("tag", None)  # malformed tag left out
    assert root[2].text == "a]]>b"
    assert root[3].text == "nul\ufffd and \ufffd and \r\n line"


def test_elements_follow_schema_order_and_repeats_are_removed():
    md = Metadata([Statement("rights", "r"), Statement("title", "t"), Statement("issued", "2024"),
                   Statement("created", "2024")])
    assert [(e, d.text) for e, d in simple_dc(md, RecordContext("x"))] == [
        ("title", "t"), ("date", "2024"), ("rights", "r")]


def test_fragment_has_no_declaration(record, context):
    assert oai_dc_fragment(record, context).startswith("<oai_dc:dc ")
