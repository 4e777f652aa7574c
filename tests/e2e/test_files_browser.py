"""In headless Chromium, against the served app: an uploaded HTML file is downloaded, never
rendered in our origin; an inline PDF opens in the browser's viewer despite our CSP."""

from __future__ import annotations

import contextlib
import io

import pytest

from lms.accounts.models import User
from lms.catalog import deposit, workflow
from lms.catalog.access_settings import AccessSettings
from lms.catalog.models import AccessLevel, Record
from lms.extensions import db
from lms.files.upload import Upload, upload_files
from tests.factories import make_collection, statements

pytestmark = pytest.mark.e2e

HTML = (
    b"<!doctype html><html><head><title>ok</title></head>"
    b"<body><h1>hello</h1><script>document.title='pwned'</script></body></html>"
)


def published_file(app, users, name: str, data: bytes) -> str:
    """Publish a public record holding one file; return the file's preview path (the route
    that serves inline whatever the allowlist permits)."""
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        collection = make_collection("khoa-hau-can", curators=[curator], steps=1)
        record = deposit.create_draft(owner, collection, statements("Tài liệu"),
                                      AccessSettings(level=AccessLevel.PUBLIC))
        [file] = upload_files(owner, record, [Upload(io.BytesIO(data), name)])
        record = db.session.get(Record, record.id)
        workflow.submit(owner, record, record.lock_version)
        task = next(t for t in workflow.review_queue(curator).pool if t.record_id == record.id)
        workflow.claim(curator, task.id)
        workflow.accept(curator, task.id)
        return f"/records/{record.id}/files/{file.id}/preview"


@pytest.mark.parametrize("name", ["brief.pdf", "trang.html"])
def test_html_with_script_is_downloaded_not_rendered(app, users, served_app, page, name):
    from playwright.sync_api import Error as PlaywrightError

    path = published_file(app, users, name, HTML)
    page.goto(f"{served_app}/login")  # an ordinary page of our origin first
    navigated = []
    page.on("framenavigated", lambda frame: navigated.append(frame.url))

    # Navigating to an attachment aborts the navigation (a Playwright error): that is the point.
    with (
        page.expect_download(timeout=10_000) as download_info,
        contextlib.suppress(PlaywrightError),
    ):
        page.goto(f"{served_app}{path}")
    download = download_info.value

    assert download.suggested_filename == name
    assert download.url == f"{served_app}{path}"
    assert page.title() != "pwned"
    assert page.url == f"{served_app}/login"  # still on our page; nothing was rendered
    assert f"{served_app}{path}" not in navigated
    with open(download.path(), "rb") as fh:
        assert fh.read() == HTML  # delivered byte for byte, just not executed


def test_inline_pdf_opens_in_the_viewer_despite_the_csp(app, users, served_app, page, tmp_path):
    from lms.extract.samples import FUEL_SUPPLY, write_demo_pdf

    # PDF_CSP must not break Chromium's viewer (it runs as an extension, outside our origin).
    pdf = write_demo_pdf(tmp_path / "a.pdf", FUEL_SUPPLY.title, FUEL_SUPPLY.paragraphs)
    path = published_file(app, users, "Giáo trình.pdf", pdf.read_bytes())
    downloads = []
    page.on("download", lambda download: downloads.append(download))
    response = page.goto(f"{served_app}{path}")
    assert response is not None and response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    page.wait_for_timeout(500)
    assert downloads == []
    assert any(frame.url.startswith("chrome-extension://") for frame in page.frames)
