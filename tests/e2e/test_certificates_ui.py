"""The issue's journey in Chromium: the trainer designs and activates a certificate template; a
learner completes the course and downloads the PDF, whose QR code (read from the rendered
page) opens the verify page showing "valid"; the trainer revokes it and the page shows
"revoked"; the commander of the overdue learners gets one digest e-mail on a real SMTP
server; the unit report shows the completion against its target, and its XLSX, downloaded by
the browser, opens with openpyxl with the page's numbers."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from lms.accounts.models import Unit, User
from lms.extensions import db
from lms.notify.jobs import run_reminders
from tests.e2e.test_training_ui import sign_in, sign_out
from tests.factories import UserFactory
from tests.functional.test_certificates import qr_url
from tests.functional.test_training_learning import class_audience, course_with_lessons
from tests.mailserver import smtp_server
from tests.training_world import assign, build_world, signed_in

pytestmark = pytest.mark.e2e


def flash_text(page) -> str:
    return page.locator(".flashes").inner_text()


def test_certificate_revocation_commander_digest_and_report(app, served_app, page,
                                                            tmp_path):
    world = build_world(app)
    base = served_app
    app.config["PUBLIC_BASE_URL"] = base
    with app.app_context():
        UserFactory(username="chihuy", full_name="Trần Chỉ Huy",
                    unit=db.session.get(Unit, world.faculty), email="chihuy@hvhc.edu.vn")
        db.session.execute(update(User).where(User.username.in_(["hv1", "hv2"]))
                           .values(email=User.username + "@hvhc.edu.vn"))
        db.session.commit()
    # Set up through the forms: a course of Lớp 1, due three days ago; a commander.
    trainer = signed_in(app, "trainer")
    course_id = course_with_lessons(trainer, world, sequential=False)
    due = (date.today() - timedelta(days=3)).isoformat()
    assign(trainer, course_id, [class_audience(trainer, world)], due_kind="fixed",
           due_date=due)
    admin = signed_in(app, "admin")
    unit_page = f"/admin/units/{world.faculty}"
    admin.post(f"{unit_page}/commanders", {"commanders": "chihuy"}, page=unit_page)

    # The trainer designs the template, previews and activates it.
    sign_in(page, base, "trainer")
    page.goto(f"{base}/train/certificates/templates")
    page.click("button:has-text('Design')")
    assert page.input_value("input[name=title]") == "Giấy chứng nhận"
    page.click("form.card button[type=submit]")
    assert "Template saved as a draft." in flash_text(page)
    preview = page.locator("img.certificate-preview").element_handle()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview)
    assert page.evaluate("img => img.naturalWidth", preview) == 900
    page.click("button:has-text('Activate')")
    assert "The template is now: Active." in flash_text(page)
    sign_out(page)

    # The learner completes the course and downloads the certificate.
    sign_in(page, base, "hv1")
    page.goto(f"{base}/courses/{course_id}")
    for _ in range(2):
        page.locator(".lesson-line.status-available a").first.click()
        page.go_back()
    page.locator(".lesson-line.status-available a").first.click()
    page.click("text=I have read this page")
    assert "You have completed the course Kỹ năng số cơ bản." in flash_text(page)
    page.goto(f"{base}/learn")
    certificate = page.locator(".learning-item.certificate")
    assert "Valid" in certificate.inner_text()
    with page.expect_download() as download_info:
        certificate.locator("text=Download the PDF").click()
    pdf = Path(download_info.value.path()).read_bytes()
    url = qr_url(pdf)
    assert url.startswith(f"{base}/verify/")
    sign_out(page)

    page.goto(url)  # no login
    assert page.locator(".verdict").inner_text() == "Valid"
    assert page.locator(".facts .name").inner_text() == "Phạm Văn Một"

    # The trainer revokes it.
    sign_in(page, base, "trainer")
    page.goto(f"{base}/train/certificates/")
    page.click("text=Phạm Văn Một")
    page.fill("textarea[name=reason]", "Cấp nhầm")
    page.click("button:has-text('Revoke the certificate')")
    assert "is revoked." in flash_text(page)
    sign_out(page)
    page.goto(url)
    assert page.locator(".verdict").inner_text().startswith("Revoked on")

    # The commander of the overdue learner (hv2) gets one digest e-mail.
    local = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(days=7)
    monday = (local - timedelta(days=local.weekday())).replace(hour=8, minute=0)
    with smtp_server(tmp_path) as mail:
        app.config.update(mail.settings())
        with app.app_context():
            run_reminders(monday.astimezone(ZoneInfo("UTC")))
            run_reminders(monday.astimezone(ZoneInfo("UTC")) + timedelta(hours=1))
        [digest] = mail.mailbox.to("chihuy@hvhc.edu.vn")
        body = digest.get_content()
        assert "Phạm Văn Hai" in body
        assert "Phạm Văn Một" not in body  # completed: not overdue
    app.config["SMTP_HOST"] = None

    # The admin sets the target; the unit report shows the completion against it.
    sign_in(page, base, "admin")
    page.goto(f"{base}/reports/targets")
    page.select_option("select[name=unit]", str(world.class1))
    page.fill("input[name=percent]", "80")
    page.fill("input[name=deadline]", (date.today() + timedelta(days=60)).isoformat())
    page.click("form.card button[type=submit]")
    assert "Target saved." in flash_text(page)
    page.goto(f"{base}/reports/?unit={world.class1}&item=course:{course_id}")
    total = page.locator(".stat.total-percent").inner_text()
    assert total.startswith("50.0%")
    assert "target 80% by" in total
    row = page.locator("table.report tr.total td")
    shown = [row.nth(i).inner_text().strip() for i in range(1, 8)]
    assert shown[:6] == ["2", "1", "0", "1", "1", "50.0"]
    with page.expect_download() as download_info:
        page.click("text=Excel workbook (XLSX)")
    assert download_info.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    sheet = book["Tổng hợp theo đơn vị"]
    [total_row] = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "Total"]
    assert total_row[1:8] == (2, 1, 0, 1, 1, 50.0, 80)
    assert re.match(r"80%", shown[6])
