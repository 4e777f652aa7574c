"""A record as the search index sees it: its latest published version, its access principals.

Features that know more about a record (its files, their text, download counts) add their
part through :func:`contributes`, so this module does not depend on them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lms.catalog.access import record_principals
from lms.catalog.models import Collection, Record
from lms.search import SearchDocument
from metadata import Metadata, default_profile
from metadata.schemes import parse_w3cdtf

Contributor = Callable[[Record], dict[str, Any]]
_contributors: list[Contributor] = []


def contributes(function: Contributor) -> Contributor:
    """Register ``function(record) -> {field: value}`` for SearchDocument fields it fills."""
    _contributors.append(function)
    return function


def searchable(record: Record) -> bool:
    """Listed, searched and harvested: published, not withdrawn, discoverable."""
    return record.is_published and record.discoverable


def _collection_path(collection: Collection) -> str:
    return "/".join(collection.path_slugs)


def _labels(metadata: Metadata, term: str) -> list[str]:
    """Every value of ``term``, controlled ones as their Vietnamese and English labels."""
    profile = default_profile()
    labels: list[str] = []
    for statement in metadata.get(term):
        if statement.scheme and statement.scheme in profile.vocabularies:
            vocabulary = profile.vocabulary(statement.scheme)
            if vocabulary.contains(statement.value):
                labels.extend(dict.fromkeys([vocabulary.label(statement.value, "vi"),
                                             vocabulary.label(statement.value, "en")]))
                continue
        labels.append(statement.value)
    return labels


def _subject_paths(metadata: Metadata) -> list[str]:
    profile = default_profile()
    subjects = profile.vocabulary("subjects")
    paths = []
    for statement in metadata.get("subject"):
        if statement.scheme == "subjects" and subjects.contains(statement.value):
            paths.append("/".join([*subjects.ancestors(statement.value), statement.value]))
    return paths


def _year(metadata: Metadata) -> int | None:
    for term in ("issued", "date", "created"):
        for value in metadata.values(term):
            parsed = parse_w3cdtf(value)
            if parsed is not None:
                return parsed.year
    return None


def document_for(record: Record) -> SearchDocument | None:
    """The search entry of ``record``'s latest published version, or None if not searchable."""
    if not searchable(record):
        return None
    version = record.latest_version
    assert version is not None
    metadata = version.dc
    titles = metadata.values("title", "vi") + [
        t for t in metadata.values("title") if t not in metadata.values("title", "vi")]
    fields: dict[str, Any] = {
        "id": record.id,
        "external_id": record.external_id,
        "title": titles + metadata.values("alternative"),
        "creator": metadata.values("creator") + metadata.values("contributor"),
        "subject": _labels(metadata, "subject"),
        "description": metadata.values("abstract") + metadata.values("description")
        + metadata.values("tableOfContents"),
        "fulltext": "",
        "principals": record_principals(record),
        "type": metadata.values("type"),
        "subject_path": _subject_paths(metadata),
        "audience": [s.value for s in metadata.get("audience")],
        "language": metadata.values("language"),
        "year": _year(metadata),
        "collection_path": [_collection_path(c) for c in record.all_collections],
        "issued": metadata.first("issued"),
        "published_at": record.published_at,
    }
    for contributor in _contributors:
        fields.update(contributor(record))
    return SearchDocument(**fields)
