"""A record as the search index sees it: its latest published version, its access principals.

Only what every reader of the record may see goes in: the text of files that follow the
record's access (a stricter file's text would reach readers of the record through snippets),
and none while an embargo holds the files back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session, selectinload

from lms.catalog.access import embargo_active, record_principals
from lms.catalog.models import Collection, Record, RecordVersion
from lms.files.models import (
    DownloadEvent,
    FileText,
    RecordFile,
    TextStatus,
    record_version_files,
)
from lms.search import SearchDocument
from metadata import Metadata, Statement, default_profile
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
    return documents_for([record]).get(record.id)


#: What the search entry reads of each record besides the record row: loaded per batch.
RECORD_LOADS = (
    selectinload(Record.collection),
    selectinload(Record.mapped_collections),
    selectinload(Record.access_units),
    selectinload(Record.access_users),
    selectinload(Record.access_groups),
    selectinload(Record.access_role_rows),
)


def documents_for(records: Sequence[Record]) -> dict[int, SearchDocument]:
    """The search entries of the searchable ``records``, by record id, with a fixed number of
    queries for the whole batch (``lms reindex`` reads tens of thousands of records): the
    latest versions' metadata, their files' types and texts and the download counts are read
    as plain rows. Load ``records`` with :data:`RECORD_LOADS` to avoid a query per record for
    collections and access lists."""
    wanted = [r for r in records if searchable(r)]
    if not wanted:
        return {}
    session = object_session(wanted[0])
    assert session is not None
    ids = [r.id for r in wanted]
    versions = {
        record_id: (version_id, statements)
        for record_id, version_id, statements in session.execute(
            select(RecordVersion.record_id, RecordVersion.id, RecordVersion.statements)
            .join(Record, Record.id == RecordVersion.record_id)
            .where(RecordVersion.record_id.in_(ids),
                   RecordVersion.number == Record.current_version))
    }
    files = _files_of([version_id for version_id, _ in versions.values()], session)
    downloads = {record_id: count for record_id, count in session.execute(
        select(DownloadEvent.record_id, func.count(DownloadEvent.id))
        .where(DownloadEvent.record_id.in_(ids), DownloadEvent.kind == "download")
        .group_by(DownloadEvent.record_id))}
    documents = {}
    for record in wanted:
        version_id, statements = versions[record.id]
        documents[record.id] = _document(
            record, Metadata(Statement(*row) for row in statements), files.get(version_id, []),
            downloads.get(record.id, 0))
    return documents


@dataclass(frozen=True, slots=True)
class _FileRow:
    media_type: str
    follows_record: bool
    text: str


def _files_of(version_ids: list[int], session: Session) -> dict[int, list[_FileRow]]:
    """The files of each version, in order, with their extracted text ("" if none)."""
    rows = session.execute(
        select(record_version_files.c.version_id, RecordFile.media_type,
               RecordFile.access_level, RecordFile.text_status, FileText.text)
        .join(RecordFile, RecordFile.id == record_version_files.c.file_id)
        .outerjoin(FileText, FileText.file_id == RecordFile.id)
        .where(record_version_files.c.version_id.in_(version_ids))
        .order_by(record_version_files.c.version_id, record_version_files.c.position))
    files: dict[int, list[_FileRow]] = {}
    for version_id, media_type, access_level, text_status, text in rows:
        files.setdefault(version_id, []).append(_FileRow(
            media_type, access_level is None,
            text if text_status == TextStatus.OK and text else ""))
    return files


def _document(record: Record, metadata: Metadata, files: list[_FileRow],
              downloads: int) -> SearchDocument:
    vietnamese_titles = metadata.values("title", "vi")
    titles = vietnamese_titles + [
        t for t in metadata.values("title") if t not in vietnamese_titles]
    open_to_readers = [f for f in files if f.follows_record]
    texts = [] if embargo_active(record) else [f.text for f in open_to_readers if f.text]
    return SearchDocument(
        id=record.id,
        external_id=record.external_id,
        title=titles + metadata.values("alternative"),
        creator=metadata.values("creator") + metadata.values("contributor"),
        subject=_labels(metadata, "subject"),
        description=metadata.values("abstract") + metadata.values("description")
        + metadata.values("tableOfContents"),
        fulltext="\n\n".join(texts),
        principals=record_principals(record),
        type=metadata.values("type"),
        subject_path=_subject_paths(metadata),
        audience=[s.value for s in metadata.get("audience")],
        language=metadata.values("language"),
        year=_year(metadata),
        collection_path=[_collection_path(c) for c in record.all_collections],
        issued=metadata.first("issued"),
        published_at=record.published_at,
        format=sorted({f.media_type for f in open_to_readers}),
        has_files=bool(files),
        downloads=downloads,
    )
