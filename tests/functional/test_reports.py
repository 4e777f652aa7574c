"""Reports over HTTP: a unit's figures against its target, drill-down to sub-units and
people, filters in the URL, the chart, XLSX and CSV exports with the page's numbers, large
exports by a job, who sees which unit, and the bad inputs of the issue."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lms.accounts.models import User
from lms.extensions import db
from lms.reports.models import ReportTarget
from tests.factories import UserFactory
from tests.functional.test_certificates import complete_course
from tests.functional.test_training_learning import course_with_lessons
from tests.training_world import assign, flashes, follow, signed_in, text

pytestmark = pytest.mark.functional

LEARNERS = ("hv1", "hv2", "hv3", "kt1")


@pytest.fixture(autouse=True)
def _closing_clients(app):
    from tests.conftest import ClosingClient

    app.test_client_class = ClosingClient


def course_for_everyone(app, world, trainer) -> int:
    """A course assigned to the four learners, completed by hv1 only."""
    course_id = course_with_lessons(trainer, world, sequential=False)
    response = assign(trainer, course_id, people="\n".join(LEARNERS))
    assert response.status_code == 302
    complete_course(app, "hv1", course_id)
    return course_id


def set_target(browser, *, unit: int | str, item: str, percent: str, starts: date,
               deadline: date):
    return browser.post("/reports/targets", {"unit": str(unit), "item": item,
                                             "percent": percent,
                                             "starts": starts.isoformat(),
                                             "deadline": deadline.isoformat(), "note": ""},
                        page="/reports/targets")


def cells(html: str, label: str) -> list[str]:
    """The cells of the table row whose first cell mentions ``label``."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        columns = [re.sub(r"<[^>]+>", " ", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row,
                                                                  re.S)]
        if columns and label in columns[0]:
            return [" ".join(c.split()) for c in columns]
    raise AssertionError(f"no row for {label}")


def test_the_unit_report_against_its_target_with_the_same_numbers_in_xlsx(app, world,
                                                                           trainer):
    course_id = course_for_everyone(app, world, trainer)
    admin = signed_in(app, "admin")
    today = date.today()
    saved = set_target(admin, unit=world.academy, item=f"course:{course_id}", percent="50",
                       starts=today - timedelta(days=300), deadline=today + timedelta(days=100))
    assert "Target saved." in flashes(follow(admin, saved))
    url = f"/reports/?unit={world.academy}&item=course:{course_id}"
    page = text(admin.client.get(url))
    faculty = cells(page, "Khoa Hậu cần")
    finance = cells(page, "Khoa Tài chính")
    total = cells(page, "Total")
    # unit, assigned, not started, in progress, completed, overdue, %, target, status,
    # quiz pass rate, average score, certificates
    assert faculty[1:7] == ["3", "2", "0", "1", "0", "33.3"]
    assert finance[1:7] == ["1", "1", "0", "0", "0", "0.0"]
    assert total[1:7] == ["4", "3", "0", "1", "0", "25.0"]
    assert total[7].startswith("50%")
    # A pace line from 300 days ago to 100 days ahead asks for 37.5% today: 25% is off
    # track, 33.3% is behind by less than 10 points.
    assert (total[8], faculty[8], finance[8]) == ("Off track", "Behind", "Off track")
    assert "<svg" in page and 'class="chart bars"' in page and 'class="chart line"' in page

    workbook = admin.client.get(f"/reports/export.xlsx?unit={world.academy}"
                                f"&item=course:{course_id}")
    assert workbook.status_code == 200
    assert workbook.headers["Content-Disposition"].startswith("attachment")
    book = load_workbook(io.BytesIO(workbook.get_data()))
    assert book.sheetnames == ["Tổng hợp theo đơn vị", "Danh sách học viên"]
    summary = book["Tổng hợp theo đơn vị"]
    assert summary.freeze_panes == "A2"
    assert summary["A1"].font.bold is True
    assert summary["A1"].fill.fgColor.rgb.endswith("17346E")
    rows = {r[0]: r for r in summary.iter_rows(min_row=2, values_only=True)}
    assert rows["Khoa Hậu cần"][1:7] == (3, 2, 0, 1, 0, 33.3)
    assert rows["Total"][1:8] == (4, 3, 0, 1, 0, 25.0, 50)
    assert rows["Total"][9] == "Off track"
    people = list(book["Danh sách học viên"].iter_rows(values_only=True))
    assert people[0] == ("Unit", "Username", "Full name", "Rank", "Kỹ năng số cơ bản",
                         "Completed", "Overdue")
    assert sorted(r[1] for r in people[1:]) == sorted(LEARNERS)
    assert [r[4:] for r in people if r[1] == "hv1"] == [("Completed", 1, 0)]


