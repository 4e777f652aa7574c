"""Journeys through the real service in Chromium, with a screenshot of every step (saved to
``build/screenshots/``, see tests/e2e/conftest.py):

1. an instructor deposits a material with a PDF through the wizard, a curator accepts it from
   the queue, and an anonymous cadet finds it by searching without diacritics, opens it,
   previews and downloads the PDF;
2. a deposit that will not be public says so before it is submitted;
3. home, search, record and deposit on a 375 px phone.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import horizontal_overflow, log_in, shot

pytestmark = pytest.mark.e2e

TITLE = "Bảo đảm hậu cần cho vận tải đường thủy nội địa"


@pytest.fixture(scope="module")
def pdf(tmp_path_factory):
    """A real lecture PDF, written the way the demo writes its documents."""
    from lms.catalog.demo_library import DemoMaterial, write_pdf

    material = DemoMaterial(
        key="e2e", collection="binh-dan-hoc-vu-so", title=TITLE,
        title_en="Logistics for inland waterway transport", creators=("Đoàn Văn Hải",),
        subjects=("waterway-transport",), audiences=("cadet-year-3",), issued="2025-10-01",
        abstract="Tổ chức bảo đảm xăng dầu, lương thực và sửa chữa cho đội tàu vận tải trên "
                 "sông, kênh.",
        sections=(("Đặc điểm", ("Tuyến đường sông dài, phân tán, phụ thuộc mực nước.",)),
                  ("Bảo đảm", ("Bố trí điểm tiếp nhiên liệu tại các bến chính.",))))
    path = tmp_path_factory.mktemp("e2e-files") / "Bài giảng vận tải đường thủy.pdf"
    return write_pdf(path, material)


def _fill_essentials(page) -> None:
    page.fill("input[name='dc.title.0.value']", TITLE)
    page.fill("input[name='dc.creator.0.value']", "Đoàn Văn Hải")
    page.fill("input[name='dc.subject.0.value']", "Vận tải đường thủy")
    page.fill("textarea[name='dc.abstract.0.value']",
              "Tổ chức bảo đảm xăng dầu, lương thực và sửa chữa cho đội tàu trên sông, kênh.")
    page.fill("input[name='dc.issued.0.value']", "2025-10-01")
    page.select_option("select[name='dc.type.0.value']", "Text")
    page.select_option("select[name='dc.audience.0.value']", "cadet-year-3")
    page.fill("textarea[name='dc.rights.0.value']", "Lưu hành nội bộ Học viện Hậu cần.")


def test_deposit_review_then_find_preview_and_download(site, chromium, pdf):
    # 1. The instructor describes the material: the essentials, the other groups folded.
    instructor = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(instructor, site, "instructor")
    instructor.goto(f"{site.url}/records/new")
    instructor.select_option("select[name=collection]", "binh-dan-hoc-vu-so")
    assert instructor.locator("details[data-group=teaching]").get_attribute("open") is None
    _fill_essentials(instructor)
    shot(instructor, "journey-1-describe")
    instructor.click("button[value=next]")
    instructor.wait_for_url(re.compile(r"/records/\d+/files$"))
    record_id = int(instructor.url.split("/")[-2])

    # 2. Files: choosing (or dropping) a file uploads it with a progress bar, then reloads.
    with instructor.expect_navigation(timeout=30_000):
        instructor.set_input_files("input[name=files]", str(pdf))
    assert "Bài giảng vận tải đường thủy.pdf" in instructor.locator(".files-table").inner_text()
    shot(instructor, "journey-2-files")
    instructor.click("text=Tiếp tục: quyền truy cập")

    # 3. Access: the collection's default (public) and who that means, in plain words.
    summary = instructor.locator("[data-access-summary]")
    assert "mọi người trong mạng, không cần đăng nhập" in summary.inner_text()
    assert not summary.locator(".warning").is_visible()
    shot(instructor, "journey-3-access")
    instructor.click("button:has-text('Lưu và tiếp tục: kiểm tra')")
    instructor.wait_for_url(f"{site.url}/records/{record_id}/submit")

    # 4. Review and submit.
    assert "Phần mô tả đã đủ thông tin để gửi duyệt." in instructor.content()
    shot(instructor, "journey-4-submit")
    instructor.click("button:has-text('Gửi duyệt')")
    instructor.wait_for_url(f"{site.url}/deposits")
    assert "Đã gửi duyệt. Bạn sẽ nhận được thông báo về kết quả." in \
        instructor.locator(".flashes").inner_text()
    instructor.context.close()

    # 5. The curator takes it from the queue and accepts it on its task page.
    curator = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(curator, site, "curator")
    curator.goto(f"{site.url}/review")
    row = curator.locator("table.review-table tr", has_text=TITLE)
    shot(curator, "journey-5-queue")
    row.locator("button:has-text('Nhận')").click()
    curator.wait_for_url(re.compile(r"/review/\d+$"))
    assert curator.locator("iframe.pdf-viewer").get_attribute("src").endswith("/preview")
    shot(curator, "journey-6-task")
    curator.click("button:has-text('Chấp nhận và công bố')")
    curator.wait_for_url(f"{site.url}/review")
    assert "Đã công bố" in curator.locator(".flashes").inner_text()
    curator.context.close()

    # 6. An anonymous cadet searches without diacritics and finds it first.
    cadet = chromium.new_context(viewport={"width": 1280, "height": 900},
                                 accept_downloads=True).new_page()
    cadet.goto(site.url)
    cadet.fill("#home-q", "hau can duong thuy")
    cadet.press("#home-q", "Enter")
    cadet.wait_for_url(re.compile(r"/search\?q=hau\+can\+duong\+thuy"))
    # A record whose change the worker is still applying to the index is held back (fail
    # closed) for a few seconds; the cadet searches again, as a person would.
    for _ in range(20):
        if cadet.locator("li.hit").count():
            break
        cadet.wait_for_timeout(1000)
        cadet.reload()
    first = cadet.locator("li.hit").first
    assert TITLE in first.inner_text()
    assert "PDF" in first.locator(".formats").inner_text()
    shot(cadet, "journey-7-search")
    first.locator("h3 a").click()
    cadet.wait_for_url(f"{site.url}/records/{record_id}")
    with cadet.expect_response(lambda r: r.url.endswith("/preview")) as preview:
        cadet.click("details.viewer summary")
    assert preview.value.status == 200
    assert preview.value.headers["content-type"] == "application/pdf"
    shot(cadet, "journey-8-record")
    with cadet.expect_download() as download:
        cadet.click("section.files a[download]")
    assert download.value.suggested_filename == "Bài giảng vận tải đường thủy.pdf"
    cadet.context.close()


def test_a_deposit_that_will_not_be_public_is_flagged(site, chromium):
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, site, "instructor")
    page.goto(f"{site.url}/records/new")
    page.select_option("select[name=collection]", "khoa-hau-can")
    note = page.locator("#collection-access")
    assert "mọi người đăng nhập bằng tài khoản của Học viện" in note.inner_text()
    assert note.locator(".not-public-note").is_visible()
    page.fill("input[name='dc.title.0.value']", "Kế hoạch bảo đảm hậu cần diễn tập nội bộ")
    page.click("button[value=next]")
    page.wait_for_url(re.compile(r"/records/\d+/files$"))
    page.click("text=Tiếp tục: quyền truy cập")
    warning = page.locator("[data-access-summary] .warning")
    assert warning.is_visible()
    assert "sẽ không công khai" in warning.inner_text()
    shot(page, "warning-access-not-public")
    # Choosing "public" takes the warning away before anything is saved.
    page.check("input[name=access_level][value=public]")
    assert not warning.is_visible()
    page.check("input[name=access_level][value=internal]")
    page.click("button:has-text('Lưu và tiếp tục: kiểm tra')")
    assert page.locator("[data-access-summary] .warning").is_visible()
    shot(page, "warning-submit-not-public")
    page.context.close()


@pytest.mark.parametrize("name, path, role", [
    ("home", "/", None),
    ("search", "/search?q=hau+can", None),
    ("record", "{record}", None),
    ("deposit", "/records/new", "instructor"),
])
def test_phone_layout(site, phone, name, path, role):
    if role:
        log_in(phone, site, role)
    if "{record}" in path:
        phone.goto(f"{site.url}/search?q=%C4%91%E1%BA%A1i+c%C6%B0%C6%A1ng+h%E1%BA%ADu+c%E1%BA%A7n")
        path = phone.locator("li.hit h3 a").first.get_attribute("href")
    phone.goto(site.url + path)
    assert horizontal_overflow(phone) == 0
    assert phone.locator(".menu-toggle").is_visible()
    assert not phone.locator("#site-menu").is_visible()
    shot(phone, f"phone-{name}")
