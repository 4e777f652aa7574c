"""The deposit wizard and the review queue, through the real forms.

Deposit: describe (the essentials first, other groups folded; labels in the interface
language, the DC term only in the help), files, access (who can read it, a warning when not
public), review and submit. Review: a queue with headings, a task page with the metadata,
the file preview and every decision, and two different curators for a two-step workflow
unless the collection allows one.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.catalog.models import AccessLevel, Record, RecordStatus, ReviewTask, TaskStatus
from lms.extensions import db
from metadata import Statement
from tests.conftest import Browser
from tests.factories import PASSWORD, UserFactory, make_collection, statements
from tests.pagewalk import read_page

pytestmark = pytest.mark.functional


def form_data(rows) -> dict[str, str]:
    data: dict[str, str] = {}
    counts: dict[str, int] = {}
    for s in rows:
        n = counts.get(s.term, 0)
        counts[s.term] = n + 1
        data[f"dc.{s.term}.{n}.value"] = s.value
        if s.lang:
            data[f"dc.{s.term}.{n}.lang"] = s.lang
    return data


def login(app, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username, PASSWORD).status_code == 302
    return browser


@pytest.fixture
def library(app, users):
    """Two collections: an internal two-step one (two curators, four eyes) and a public
    one-step one."""
    with app.app_context():
        first = db.session.get(User, users["curator"].id)
        second = UserFactory(username="curator2", roles=["curator"])
        internal = make_collection("khoa-hau-can", curators=[first, second], steps=2,
                                   single_reviewer=False)
        internal.default_access = AccessLevel.INTERNAL
        public = make_collection("binh-dan-hoc-vu-so", curators=[first], steps=1)
        public.default_access = AccessLevel.PUBLIC
        db.session.commit()


def deposit(app, browser: Browser, collection: str, title: str) -> int:
    """Through the wizard: describe, (no files), access as proposed, submit."""
    response = browser.post("/records/new", {"collection": collection, "action": "next",
                                             **form_data(statements(title))},
                            page="/records/new")
    assert response.status_code == 302
    record_id = int(response.headers["Location"].split("/")[2])
    assert response.headers["Location"] == f"/records/{record_id}/files"
    resubmit(browser, record_id)
    return record_id


def task_of(app, record_id: int, status: str = TaskStatus.POOL) -> int:
    with app.app_context():
        return db.session.scalar(select(ReviewTask.id).where(
            ReviewTask.record_id == record_id, ReviewTask.status == status))


def take_and_accept(app, curator: Browser, record_id: int) -> int:
    """The curator claims the deposit's waiting task and accepts it; returns the task id."""
    task = task_of(app, record_id)
    curator.post(f"/review/{task}/claim", page="/review")
    curator.post(f"/review/{task}/accept", page=f"/review/{task}")
    return task


def resubmit(browser: Browser, record_id: int) -> None:
    """Submit from the wizard's last step, with the lock version it shows."""
    page = f"/records/{record_id}/submit"
    lock = re.search(r'name="lock_version" value="(\d+)"',
                     browser.client.get(page).get_data(as_text=True)).group(1)
    assert browser.post(page, {"lock_version": lock}, page=page).status_code == 302


def status_of(app, record_id: int) -> str:
    with app.app_context():
        return db.session.get(Record, record_id).status


# --- the wizard ---------------------------------------------------------------------------------

def test_the_describe_step_groups_fields_and_shows_labels_not_term_names(app, library):
    instructor = login(app, "instructor")
    html = instructor.client.get("/records/new").get_data(as_text=True)
    groups = re.findall(r'<details class="form-group" data-group="(\w+)"( open)?>', html)
    assert groups[0] == ("essentials", " open")
    assert {name for name, is_open in groups[1:] if not is_open} == {
        "content", "teaching", "relations", "rights", "coverage"}
    legends = [re.sub(r"<[^>]+>", "", m).strip()
               for m in re.findall(r"<legend>(.*?)</legend>", html, re.S)]
    assert "Nhan đề * (bắt buộc khi gửi duyệt)" in legends
    assert not any("dcterms" in legend for legend in legends)
    # The DC term is in the help text only, marked as not to be translated.
    assert html.count('<span class="dc-term" translate="no">(Dublin Core: dcterms:title)</span>') \
        == 1
    # A new deposit starts in Vietnamese.
    assert 'name="dc.language.0.value" value="vi"' in html


