"""The training journey in a real browser (Chromium): a trainer builds a course from repository
materials and a page, makes a rule-based audience of a class, assigns the course with a due
date relative to joining; an admin imports a new person into the class; that person logs in
with their one-time password, takes the lessons in order and sees the course complete."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.accounts.models import User
from lms.extensions import db
from lms.training.models import Enrolment
from tests.factories import PASSWORD
from tests.training_world import ACADEMY, build_world

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "mật khẩu mới của học viên"


def sign_in(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.click("button[name=language][value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # the switch reloads the page
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def sign_out(page) -> None:
    page.click(".account-menu summary")  # the account menu holds "Log out"
    page.click("header button:has-text('Log out')")
    expect(page.locator("header").get_by_role("link", name="Log in")).to_be_visible()


def flash_text(page) -> str:
    return page.locator(".flashes").inner_text()


def test_the_training_journey(app, served_app, page):
    world = build_world(app)
    base = served_app

    # The trainer builds the course.
    sign_in(page, base, "trainer")
    page.click("nav.main-nav >> text=Training")
    page.click("text=New course")
    page.fill("input[name=title]", "Kỹ năng số cơ bản")
    page.check("input[name=sequential]")
    page.click("form.card button[type=submit]")
    assert "Course created." in flash_text(page)
    for query in ("kỹ năng số", "an toàn thông tin"):
        page.click("text=Add a material")
        page.fill("input[name=q]", query)
        page.click("form.search-box button[type=submit]")
        page.locator("ul.found-records a").first.click()
        page.click("form.card button[type=submit]")
        assert "Lesson added." in flash_text(page)
    page.click("text=Add a page")
    page.fill("input[name=title]", "Tổng kết")
    page.fill("textarea[name=body]", "Ba thói quen số mỗi ngày.")
    page.click("form.card button[type=submit]")
    page.click("button:has-text('Publish')")
    assert "The course is now: Published." in flash_text(page)
    course_url = page.url

    # A rule-based audience of Lớp 1, with a preview before it applies.
    page.click("nav.subnav >> text=Audiences")
    page.click("text=New audience")
    page.fill("input[name=name]", "Học viên Lớp 1")
    page.select_option("select[name=scope_unit_id]", str(world.academy))
    page.click("form.card button[type=submit]")
    page.select_option("select[name='g0-unit']", str(world.class1))
    page.click("button[value=preview]")
    assert "2 join, 0 leave; 2 members afterwards." in page.inner_text("main")
    page.click("button[value=apply]")
    assert "The rule is saved: 2 joined, 0 left." in flash_text(page)

    # Assigned with a due date 30 days after joining.
    page.goto(course_url)
    page.click("text=Assign this course")
    page.select_option("select[name=audiences]", label="Học viên Lớp 1")
    page.check("input[name=due_kind][value=after_joining]")
    page.fill("input[name=due_days]", "30")
    page.click("form.card button[type=submit]")
    assert "Assigned: 2 people enrolled." in flash_text(page)
    sign_out(page)

    # The admin imports a new cadet into Lớp 1 and takes the one-time passwords.
    sign_in(page, base, "admin")
    page.goto(f"{base}/admin/people/import")
    rows = ("username,full_name,person_code,unit,rank,position,cohort,target_group,roles,email\n"
            f"hv9,Hoàng Văn Chín,QN-9,{ACADEMY}/Khoa Hậu cần/Lớp 1,Binh nhì,,K45,cadets,,\n")
    page.set_input_files("input[name=people]", files=[{
        "name": "nguoi-moi.csv", "mimeType": "text/csv", "buffer": rows.encode()}])
    page.click("form.card button[type=submit]")
    # The served app's job worker runs the import: its page shows the report once done.
    report = "1 created, 0 updated, 0 unchanged, 0 refused."
    for _ in range(120):
        if report in page.inner_text("main"):
            break
        page.wait_for_timeout(500)
        page.reload()
    assert report in page.inner_text("main")
    with page.expect_download() as download_info:
        page.click("text=Download the passwords (once)")
    saved = Path(download_info.value.path()).read_text(encoding="utf-8")
    [row] = list(csv.reader(io.StringIO(saved.lstrip("\ufeff"))))[1:]
    assert row[0] == "hv9"
    sign_out(page)
    with app.app_context():
        enrolled = db.session.scalar(select(Enrolment).join(User, User.id == Enrolment.user_id)
                                     .where(User.username == "hv9"))
        assert (enrolled.required, enrolled.due_at is not None) == (True, True)

    # The new cadet logs in, changes the password, and learns in order.
    sign_in(page, base, "hv9", row[2])
    page.fill("input[name=current_password]", row[2])
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.fill("input[name=confirm]", NEW_PASSWORD)
    page.click("form.form button[type=submit]")
    page.goto(f"{base}/learn")
    item = page.locator(".learning-item", has_text="Kỹ năng số cơ bản")
    assert "0 of 3 required lessons" in item.inner_text()
    item.locator("a.learning-title").click()
    locked = page.locator(".lesson-line.status-locked")
    assert locked.count() == 2
    # A locked lesson by its address: refused, with the reason.
    second_url = page.url.rstrip("/") + "/lessons/" + str(_lesson_id(app, 1))
    response = page.goto(second_url)
    assert response.status == 403
    assert "This lesson is locked" in page.inner_text("main")
    page.go_back()
    page.click(".lesson-line.status-available a")
    assert "Kỹ năng số cơ bản cho cán bộ" in page.inner_text("h1")
    page.locator(".lesson-steps a").last.click()
    assert "An toàn thông tin trên mạng quân sự" in page.inner_text("h1")
    page.locator(".lesson-steps a").last.click()
    assert "Ba thói quen số mỗi ngày." in page.inner_text(".page-body")
    page.click("text=I have read this page")
    assert "You have completed the course Kỹ năng số cơ bản." in flash_text(page)
    page.goto(f"{base}/learn")
    item = page.locator(".learning-item", has_text="Kỹ năng số cơ bản")
    assert "Completed" in item.inner_text()
    assert page.locator(".learning-item progress").first.get_attribute("value") == "100"


def _lesson_id(app, index: int) -> int:
    from lms.training.models import Lesson

    with app.app_context():
        return db.session.scalars(select(Lesson.id).order_by(Lesson.position)).all()[index]
