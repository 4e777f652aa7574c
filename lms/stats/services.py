"""Usage statistics as DSpace and InvenioRDM show them, counted the COUNTER way.

* **Views** are visits of a record's page; **downloads** are full downloads of its files (a
  Range continuation or an in-page preview is not a download: ``lms.files`` records only the
  start of a download).
* **Robots** are never counted: a request whose User-Agent matches :data:`ROBOTS` (COUNTER's
  list, shortened to the patterns that matter on an intranet) stores nothing.
* **Double clicks**: the same visitor on the same item within 30 seconds counts once (COUNTER
  R5 keeps the last of such a chain). Every event is stored and the counts drop the doubles
  with a window function, so two requests at the same moment need no lock and are still one.
* **Visitor**: the account, or a keyed hash of the address and browser of an anonymous reader.
* Months are UTC calendar months.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import ColumnElement, String, cast, func, or_, select
from sqlalchemy.sql import Select

from lms.accounts.models import User
from lms.catalog.access import Principal, published_clause
from lms.catalog.models import Collection, Record
from lms.extensions import db
from lms.files.models import DownloadEvent
from lms.stats.models import RecordView
from lms.uow import unit_of_work

DOUBLE_CLICK_SECONDS = 30
ROBOTS = re.compile(
    r"bot|crawl|spider|slurp|preview|monitor|check_http|curl/|wget|python-requests|"
    r"python-urllib|httpclient|java/|libwww|headless|phantomjs|scrapy|archiver|harvest|"
    r"sickle|oai-?pmh|facebookexternalhit|validator|lighthouse",
    re.IGNORECASE)


def is_robot(user_agent: str | None) -> bool:
    """COUNTER excludes robots; a request without a User-Agent is a program too."""
    return not user_agent or ROBOTS.search(user_agent) is not None


def visitor_key(user: Principal, remote_addr: str | None, user_agent: str | None) -> str:
    """Who is clicking, as 32 hex digits: the account, else address + browser (keyed with the
    secret key, so no address can be read back from the table)."""
    if isinstance(user, User) and user.is_authenticated:
        subject = f"user:{user.id}"
    else:
        subject = f"anon:{remote_addr or ''}|{(user_agent or '')[:300]}"
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, subject.encode(), hashlib.sha256).hexdigest()[:32]


def record_view(user: Principal, record: Record, *, remote_addr: str | None,
                user_agent: str | None) -> bool:
    """Store one view of ``record``'s page; returns whether it was stored (robots are not)."""
    if is_robot(user_agent):
        return False
    with unit_of_work():
        db.session.add(RecordView(record_id=record.id,
                                  visitor=visitor_key(user, remote_addr, user_agent)))
    return True


# --- counting ---------------------------------------------------------------------------------

def _month(column) -> ColumnElement[str]:
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _seconds_between(later, earlier) -> ColumnElement[float]:
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _counted(events: Select, visitor, item, at) -> Select:
    """``events`` (which must select ``at`` and the grouping columns) minus double clicks: an
    event is dropped when the same visitor opens the same item again within 30 s."""
    following = func.lead(at).over(partition_by=(item, visitor), order_by=at)
    inner = events.add_columns(following.label("next_at")).subquery()
    keep = or_(inner.c.next_at.is_(None),
               _seconds_between(inner.c.next_at, inner.c.at) > DOUBLE_CLICK_SECONDS)
    return select(inner).where(keep)


def _views(where: Sequence[ColumnElement[bool]]) -> Select:
    return _counted(
        select(RecordView.record_id, RecordView.at).where(*where),
        RecordView.visitor, RecordView.record_id, RecordView.at)


def _downloads(where: Sequence[ColumnElement[bool]]) -> Select:
    # Downloads from before visitors were recorded count one by one.
    visitor = func.coalesce(DownloadEvent.visitor, cast(DownloadEvent.id, String))
    return _counted(
        select(DownloadEvent.record_id, DownloadEvent.at)
        .where(DownloadEvent.kind == "download", *where),
        visitor, DownloadEvent.file_id, DownloadEvent.at)


@dataclass(frozen=True)
class MonthUsage:
    month: str  # "2025-09"
    views: int
    downloads: int


