"""A record as a line of a listing: search hits, collection pages, the home page, reports.

What a catalogue shows for each hit (DSpace, EPrints): title, creators, year, type,
collection, file formats and a thumbnail. It is read from the **latest published version**
(the working copy may hold unpublished changes), and file formats and thumbnails only from
files the user may read, so a listing never says more than the record page would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from lms.catalog.access import Principal
from lms.catalog.display import format_name, value_text
from lms.catalog.models import Record, RecordVersion
from lms.extensions import db
from lms.files.access import may_read_file
from lms.files.models import RecordFile, record_version_files
from metadata import Metadata, Statement, default_profile
from metadata.schemes import parse_w3cdtf

MAX_CREATORS = 3
ABSTRACT_CHARS = 300


@dataclass
class CollectionLink:
    slug: str
    title: str


@dataclass
class RecordSummary:
    id: int
    title: str
    creators: list[str] = field(default_factory=list)
    more_creators: int = 0  # how many creators are not listed
    issued: str | None = None  # as written (W3CDTF: 2025, 2025-09, 2025-09-22)
    year: int | None = None
    types: list[str] = field(default_factory=list)  # display labels
    collections: list[CollectionLink] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)  # display labels, readable files only
    thumbnail_file_id: int | None = None
    abstract: str = ""


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def summarize(user: Principal, records: Sequence[Record], lang: str) -> dict[int, RecordSummary]:
    """Summaries of ``records`` (already filtered to what ``user`` may see), by record id.

    Records never published are summarised from their working copy (their depositor's and
    curators' listings); the others from their latest published version.
    """
    if not records:
        return {}
    profile = default_profile()
    by_id = {r.id: r for r in records}
    versions = {
        version.record_id: version
        for version in db.session.scalars(
            select(RecordVersion).join(Record, Record.id == RecordVersion.record_id)
            .where(RecordVersion.record_id.in_(list(by_id)),
                   RecordVersion.number == Record.current_version))
    }
    files: dict[int, list[RecordFile]] = {}
    if versions:
        version_record = {v.id: v.record_id for v in versions.values()}
        for version_id, file in db.session.execute(
                select(record_version_files.c.version_id, RecordFile)
                .join(RecordFile, RecordFile.id == record_version_files.c.file_id)
                .where(record_version_files.c.version_id.in_(list(version_record)))
                .order_by(record_version_files.c.version_id, record_version_files.c.position)):
            files.setdefault(version_record[version_id], []).append(file)
    out: dict[int, RecordSummary] = {}
    for record in records:
        version = versions.get(record.id)
        metadata = version.dc if version is not None else record.dc
        title = version.title if version is not None else record.title
        summary = _summary(record, title, metadata, profile, lang)
        readable = [f for f in files.get(record.id, []) if may_read_file(user, record, f)]
        summary.formats = list(dict.fromkeys(format_name(f.media_type) for f in readable))
        summary.thumbnail_file_id = next(
            (f.id for f in readable if f.thumbnail_key is not None), None)
        out[record.id] = summary
    return out


def _summary(record: Record, title: str, metadata: Metadata, profile, lang: str) -> RecordSummary:
    creators = metadata.values("creator") or metadata.values("contributor")
    issued = metadata.first("issued") or metadata.first("date") or metadata.first("created")
    parsed = parse_w3cdtf(issued) if issued else None
    abstract = metadata.first("abstract", lang) or metadata.first("abstract") \
        or metadata.first("description", lang) or metadata.first("description") or ""
    return RecordSummary(
        id=record.id,
        title=title,
        creators=creators[:MAX_CREATORS],
        more_creators=max(0, len(creators) - MAX_CREATORS),
        issued=issued,
        year=parsed.year if parsed is not None else None,
        types=[value_text(Statement("type", t), profile, lang) for t in metadata.values("type")],
        collections=[CollectionLink(c.slug, c.display_title(lang)) for c in record.all_collections],
        abstract=_cut(abstract, ABSTRACT_CHARS),
    )
