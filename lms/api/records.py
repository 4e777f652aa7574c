"""The records API's use cases on top of the catalog's services: the record as JSON (the
import line's shape, so an export imports again), listings with a cursor, and the
``If-Match`` lock.

Nothing here decides who may do what: reading goes through ``record_for_page`` and the
``record.*``/``file.download`` rules, changes through ``catalog.deposit``, ``workflow``,
``access_settings`` and ``files.upload``, which check their own rules.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm.attributes import set_committed_value

from lms.catalog.access import Principal, published_clause, visible_records, working_copy_records
from lms.catalog.collections import filed_under
from lms.catalog.models import Collection, Record, RecordStatus, RecordValue, RecordVersion
from lms.errors import ServiceError
from lms.extensions import db
from lms.files import serving
from lms.files.models import RecordFile
from lms.permissions import can
from lms.web import external_url

MAX_ID = 2**31 - 1  # ids are 32-bit in the database; a larger one names nothing
# The statuses a depositor or curator may list their working records by.
LISTED_STATUSES = (RecordStatus.DRAFT, RecordStatus.SUBMITTED, RecordStatus.RETURNED,
                   RecordStatus.PUBLISHED)


class PreconditionFailed(ServiceError):
    status = 412

    def default_message(self) -> str:
        return ("The record changed since you read it (its ETag differs). GET it again, then "
                "send your change with the new ETag in If-Match.")


class PreconditionRequired(ServiceError):
    status = 428

    def default_message(self) -> str:
        return ("Send the ETag of the record you read in If-Match: changes without it are "
                "refused, so that nobody overwrites a change they have not seen.")


# --- the record as JSON ------------------------------------------------------------------

def shows_working_copy(user: Principal, record: Record) -> bool:
    return can(user, "record.view_working_copy", record) or record.latest_version is None


def shown_version(user: Principal, record: Record) -> RecordVersion | None:
    """``None`` (the working copy) for its depositor and curators, else the latest published
    version, as on the record's page."""
    return None if shows_working_copy(user, record) else record.latest_version


def access_json(record: Record, full: bool) -> dict[str, Any]:
    """The import line's ``access`` object; readers get the level and embargo only (who else
    may read a record is for those who manage it)."""
    out: dict[str, Any] = {"level": record.access_level}
    if full:
        out["units"] = [u.path for u in record.access_units]
        out["roles"] = sorted(record.access_roles or ())
        out["users"] = [u.username for u in record.access_users]
        out["groups"] = [g.name for g in record.access_groups]
        out["embargo_reason"] = record.embargo_reason
    out["embargo_until"] = record.embargo_until.isoformat() if record.embargo_until else None
    out["discoverable"] = record.discoverable
    return out


def file_json(record: Record, file: RecordFile) -> dict[str, Any]:
    return {"path": file.name, "id": file.id, "size": file.size,
            "media_type": file.media_type, "sha256": file.blob_key,
            "url": external_url("api.file", record_id=record.id, file_id=file.id)}


def readable_files(user: Principal, record: Record) -> list[RecordFile]:
    """The files of the shown version that ``user`` may fetch (``file.download``)."""
    listing = serving.files_for_display(user, record, shown_version(user, record))
    return [view.file for view in listing.shown]


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def record_json(user: Principal, record: Record) -> dict[str, Any]:
    """The record in the shape of a JSONL import line (``id``, ``collection``, ``access``,
    ``metadata``, ``files``) plus ``record``, the server's read-only description (which the
    import ignores)."""
    version = shown_version(user, record)
    working = version is None
    metadata = record.dc if working else version.dc
    out: dict[str, Any] = {}
    if record.external_id:
        out["id"] = record.external_id
    if record.collection is not None:
        out["collection"] = record.collection.slug
    out["access"] = access_json(record, full=working)
    out["metadata"] = metadata.to_dict()
    out["files"] = [file_json(record, f) for f in readable_files(user, record)]
    out["record"] = {
        "id": record.id,
        "status": record.status if working else RecordStatus.PUBLISHED,
        "working_copy": working,
        "version": None if working else version.number,
        "current_version": record.current_version,
        "title": record.title if working else version.title,
        "created": _time(record.created_at),
        "updated": _time(record.updated_at),
        "published": _time(record.published_at),
        "links": {
            "self": external_url("api.record", record_id=record.id),
            "page": external_url("catalog.show", record_id=record.id),
            "versions": external_url("api.versions", record_id=record.id),
            "files": external_url("api.files", record_id=record.id),
        },
    }
    return out


