"""Tags for the ``<head>`` of a record page: DC-HTML, Highwire Press ``citation_*`` and JSON-LD.

All text is HTML-escaped; the JSON-LD block also escapes ``<``, ``>`` and ``&`` as ``\\u003c``
etc., so no value can close the ``<script>`` element.
"""

from __future__ import annotations

import html
import json

from metadata.crosswalks.base import RecordContext, displays, preferred
from metadata.crosswalks.citation import labels_in
from metadata.crosswalks.jsonld import jsonld_object
from metadata.model import Metadata
from metadata.schemes import parse_w3cdtf
from metadata.terms import ELEMENTS, is_term

DC_SCHEMA = "http://purl.org/dc/elements/1.1/"
DCTERMS_SCHEMA = "http://purl.org/dc/terms/"


def _meta(name: str, content: str, lang: str | None = None) -> str:
    lang_attr = f' lang="{html.escape(lang)}"' if lang else ""
    return f'<meta name="{html.escape(name)}"{lang_attr} content="{html.escape(content)}">'


def dc_html_tags(metadata: Metadata, context: RecordContext) -> list[str]:
    """DC-HTML: schema links, then one ``DC.*`` / ``DCTERMS.*`` meta per value."""
    profile = context.resolved_profile
    tags = [f'<link rel="schema.DC" href="{DC_SCHEMA}">',
            f'<link rel="schema.DCTERMS" href="{DCTERMS_SCHEMA}">']
    for term in metadata.terms():
        if not is_term(term):
            continue
        prefix = "DC" if term in ELEMENTS else "DCTERMS"
        for item in displays(metadata, term, profile):
            tags.append(_meta(f"{prefix}.{term}", item.text, item.lang))
    return tags


def highwire_tags(metadata: Metadata, context: RecordContext) -> list[str]:
    """Highwire Press tags read by Google Scholar (citation_title, citation_author...)."""
    profile = context.resolved_profile
    tags: list[str] = []
    title = preferred(displays(metadata, "title", profile), context.lang)
    if title:
        tags.append(_meta("citation_title", title.text))
    tags += [_meta("citation_author", name)
             for name in labels_in(metadata, "creator", profile, context.lang)]
    issued = parse_w3cdtf(metadata.first("issued") or "")
    if issued:
        parts = [f"{issued.year:04d}"] + [f"{p:02d}" for p in (issued.month, issued.day) if p]
        tags.append(_meta("citation_publication_date", "/".join(parts)))
    publisher = preferred(displays(metadata, "publisher", profile), context.lang)
    if publisher:
        tags.append(_meta("citation_publisher", publisher.text))
    tags += [_meta("citation_language", code) for code in metadata.values("language")]
    tags += [_meta("citation_keywords", kw)
             for kw in labels_in(metadata, "subject", profile, context.lang)]
    abstract = preferred(displays(metadata, "abstract", profile), context.lang)
    if abstract:
        tags.append(_meta("citation_abstract", abstract.text))
    if context.url:
        tags.append(_meta("citation_abstract_html_url", context.url))
    if context.pdf_url:
        tags.append(_meta("citation_pdf_url", context.pdf_url))
    return tags


def jsonld_script(metadata: Metadata, context: RecordContext) -> str:
    """The schema.org JSON-LD in a ``<script type="application/ld+json">`` element."""
    text = json.dumps(jsonld_object(metadata, context), ensure_ascii=False, indent=2)
    text = (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return f'<script type="application/ld+json">\n{text}\n</script>'


def head_tags(metadata: Metadata, context: RecordContext) -> str:
    """Everything for the record page's ``<head>``, one tag per line."""
    lines = [*dc_html_tags(metadata, context), *highwire_tags(metadata, context),
             jsonld_script(metadata, context)]
    return "\n".join(lines) + "\n"
