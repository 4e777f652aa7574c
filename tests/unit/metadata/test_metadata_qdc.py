from lxml import etree

from metadata.crosswalks.qdc import QDC_NS, to_qdc
from metadata.terms import DC_NS, DCTERMS_NS, ELEMENTS, PROPERTIES

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def parse(text: str) -> etree._Element:
    return etree.fromstring(text.encode("utf-8"),
                            etree.XMLParser(resolve_entities=False, no_network=True))


def test_exact_output(record, context, golden):
    assert to_qdc(record, context) == golden("record.qdc.xml")


def test_well_formed_with_dublin_core_namespaces(record, context):
    root = parse(to_qdc(record, context))
    assert root.tag == f"{{{QDC_NS}}}qualifieddc"
    for element in root:
        namespace, local = element.tag[1:].split("}")
        if namespace == DC_NS:
            assert local in ELEMENTS
        else:
            assert namespace == DCTERMS_NS and local in PROPERTIES and local not in ELEMENTS


def test_encoding_schemes_and_languages(record, context):
    root = parse(to_qdc(record, context))
    issued = root.find(f"{{{DCTERMS_NS}}}issued")
    assert issued.text == "2024-09-05" and issued.get(XSI_TYPE) == "dcterms:W3CDTF"
    assert root.find(f"{{{DC_NS}}}type").get(XSI_TYPE) == "dcterms:DCMIType"
    assert root.find(f"{{{DCTERMS_NS}}}isPartOf").get(XSI_TYPE) == "dcterms:URI"
    abstracts = root.findall(f"{{{DCTERMS_NS}}}abstract")
    assert [a.get(XML_LANG) for a in abstracts] == ["vi", "en"]
    audiences = [(a.text, a.get(XML_LANG)) for a in root.findall(f"{{{DCTERMS_NS}}}audience")]
    assert ("Học viên năm thứ ba", "vi") in audiences and ("Third-year cadets", "en") in audiences


def test_valid_against_dspace_qualifieddc_schema(record, context):
    from tests.schemas import qdc_schema

    schema = qdc_schema()
    schema.assertValid(parse(to_qdc(record, context)))
    # The schema does check: an element outside dc/dcterms is refused.
    wrong = parse(to_qdc(record, context))
    wrong.append(etree.Element("{http://example.org/}title"))
    assert not schema.validate(wrong)


def test_schema_location_names_dspace_wrapper(record, context):
    root = parse(to_qdc(record, context))
    locations = root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation").split()
    pairs = dict(zip(locations[::2], locations[1::2], strict=True))
    assert pairs[QDC_NS] == "http://www.ukoln.ac.uk/metadata/dcmi/xmlschema/qualifieddc.xsd"
