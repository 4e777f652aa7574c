"""Usage statistics, COUNTER-style: views and downloads per record and month, robots and double
clicks left out; the administrators' report per collection and period, and its CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.catalog.access_settings import AccessSettings
from lms.catalog.models import AccessLevel, Record
from lms.extensions import db
from lms.files.models import DownloadEvent, RecordFile
from lms.stats import services as stats
from lms.stats.models import RecordView
from tests.conftest import Browser
from tests.factories import PASSWORD, make_collection, publish_record

pytestmark = pytest.mark.functional

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120 Safari/537.36"


@pytest.fixture
def shelf(app, users):
    """Two collections with public records; titles chosen to test CSV formula escaping."""
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        logistics = make_collection("khoa-hau-can", curators=[curator], steps=1)
        fuel = make_collection("xang-dau", curators=[curator], steps=1, parent=logistics)
        finance = make_collection("khoa-tai-chinh", curators=[curator], steps=1)
        public = AccessSettings(level=AccessLevel.PUBLIC)
        return {
            "course": publish_record(owner, curator, logistics, public,
                                     title="Đại cương hậu cần").id,
            "fuel": publish_record(owner, curator, fuel, public,
                                   title="=HYPERLINK(\"http://x\") xăng dầu").id,
            "budget": publish_record(owner, curator, finance, public,
                                     title="Lập dự toán ngân sách").id,
        }


def views_in_db(app, record_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(RecordView.id)).where(
            RecordView.record_id == record_id)) or 0


def counted(app, record_id: int) -> tuple[int, int]:
    with app.app_context():
        return stats.usage_totals(db.session.get(Record, record_id))


def test_a_page_view_is_counted_once_per_double_click_and_never_for_robots(app, client, shelf):
    url = f"/records/{shelf['course']}"
    assert client.get(url, headers={"User-Agent": BROWSER_UA}).status_code == 200
    assert client.get(url, headers={"User-Agent": BROWSER_UA}).status_code == 200
    assert views_in_db(app, shelf["course"]) == 2  # both stored ...
    assert counted(app, shelf["course"]) == (1, 0)  # ... one counted
    for robot in ("Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5.0", ""):
        assert client.get(url, headers={"User-Agent": robot}).status_code == 200
    assert views_in_db(app, shelf["course"]) == 2
    # Another reader (another address) at the same moment is another view.
    other = app.test_client()
    other.get(url, headers={"User-Agent": BROWSER_UA}, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert counted(app, shelf["course"]) == (2, 0)


def test_double_clicks_follow_counter_within_30_seconds(app, shelf):
    start = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    with app.app_context():
        record_id = shelf["budget"]
        offsets = [0, 10, 45, 74, 200]  # 0→10: doubles; 10→45 and 45→74: 35 s and 29 s
        db.session.add_all(RecordView(record_id=record_id, visitor="a" * 32,
                                      at=start + timedelta(seconds=s)) for s in offsets)
        db.session.add(RecordView(record_id=record_id, visitor="b" * 32,
                                  at=start + timedelta(seconds=5)))
        db.session.commit()
        # Visitor a: {0,10} once, {45,74} once, 200 once; visitor b once.
        assert stats.usage_totals(db.session.get(Record, record_id)) == (4, 0)
        months = stats.monthly_usage(db.session.get(Record, record_id), months=12,
                                     today=datetime(2025, 4, 2, tzinfo=UTC).date())
    assert [(m.month, m.views) for m in months[:3]] == [("2025-04", 0), ("2025-03", 4),
                                                       ("2025-02", 0)]
    assert len(months) == 12


def test_downloads_of_different_files_are_different_items(app, shelf):
    at = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
    with app.app_context():
        record = db.session.get(Record, shelf["course"])
        files = [RecordFile(record_id=record.id, name=f"{n}.pdf", blob_key=f"{n}" * 64, size=1,
                            media_type="application/pdf", position=n) for n in range(2)]
        db.session.add_all(files)
        db.session.flush()
        for file in files:  # the same visitor, the same second, two files: two downloads
            db.session.add(DownloadEvent(file_id=file.id, record_id=record.id,
                                         kind="download", visitor="c" * 32, at=at))
        db.session.add(DownloadEvent(file_id=files[0].id, record_id=record.id, kind="download",
                                     visitor="c" * 32, at=at + timedelta(seconds=3)))
        db.session.add(DownloadEvent(file_id=files[0].id, record_id=record.id, kind="view",
                                     visitor="c" * 32, at=at + timedelta(minutes=5)))
        db.session.commit()
        assert stats.usage_totals(record) == (0, 2)


def test_the_record_page_shows_views_and_downloads_per_month(app, client, shelf):
    url = f"/records/{shelf['course']}"
    client.get(url, headers={"User-Agent": BROWSER_UA})
    html = client.get(url, headers={"User-Agent": BROWSER_UA},
                      environ_base={"REMOTE_ADDR": "10.1.1.1"}).get_data(as_text=True)
    assert "Lượt xem: 2 · Lượt tải: 0" in html
    this_month = datetime.now(UTC).strftime("%Y-%m")
    assert f'<tr><td>{this_month}</td><td class="num">2</td><td class="num">0</td></tr>' in html


def _view(app, record_id: int, visitor: str, at: datetime) -> None:
    with app.app_context():
        db.session.add(RecordView(record_id=record_id, visitor=visitor, at=at))
        db.session.commit()


@pytest.fixture
def report_data(app, shelf):
    jan, feb = datetime(2025, 1, 15, tzinfo=UTC), datetime(2025, 2, 15, tzinfo=UTC)
    for n in range(3):
        _view(app, shelf["fuel"], f"{n:032d}", feb)
    for n in range(2):
        _view(app, shelf["course"], f"{n:032d}", feb)
    for n in range(5):
        _view(app, shelf["budget"], f"{n:032d}", jan)
    return shelf


def test_the_report_ranks_records_per_collection_and_period(app, report_data):
    browser = Browser(app.test_client())
    browser.login("admin", PASSWORD)
    html = browser.client.get("/admin/stats/?since=2025-02&until=2025-02").get_data(as_text=True)
    fuel_at, course_at = html.index("xăng dầu"), html.index("Đại cương hậu cần")
    assert fuel_at < course_at  # 3 views before 2
    assert "Lập dự toán ngân sách" not in html  # January
    # A collection counts its sub-collections: xang-dau is under khoa-hau-can.
    html = browser.client.get(
        "/admin/stats/?collection=khoa-hau-can&since=2025-01&until=2025-02").get_data(
        as_text=True)
    assert "Đại cương hậu cần" in html and "xăng dầu" in html
    assert "Lập dự toán ngân sách" not in html
    html = browser.client.get(
        "/admin/stats/?collection=khoa-tai-chinh&since=2025-01&until=2025-02").get_data(
        as_text=True)
    assert "Lập dự toán ngân sách" in html and "Đại cương hậu cần" not in html


def test_the_csv_export_escapes_formulas(app, report_data):
    browser = Browser(app.test_client())
    browser.login("admin", PASSWORD)
    response = browser.client.get("/admin/stats/export.csv?since=2025-01&until=2025-02")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="thong-ke-2025-01-2025-02.csv"'
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["Biểu ghi", "Nhan đề", "Bộ sưu tập", "Lượt xem", "Lượt tải", "Địa chỉ"]
    by_id = {int(row[0]): row for row in rows[1:]}
    assert by_id[report_data["budget"]][3:5] == ["5", "0"]
    assert by_id[report_data["fuel"]][1] == "'=HYPERLINK(\"http://x\") xăng dầu"
    assert [int(row[0]) for row in rows[1:]] == [report_data["budget"], report_data["fuel"],
                                                 report_data["course"]]


@pytest.mark.parametrize("role", ["learner", "curator", "instructor"])
def test_the_report_is_for_administrators(app, users, role):
    browser = Browser(app.test_client())
    browser.login(role, PASSWORD)
    assert browser.client.get("/admin/stats/").status_code == 403
    assert browser.client.get("/admin/stats/export.csv").status_code == 403
    assert app.test_client().get("/admin/stats/").status_code == 302  # to the login page


def test_bad_period_arguments_fall_back_to_the_last_twelve_months(app, users):
    browser = Browser(app.test_client())
    browser.login("admin", PASSWORD)
    for query in ("since=2025-13", "since=abc&until=", "until=0000-01", "collection=nope"):
        assert browser.client.get(f"/admin/stats/?{query}").status_code == 200, query
