from rdflib.namespace import DCTERMS

from metadata.crosswalks.oai_dc import ELEMENT_ORDER
from metadata.terms import (
    DCMI_TYPES,
    ELEMENT_OF,
    ELEMENTS,
    PROPERTIES,
    TERM_SYNTAX,
    Syntax,
    is_term,
    syntax_of,
    term_uri,
)


def test_there_are_15_elements_and_55_properties():
    assert len(ELEMENTS) == 15
    assert len(PROPERTIES) == 55
    assert len(set(PROPERTIES)) == 55
    assert set(ELEMENTS) <= set(PROPERTIES)


def test_properties_exclude_classes_and_schemes():
    for name in ("Agent", "W3CDTF", "ISO639-2", "DCMIType", "LicenseDocument"):
        assert name not in PROPERTIES
    for name in ("title", "issued", "abstract", "audience", "educationLevel",
                 "instructionalMethod", "mediator", "isPartOf", "rightsHolder"):
        assert is_term(name)


def test_dcmi_type_vocabulary_has_12_classes():
    assert len(DCMI_TYPES) == 12
    assert {"Text", "MovingImage", "StillImage", "InteractiveResource"} <= set(DCMI_TYPES)


def test_term_uri():
    assert term_uri("issued") == str(DCTERMS.issued) == "http://purl.org/dc/terms/issued"


def test_element_mapping_targets_are_elements_and_sources_are_terms():
    assert set(ELEMENT_OF.values()) <= set(ELEMENTS)
    assert all(is_term(name) for name in ELEMENT_OF)
    assert set(ELEMENT_ORDER) == set(ELEMENTS)


def test_element_mapping_of_refinements():
    assert ELEMENT_OF["abstract"] == ELEMENT_OF["tableOfContents"] == "description"
    assert ELEMENT_OF["alternative"] == "title"
    for date in ("issued", "created", "modified", "available", "dateAccepted"):
        assert ELEMENT_OF[date] == "date"
    for relation in ("isPartOf", "hasVersion", "references", "conformsTo", "replaces"):
        assert ELEMENT_OF[relation] == "relation"
    assert ELEMENT_OF["spatial"] == ELEMENT_OF["temporal"] == "coverage"
    assert ELEMENT_OF["extent"] == ELEMENT_OF["medium"] == "format"
    assert ELEMENT_OF["accessRights"] == ELEMENT_OF["license"] == "rights"
    for dropped in ("audience", "educationLevel", "mediator", "instructionalMethod",
                    "provenance", "accrualPolicy"):
        assert dropped not in ELEMENT_OF


def test_built_in_syntax():
    assert all(is_term(name) for name in TERM_SYNTAX)
    assert syntax_of("issued") is Syntax.W3CDTF
    assert syntax_of("isReferencedBy") is Syntax.URI
    assert syntax_of("format") is Syntax.IMT
    assert syntax_of("language") is Syntax.LANGUAGE
    assert syntax_of("type") is Syntax.DCMI_TYPE
    assert syntax_of("title") is Syntax.LITERAL
