"""What the sitemaps and feeds list, through the same access rule as every other channel.

Sitemaps list what an anonymous reader may find: records that are published, public and
discoverable, i.e. the non-deleted items of the OAI-PMH projection, whose datestamp is the
record's ``lastmod``. The projection may lag a commit; the join re-checks the record itself
(``lms.catalog.access.visible_records`` for an anonymous reader), so a lagging projection can
make a sitemap stale, never leaky. Feeds list what *their reader* may list
(``visible_records(user)``, discoverable only), newest publication first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_login import AnonymousUserMixin
from sqlalchemy import Select, func, select

from lms.catalog.access import Principal, published_clause, visible_records
from lms.catalog.collections import collection_listing
from lms.catalog.models import Collection, Record
from lms.extensions import db
from lms.oai.models import OaiItem


@dataclass(frozen=True, slots=True)
class SitemapPage:
    number: int          # from 1
    lastmod: datetime


def _anonymous_items() -> Select:
    public = visible_records(AnonymousUserMixin()).with_only_columns(Record.id).subquery()
    return (select(OaiItem.record_id, OaiItem.datestamp)
            .join(public, public.c.id == OaiItem.record_id)
            .where(OaiItem.deleted.is_(False)))


def sitemap_pages(page_size: int) -> list[SitemapPage]:
    """The pages of the sitemap index, each with the newest datestamp of its records."""
    numbered = _anonymous_items().add_columns(
        func.row_number().over(order_by=OaiItem.record_id).label("position")).subquery()
    page = ((numbered.c.position - 1) // page_size).label("page")
    rows = db.session.execute(select(page, func.max(numbered.c.datestamp))
                              .group_by(page).order_by(page)).all()
    return [SitemapPage(int(number) + 1, lastmod) for number, lastmod in rows]


def sitemap_urls(number: int, page_size: int) -> list[tuple[int, datetime]]:
    """(record id, datestamp) of sitemap page ``number`` (from 1), by record id."""
    stmt = _anonymous_items().order_by(OaiItem.record_id) \
        .offset((number - 1) * page_size).limit(page_size)
    return [(row.record_id, row.datestamp) for row in db.session.execute(stmt)]


def newest(user: Principal, limit: int, collection: Collection | None = None
           ) -> list[Record]:
    """The latest published, discoverable records ``user`` may list (under ``collection``:
    as its page lists them)."""
    stmt = collection_listing(user, collection) if collection is not None else (
        visible_records(user).where(published_clause())
        .order_by(Record.published_at.desc(), Record.id.desc()))
    stmt = stmt.where(Record.discoverable.is_(True)).limit(limit)
    return list(db.session.scalars(stmt))


def records_in_order(ids: Sequence[int]) -> list[Record]:
    """The records with these ids, in this order (search hits, already access-filtered)."""
    found = {r.id: r for r in db.session.scalars(select(Record).where(Record.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
