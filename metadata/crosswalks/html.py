"""Tags for the ``<head>`` of a record page: DC-HTML, Highwire Press ``citation_*`` and JSON-LD.

DC-HTML (DCMI 2008): a value with a syntax encoding scheme carries it (``scheme=
"DCTERMS.W3CDTF"``, ``DCTERMS.DCMIType``, ``DCTERMS.RFC4646``, ``DCTERMS.IMT``,
``DCTERMS.URI`` for a literal written as a URI, such as an identifier); a value that *is* a
URI (relations, source, license) is a ``<link rel="DCTERMS.…" href="…">``.

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
from metadata.schemes import parse_uri, parse_w3cdtf
from metadata.terms import ELEMENTS, Syntax, is_term, syntax_of

DC_SCHEMA = "http://purl.org/dc/elements/1.1/"
DCTERMS_SCHEMA = "http://purl.org/dc/terms/"


_SCHEMES = {Syntax.W3CDTF: "DCTERMS.W3CDTF", Syntax.DCMI_TYPE: "DCTERMS.DCMIType",
            Syntax.LANGUAGE: "DCTERMS.RFC4646", Syntax.IMT: "DCTERMS.IMT",
            Syntax.URI: "DCTERMS.URI"}
# Terms whose range is a literal: a URI value stays a meta with scheme DCTERMS.URI.
_LITERAL_RANGE = frozenset({"identifier"})


def _meta(name: str, content: str, lang: str | None = None, scheme: str | None = None) -> str:
    lang_attr = f' lang="{html.escape(lang)}"' if lang else ""
    scheme_attr = f' scheme="{html.escape(scheme)}"' if scheme else ""
    return (f'<meta name="{html.escape(name)}"{lang_attr}{scheme_attr} '
            f'content="{html.escape(content)}">')


def _link(rel: str, href: str) -> str:
    return f'<link rel="{html.escape(rel)}" href="{html.escape(href)}">'


def dc_html_tags(metadata: Metadata, context: RecordContext) -> list[str]:
    """DC-HTML: schema links, then one ``DC.*`` / ``DCTERMS.*`` meta per value."""
    profile = context.resolved_profile
    tags = [f'<link rel="schema.DC" href="{DC_SCHEMA}">',
            f'<link rel="schema.DCTERMS" href="{DCTERMS_SCHEMA}">']
    for term in metadata.terms():
        if not is_term(term):
            continue
        name = f"{'DC' if term in ELEMENTS else 'DCTERMS'}.{term}"
        syntax = syntax_of(term)
        for item in displays(metadata, term, profile):
            if syntax is Syntax.URI and term not in _LITERAL_RANGE and parse_uri(item.text):
                tags.append(_link(name, item.text))
            else:
                tags.append(_meta(name, item.text, item.lang, _SCHEMES.get(syntax)))
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
