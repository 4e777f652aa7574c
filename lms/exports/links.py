"""What a record page links to, for machines: export formats, negotiated types, Signposting.

**FAIR Signposting** (https://signposting.org/FAIR/), levels 1 and 2:

- the landing page ``/records/<id>`` sends ``Link`` headers: ``cite-as`` (the DOI when the
  record has one, else the page itself), ``describedby`` for each export format, ``item``
  for each file the reader may fetch, ``type`` (schema.org ``AboutPage`` and the record's
  type), ``author`` for each creator, ``license``, and ``linkset`` (both serialisations);
- each file response sends ``collection`` (its landing page);
- each export response sends ``describes`` (its landing page);
- ``/records/<id>/linkset`` (``application/linkset``) and ``/records/<id>/linkset.json``
  (``application/linkset+json``, RFC 9264) hold all of these, anchored at the landing page,
  the files and the exports.

Creators have no identifier of their own here (no authority file); their ``author`` link is
the repository's search for their name, the address this repository gives them.

Every function takes what the reader may see (the files they may read come from
``lms.files.serving.files_for_display``), so the links never name a file they may not read.
URLs are absolute (``lms.web.external_url``, under ``PUBLIC_BASE_URL``): a linkset must be.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MIMEAccept

from lms.catalog.models import Record
from lms.files.models import RecordFile
from lms.files.serving import FileList
from lms.web import external_url
from metadata import FORMATS, Metadata, RecordContext
from metadata.crosswalks.citation import identifiers

# Formats offered on the page, in the order shown.
EXPORTS = ("jsonld", "ttl", "rdf", "oai_dc", "qdc", "marcxml", "mods", "csl", "bibtex", "ris",
           "csv")
FORMAT_LABELS = {
    "jsonld": "JSON-LD (schema.org)", "ttl": "Turtle (RDF)", "rdf": "RDF/XML",
    # Names of formats stay as they are, but "qualified" is said in the reader's language.
    "oai_dc": "Dublin Core (oai_dc)", "qdc": _l("Qualified Dublin Core (qdc)"),
    "marcxml": "MARC 21 (MARCXML)", "mods": "MODS 3.7", "csl": "CSL-JSON",
    "bibtex": "BibTeX", "ris": "RIS", "csv": "CSV",
}
# Media types answered on /records/<id> by content negotiation (an ``Accept`` asking for one
# of them more than for HTML); anything else, browsers included, gets the page.
NEGOTIATED = {
    "application/ld+json": "jsonld", "text/turtle": "ttl", "application/rdf+xml": "rdf",
    "application/x-bibtex": "bibtex", "application/x-research-info-systems": "ris",
    "text/csv": "csv", "application/vnd.citationstyles.csl+json": "csl",
    "application/marcxml+xml": "marcxml", "application/mods+xml": "mods",
}
LINKSET = "application/linkset"
LINKSET_JSON = "application/linkset+json"
PDF = "application/pdf"
SCHEMA_ORG = "https://schema.org/"


def media_type(name: str) -> str:
    """The bare media type of an export format (no parameters)."""
    return FORMATS[name].media_type.split(";")[0].strip()


def negotiated_format(accept: MIMEAccept) -> str | None:
    """The export format ``accept`` prefers to HTML, or None (the page)."""
    best = accept.best_match(["text/html", *NEGOTIATED])
    return NEGOTIATED.get(best or "text/html")


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    rel: str
    type: str | None = None

    def header_value(self, anchor: str | None = None) -> str:
        """One link in RFC 8288 form (``<href>; rel="…"; type="…"``)."""
        parts = [f"<{self.href}>", f'rel="{self.rel}"']
        if self.type:
            parts.append(f'type="{self.type}"')
        if anchor:
            parts.append(f'anchor="{anchor}"')
        return "; ".join(parts)


_UNSAFE_IN_HEADER = re.compile(r"[\x00-\x20\x7f<>]")


def _safe(links: Iterable[Link]) -> list[Link]:
    # A target that could break out of its ``<…>`` (no validated URI has one) is left out.
    return [link for link in links if not _UNSAFE_IN_HEADER.search(link.href)]


def header(links: Iterable[Link]) -> str:
    """A ``Link`` header value."""
    return ", ".join(link.header_value() for link in _safe(links))


def landing_page(record: Record) -> str:
    return external_url("catalog.show", record_id=record.id)


def export_url(record: Record, name: str) -> str:
    return external_url("catalog.export", record_id=record.id, name=name)


def file_url(record: Record, file: RecordFile) -> str:
    return external_url("files.download", record_id=record.id, file_id=file.id)


def main_pdf(files: FileList) -> RecordFile | None:
    """The first PDF the reader may fetch whose content is a PDF and intact, if any."""
    for view in files.shown:
        if view.file.media_type == PDF and not view.file.sniff_mismatch and not view.damaged:
            return view.file
    return None


def record_context(record: Record, files: FileList | None, lang: str) -> RecordContext:
    """The crosswalks' context for a record as this reader sees it (its PDF included)."""
    pdf = main_pdf(files) if files is not None else None
    return RecordContext(identifier=f"record:{record.id}", url=landing_page(record),
                         pdf_url=file_url(record, pdf) if pdf is not None else None,
                         lang=lang)