def test_drill_down_to_sub_units_and_people_a_page_at_a_time(app, world, trainer):
    course_id = course_with_lessons(trainer, world, sequential=False)
    with app.app_context():
        from lms.accounts.models import Unit

        class1 = db.session.get(Unit, world.class1)
        for number in range(60):
            UserFactory(username=f"hv1{number:02d}", full_name=f"Học viên {number:02d}",
                        unit=class1)
        db.session.commit()
    names = "\n".join(["hv1", "hv2", "hv3"] + [f"hv1{n:02d}" for n in range(60)])
    assert assign(trainer, course_id, people=names).status_code == 302
    admin = signed_in(app, "admin")
    academy = text(admin.client.get(f"/reports/?unit={world.academy}&item=course:{course_id}"))
    assert cells(academy, "Khoa Hậu cần")[1] == "63"
    link = re.search(rf'href="(/reports/\?[^"]*unit={world.faculty}[^"]*)"', academy).group(1)
    faculty = text(admin.client.get(link.replace("&amp;", "&")))
    assert cells(faculty, "Lớp 1")[1] == "62"
    assert cells(faculty, "Lớp 2")[1] == "1"
    people_url = f"/reports/people?unit={world.class1}&item=course:{course_id}"
    first = text(admin.client.get(people_url))
    assert "62 lines" in first
    assert "Page 1 of 2" in first
    second = text(admin.client.get(people_url + "&page=2"))
    assert "Page 2 of 2" in second
    assert second.count("<tr><td>") == 12


def test_who_sees_which_unit(app, world, trainer):
    course_for_everyone(app, world, trainer)
    with app.app_context():
        from lms.accounts.models import Unit

        UserFactory(username="chihuy", full_name="Chỉ huy Lớp 1",
                    unit=db.session.get(Unit, world.class1))
        db.session.commit()
    admin = signed_in(app, "admin")
    page = f"/admin/units/{world.class1}"
    admin.post(f"{page}/commanders", {"commanders": "chihuy"}, page=page)
    commander = signed_in(app, "chihuy")
    assert "Reports" in text(commander.client.get("/"))
    own = commander.client.get("/reports/")
    assert own.status_code == 200
    assert "Report: Lớp 1" in text(own)
    for unit in (world.academy, world.faculty, world.other_faculty):
        assert commander.client.get(f"/reports/?unit={unit}").status_code == 403
        assert commander.client.get(f"/reports/people?unit={unit}").status_code == 403
        assert commander.client.get(f"/reports/export.xlsx?unit={unit}").status_code == 403
    # A trainer of Khoa Tài chính: their unit only.
    other = signed_in(app, "trainer2")
    assert other.client.get(f"/reports/?unit={world.other_faculty}").status_code == 200
    assert other.client.get(f"/reports/?unit={world.faculty}").status_code == 403
    # A learner has no reports; an unknown unit is not found.
    assert signed_in(app, "hv1").client.get("/reports/").status_code == 403
    assert admin.client.get("/reports/?unit=999999").status_code == 404


def test_a_period_with_no_data_is_an_empty_table(app, world, trainer):
    course_id = course_for_everyone(app, world, trainer)
    admin = signed_in(app, "admin")
    empty = admin.client.get(f"/reports/?unit={world.academy}&item=course:{course_id}"
                             "&from=2001-01-01&to=2001-12-31")
    assert empty.status_code == 200
    assert cells(text(empty), "Total")[1:7] == ["0", "0", "0", "0", "0", "—"]
    reversed_period = text(admin.client.get(f"/reports/?unit={world.academy}"
                                            "&from=2030-01-01&to=2020-01-01"))
    assert "The period ends before it starts: it is empty." in reversed_period
    garbled = text(admin.client.get(f"/reports/?unit={world.academy}&from=yesterday"
                                    "&item=lesson:x&audience=abc"))
    assert "A date was not understood (use YYYY-MM-DD) and is ignored." in garbled
    assert cells(garbled, "Total")[1] == "4"


def test_an_item_id_too_long_for_the_database_is_not_understood(app, world):
    admin = signed_in(app, "admin")
    response = admin.client.get(f"/reports/?unit={world.academy}"
                                "&item=course:99999999999999999999999")
    assert response.status_code == 200
    assert "The course or track asked for was not understood: every course is shown." in \
        text(response)


def test_a_target_for_a_course_that_does_not_exist_is_not_saved(app, world):
    admin = signed_in(app, "admin")
    today = date.today()
    for item in ("course:999999", "track:99999999999999999999999", "lesson:1"):
        refused = set_target(admin, unit=world.academy, item=item, percent="80",
                             starts=today, deadline=today + timedelta(days=30))
        assert refused.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(ReportTarget.id)) is None


def test_targets_of_zero_or_more_than_all_are_refused(app, world, trainer):
    admin = signed_in(app, "admin")
    today = date.today()
    for percent in ("0", "150", "-5", "abc", ""):
        refused = set_target(admin, unit=world.academy, item="", percent=percent,
                             starts=today, deadline=today + timedelta(days=30))
        assert refused.status_code == 422
        assert "A target is a share from 1% to 100% of the assigned people." in text(refused)
    late = set_target(admin, unit=world.academy, item="", percent="100",
                      starts=today, deadline=today - timedelta(days=1))
    assert "The target starts after its deadline." in text(late)
    with app.app_context():
        assert db.session.scalar(select(ReportTarget.id)) is None
    assert follow(admin, set_target(admin, unit=world.academy, item="", percent="100",
                                    starts=today, deadline=today)).status_code == 200
    # A trainer of Khoa Tài chính may not set the faculty's target.
    other = signed_in(app, "trainer2")
    denied = set_target(other, unit=world.faculty, item="", percent="90", starts=today,
                        deadline=today + timedelta(days=9))
    assert denied.status_code == 403


