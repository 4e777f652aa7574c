"""``/admin/stats``: the most viewed and downloaded records per collection and period, and
their CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from lms.catalog.collections import collection_tree, find_collection, subtree_ids
from lms.stats import services
from lms.web import guard_blueprint
from metadata.crosswalks.csvio import escape_formula

bp = Blueprint("stats", __name__)
guard_blueprint(bp, "stats.view")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _month(value: str | None, default: date) -> date:
    match = MONTH.match(value or "")
    if match and 1 <= int(match.group(2)) <= 12 and int(match.group(1)) >= 1970:
        return date(int(match.group(1)), int(match.group(2)), 1)
    return default


def _period() -> services.Period:
    today = datetime.now(UTC).date().replace(day=1)
    year_ago = date(today.year - 1, today.month, 1) if today.month == 12 else \
        date(today.year - 1, today.month + 1, 1)
    start = _month(request.args.get("since"), year_ago)
    end = _month(request.args.get("until"), today)
    return services.Period(min(start, end), max(start, end))


def _collection_ids():
    collection = find_collection(request.args.get("collection", ""))
    if collection is None:
        return None, None
    return collection, subtree_ids(collection.id)


@bp.get("/")
def report():
    period = _period()
    collection, ids = _collection_ids()
    today = datetime.now(UTC).date()
    presets = [
        (_("This month"), today.strftime("%Y-%m"), today.strftime("%Y-%m")),
        (_("Last 12 months"), None, None),
        (_("This year"), f"{today.year}-01", today.strftime("%Y-%m")),
        (_("Last year"), f"{today.year - 1}-01", f"{today.year - 1}-12"),
    ]
    return render_template(
        "stats/report.html", period=period, collection=collection, presets=presets,
        collections=collection_tree(), lang=str(get_locale()),
        viewed=services.top_records(period, "views", ids),
        downloaded=services.top_records(period, "downloads", ids))


@bp.get("/export.csv")
def export():
    period = _period()
    collection, ids = _collection_ids()
    lang = str(get_locale())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Record"), _("Title"), _("Collection"), _("Views"), _("Downloads"),
                     _("Address")])
    for record, views, downloads in services.report_rows(period, ids):
        writer.writerow([record.id, escape_formula(record.published_title),
                         escape_formula(record.collection.display_title(lang)
                                        if record.collection else ""),
                         views, downloads,
                         url_for("catalog.show", record_id=record.id, _external=True)])
    name = f"thong-ke-{period.start:%Y-%m}-{period.end:%Y-%m}"
    if collection is not None:
        name += f"-{collection.slug}"
    # A byte-order mark: spreadsheet programs then read the Vietnamese as UTF-8.
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
