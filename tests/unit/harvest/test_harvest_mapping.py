"""From harvested oai_dc/qdc to the profile: repairs, drops with warnings, provenance."""

from __future__ import annotations

import defusedxml.ElementTree as SafeET
import pytest

from lms.harvest.mapping import Unmappable, map_record
from metadata import Statement

OAI_DC = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/">{}</oai_dc:dc>')


def mapped(inner: str, identifier: str = "oai:x.org:1"):
    return map_record(SafeET.fromstring(OAI_DC.format(inner)), identifier,
                      "https://x.org/oai", "oai_dc")


def test_values_are_mapped_and_provenance_added():
    result = mapped('<dc:title xml:lang="en">  A   title </dc:title>'
                    "<dc:identifier>https://x.org/handle/1</dc:identifier>"
                    "<dc:type>info:eu-repo/semantics/article</dc:type>"
                    "<dc:format>24 pages</dc:format><dc:format>application/pdf</dc:format>")
    assert result.statements == [
        Statement("title", "A title", "en"), Statement("identifier", "https://x.org/handle/1"),
        Statement("type", "Text", None, "DCMIType"), Statement("extent", "24 pages"),
        Statement("format", "application/pdf"), Statement("identifier", "oai:x.org:1"),
        Statement("source", "https://x.org/handle/1")]
    assert result.original_url == "https://x.org/handle/1"
    assert result.warnings == []


def test_without_a_link_the_original_is_the_sources_getrecord():
    result = mapped("<dc:title>T</dc:title>", identifier="oai:x.org:a/b")
    assert result.original_url == ("https://x.org/oai?verb=GetRecord&metadataPrefix=oai_dc"
                                   "&identifier=oai%3Ax.org%3Aa%2Fb")


def test_values_that_fit_nowhere_are_left_out_with_a_warning():
    result = mapped("<dc:title>T</dc:title><dc:date>sometime in 1990</dc:date>"
                    "<dc:relation>javascript:alert(1)</dc:relation><dc:type>PeerReviewed</dc:type>"
                    "<dc:format>text</dc:format>")
    assert [s.term for s in result.statements] == ["title", "identifier", "source"]
    assert len(result.warnings) == 4
    assert all(w.split(":")[0] in ("date", "relation", "type", "format")
               for w in result.warnings)


def test_a_record_without_title_cannot_be_mapped():
    with pytest.raises(Unmappable, match="The title is missing"):
        mapped("<dc:creator>Ai đó</dc:creator>")


def test_unknown_elements_and_namespaces_are_ignored():
    result = mapped('<dc:title>T</dc:title><foo xmlns="urn:x">bar</foo>')
    assert [s.term for s in result.statements] == ["title", "identifier", "source"]