def test_exports_escape_formulas_and_keep_numbers(app, world, trainer):
    course_id = course_for_everyone(app, world, trainer)
    with app.app_context():
        db.session.execute(db.update(User).where(User.username == "hv2")
                           .values(full_name="=HYPERLINK(\"http://evil\",\"x\")"))
        db.session.execute(db.update(User).where(User.username == "hv3")
                           .values(full_name="\t=1+1"))
        db.session.commit()
    admin = signed_in(app, "admin")
    query = f"unit={world.academy}&item=course:{course_id}"
    people = admin.client.get(f"/reports/export.people.csv?{query}")
    rows = list(csv.reader(io.StringIO(people.get_data(as_text=True).lstrip("\ufeff"))))
    names = {r[1]: r[2] for r in rows[1:]}
    assert names["hv2"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert names["hv3"] == "'\t=1+1"
    summary = admin.client.get(f"/reports/export.csv?{query}")
    lines = list(csv.reader(io.StringIO(summary.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[-1][:7] == ["Total", "4", "3", "0", "1", "0", "25.0"]
    book = load_workbook(io.BytesIO(admin.client.get(f"/reports/export.xlsx?{query}")
                                    .get_data()))
    sheet = book["Danh sách học viên"]
    formula_cells = [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formula_cells == []
    assert "=HYPERLINK(\"http://evil\",\"x\")" in [c.value for c in sheet["C"]]


def test_a_large_export_runs_as_a_job_with_a_download_link(app, world, trainer):
    course_id = course_for_everyone(app, world, trainer)
    app.config["REPORT_EXPORT_INLINE_ROWS"] = 2
    admin = signed_in(app, "admin")
    started = admin.client.get(f"/reports/export.xlsx?unit={world.academy}"
                               f"&item=course:{course_id}")
    assert started.status_code == 302
    status_page = admin.client.get(started.headers["Location"])
    page = text(status_page)
    assert "The file is ready: 4 lines." in page
    link = re.search(r'href="(/reports/exports/\d+/file)"', page).group(1)
    book = load_workbook(io.BytesIO(admin.client.get(link).get_data()))
    assert book["Tổng hợp theo đơn vị"].max_row == 4  # header, two faculties, total
    # Someone else's export is not theirs to see.
    assert signed_in(app, "trainer2").client.get(link).status_code == 404


def test_filters_by_audience_target_group_and_track_stay_in_the_url(app, world, trainer):
    from tests.functional.test_training_learning import class_audience

    course_id = course_for_everyone(app, world, trainer)
    audience = class_audience(trainer, world)
    admin = signed_in(app, "admin")
    page = text(admin.client.get(f"/reports/?unit={world.academy}&item=course:{course_id}"
                                 f"&audience={audience}"))
    assert cells(page, "Total")[1:5] == ["2", "1", "0", "1"]
    # The export link carries the same filters.
    assert f"audience={audience}" in re.search(r'href="(/reports/export\.xlsx[^"]*)"',
                                               page).group(1)
    assert admin.client.get("/reports/?item=track:999").status_code == 404
    assert admin.client.get("/reports/?audience=999").status_code == 404


def test_the_workbook_lists_each_person_once_with_a_status_per_course(app, world, trainer):
    course_for_everyone(app, world, trainer)  # hv1 completed it
    second = course_with_lessons(trainer, world, sequential=False, title="An toàn thông tin")
    assert assign(trainer, second, people="hv1\nhv2").status_code == 302
    with app.app_context():  # three days late (a due date in the past cannot be set)
        from lms.db import utcnow
        from lms.training.models import Enrolment

        db.session.execute(db.update(Enrolment).where(Enrolment.course_id == second)
                           .values(due_at=utcnow() - timedelta(days=3)))
        db.session.commit()
    admin = signed_in(app, "admin")
    workbook = admin.client.get(f"/reports/export.xlsx?unit={world.academy}")
    sheet = load_workbook(io.BytesIO(workbook.get_data()))["Danh sách học viên"]
    lines = list(sheet.iter_rows(values_only=True))
    # The courses by title, then how many each person completed and has overdue.
    assert lines[0][3:] == ("Rank", "An toàn thông tin", "Kỹ năng số cơ bản", "Completed",
                            "Overdue")
    by_person = {line[1]: line[4:] for line in lines[1:]}
    assert by_person == {"hv1": ("Overdue", "Completed", 1, 1),
                         "hv2": ("Overdue", "Not started", 0, 1),
                         "hv3": (None, "Not started", 0, 0),
                         "kt1": (None, "Not started", 0, 0)}
    people = admin.client.get(f"/reports/export.people.csv?unit={world.academy}")
    rows = list(csv.reader(io.StringIO(people.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 1 + 6  # the header, then a line per person and course
