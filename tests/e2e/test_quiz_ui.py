"""The quiz journey in a real browser (Chromium): a trainer imports a question bank from XLSX,
ends a course with the 30 questions / 45 minutes / 80% test made from the preset, and assigns
it; a learner starts the test, loses the connection (the page is closed), comes back to the
same attempt with the time still running, submits, passes, and the lesson and the course are
complete."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from lms.extensions import db
from lms.quizzes.models import AttemptQuestion
from lms.training.models import Enrolment
from tests.e2e.test_training_ui import flash_text, sign_in, sign_out
from tests.quiz_world import HEADER, answers, build_quiz_world
from tests.training_world import build_world, user_id

pytestmark = pytest.mark.e2e

TOPICS = ("Kỹ năng số / Sử dụng máy tính", "An toàn thông tin / Mật khẩu",
          "An toàn thông tin / Lừa đảo trực tuyến")


def bank_workbook(path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for number in range(36):
        topic = TOPICS[number % 3]
        sheet.append([topic, "single", f"Câu {number + 1}: chọn phương án đúng về {topic}.",
                      *(f"Phương án {c} của câu {number + 1}" for c in "ABCD"),
                      "abcd"[number % 4], 1, "", "", ("easy", "medium", "hard")[number % 3],
                      "", ""])
    out = io.BytesIO()
    workbook.save(out)
    path.write_bytes(out.getvalue())


def answer_current(page, app, attempt_id: int) -> None:
    """Choose the right option of the question on the page (the test reads the key from the
    database; the page itself never shows it)."""
    slot = int(re.search(r"/questions/(\d+)", page.url).group(1))
    body = answers(app, attempt_id)[slot - 1]
    page.check(f"input[name=choice][value='{body['answer'][0]}']")
    page.locator(".save-status", has_text="Answer saved.").wait_for()


def test_the_quiz_journey(app, served_app, page, tmp_path):
    build_world(app)
    base = served_app
    workbook = tmp_path / "ngan-hang.xlsx"
    bank_workbook(workbook)

    # The trainer makes a bank and imports the XLSX file, creating its categories.
    sign_in(page, base, "trainer")
    page.click("nav.main-nav >> text=Training")
    page.click("nav.subnav >> text=Question banks")
    page.click("text=New bank")
    page.fill("input[name=name]", "Ngân hàng Kỹ năng số")
    page.check("input[name=sharing][value=unit]")
    page.click("form.card button[type=submit]")
    assert "Bank created." in flash_text(page)
    page.click("text=Import questions")
    page.set_input_files("input[name=file]", str(workbook))
    page.uncheck("input[name=dry_run]")
    page.check("input[name=create_categories]")
    page.click("form.card button[type=submit]")
    assert "Imported: 36 new questions, 0 already in the bank." in flash_text(page)

    # A course of a page, then the preset test drawn from the bank.
    page.click("nav.subnav >> text=Courses")
    page.click("text=New course")
    page.fill("input[name=title]", "Kỹ năng số cơ bản")
    page.check("input[name=sequential]")
    page.click("form.card button[type=submit]")
    page.click("text=Add a page")
    page.fill("input[name=title]", "Hướng dẫn làm bài")
    page.fill("textarea[name=body]", "Bài kiểm tra gồm 30 câu trong 45 phút, đạt từ 80%.")
    page.click("form.card button[type=submit]")
    page.click("text=Add a quiz")
    page.check("input[name=mode][value=preset]")
    page.select_option("select[name=bank_id]", label="Ngân hàng Kỹ năng số")
    page.fill("input[name=title]", "Kiểm tra kỹ năng số")
    page.click("form.card button[type=submit]")
    assert "The quiz “Kiểm tra kỹ năng số” is the course's last lesson." in flash_text(page)
    page.click("button:has-text('Publish')")
    page.click("text=Assign this course")
    page.fill("textarea[name=people]", "hv1")
    page.click("form.card button[type=submit]")
    assert "Assigned: 1 people enrolled." in flash_text(page)
    sign_out(page)

    # The learner reads the page, then starts the test.
    sign_in(page, base, "hv1")
    page.goto(f"{base}/learn")
    page.locator(".learning-item", has_text="Kỹ năng số cơ bản").locator(
        "a.learning-title").click()
    page.click(".lesson-line.status-available a")
    page.click("text=I have read this page")
    assert "Kiểm tra kỹ năng số" in page.inner_text("h1")
    facts = page.inner_text(".quiz-standing")
    assert "30" in facts and "45 minutes" in facts and "80.0%" in facts
    page.click("button:has-text('Start the quiz')")
    assert "Question 1 of 30" in page.inner_text("h1")
    attempt_id = int(re.search(r"/attempts/(\d+)/", page.url).group(1))
    first_left = int(page.get_attribute(".quiz-timer", "data-remaining"))
    assert 2690 <= first_left <= 2700
    assert re.fullmatch(r"4[45]:\d\d", page.inner_text(".quiz-clock"))
    for _ in range(12):  # answered one by one, each saved as it is chosen
        answer_current(page, app, attempt_id)
        page.click("button:has-text('Save and next')")
    assert "Question 13 of 30" in page.inner_text("h1")
    answer_current(page, app, attempt_id)  # saved by the script, then the connection is lost

    # The connection is lost: the page is closed. The learner comes back later.
    context = page.context
    page.close()
    page = context.new_page()
    page.wait_for_timeout(2500)
    page.goto(f"{base}/learn")
    page.locator(".learning-item", has_text="Kỹ năng số cơ bản").locator(
        "a.learning-title").click()
    page.locator(".lesson-line a", has_text="Kiểm tra kỹ năng số").click()
    page.click("text=Continue the attempt")
    assert "Question 14 of 30" in page.inner_text("h1")  # the first one not answered
    left = int(page.get_attribute(".quiz-timer", "data-remaining"))
    assert 2500 < left < first_left  # the time kept running while the page was closed
    assert page.locator(".qnav.is-answered").count() == 13
    for _ in range(16):
        answer_current(page, app, attempt_id)
        page.click("button:has-text('Save and next')")
    answer_current(page, app, attempt_id)
    page.click("button:has-text('Save and review')")
    assert "Every question has an answer." in page.inner_text("main")
    page.click("button:has-text('Submit and finish')")
    result = page.inner_text("main")
    assert "100.0%" in result and "Passed" in result
    assert "The lesson “Kiểm tra kỹ năng số” is complete." in result

    page.click("text=Back to the course")
    assert "Course completed on" in page.inner_text(".course-side")
    page.goto(f"{base}/learn")
    item = page.locator(".learning-item", has_text="Kỹ năng số cơ bản")
    assert "Completed" in item.inner_text()
    with app.app_context():
        enrolment = db.session.scalar(select(Enrolment).where(
            Enrolment.user_id == user_id(app, "hv1")))
        assert (enrolment.status, enrolment.required_done) == ("completed", 2)


def test_an_answer_chosen_before_the_script_loaded_is_saved(app, served_app, page):
    """A learner on a slow link picks an option before quiz.js has run: the script, once it
    runs, sends what differs from the page the server rendered (no change event reached it)."""
    world = build_quiz_world(app, shuffle_questions=False)
    sign_in(page, served_app, "hv1")
    page.goto(f"{served_app}/quizzes/{world.quiz}")
    page.click("button:has-text('Start the quiz')")
    attempt_id = int(re.search(r"/attempts/(\d+)/", page.url).group(1))
    bodies = answers(app, attempt_id)

    page.route("**/js/quiz.js", lambda route: route.abort())
    page.goto(f"{served_app}/quizzes/attempts/{attempt_id}/questions/1")
    page.check(f"input[name=choice][value='{bodies[0]['answer'][0]}']")
    page.goto(f"{served_app}/quizzes/attempts/{attempt_id}/questions/4")
    for prompt, chosen in bodies[3]["answer"].items():
        page.select_option(f"select[name='match-{prompt}']", chosen)
    assert page.inner_text(".save-status") == ""
    page.unroute("**/js/quiz.js")
    page.add_script_tag(url=f"{served_app}/static/js/quiz.js")
    page.locator(".save-status", has_text="Answer saved.").wait_for()

    with app.app_context():
        saved = dict(db.session.execute(select(AttemptQuestion.slot, AttemptQuestion.answer)
                                        .where(AttemptQuestion.attempt_id == attempt_id)).all())
    # The choice on question 1 was lost with the page left without its buttons; the matching
    # on question 4 was sent by the script (stored by option key: every pair right).
    assert saved == {1: None, 2: None, 3: None, 4: {"a": "a", "b": "b", "c": "c"}}