def _cite_as(record: Record, metadata: Metadata) -> str:
    dois = identifiers(metadata).doi
    return f"https://doi.org/{dois[0]}" if dois else landing_page(record)


def landing_links(record: Record, metadata: Metadata, files: FileList) -> list[Link]:
    """The Signposting links of the landing page (levels 1 and 2)."""
    links = [Link(_cite_as(record, metadata), "cite-as")]
    links += [Link(export_url(record, name), "describedby", media_type(name))
              for name in EXPORTS]
    links += [Link(file_url(record, view.file), "item", view.file.media_type
                   if not view.file.sniff_mismatch else "application/octet-stream")
              for view in files.shown if not view.damaged]
    links += [Link(SCHEMA_ORG + "AboutPage", "type"),
              Link(SCHEMA_ORG + "LearningResource", "type")]
    links += [Link(external_url("discovery.search_page", q=f'creator:"{name}"'),
                   "author") for name in dict.fromkeys(metadata.values("creator"))]
    links += [Link(value, "license") for value in metadata.values("license")]
    links += [Link(external_url("catalog.linkset", record_id=record.id),
                   "linkset", LINKSET),
              Link(external_url("catalog.linkset_json", record_id=record.id),
                   "linkset", LINKSET_JSON)]
    return links


def collection_link(record: Record) -> Link:
    """What a file (or an export) belongs to: its landing page."""
    return Link(landing_page(record), "collection", "text/html")


def describes_link(record: Record) -> Link:
    return Link(landing_page(record), "describes", "text/html")


def linkset(record: Record, metadata: Metadata, files: FileList
            ) -> list[tuple[str, list[Link]]]:
    """(anchor, links) of the landing page, each file and each export (Signposting level 2)."""
    anchors = [(landing_page(record), [link for link in _safe(landing_links(
        record, metadata, files)) if link.rel != "linkset"])]
    anchors += [(file_url(record, view.file), [collection_link(record)])
                for view in files.shown if not view.damaged]
    anchors += [(export_url(record, name), [describes_link(record)]) for name in EXPORTS]
    return anchors


def linkset_text(anchors: Sequence[tuple[str, list[Link]]]) -> str:
    """RFC 9264 ``application/linkset``: one link per line, each with its anchor."""
    return ",\n".join(link.header_value(anchor) for anchor, links in anchors
                      for link in links) + "\n"


def linkset_json(anchors: Sequence[tuple[str, list[Link]]]) -> dict[str, Any]:
    """RFC 9264 ``application/linkset+json``."""
    out = []
    for anchor, links in anchors:
        context: dict[str, Any] = {"anchor": anchor}
        for link in links:
            target = {"href": link.href, **({"type": link.type} if link.type else {})}
            context.setdefault(link.rel, []).append(target)
        out.append(context)
    return {"linkset": out}