def test_saving_adds_no_blank_rows_to_filled_fields(app, library):
    instructor = login(app, "instructor")
    rows = [*statements("Giáo trình hậu cần"), Statement("creator", "Trần Thị B")]
    response = instructor.post("/records/new", {"collection": "khoa-hau-can", "action": "save",
                                                **form_data(rows)}, page="/records/new")
    record_id = int(response.headers["Location"].split("/")[2])
    for _round in range(2):  # save twice: still exactly the values, no empty row after them
        html = instructor.client.get(f"/records/{record_id}/edit").get_data(as_text=True)
        creators = re.findall(r'name="dc\.creator\.\d+\.value" value="([^"]*)"', html)
        assert creators == ["Nguyễn Văn A", "Trần Thị B"]
        form = {k: v for k, v in re.findall(r'name="(dc\.[^"]+)" value="([^"]*)"', html)}
        lock = re.search(r'name="lock_version" value="(\d+)"', html).group(1)
        instructor.post(f"/records/{record_id}/edit", {**form_data(rows), **form,
                                                       "lock_version": lock, "action": "save"},
                        page=f"/records/{record_id}/edit")
    html = instructor.client.get(f"/records/{record_id}/edit").get_data(as_text=True)
    # An empty field keeps one row to fill in.
    assert len(re.findall(r'name="dc\.alternative\.\d+\.value"', html)) == 1


def test_every_step_leads_to_the_next(app, library):
    instructor = login(app, "instructor")
    response = instructor.post("/records/new", {"collection": "binh-dan-hoc-vu-so",
                                                "action": "next",
                                                **form_data(statements("Kỹ năng số"))},
                               page="/records/new")
    record_id = int(response.headers["Location"].split("/")[2])
    files = instructor.client.get(f"/records/{record_id}/files").get_data(as_text=True)
    assert '<span aria-current="step"><span class="step-no">2</span> Tệp</span>' in files
    assert "data-dropzone" in files and f'href="/records/{record_id}/access"' in files
    access_page = f"/records/{record_id}/access"
    response = instructor.post(access_page, {"access_level": "public", "discoverable": "1"},
                               page=access_page)
    assert response.headers["Location"] == f"/records/{record_id}/submit"
    review = instructor.client.get(f"/records/{record_id}/submit").get_data(as_text=True)
    assert "Phần mô tả đã đủ thông tin để gửi duyệt." in review
    assert "Không có tệp" in review
    # Outside the wizard (a curator's edit of a submitted record), no steps.
    resubmit(instructor, record_id)
    curator = login(app, "curator")
    html = curator.client.get(f"/records/{record_id}/edit").get_data(as_text=True)
    assert 'class="wizard"' not in html
    assert curator.client.get(f"/records/{record_id}/submit").status_code == 302


def test_a_deposit_that_will_not_be_public_says_so_at_every_step(app, library):
    """Point 6: the internal collection's default is kept; depositor and curator are told."""
    instructor = login(app, "instructor")
    new = instructor.client.get("/records/new?collection=khoa-hau-can").get_data(as_text=True)
    assert "mọi người đăng nhập bằng tài khoản của Học viện" in new
    assert '<span class="not-public-note">Học liệu sẽ không công khai.</span>' in new
    warning = "Học liệu sẽ không công khai: người không đăng nhập sẽ không tìm thấy"
    response = instructor.post("/records/new", {"collection": "khoa-hau-can", "action": "next",
                                                **form_data(statements("Kế hoạch nội bộ"))},
                               page="/records/new")
    record_id = int(response.headers["Location"].split("/")[2])
    assert warning in instructor.client.get(f"/records/{record_id}/access").get_data(
        as_text=True)
    assert warning in instructor.client.get(f"/records/{record_id}/submit").get_data(
        as_text=True)
    resubmit(instructor, record_id)
    curator = login(app, "curator")
    task_page = curator.client.get(f"/review/{task_of(app, record_id)}").get_data(as_text=True)
    assert warning in task_page
    queue = curator.client.get("/review").get_data(as_text=True)
    assert '<small class="badge">Mọi người dùng đã đăng nhập</small>' in queue
    # A public deposit has no warning.
    public_id = deposit(app, instructor, "binh-dan-hoc-vu-so", "Kỹ năng số công khai")
    html = curator.client.get(f"/review/{task_of(app, public_id)}").get_data(as_text=True)
    assert '<p class="warning" hidden>' in html


# --- the queue and the task page ----------------------------------------------------------------

def test_the_queue_is_a_table_with_headings(app, library):
    record_id = deposit(app, login(app, "instructor"), "khoa-hau-can", "Giáo trình quân nhu")
    curator = login(app, "curator")
    page = read_page(curator.client.get("/review").get_data(as_text=True))
    for heading in ("Nhan đề", "Người nộp", "Bộ sưu tập", "Ngày gửi", "Bước", "Người nhận"):
        assert heading in page.texts
    assert f"/review/{task_of(app, record_id)}" in page.links


