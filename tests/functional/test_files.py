"""Files of records through real HTTP: upload, versions, serving headers, access, embargo,
thumbnails, downloads, fixity, garbage collection, and the hostile inputs of security.md —
each test on both stores (files under DATA_DIR, then a bucket of moto's S3 server).

Every sample file is generated here (fpdf2 with DejaVu Sans, Pillow, crafted MP4/MP3 boxes).
"""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from lms.accounts.models import Group, User
from lms.catalog import access_settings, demo_library, deposit, workflow
from lms.catalog.models import AccessLevel, Collection, Record, RecordStatus
from lms.cli import cli
from lms.extensions import db
from lms.files.models import Blob, DownloadEvent, FixityCheck, RecordFile
from lms.files.stores import get_storage
from lms.jobs import enqueue
from lms.models import AuditEvent
from tests import storage_tools
from tests.conftest import Browser, ClosingClient
from tests.factories import PASSWORD, make_collection, statements
from tests.mirrors import recording

pytestmark = [pytest.mark.functional, pytest.mark.usefixtures("file_store")]

VIETNAMESE_NAME = "Giáo trình Hậu cần — Đề cương.pdf"

HTML_WITH_SCRIPT = (b"<!doctype html><html><head><title>ok</title></head>"
                    b"<body><script>document.title='pwned'</script></body></html>")
SVG_WITH_SCRIPT = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
                   b'height="10"><script>alert(document.domain)</script></svg>')
# A DOS stub and a PE signature: what an .exe starts with.
EXE = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8" + b"\x00" * 43
       + (64).to_bytes(4, "little") + b"PE\x00\x00\x4c\x01" + b"\x00" * 200)
# ftyp + an (empty) moov box: enough for libmagic to say video/mp4.
MP4 = (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
       + b"\x00\x00\x00\x08moov" + b"\x00" * 100)
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + b"\x00" * 400


# --- samples and helpers -------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _closing_client(app: Flask) -> None:
    app.test_client_class = ClosingClient

@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, bytes]:
    from lms.extract.samples import FUEL_SUPPLY, NETWORK_SECURITY, write_demo_pdf

    folder = tmp_path_factory.mktemp("samples")
    pdf = write_demo_pdf(folder / "a.pdf", FUEL_SUPPLY.title, FUEL_SUPPLY.paragraphs)
    pdf2 = write_demo_pdf(folder / "b.pdf", NETWORK_SECURITY.title, NETWORK_SECURITY.paragraphs)
    png = io.BytesIO()
    Image.new("RGB", (640, 400), (40, 90, 160)).save(png, format="PNG")
    jpeg = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 30, 30)).save(jpeg, format="JPEG")
    return {"pdf": pdf.read_bytes(), "pdf2": pdf2.read_bytes(), "png": png.getvalue(),
            "jpeg": jpeg.getvalue(), "mp4": MP4, "mp3": MP3}


@pytest.fixture
def collection(app, users) -> int:
    with app.app_context():
        curator = db.session.get(User, users["curator"].id)
        return make_collection("khoa-hau-can", curators=[curator], steps=1).id


def as_user(app: Flask, name: str | None) -> Browser:
    """A browser logged in as ``name`` (anonymous for ``None``), UI in English."""
    browser = Browser(app.test_client())
    if name is not None:
        assert browser.login(name, PASSWORD).status_code == 302
    browser.post("/language", {"language": "en", "next": "/"})
    return browser


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def new_draft(app: Flask, collection_id: int, access: access_settings.AccessSettings | None = None,
              title: str = "Giáo trình Xăng dầu", owner: str = "instructor") -> int:
    with app.app_context():
        record = deposit.create_draft(user(owner), db.session.get(Collection, collection_id),
                                       statements(title), access)
        return record.id


def publish(app: Flask, record_id: int, owner: str = "instructor") -> None:
    """Submit as the depositor and accept as the curator (one review step)."""
    with app.app_context():
        record = db.session.get(Record, record_id)
        workflow.submit(user(owner), record, record.lock_version)
        curator = user("curator")
        task = next(t for t in workflow.review_queue(curator).pool if t.record_id == record_id)
        workflow.claim(curator, task.id)
        workflow.accept(curator, task.id)


def upload(browser: Browser, record_id: int, *files: tuple[str, bytes], xhr: bool = False,
           content_type: str = "application/pdf"):
    data = {"files": [(io.BytesIO(body), name, content_type) for name, body in files]}
    headers = {"Accept": "application/json"} if xhr else {}
    return browser.post(f"/records/{record_id}/files", data, page=f"/records/{record_id}/files",
                        headers=headers)