def etag(user: Principal, record: Record) -> str:
    """The ETag of what ``user`` reads of ``record``: its lock version and a digest of the
    representation (a file added or access changed elsewhere changes it too)."""
    shown = record_json(user, record)
    del shown["record"]["links"]  # addresses follow the request's host; the record does not
    for file in shown["files"]:
        del file["url"]
    body = json.dumps(shown, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(body.encode()).hexdigest()[:20]
    return f'"{record.id}-{record.lock_version}-{digest}"'


def versions_json(record: Record) -> list[dict[str, Any]]:
    return [{"number": v.number, "title": v.title, "published": _time(v.published_at),
             "metadata": v.dc.to_dict(),
             "page": external_url("catalog.version", record_id=record.id, number=v.number)}
            for v in record.versions if v.number <= record.current_version]


# --- the lock ------------------------------------------------------------------------------

def require_match(user: Principal, record: Record, if_match: str | None) -> None:
    """:raise PreconditionRequired: no If-Match. :raise PreconditionFailed: a stale one."""
    if not if_match:
        raise PreconditionRequired()
    current = etag(user, record)
    if current not in [tag.strip().removeprefix("W/") for tag in if_match.split(",")]:
        raise PreconditionFailed()


def claim(record: Record) -> int:
    """Bump the record's lock version if nobody else did since it was read, in one statement
    inside the caller's transaction (so of two requests with the same ETag exactly one wins:
    the other waits for the row, then matches nothing); returns the new lock version.

    :raise PreconditionFailed: someone changed it in between.
    """
    expected = record.lock_version
    claimed = db.session.execute(
        update(Record).where(Record.id == record.id, Record.lock_version == expected)
        .values(lock_version=expected + 1)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        raise PreconditionFailed()
    set_committed_value(record, "lock_version", expected + 1)
    return expected + 1


# --- listings ------------------------------------------------------------------------------

class BadCursor(ValueError):
    pass


def encode_cursor(last_id: int) -> str:
    return str(last_id)


def decode_cursor(cursor: str) -> int:
    """:raise BadCursor: not a cursor this API wrote (the id of a page's last record)."""
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 12:
        raise BadCursor(cursor)
    return min(int(cursor), MAX_ID)  # past the last possible id: an empty page


@dataclass(frozen=True)
class Filters:
    collection: Collection | None = None
    status: str | None = None
    type: str | None = None
    modified_since: datetime | None = None


def list_records(user: Principal, filters: Filters, after: int, size: int) -> list[Record]:
    """A page of records in id order, after the record ``after``: new records only ever
    join the end, so paging on is stable while records are added.

    Without ``status``: the published records ``user`` may list (as the collection pages).
    With one: the records in that state whose working copy ``user`` sees (own or curated).
    """
    if filters.status is None:
        query = visible_records(user).where(published_clause())
    else:
        query = working_copy_records(user).where(Record.status == filters.status)
    if filters.collection is not None:
        query = query.where(filed_under(filters.collection.id))
    if filters.type is not None:
        query = query.where(exists().where(RecordValue.record_id == Record.id,
                                           RecordValue.term == "type",
                                           RecordValue.value == filters.type))
    if filters.modified_since is not None:
        query = query.where(Record.updated_at >= filters.modified_since)
    query = query.where(Record.id > after).order_by(Record.id).limit(size)
    return list(db.session.scalars(query))


def collection_json(collection: Collection, children: list[dict[str, Any]] | None = None
                    ) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": collection.id, "slug": collection.slug, "title": collection.title,
        "title_en": collection.title_en, "description": collection.description,
        "parent": collection.parent_id, "default_access": collection.default_access,
        "links": {"self": external_url("api.collection", collection_id=collection.id),
                  "page": external_url("catalog.collection", slug=collection.slug),
                  "records": external_url("api.records", collection=collection.slug)},
    }
    if children is not None:
        out["children"] = children
    return out


def collection_tree_json() -> list[dict[str, Any]]:
    collections = list(db.session.scalars(select(Collection).order_by(Collection.title,
                                                                      Collection.id)))
    by_parent: dict[int | None, list[Collection]] = {}
    for c in collections:
        by_parent.setdefault(c.parent_id, []).append(c)

    def branch(parent_id: int | None) -> list[dict[str, Any]]:
        return [collection_json(c, branch(c.id)) for c in by_parent.get(parent_id, [])]

    return branch(None)