def test_claiming_opens_the_task_with_every_decision_together(app, library):
    record_id = deposit(app, login(app, "instructor"), "khoa-hau-can", "Giáo trình quân nhu")
    curator = login(app, "curator")
    task_id = task_of(app, record_id)
    response = curator.post(f"/review/{task_id}/claim", page="/review")
    assert response.headers["Location"] == f"/review/{task_id}"
    html = curator.client.get(f"/review/{task_id}").get_data(as_text=True)
    for action in ("accept", "return", "release"):
        assert f'action="/review/{task_id}/{action}"' in html
    assert f'href="/records/{record_id}/edit"' in html
    assert "Giáo trình quân nhu" in html and "Nguyễn Văn A" in html  # the metadata
    # Returning needs a comment; the page says so and the task stays claimed.
    response = curator.post(f"/review/{task_id}/return", {"comment": " "},
                            page=f"/review/{task_id}")
    assert response.headers["Location"] == f"/review/{task_id}"
    assert status_of(app, record_id) == RecordStatus.SUBMITTED


def test_a_two_step_review_needs_two_curators(app, library):
    record_id = deposit(app, login(app, "instructor"), "khoa-hau-can", "Giáo trình xăng dầu")
    first, second = login(app, "curator"), login(app, "curator2")
    step_one = take_and_accept(app, first, record_id)
    step_two = task_of(app, record_id)
    assert step_two != step_one
    # The first curator may not take the second step: refused, and the task stays pooled.
    queue = first.client.get("/review").get_data(as_text=True)
    assert "Bước này cần một thủ thư khác." in queue
    first.post(f"/review/{step_two}/claim", page="/review")
    messages = first.client.get("/review").get_data(as_text=True)
    assert "Bạn đã duyệt bước trước của học liệu này" in messages
    assert task_of(app, record_id) == step_two
    second.post(f"/review/{step_two}/claim", page="/review")
    second.post(f"/review/{step_two}/accept", page=f"/review/{step_two}")
    assert status_of(app, record_id) == RecordStatus.PUBLISHED


def test_a_returned_deposit_starts_a_new_round_of_review(app, library):
    instructor = login(app, "instructor")
    record_id = deposit(app, instructor, "khoa-hau-can", "Giáo trình doanh trại")
    first, second = login(app, "curator"), login(app, "curator2")
    take_and_accept(app, first, record_id)
    task = task_of(app, record_id)
    second.post(f"/review/{task}/claim", page="/review")
    second.post(f"/review/{task}/return", {"comment": "Bổ sung tóm tắt"}, page=f"/review/{task}")
    assert status_of(app, record_id) == RecordStatus.RETURNED
    resubmit(instructor, record_id)
    # This round the second curator takes step one; the first may then take step two.
    take_and_accept(app, second, record_id)
    take_and_accept(app, first, record_id)
    assert status_of(app, record_id) == RecordStatus.PUBLISHED


def test_a_collection_may_allow_one_curator_for_both_steps(app, library):
    admin = login(app, "admin")
    form = admin.client.get("/admin/collections/khoa-hau-can").get_data(as_text=True)
    assert 'name="single_reviewer" value="1">' in form  # unticked
    response = admin.post("/admin/collections/khoa-hau-can", {
        "title": "Khoa Hậu cần", "default_access": "internal", "workflow_steps": "2",
        "curators": "curator\ncurator2", "single_reviewer": "1"},
        page="/admin/collections/khoa-hau-can")
    assert response.status_code == 302
    record_id = deposit(app, login(app, "instructor"), "khoa-hau-can", "Giáo trình vận tải")
    curator = login(app, "curator")
    take_and_accept(app, curator, record_id)
    take_and_accept(app, curator, record_id)
    assert status_of(app, record_id) == RecordStatus.PUBLISHED


def test_the_pool_is_paged(app, library):
    instructor = login(app, "instructor")
    for n in range(27):
        deposit(app, instructor, "binh-dan-hoc-vu-so", f"Bài giảng số {n}")
    curator = login(app, "curator")
    first = curator.client.get("/review").get_data(as_text=True)
    assert "Đang chờ trong hàng (27)" in first
    assert first.count('action="/review/') == 25 and 'href="/review?page=2"' in first
    second = curator.client.get("/review?page=2").get_data(as_text=True)
    assert second.count('action="/review/') == 2
