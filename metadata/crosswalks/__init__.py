"""Output formats of a record, by name: ``FORMATS["oai_dc"].serialize(metadata, context)``.

Names: ``oai_dc``, ``qdc``, ``marcxml``, ``mods``, ``ttl``, ``rdf``, ``jsonld``, ``csl``,
``bibtex``, ``ris``, ``csv``.
Every serializer takes ``(metadata, context)`` and returns ``str`` (encode as UTF-8).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from metadata.crosswalks.base import RecordContext
from metadata.crosswalks.citation import to_bibtex, to_ris
from metadata.crosswalks.csl import to_csl_json
from metadata.crosswalks.csvio import CsvImport, CsvRow, export_csv, import_csv, to_csv
from metadata.crosswalks.html import head_tags
from metadata.crosswalks.jsonld import jsonld_object, to_jsonld
from metadata.crosswalks.marcxml import marcxml_fragment, to_marcxml
from metadata.crosswalks.mods import mods_fragment, to_mods
from metadata.crosswalks.oai_dc import oai_dc_element, oai_dc_fragment, to_oai_dc
from metadata.crosswalks.qdc import qdc_fragment, to_qdc
from metadata.crosswalks.rdf import to_graph, to_rdfxml, to_turtle
from metadata.model import Metadata

Serializer = Callable[[Metadata, RecordContext], str]


@dataclass(frozen=True, slots=True)
class Format:
    """An export format: its serializer, the media type to send, the file extension."""

    name: str
    serialize: Serializer
    media_type: str
    extension: str


FORMATS: Mapping[str, Format] = MappingProxyType({
    f.name: f for f in (
        Format("oai_dc", to_oai_dc, "application/xml; charset=utf-8", "xml"),
        Format("qdc", to_qdc, "application/xml; charset=utf-8", "xml"),
        Format("marcxml", to_marcxml, "application/marcxml+xml; charset=utf-8", "xml"),
        Format("mods", to_mods, "application/mods+xml; charset=utf-8", "mods"),
        Format("ttl", to_turtle, "text/turtle; charset=utf-8", "ttl"),
        Format("rdf", to_rdfxml, "application/rdf+xml; charset=utf-8", "rdf"),
        Format("jsonld", to_jsonld, "application/ld+json; charset=utf-8", "jsonld"),
        Format("csl", to_csl_json, "application/vnd.citationstyles.csl+json", "json"),
        Format("bibtex", to_bibtex, "application/x-bibtex; charset=utf-8", "bib"),
        Format("ris", to_ris, "application/x-research-info-systems; charset=utf-8", "ris"),
        Format("csv", to_csv, "text/csv; charset=utf-8", "csv"),
    )
})


def get_format(name: str) -> Format:
    """The format called ``name``. Raises KeyError (listing the known names) if unknown."""
    try:
        return FORMATS[name]
    except KeyError:
        raise KeyError(f"unknown format {name!r}; known: {', '.join(FORMATS)}") from None


def serialize(name: str, metadata: Metadata, context: RecordContext) -> str:
    """Serialize a record in format ``name``. Raises KeyError for an unknown format."""
    return get_format(name).serialize(metadata, context)


__all__ = [
    "FORMATS", "CsvImport", "CsvRow", "Format", "RecordContext", "Serializer", "export_csv",
    "get_format", "head_tags", "import_csv", "jsonld_object", "marcxml_fragment",
    "mods_fragment", "oai_dc_element", "oai_dc_fragment", "qdc_fragment", "serialize",
    "to_graph",
]
