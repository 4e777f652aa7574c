import pytest

from metadata import FORMATS, RecordContext, get_format, serialize

NAMES = ["oai_dc", "qdc", "marcxml", "mods", "ttl", "rdf", "jsonld", "csl", "bibtex", "ris",
         "csv"]


def test_format_names_are_exactly_these():
    assert list(FORMATS) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_format_serializes_deterministically(name, record, context):
    first = serialize(name, record, context)
    assert isinstance(first, str) and first
    assert serialize(name, record, context) == first
    fmt = get_format(name)
    assert fmt.name == name and "/" in fmt.media_type and fmt.extension.isalpha()


def test_media_types_and_extensions():
    assert (FORMATS["oai_dc"].media_type, FORMATS["oai_dc"].extension) == (
        "application/xml; charset=utf-8", "xml")
    assert FORMATS["ttl"].media_type.startswith("text/turtle")
    assert FORMATS["rdf"].media_type.startswith("application/rdf+xml")
    assert FORMATS["jsonld"].media_type.startswith("application/ld+json")
    assert FORMATS["csv"].extension == "csv" and FORMATS["bibtex"].extension == "bib"


def test_unknown_format():
    with pytest.raises(KeyError, match="oai_dc"):
        get_format("marc")


def test_context_needs_an_identifier():
    with pytest.raises(ValueError):
        RecordContext("")