def monthly_usage(record: Record, months: int = 12, today: date | None = None) -> list[MonthUsage]:
    """Views and downloads of ``record`` for each of the last ``months`` months, newest
    first (months without use included, as zeros)."""
    today = today or datetime.now(UTC).date()
    wanted = _month_keys(today, months)
    since = datetime(int(wanted[-1][:4]), int(wanted[-1][5:]), 1, tzinfo=UTC)
    counts: dict[str, list[int]] = {m: [0, 0] for m in wanted}
    for index, query in enumerate((_views([RecordView.record_id == record.id,
                                           RecordView.at >= since]),
                                   _downloads([DownloadEvent.record_id == record.id,
                                               DownloadEvent.at >= since]))):
        inner = query.subquery()
        month = _month(inner.c.at)
        for key, count in db.session.execute(
                select(month, func.count()).select_from(inner).group_by(month)):
            if key in counts:
                counts[key][index] = count
    return [MonthUsage(m, *counts[m]) for m in wanted]


def usage_totals(record: Record) -> tuple[int, int]:
    """All-time views and downloads of ``record``."""
    views = db.session.scalar(select(func.count()).select_from(
        _views([RecordView.record_id == record.id]).subquery())) or 0
    downloads = db.session.scalar(select(func.count()).select_from(
        _downloads([DownloadEvent.record_id == record.id]).subquery())) or 0
    return views, downloads


def _month_keys(today: date, months: int) -> list[str]:
    year, month = today.year, today.month
    keys = []
    for _ in range(max(months, 1)):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return keys


# --- reports ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Whole UTC months from ``start`` to ``end`` (both included)."""

    start: date  # first day of the first month
    end: date  # first day of the last month

    @property
    def since(self) -> datetime:
        return datetime(self.start.year, self.start.month, 1, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        year, month = (self.end.year, self.end.month + 1) if self.end.month < 12 \
            else (self.end.year + 1, 1)
        return datetime(year, month, 1, tzinfo=UTC)

    @property
    def label(self) -> str:
        first, last = self.start.strftime("%Y-%m"), self.end.strftime("%Y-%m")
        return first if first == last else f"{first} – {last}"


@dataclass(frozen=True)
class TopRecord:
    record: Record
    count: int


def top_records(period: Period, kind: str, collection_ids: Sequence[int] | None = None,
                limit: int = 20) -> list[TopRecord]:
    """The most viewed (``kind="views"``) or downloaded records in ``period``, in these
    collections (owning or mapped) or everywhere; published records only."""
    if kind == "views":
        events = _views([RecordView.at >= period.since, RecordView.at < period.until])
    else:
        events = _downloads([DownloadEvent.at >= period.since, DownloadEvent.at < period.until])
    inner = events.subquery()
    counted = (select(inner.c.record_id, func.count().label("n"))
               .group_by(inner.c.record_id).subquery())
    stmt = (select(Record, counted.c.n).join(counted, counted.c.record_id == Record.id)
            .where(published_clause()))
    if collection_ids is not None:
        stmt = stmt.where(or_(Record.collection_id.in_(collection_ids),
                              Record.mapped_collections.any(Collection.id.in_(collection_ids))))
    stmt = stmt.order_by(counted.c.n.desc(), Record.id).limit(limit)
    return [TopRecord(record, count) for record, count in db.session.execute(stmt)]


def report_rows(period: Period, collection_ids: Sequence[int] | None,
                limit: int = 1000) -> list[tuple[Record, int, int]]:
    """(record, views, downloads) for the CSV export: every record used in ``period``, the
    most used first."""
    views = {t.record.id: t for t in top_records(period, "views", collection_ids, limit)}
    downloads = {t.record.id: t for t in top_records(period, "downloads", collection_ids, limit)}
    records = {**{i: t.record for i, t in views.items()},
               **{i: t.record for i, t in downloads.items()}}
    rows = [(record, views[i].count if i in views else 0,
             downloads[i].count if i in downloads else 0) for i, record in records.items()]
    rows.sort(key=lambda row: (-(row[1] + row[2]), row[0].id))
    return rows[:limit]

