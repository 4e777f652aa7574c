"""A record as the search index sees it: its latest published version, its access principals.

Only what every reader of the record may see goes in: the text of files that follow the
record's access (a stricter file's text would reach readers of the record through snippets),
and none while an embargo holds the files back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from lms.catalog.access import embargo_active, record_principals
from lms.catalog.models import Collection, Record, RecordVersion
from lms.files.models import DownloadEvent, RecordFile, record_version_files
from lms.search import SearchDocument
from metadata import Metadata, default_profile
from metadata.schemes import parse_w3cdtf


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
    fields.update(_files_part(record, version))
    return SearchDocument(**fields)


def _files_part(record: Record, version: RecordVersion) -> dict[str, Any]:
    session = object_session(record)
    files = list(session.scalars(
        select(RecordFile)
        .join(record_version_files, record_version_files.c.file_id == RecordFile.id)
        .where(record_version_files.c.version_id == version.id)
        .order_by(record_version_files.c.position)
    ))
    open_to_readers = [f for f in files if f.access_level is None]
    texts = [] if embargo_active(record) else [
        text for f in open_to_readers if (text := f.extracted_text)]
    downloads = session.scalar(select(func.count(DownloadEvent.id)).where(
        DownloadEvent.record_id == record.id, DownloadEvent.kind == "download")) or 0
    return {
        "format": sorted({f.media_type for f in open_to_readers}),
        "has_files": bool(files),
        "fulltext": "\n\n".join(texts),
        "downloads": downloads,
    }
