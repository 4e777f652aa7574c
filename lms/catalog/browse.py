"""Browsing the repository: a collection's records as a sortable list, the newest additions.

Listings show the published records the user may see and may find listed
(``visible_records``): an undiscoverable record is reachable only by its address, except for
its depositor and curators, who find it in their collections' lists too.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case

from lms.catalog.access import Principal, published_clause, visible_records
from lms.catalog.collections import collection_listing
from lms.catalog.models import Collection, Record, RecordVersion
from lms.catalog.sortkeys import sort_key
from lms.extensions import db
from metadata import default_profile
from metadata.profile import DCMI_TYPE_VOCABULARY

PER_PAGE = 20


@dataclass(frozen=True)
class Sort:
    """A listing order: ``key`` is the URL value, ``column`` the version key it sorts on."""

    key: str
    column: str
    descending: bool = False


SORTS: dict[str, Sort] = {s.key: s for s in (
    Sort("title", "sort_title"),
    Sort("creator", "sort_creator"),
    Sort("issued", "issued", descending=True),  # newest first
    Sort("issued-asc", "issued"),
    Sort("type", "type"),
)}
DEFAULT_SORT = "title"


def listed_records(user: Principal):
    """The published records ``user`` may find in listings."""
    return visible_records(user).where(published_clause())


def sorted_listing(user: Principal, collection: Collection, sort: str, page: int,
                   lang: str, per_page: int = PER_PAGE) -> Pagination:
    """One page of :func:`~lms.catalog.collections.collection_listing`, sorted by ``sort``
    (one of :data:`SORTS`; ties by title, then id)."""
    chosen = SORTS.get(sort, SORTS[DEFAULT_SORT])
    latest = (RecordVersion.record_id == Record.id) & (
        RecordVersion.number == Record.current_version)
    stmt = collection_listing(user, collection).order_by(None).join(RecordVersion, latest)
    column = _type_rank(lang) if chosen.column == "type" \
        else getattr(RecordVersion, chosen.column)
    # Missing values (no creator, no date) go last whichever the direction.
    missing = case((column.is_(None), 1), (column == "", 1), else_=0)
    order = column.desc() if chosen.descending else column.asc()
    stmt = stmt.order_by(missing, order, RecordVersion.sort_title, Record.id)
    return db.paginate(stmt, page=max(page, 1), per_page=per_page, error_out=False)


def _type_rank(lang: str):
    """DCMI types in the alphabetical order of their names in ``lang``."""
    vocabulary = default_profile().vocabulary(DCMI_TYPE_VOCABULARY)
    names = sorted(((sort_key(label), slug) for slug, label, _depth in vocabulary.options(lang)))
    return case({slug: f"{rank:02d}" for rank, (_key, slug) in enumerate(names)},
                value=RecordVersion.type, else_=RecordVersion.type)


def newest_records(user: Principal, limit: int = 6) -> list[Record]:
    """The latest publications ``user`` may see, for the home page."""
    stmt = listed_records(user).order_by(Record.published_at.desc(), Record.id.desc())
    return list(db.session.scalars(stmt.limit(limit)))