def files_of(app: Flask, record_id: int) -> list[RecordFile]:
    with app.app_context():
        rows = list(db.session.scalars(select(RecordFile).where(RecordFile.record_id == record_id)
                                       .order_by(RecordFile.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def record_state(app: Flask, record_id: int) -> Record:
    with app.app_context():
        record = db.session.get(Record, record_id)
        db.session.expunge(record)
        return record


def blob_bytes(app: Flask, key: str) -> bytes | None:
    """The stored bytes of blob ``key``, or ``None`` when the store has no such blob."""
    storage = get_storage(app)
    return storage_tools.read_raw(storage, key) if storage.exists(key) else None


def leftovers(app: Flask) -> list[str]:
    """Temporary files left under DATA_DIR/tmp (there must be none after any request)."""
    tmp = Path(app.config["DATA_DIR"]) / "tmp"
    return sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file()) \
        if tmp.exists() else []


def count(app: Flask, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def audits(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                       .order_by(AuditEvent.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def age_blob(app: Flask, key: str, hours: float = 48) -> None:
    """Make a stored blob look ``hours`` old (past the gc grace and the purge window)."""
    storage_tools.age(get_storage(app), key, hours)


def published_with_pdf(app, collection, samples, access=None, name="bài giảng.pdf") -> tuple:
    record_id = new_draft(app, collection, access)
    assert upload(as_user(app, "instructor"), record_id, (name, samples["pdf"])) \
        .status_code == 302
    publish(app, record_id)
    return record_id, files_of(app, record_id)[0].id


# --- upload --------------------------------------------------------------------------------

def test_upload_stores_content_addressed_blob_row_and_thumbnail(app, users, collection,
                                                                samples):
    record_id = new_draft(app, collection)
    instructor = as_user(app, "instructor")
    assert instructor.client.get(f"/records/{record_id}/files").status_code == 200

    response = upload(instructor, record_id, (VIETNAMESE_NAME, samples["pdf"]))
    assert response.status_code == 302

    [file] = files_of(app, record_id)
    digest = hashlib.sha256(samples["pdf"]).hexdigest()
    assert (file.blob_key, file.size, file.media_type) == (digest, len(samples["pdf"]),
                                                            "application/pdf")
    assert file.name == VIETNAMESE_NAME and not file.sniff_mismatch
    assert [name.split("/")[-3:] for name in storage_tools.stored_names(
        get_storage(app)) if name.endswith(digest)] == [[digest[:2], digest[2:4], digest]]
    assert blob_bytes(app, digest) == samples["pdf"]
    assert leftovers(app) == []
    # The thumbnail job ran after the commit (inline in tests): a PNG, stored as a blob.
    assert file.thumbnail_status == "ready" and file.thumbnail_key
    thumb = instructor.client.get(f"/records/{record_id}/files/{file.id}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(thumb.data)).size[0] <= 320
    with app.app_context():
        assert {b.key for b in db.session.scalars(select(Blob))} == {digest, file.thumbnail_key}
    [event] = audits(app, "file_upload")
    assert event.details["sha256"] == digest and event.details["media_type"] == "application/pdf"
    page = instructor.client.get(f"/records/{record_id}/files").get_data(as_text=True)
    assert VIETNAMESE_NAME in page and 'data-upload' in page and "js/upload.js" in page


def test_xhr_upload_of_several_files_answers_json(app, users, collection, samples):
    record_id = new_draft(app, collection)
    response = upload(as_user(app, "instructor"), record_id, ("a.pdf", samples["pdf"]),
                      ("b.png", samples["png"]), ("c.mp4", samples["mp4"]), xhr=True)
    assert response.status_code == 201
    body = response.get_json()
    assert [f["media_type"] for f in body["files"]] == ["application/pdf", "image/png",
                                                        "video/mp4"]
    assert body["warning"] is None
    assert [f.position for f in files_of(app, record_id)] == [0, 1, 2]


def test_metadata_only_records_stay_allowed(app, users, collection):
    record_id = new_draft(app, collection)
    publish(app, record_id)
    state = record_state(app, record_id)
    assert (state.status, state.current_version) == (RecordStatus.PUBLISHED, 1)
    page = as_user(app, "learner").client.get(f"/records/{record_id}").get_data(as_text=True)
    assert 'id="files-heading"' not in page


def test_only_those_who_may_edit_upload(app, users, collection, samples):
    record_id = new_draft(app, collection)
    for name in ("learner", "curator"):  # a never-submitted draft is its depositor's only
        browser = as_user(app, name)
        response = browser.client.post(f"/records/{record_id}/files", data={
            "csrf_token": "x", "files": (io.BytesIO(samples["pdf"]), "a.pdf")})
        assert response.status_code == 400  # a forged CSRF token
        assert browser.client.get(f"/records/{record_id}/files").status_code == 404
    assert count(app, RecordFile) == 0


# --- versions ------------------------------------------------------------------------------

def test_publishing_freezes_files_and_older_versions_keep_theirs(app, users, collection,
                                                                 samples):
    record_id = new_draft(app, collection)
    instructor, reader = as_user(app, "instructor"), as_user(app, "learner")
    upload(instructor, record_id, ("tập 1.pdf", samples["pdf"]))
    publish(app, record_id)
    [first] = files_of(app, record_id)
    assert reader.client.get(f"/records/{record_id}/files/{first.id}").status_code == 200

    # The depositor adds a file: the record becomes the draft of version 2; readers still see
    # version 1 and cannot fetch the new working file.
    upload(instructor, record_id, ("tập 2.pdf", samples["pdf2"]))
    assert record_state(app, record_id).status == RecordStatus.DRAFT
    second = files_of(app, record_id)[1]
    page = reader.client.get(f"/records/{record_id}").get_data(as_text=True)
    assert "tập 1.pdf" in page and "tập 2.pdf" not in page
    assert reader.client.get(f"/records/{record_id}/files/{second.id}").status_code == 404
    assert instructor.client.get(f"/records/{record_id}/files/{second.id}").status_code == 200

    # Only files changed: publishing still makes version 2, with both files.
    publish(app, record_id)
    assert record_state(app, record_id).current_version == 2
    page = reader.client.get(f"/records/{record_id}").get_data(as_text=True)
    assert "tập 1.pdf" in page and "tập 2.pdf" in page

    # Removing the first file from the working copy keeps it in versions 1 and 2.
    response = instructor.post(f"/records/{record_id}/files/{first.id}/remove",
                               page=f"/records/{record_id}/files")
    assert response.status_code == 302
    assert files_of(app, record_id)[0].removed_at is not None
    publish(app, record_id)
    assert record_state(app, record_id).current_version == 3
    latest = reader.client.get(f"/records/{record_id}").get_data(as_text=True)
    old = reader.client.get(f"/records/{record_id}/v/1").get_data(as_text=True)
    assert "tập 1.pdf" not in latest and "tập 2.pdf" in latest
    assert "tập 1.pdf" in old and "tập 2.pdf" not in old
    # Readers of version 1 may still download its file.
    assert reader.client.get(f"/records/{record_id}/files/{first.id}").status_code == 200


def test_an_unchanged_record_and_file_list_makes_no_new_version(app, users, collection,
                                                                samples):
    record_id, _file_id = published_with_pdf(app, collection, samples)
    instructor = as_user(app, "instructor")
    # Add a file and take it out again: metadata and files equal version 1.
    upload(instructor, record_id, ("thêm.pdf", samples["pdf2"]))
    added = files_of(app, record_id)[1]
    instructor.post(f"/records/{record_id}/files/{added.id}/remove",
                    page=f"/records/{record_id}/files")
    assert [f.id for f in files_of(app, record_id)] == [_file_id]  # never published: row gone
    publish(app, record_id)
    assert record_state(app, record_id).current_version == 1


def test_a_curator_adding_a_file_to_a_published_record_publishes_it(app, users, collection,
                                                                    samples):
    record_id, _file_id = published_with_pdf(app, collection, samples)
    assert upload(as_user(app, "curator"), record_id, ("ảnh.png", samples["png"])) \
        .status_code == 302
    state = record_state(app, record_id)
    assert (state.status, state.current_version) == (RecordStatus.PUBLISHED, 2)
    page = as_user(app, "learner").client.get(f"/records/{record_id}").get_data(as_text=True)
    assert "ảnh.png" in page


# --- serving -------------------------------------------------------------------------------

def test_download_and_preview_headers(app, users, collection, samples):
    record_id, file_id = published_with_pdf(app, collection, samples, name=VIETNAMESE_NAME)
    reader = as_user(app, "learner")
    url = f"/records/{record_id}/files/{file_id}"

    download = reader.client.get(url)
    assert download.status_code == 200 and download.data == samples["pdf"]
    headers = download.headers
    assert headers["Content-Type"] == "application/pdf"  # the true type, as an attachment
    assert headers["Content-Disposition"] == (
        'attachment; filename="Giao trinh Hau can _ De cuong.pdf"; '
        "filename*=UTF-8''Gi%C3%A1o%20tr%C3%ACnh%20H%E1%BA%ADu%20c%E1%BA%A7n%20%E2%80%94%20"
        "%C4%90%E1%BB%81%20c%C6%B0%C6%A1ng.pdf")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'; " \
        "sandbox"
    assert headers["Cache-Control"] == "private, no-store"  # internal record
    assert headers["ETag"] == f'"{hashlib.sha256(samples["pdf"]).hexdigest()}"'
    assert "Last-Modified" in headers and headers["Accept-Ranges"] == "bytes"

    preview = reader.client.get(f"{url}/preview")
    assert preview.status_code == 200
    assert preview.headers["Content-Type"] == "application/pdf"
    assert preview.headers["Content-Disposition"].startswith("inline; ")
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    assert "script-src 'none'" in preview.headers["Content-Security-Policy"]
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"

    # The record page embeds the PDF viewer and the download link; its own CSP lets it frame
    # our own origin only.
    page = reader.client.get(f"/records/{record_id}")
    html = page.get_data(as_text=True)
    assert f'<iframe src="{url}/preview"' in html and f'href="{url}" download' in html
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_public_files_may_be_cached_but_are_revalidated(app, users, collection, samples):
    record_id, file_id = published_with_pdf(
        app, collection, samples, access_settings.AccessSettings(level=AccessLevel.PUBLIC))
    anonymous = as_user(app, None)
    response = anonymous.client.get(f"/records/{record_id}/files/{file_id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, no-cache"
    etag = response.headers["ETag"]
    again = anonymous.client.get(f"/records/{record_id}/files/{file_id}",
                                 headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_ranges_are_answered_after_the_access_check_and_counted_once(app, users, collection,
                                                                     samples):
    record_id, file_id = published_with_pdf(app, collection, samples)
    reader = as_user(app, "learner")
    url = f"/records/{record_id}/files/{file_id}/preview"
    size = len(samples["pdf"])

    first = reader.client.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206 and first.data == samples["pdf"][:100]
    assert first.headers["Content-Range"] == f"bytes 0-99/{size}"
    rest = reader.client.get(url, headers={"Range": f"bytes=100-{size - 1}"})
    assert rest.status_code == 206 and rest.data == samples["pdf"][100:]
    assert reader.client.head(url).status_code == 200
    past_end = reader.client.get(url, headers={"Range": f"bytes={size + 10}-"})
    assert past_end.status_code == 416
    assert past_end.headers["Content-Range"] == f"bytes */{size}"
    many = ",".join(f"{i}-{i}" for i in range(0, 2000, 2))
    thousand = reader.client.get(url, headers={"Range": f"bytes={many}"})
    assert thousand.status_code == 206 and thousand.data == samples["pdf"][:1]
    assert "multipart" not in thousand.headers["Content-Type"]

    # Counted: the 0-99 start and the 1,000-range request (it starts at byte 0). Not: the
    # continuation, HEAD, the 416.
    assert count(app, DownloadEvent, DownloadEvent.file_id == file_id) == 2
    # Internal is above public: each counted view is audit-logged.
    assert len(audits(app, "file_view")) == 2

    # No session: the access check answers first, whatever the Range.
    anonymous = as_user(app, None)
    for headers in ({"Range": "bytes=0-0"}, {"Range": many}, {"If-None-Match": "*"}):
        denied = anonymous.client.get(url, headers=headers)
        assert denied.status_code == 404 and "ETag" not in denied.headers
        assert "Content-Range" not in denied.headers


def test_downloads_by_robots_and_public_downloads_are_not_audited(app, users, collection,
                                                                  samples):
    record_id, file_id = published_with_pdf(
        app, collection, samples, access_settings.AccessSettings(level=AccessLevel.PUBLIC))
    anonymous = as_user(app, None)
    anonymous.client.get(f"/records/{record_id}/files/{file_id}",
                         headers={"User-Agent": "Googlebot/2.1"})
    anonymous.client.get(f"/records/{record_id}/files/{file_id}",
                         headers={"User-Agent": "Mozilla/5.0"})
    reader = as_user(app, "learner")
    reader.client.get(f"/records/{record_id}/files/{file_id}")
    with app.app_context():
        events = list(db.session.scalars(select(DownloadEvent).order_by(DownloadEvent.id)))
        assert [(e.kind, e.user_id) for e in events] == [("download", None),
                                                         ("download", users["learner"].id)]
        assert all(e.record_id == record_id for e in events)
    assert audits(app, "file_download") == []


def test_media_files_get_in_page_viewers_and_listing_thumbnails(app, users, collection,
                                                                samples):
    record_id = new_draft(app, collection)
    instructor = as_user(app, "instructor")
    upload(instructor, record_id, ("sơ đồ.png", samples["png"]), ("ảnh.jpg", samples["jpeg"]),
           ("bài giảng.mp4", samples["mp4"]), ("bài hát.mp3", samples["mp3"]))
    publish(app, record_id)
    files = {f.name: f for f in files_of(app, record_id)}
    assert files["sơ đồ.png"].thumbnail_status == "ready"
    assert files["bài giảng.mp4"].thumbnail_status == "none"
    reader = as_user(app, "learner")
    html = reader.client.get(f"/records/{record_id}").get_data(as_text=True)
    base = f"/records/{record_id}/files"
    assert f'<img class="image-viewer" src="{base}/{files["sơ đồ.png"].id}/preview"' in html
    assert f'<video class="media-viewer" controls preload="none" ' \
           f'src="{base}/{files["bài giảng.mp4"].id}/preview"' in html
    assert f'<audio controls preload="none" src="{base}/{files["bài hát.mp3"].id}/preview"' \
        in html
    video = reader.client.get(f"{base}/{files['bài giảng.mp4'].id}/preview")
    assert video.headers["Content-Type"] == "video/mp4"
    assert video.headers["Content-Disposition"].startswith("inline; ")
    listing = reader.client.get("/collections/khoa-hau-can").get_data(as_text=True)
    assert f'src="{base}/{files["sơ đồ.png"].id}/thumbnail"' in listing
    # Anonymous readers may not read this internal record: no thumbnail in their listing.
    assert "/thumbnail" not in as_user(app, None).client.get(
        "/collections/khoa-hau-can").get_data(as_text=True)


# --- hostile files -------------------------------------------------------------------------

def test_an_exe_renamed_pdf_is_recorded_as_a_mismatch_and_only_downloaded(app, users,
                                                                          collection):
    record_id = new_draft(app, collection)
    response = upload(as_user(app, "instructor"), record_id, ("brief.pdf", EXE), xhr=True)
    assert response.status_code == 201
    assert "does not match its name" in response.get_json()["warning"]
    [file] = files_of(app, record_id)
    assert file.media_type == "application/vnd.microsoft.portable-executable"
    assert file.sniff_mismatch and file.claimed_type == "application/pdf"
    assert file.thumbnail_status == "none" and file.thumbnail_key is None
    [flagged] = audits(app, "file_type_mismatch")
    assert flagged.details["name"] == "brief.pdf" and flagged.outcome == "flagged"
    publish(app, record_id)
    reader = as_user(app, "learner")
    preview = reader.client.get(f"/records/{record_id}/files/{file.id}/preview")
    assert preview.headers["Content-Type"] == "application/octet-stream"
    assert preview.headers["Content-Disposition"].startswith("attachment; ")
    assert "iframe" not in reader.client.get(f"/records/{record_id}").get_data(as_text=True)


POLYGLOT = b"%PDF-1.4\n<html><body><script>alert(1)</script></body></html>\n%%EOF\n"


@pytest.mark.parametrize(("name", "body"), [("trang.html", HTML_WITH_SCRIPT),
                                            ("brief.pdf", HTML_WITH_SCRIPT),
                                            ("hinh.svg", SVG_WITH_SCRIPT),
                                            ("sodo.png", SVG_WITH_SCRIPT),
                                            ("polyglot.pdf", POLYGLOT)])
def test_html_and_svg_with_script_are_never_served_inline(app, users, collection, name, body):
    record_id = new_draft(app, collection)
    upload(as_user(app, "instructor"), record_id, (name, body), content_type="text/html")
    [file] = files_of(app, record_id)
    assert file.thumbnail_key is None
    publish(app, record_id)
    for path in ("", "/preview"):
        response = as_user(app, "learner").client.get(
            f"/records/{record_id}/files/{file.id}{path}")
        assert response.status_code == 200 and response.data == body
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.headers["Content-Disposition"].startswith("attachment; ")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
    assert as_user(app, "learner").client.get(
        f"/records/{record_id}/files/{file.id}/thumbnail").status_code == 404


@pytest.mark.parametrize(("sent", "stored"), [
    ("../../x", "x"),
    # The multipart parser reads the quoted name with backslash escapes: "\\a" is "a".
    ("..\\..\\app\\config.py", "appconfig.py"),
    ("CON", "_CON"),
    ("con.txt", "_con.txt"),
    ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ("\u202efdp.exe", "fdp.exe"),
    ("báo\x00cáo.pdf", "báocáo.pdf"),
    ("x%0D%0ASet-Cookie: a=b.pdf", "x%0D%0ASet-Cookie_ a=b.pdf"),  # as browsers send CR/LF
    ("\u0627\u0644\u0645\u0644\u0641.pdf", "\u0627\u0644\u0645\u0644\u0641.pdf"),
])
def test_bad_names_are_stored_with_a_clean_display_name(app, users, collection, samples, sent,
                                                        stored, tmp_path):
    record_id = new_draft(app, collection)
    response = upload(as_user(app, "instructor"), record_id, (sent, samples["pdf"]))
    assert response.status_code == 302
    [file] = files_of(app, record_id)
    assert file.name == stored
    # Nothing was written outside DATA_DIR: beside it are only the database and instance.
    assert {p.name for p in tmp_path.iterdir()} <= {
        "data", "instance", "test.sqlite", "test.sqlite-wal", "test.sqlite-shm"}
    assert not (tmp_path.parent / "x").exists()
    assert {p.name for p in (tmp_path / "data").iterdir()} <= {"blobs", "tmp", "search",
                                                               "locks"}
    download = as_user(app, "instructor").client.get(f"/records/{record_id}/files/{file.id}")
    disposition = download.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition
    assert "Set-Cookie" not in download.headers


def test_a_raw_line_break_in_a_multipart_file_name_is_a_bad_request(app, users, collection,
                                                                    samples):
    record_id = new_draft(app, collection)
    response = upload(as_user(app, "instructor"), record_id,
                      ("x\r\nSet-Cookie: a=b.pdf", samples["pdf"]))
    assert response.status_code == 400 and "Set-Cookie" not in response.headers
    assert count(app, RecordFile) == 0 and leftovers(app) == []


def test_a_zero_byte_file_is_refused_with_422(app, users, collection):
    record_id = new_draft(app, collection)
    response = upload(as_user(app, "instructor"), record_id, ("trống.pdf", b""))
    assert response.status_code == 422
    assert "trống.pdf is empty (0 bytes)" in response.get_data(as_text=True)
    assert count(app, RecordFile) == 0 and count(app, Blob) == 0
    assert list(get_storage(app).keys()) == [] and leftovers(app) == []


def test_a_file_over_the_limit_is_refused_with_413(app, users, collection, samples):
    app.config["MAX_UPLOAD_BYTES"] = 10_000
    record_id = new_draft(app, collection)
    browser = as_user(app, "instructor")
    # Far over: refused from the Content-Length, before the body is read.
    response = upload(browser, record_id, ("lớn.pdf", samples["pdf"] * 10))
    assert response.status_code == 413
    assert "larger than the upload limit of 9.8 KB" in response.get_data(as_text=True)
    # Just over (inside the multipart allowance): refused while streaming into storage.
    response = upload(browser, record_id, ("lớn.pdf", b"%PDF-1.4\n" + b"0" * 10_000), xhr=True)
    assert response.status_code == 413
    assert "upload limit" in response.get_json()["error"]["message"]
    assert count(app, RecordFile) == 0 and list(get_storage(app).keys()) == []
    assert leftovers(app) == []


def test_an_upload_cut_off_half_way_creates_nothing(app, users, collection, samples):
    record_id = new_draft(app, collection)
    browser = as_user(app, "instructor")
    from tests.conftest import csrf_token

    token = csrf_token(browser.client, f"/records/{record_id}/files")
    boundary = "----lmsboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"cut.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode() \
        + samples["pdf"] + f"\r\n--{boundary}--\r\n".encode()
    cut = body[: len(body) // 2]
    response = browser.client.post(
        f"/records/{record_id}/files", data=cut,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                 "Content-Length": str(len(body))})
    assert response.status_code == 400
    assert count(app, RecordFile) == 0 and list(get_storage(app).keys()) == []
    assert leftovers(app) == []


# A disk that fills while an upload is stored: tests/functional/test_faults.py, on a real
# tmpfs filled by the test (no stand-in for the disk).


# --- access --------------------------------------------------------------------------------

def test_files_of_a_record_the_user_may_not_read_are_404_and_logged(app, users, collection,
                                                                    samples):
    with app.app_context():
        group = Group(name="Tổ soạn thảo", members=[user("trainer")])
        db.session.add(group)
        db.session.commit()
        access = access_settings.AccessSettings(level=AccessLevel.RESTRICTED, groups=[group])
    record_id, file_id = published_with_pdf(app, collection, samples, access)
    base = f"/records/{record_id}/files/{file_id}"
    learner = as_user(app, "learner")
    for path in ("", "/preview", "/thumbnail"):
        for headers in ({}, {"Range": "bytes=0-10"}):
            response = learner.client.get(base + path, headers=headers)
            assert response.status_code == 404, path
            assert "ETag" not in response.headers and "bài giảng" not in response.get_data(
                as_text=True)
    assert learner.client.head(base).status_code == 404
    assert as_user(app, "trainer").client.get(base).status_code == 200
    assert len(audits(app, "file_access_denied")) >= 6
    # A file id of another record is not reachable through this record.
    other = new_draft(app, collection, title="Khác")
    assert as_user(app, "instructor").client.get(
        f"/records/{other}/files/{file_id}").status_code == 404


def test_embargoed_files_are_hidden_until_lifted(app, users, collection, samples):
    access = access_settings.AccessSettings(level=AccessLevel.PUBLIC,
                                     embargo_until=date.today() + timedelta(days=30))
    record_id, file_id = published_with_pdf(app, collection, samples, access)
    base = f"/records/{record_id}/files/{file_id}"
    for name in (None, "learner"):
        reader = as_user(app, name)
        page = reader.client.get(f"/records/{record_id}")
        assert page.status_code == 200  # metadata stays visible
        assert "Files not available to you: 1." in page.get_data(as_text=True)
        for path in ("", "/preview", "/thumbnail"):
            assert reader.client.get(base + path).status_code == 404
    for name in ("instructor", "curator", "admin"):
        assert as_user(app, name).client.get(base + "/preview").status_code == 200

    # The nightly job lifts embargoes whose date has come, audits it and tells the mirrors.
    with app.app_context():
        record = db.session.get(Record, record_id)
        record.embargo_until = date.today()
        db.session.commit()
    with recording(app) as mirror, app.app_context():
        job = enqueue("catalog.lift_embargoes")
        assert job.status == "done", job.message
        assert job.result == {"lifted": [record_id]}
    assert mirror.records == [record_id]
    assert record_state(app, record_id).embargo_until is None
    assert [e.object_id for e in audits(app, "embargo_lift")] == [str(record_id)]
    assert as_user(app, None).client.get(base).status_code == 200


def test_a_file_may_be_stricter_than_its_record_never_looser(app, users, collection, samples):
    record_id = new_draft(app, collection, access_settings.AccessSettings(level=AccessLevel.PUBLIC))
    instructor = as_user(app, "instructor")
    upload(instructor, record_id, ("đề thi.pdf", samples["pdf"]), ("bài giảng.pdf",
                                                                    samples["pdf2"]))
    exam, lecture = files_of(app, record_id)
    with app.app_context():
        group = Group(name="Giảng viên môn", members=[user("trainer")])
        db.session.add(group)
        db.session.commit()
        group_id = group.id
    response = instructor.post(f"/records/{record_id}/files/{exam.id}/access",
                               {"access_level": "restricted", "access_groups": str(group_id)},
                               page=f"/records/{record_id}/files")
    assert response.status_code == 302
    publish(app, record_id)
    exam_url = f"/records/{record_id}/files/{exam.id}"
    assert as_user(app, None).client.get(exam_url).status_code == 404
    assert as_user(app, "learner").client.get(exam_url).status_code == 404
    assert as_user(app, "trainer").client.get(exam_url).status_code == 200
    assert as_user(app, "curator").client.get(exam_url).status_code == 200
    assert as_user(app, None).client.get(
        f"/records/{record_id}/files/{lecture.id}").status_code == 200
    page = as_user(app, None).client.get(f"/records/{record_id}").get_data(as_text=True)
    assert "bài giảng.pdf" in page and "đề thi.pdf" not in page
    assert "Files not available to you" not in page  # not even its existence
    # Restricted downloads are audit-logged; the public one is not.
    assert [e.details["level"] for e in audits(app, "file_download")] == ["restricted",
                                                                           "restricted"]
    [change] = audits(app, "file_access_change")
    assert change.details["after"]["level"] == "restricted"

    # Looser than the record is refused (an internal record's file cannot be public).
    internal = new_draft(app, collection, title="Nội bộ")
    upload(instructor, internal, ("x.pdf", samples["pdf"]))
    [file] = files_of(app, internal)
    response = instructor.post(f"/records/{internal}/files/{file.id}/access",
                               {"access_level": "public"}, page=f"/records/{internal}/files",
                               follow_redirects=True)
    assert "stricter than its record, never looser" in response.get_data(as_text=True)
    assert files_of(app, internal)[0].access_level is None


# --- removal, purge, gc --------------------------------------------------------------------

def test_gc_removes_unreferenced_blobs_after_the_grace_period(app, users, collection, samples):
    record_id = new_draft(app, collection)
    browser = as_user(app, "instructor")
    upload(browser, record_id, ("bỏ.pdf", samples["pdf"]))
    [file] = files_of(app, record_id)
    browser.post(f"/records/{record_id}/files/{file.id}/remove",
                 page=f"/records/{record_id}/files")
    assert files_of(app, record_id) == []
    keys = {file.blob_key, file.thumbnail_key}
    assert keys <= set(get_storage(app).keys())

    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["files", "gc"])
    assert "Deleted 0 unreferenced blob(s)." in result.output  # inside the grace period
    for key in keys:
        age_blob(app, key, hours=25)
    result = runner.invoke(cli, ["files", "gc", "--dry-run"])
    assert result.exit_code == 0 and "Would delete 2 unreferenced blob(s)." in result.output
    assert keys <= set(get_storage(app).keys())
    result = runner.invoke(cli, ["files", "gc"])
    assert "Deleted 2 unreferenced blob(s)." in result.output
    assert list(get_storage(app).keys()) == [] and count(app, Blob) == 0


def test_purging_a_record_keeps_a_blob_another_record_uses(app, users, collection, samples):
    first, first_file = published_with_pdf(app, collection, samples)
    second, second_file = published_with_pdf(app, collection, samples)
    key = files_of(app, first)[0].blob_key
    assert files_of(app, second)[0].blob_key == key
    age_blob(app, key)
    admin = as_user(app, "admin")
    assert admin.post(f"/records/{first}/purge", {"reason": "Quyết định gỡ bỏ số 1"},
                      page=f"/records/{first}").status_code == 302
    assert files_of(app, first) == []
    assert blob_bytes(app, key) == samples["pdf"]
    assert as_user(app, "learner").client.get(
        f"/records/{second}/files/{second_file}").status_code == 200
    assert as_user(app, "admin").client.get(
        f"/records/{first}/files/{first_file}").status_code == 404

    thumbnail = files_of(app, second)[0].thumbnail_key
    age_blob(app, thumbnail)
    admin.post(f"/records/{second}/purge", {"reason": "Quyết định gỡ bỏ số 2"},
               page=f"/records/{second}")
    assert blob_bytes(app, key) is None and blob_bytes(app, thumbnail) is None
    assert count(app, Blob) == 0


# --- fixity --------------------------------------------------------------------------------

def test_a_flipped_byte_is_detected_reported_and_never_served(app, users, collection, samples):
    record_id, file_id = published_with_pdf(app, collection, samples)
    key = files_of(app, record_id)[0].blob_key
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["fixity", "--all"])
    assert result.exit_code == 0 and "Checked 2 blob(s): 2 ok, 0 with problems." in result.output

    storage_tools.flip_a_byte(get_storage(app), key)
    result = runner.invoke(cli, ["fixity", "--all"])
    assert result.exit_code == 1
    assert f"mismatch: {key}" in result.stderr
    with app.app_context():
        last = db.session.scalar(select(FixityCheck).where(FixityCheck.blob_key == key)
                                 .order_by(FixityCheck.id.desc()))
        assert last.status == "mismatch" and last.actual_sha256 != key
        assert db.session.get(Blob, key).fixity_status == "mismatch"
    [alert] = audits(app, "fixity_failure")
    assert alert.object_id == key and alert.details["status"] == "mismatch"

    client = app.test_client()
    health = client.get("/health").get_json()
    assert health["status"] == "degraded" and health["checks"]["fixity"] == "degraded"
    admin = as_user(app, "admin")
    report = admin.client.get("/admin/fixity")
    assert report.status_code == 200 and key in report.get_data(as_text=True)
    assert "bài giảng.pdf" in report.get_data(as_text=True)
    assert as_user(app, "learner").client.get("/admin/fixity").status_code == 403

    reader = as_user(app, "learner")
    for path in ("", "/preview"):
        refused = reader.client.get(f"/records/{record_id}/files/{file_id}{path}")
        assert refused.status_code == 503
        assert "failed its integrity check" in refused.get_data(as_text=True)
    assert "failed its integrity check" in reader.client.get(
        f"/records/{record_id}").get_data(as_text=True)

    # Uploading the original again repairs the stored copy.
    draft = new_draft(app, collection, title="Bản sửa")
    upload(as_user(app, "instructor"), draft, ("bản gốc.pdf", samples["pdf"]))
    assert blob_bytes(app, key) == samples["pdf"]
    with app.app_context():
        assert db.session.get(Blob, key).fixity_status == "ok"
    assert [e.object_id for e in audits(app, "fixity_restored")] == [key]
    assert reader.client.get(f"/records/{record_id}/files/{file_id}").status_code == 200
    assert client.get("/health").get_json()["checks"]["fixity"] == "ok"


def test_a_missing_blob_is_detected_on_download_and_by_the_check(app, users, collection,
                                                                 samples):
    record_id, file_id = published_with_pdf(app, collection, samples)
    key = files_of(app, record_id)[0].blob_key
    storage_tools.remove(get_storage(app), key)
    reader = as_user(app, "learner")
    response = reader.client.get(f"/records/{record_id}/files/{file_id}")
    assert response.status_code == 503
    with app.app_context():
        assert db.session.get(Blob, key).fixity_status == "missing"
    result = app.test_cli_runner().invoke(cli, ["fixity", "--all"])
    assert result.exit_code == 1 and f"missing: {key}" in result.stderr
    assert [e.details["status"] for e in audits(app, "fixity_failure")] == ["missing",
                                                                             "missing"]
    assert app.test_client().get("/health").get_json()["status"] == "degraded"


def test_the_hourly_fixity_job_checks_the_least_recently_checked_first(app, users, collection,
                                                                       samples):
    app.config["FIXITY_MIN_BATCH"] = 3
    record_id = new_draft(app, collection)
    upload(as_user(app, "instructor"), record_id,
           *[(f"{i}.mp3", MP3 + bytes([i])) for i in range(5)], content_type="audio/mpeg")
    with app.app_context():
        from lms.files.maintenance import fixity_batch_size

        assert fixity_batch_size(5) == 3
        assert fixity_batch_size(336 * 10) == 10  # 1/336 of the blobs per hourly run
        first = enqueue("files.fixity")
        second = enqueue("files.fixity")
        assert first.result["checked"] == 3 and second.result["checked"] == 3
        checked = list(db.session.scalars(select(FixityCheck.blob_key).order_by(
            FixityCheck.id)))
        # Five blobs: the second run took the two never checked, then the oldest check.
        assert len(set(checked)) == 5 and checked[5] == checked[0]
        assert all(b.checked_at is not None for b in db.session.scalars(select(Blob)))


# --- the demo ------------------------------------------------------------------------------

def test_demo_attaches_the_demo_documents(app):
    result = app.test_cli_runner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        rows = db.session.execute(
            select(Record.external_id, RecordFile.name, RecordFile.media_type)
            .join(RecordFile, RecordFile.record_id == Record.id).order_by(RecordFile.id)).all()
    by_record: dict[str, list[str]] = {}
    for external_id, name, media_type in rows:
        by_record.setdefault(external_id, []).append(media_type)
        assert not name.startswith(("/", "."))
    media = {"pdf": "application/pdf", "png": "image/png",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    expected = {m.key: [media[kind] for kind in m.files] for m in demo_library.MATERIALS}
    expected.update({key: [media["pdf"], media["docx"], media["pptx"]]
                     for key in ("demo-xang-dau", "demo-ky-nang-so", "demo-an-toan-thong-tin")})
    assert by_record == expected
    # The files are part of the published version readers see.
    public = as_user(app, None).client.get("/collections/binh-dan-hoc-vu-so")
    assert public.status_code == 200
    with app.app_context():
        record_id = db.session.scalar(select(Record.id).where(
            Record.external_id == "demo-ky-nang-so"))
    page = as_user(app, None).client.get(f"/records/{record_id}").get_data(as_text=True)
    assert "Kỹ năng số cơ bản cho cán bộ, chiến sĩ.pdf" in page
    # Running it again attaches nothing twice.
    app.test_cli_runner().invoke(cli, ["demo"])
    assert count(app, RecordFile) == len(rows)
