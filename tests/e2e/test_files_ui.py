"""Uploading files in a real browser: XMLHttpRequest with progress, then the record page's
viewers load under our page CSP."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from lms.accounts.models import User
from lms.catalog import deposit
from lms.extensions import db
from lms.files.models import RecordFile
from tests.e2e.test_ui import log_in
from tests.factories import make_collection, statements

pytestmark = pytest.mark.e2e


def test_upload_with_progress_and_view_in_the_page(app, live_server, page, users, tmp_path):
    from lms.extract.samples import FUEL_SUPPLY, write_demo_pdf

    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        collection = make_collection("khoa-hau-can", curators=[], steps=1)
        record_id = deposit.create_draft(owner, collection, statements("Giáo trình")).id
    pdf = write_demo_pdf(tmp_path / "a.pdf", FUEL_SUPPLY.title, FUEL_SUPPLY.paragraphs)
    png = io.BytesIO()
    Image.new("RGB", (200, 120), (10, 120, 60)).save(png, format="PNG")

    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    posts: list[dict[str, str]] = []
    page.on("request", lambda request: posts.append(request.headers)
            if request.method == "POST" and request.url.endswith("/files") else None)
    log_in(page, live_server, "instructor")
    page.goto(f"{live_server}/records/{record_id}/files")
    page.set_input_files("input[name=files]", [
        {"name": "Bài giảng xăng dầu.pdf", "mimeType": "application/pdf",
         "buffer": pdf.read_bytes()},
        {"name": "Sơ đồ kho.png", "mimeType": "image/png", "buffer": png.getvalue()},
    ])
    with page.expect_navigation(timeout=20_000):  # the script reloads once all are sent
        page.click("form[data-upload] button[type=submit]")
    table = page.locator(".files-table").inner_text()
    assert "Bài giảng xăng dầu.pdf" in table and "Sơ đồ kho.png" in table
    # Sent by the script, one file per XMLHttpRequest (not by the plain form).
    assert [r["accept"] for r in posts] == ["application/json", "application/json"]

    with app.app_context():
        names = set(db.session.scalars(select(RecordFile.name)))
    assert names == {"Bài giảng xăng dầu.pdf", "Sơ đồ kho.png"}

    page.goto(f"{live_server}/records/{record_id}/draft")
    page.click("details.viewer summary")
    frame = page.locator("iframe.pdf-viewer")
    assert frame.get_attribute("src").endswith("/preview")
    page.wait_for_function(
        "document.querySelector('img.image-viewer') && "
        "document.querySelector('img.image-viewer').naturalWidth > 0", timeout=10_000)
    assert violations == []
