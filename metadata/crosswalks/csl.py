"""``csl``: CSL-JSON (Citation Style Language 1.0.2 data), read by Zotero, Pandoc/citeproc and
every CSL processor.

The document is an array with one item. ``type`` comes from :mod:`metadata.crosswalks.genre`;
people are ``{"family", "given"}`` and organisations ``{"literal"}``
(:mod:`metadata.agents`). The title is the one in ``context.lang``; titles in other
languages, rights, license, audience and education level, which CSL has no variable for, are
kept in ``note`` with their labels.
"""

from __future__ import annotations

import json
from typing import Any

from metadata.crosswalks.base import RecordContext, displays, preferred
from metadata.crosswalks.citation import agents, identifiers, labels_in, notes
from metadata.crosswalks.genre import genre_of
from metadata.model import Metadata
from metadata.schemes import parse_w3cdtf


def _names(metadata: Metadata, term: str) -> list[dict[str, str]]:
    out = []
    for who in agents(metadata, term):
        if who.is_organisation or not who.family:
            out.append({"literal": who.name})
        else:
            out.append({"family": who.family, **({"given": who.given} if who.given else {})})
    return out


def _date(value: str | None) -> dict[str, Any] | None:
    parsed = parse_w3cdtf(value or "")
    if parsed is None:
        return None
    parts = [parsed.year] + [p for p in (parsed.month, parsed.day) if p]
    return {"date-parts": [parts]}


def csl_item(metadata: Metadata, context: RecordContext) -> dict[str, Any]:
    """The CSL-JSON item of a record (keys in a fixed order, empty ones left out)."""
    profile = context.resolved_profile
    genre = genre_of(metadata)
    titles = displays(metadata, "title", profile)
    title = preferred(titles, context.lang)
    abstract = preferred(displays(metadata, "abstract", profile), context.lang)
    publisher = preferred(displays(metadata, "publisher", profile), context.lang)
    ids = identifiers(metadata)
    other_titles = [t.text for t in titles if t != title]
    noted = notes(metadata, context, ("rights", "license", "audience", "educationLevel"))
    note = [*other_titles, *noted, *ids.other]
    fields: list[tuple[str, Any]] = [
        ("id", context.identifier),
        ("type", genre.csl),
        ("genre", genre.label),
        ("title", title.text if title else None),
        ("author", _names(metadata, "creator")),
        ("contributor", _names(metadata, "contributor")),
        ("issued", _date(metadata.first("issued"))),
        ("publisher", publisher.text if publisher else None),
        ("abstract", abstract.text if abstract else None),
        ("keyword", ", ".join(labels_in(metadata, "subject", profile, context.lang))),
        ("language", metadata.first("language")),
        ("DOI", ids.doi[0] if ids.doi else None),
        ("ISBN", ids.isbn[0] if ids.isbn else None),
        ("ISSN", ids.issn[0] if ids.issn else None),
        ("URL", context.url or (ids.urls[0] if ids.urls else None)),
        ("note", "\n".join(note)),
    ]
    return {key: value for key, value in fields if value not in (None, "", [])}


def to_csl_json(metadata: Metadata, context: RecordContext) -> str:
    """The CSL-JSON document: an array holding the record's item."""
    return json.dumps([csl_item(metadata, context)], ensure_ascii=False, indent=2) + "\n"
