"""Full-text extraction wired into the app, and bulk import (``lms import``, /admin/import).

Every document is generated here (lms/extract/samples.py writers, fpdf2, openpyxl, odfpy);
hostile packages are crafted with zipfile. The CLI is driven through Click's runner in the
test's app, and once as a real subprocess that is killed half-way.
"""

from __future__ import annotations

import gc
import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from lms.accounts.models import User
from lms.catalog.models import Collection, Record, RecordVersion, ReviewTask
from lms.cli import cli
from lms.extensions import db
from lms.extract.samples import (
    PROBE_TEXT,
    write_demo_docx,
    write_demo_pdf,
    write_demo_pptx,
)
from lms.files.models import FileText, RecordFile
from lms.files.stores import get_storage
from lms.models import AuditEvent, Job
from tests.conftest import Browser, ClosingClient
from tests.encodings import to_cp1258
from tests.factories import (
    PASSWORD,
    GroupFactory,
    UnitFactory,
    make_collection,
    publish_record,
)
from tests.mirrors import recording
from tests.storage_tools import read_raw, write_raw

pytestmark = pytest.mark.functional

# A word that appears only in the documents' bodies, never in metadata.
BODY_WORD = "zebrafish"
TITLE = {"title": [{"value": "Hậu cần quân đội", "lang": "vi"}]}
COMPLETE = {
    "title": [{"value": "Giáo trình Hậu cần quân đội", "lang": "vi"}],
    "creator": [{"value": "Nguyễn Văn A"}], "subject": [{"value": "logistics"}],
    "issued": [{"value": "2025-09-22"}], "type": [{"value": "Text"}],
    "audience": [{"value": "cadet-year-1"}],
    "rights": [{"value": "Lưu hành nội bộ", "lang": "vi"}],
}


# --- helpers -------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _closing_client(app: Flask) -> None:
    app.test_client_class = ClosingClient


@pytest.fixture
def collection(app, users) -> str:
    with app.app_context():
        curator = db.session.get(User, users["curator"].id)
        make_collection("khoa-hau-can", curators=[curator], steps=1)
        make_collection("khoa-tai-chinh", curators=[curator], steps=2)
        db.session.commit()
    return "khoa-hau-can"


def write_jsonl(folder: Path, lines: list, name: str = "import.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(
        line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    return path


def line(external_id: str | None, *files: str, metadata=None, **extra) -> dict:
    data = {"metadata": metadata or COMPLETE, **extra}
    if external_id is not None:
        data["id"] = external_id
    if files:
        data["files"] = [{"path": f} for f in files]
    return data


def run_import(app: Flask, *args: str):
    return app.test_cli_runner().invoke(cli, ["import", *map(str, args)])


def pending_changes(app: Flask) -> dict[str, int]:
    from lms.changelog import pending_counts

    with app.app_context():
        return pending_counts()


def oai_identifiers(app: Flask) -> int:
    from lms.oai.models import OaiItem

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OaiItem))


def records(app: Flask) -> dict[str, Record]:
    with app.app_context():
        rows = db.session.scalars(select(Record).order_by(Record.id)).all()
        for row in rows:
            db.session.expunge(row)
        return {r.external_id: r for r in rows}


def files_of(app: Flask, external_id: str, working: bool = True) -> list[dict]:
    with app.app_context():
        record = db.session.scalar(select(Record).where(Record.external_id == external_id))
        stmt = select(RecordFile).where(RecordFile.record_id == record.id)
        if working:
            stmt = stmt.where(RecordFile.removed_at.is_(None))
        return [{"id": f.id, "name": f.name, "key": f.blob_key, "status": f.text_status,
                 "message": f.text_message, "text": f.extracted_text,
                 "media_type": f.media_type}
                for f in db.session.scalars(stmt.order_by(RecordFile.position))]


def search_ids(app: Flask, q: str) -> list[int]:
    body = app.test_client().get("/api/v1/search", query_string={"q": q}).get_json()
    return [hit["id"] for hit in body["hits"]]


def as_user(app: Flask, name: str | None) -> Browser:
    browser = Browser(app.test_client())
    if name is not None:
        assert browser.login(name, PASSWORD).status_code == 302
    browser.post("/language", {"language": "en", "next": "/"})
    return browser


def count(app: Flask, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def blobs_on_disk(app: Flask) -> list[str]:
    with app.app_context():
        return sorted(get_storage().keys())


def data_tmp_files(app: Flask) -> list[str]:
    tmp = Path(app.config["DATA_DIR"]) / "tmp"
    return sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file()) \
        if tmp.exists() else []


def pdf_with(path: Path, *paragraphs: str) -> Path:
    return write_demo_pdf(path, "Tài liệu thử", list(paragraphs))


def cyclic_pdf() -> bytes:
    """A PDF whose page tree loops (Pages -> Pages -> itself)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>",
               "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Pages /Kids [2 0 R] /Parent 2 0 R /Count 1 >>"]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n"
            "%%EOF\n").encode()
    return bytes(out)


def scanned_pdf(path: Path) -> Path:
    """A page with an image and no text layer."""
    from fpdf import FPDF
    from PIL import Image

    image = io.BytesIO()
    Image.new("RGB", (200, 100), (90, 90, 90)).save(image, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=100)
    pdf.output(str(path))
    return path


# --- extraction of real documents ----------------------------------------------------------

def _xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Đơn vị", f"Kho {BODY_WORD}", PROBE_TEXT])
    book.save(path)
    return path


def _odt(path: Path) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    document = OpenDocumentText()
    document.text.addElement(P(text=f"Văn bản {BODY_WORD}. {PROBE_TEXT}"))
    document.save(str(path))
    return path


DOCUMENTS = {
    "pdf": lambda p: pdf_with(p, f"Bảo đảm {BODY_WORD} trong huấn luyện.", PROBE_TEXT),
    "docx": lambda p: write_demo_docx(p, "Giáo trình", [f"Chương {BODY_WORD}.", PROBE_TEXT]),
    "pptx": lambda p: write_demo_pptx(p, "Bài giảng", [("Mở đầu", [BODY_WORD, PROBE_TEXT])]),
    "xlsx": _xlsx,
    "odt": _odt,
    "html": lambda p: p.write_text(f"<!doctype html><html><head><title>t</title></head><body>"
                                   f"<p>Trang {BODY_WORD}</p><p>{PROBE_TEXT}</p></body></html>",
                                   encoding="utf-8") and p,
    "txt": lambda p: p.write_text(f"Tệp văn bản {BODY_WORD}\n{PROBE_TEXT}\n",
                                  encoding="utf-8") and p,
}


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_imported_documents_have_their_text_extracted_and_searchable(app, collection, tmp_path,
                                                                     kind):
    package = tmp_path / "pkg"
    (package / "docs").mkdir(parents=True)
    DOCUMENTS[kind](package / "docs" / f"tai-lieu.{kind}")
    path = write_jsonl(package, [line("d-1", f"docs/tai-lieu.{kind}", access="public")])

    result = run_import(app, path, "--collection", collection)

    assert result.exit_code == 0, result.output
    [file] = files_of(app, "d-1")
    assert file["status"] == "ok", file
    assert BODY_WORD in file["text"]
    assert "Hậu cần quân đội" in file["text"] and "Đà Nẵng" in file["text"]  # PROBE_TEXT
    assert search_ids(app, BODY_WORD) == [records(app)["d-1"].id]


def test_uploaded_pdf_is_extracted_after_commit_and_found_by_a_body_word(app, users,
                                                                         collection, tmp_path):
    from lms.catalog.access_settings import AccessSettings

    with app.app_context():
        curator = db.session.get(User, users["curator"].id)
        owner = db.session.get(User, users["instructor"].id)
        coll = db.session.scalar(select(Collection).where(Collection.slug == collection))
        record_id = publish_record(owner, curator, coll, AccessSettings(level="public")).id
    pdf = pdf_with(tmp_path / "a.pdf", f"Nội dung {BODY_WORD} chỉ có trong tệp.")
    assert search_ids(app, BODY_WORD) == []

    # A curator's upload to a published record publishes at once; the worker extracts after
    # the commit (JOBS_IMMEDIATE in tests) and the record is re-indexed with the text.
    response = as_user(app, "curator").post(
        f"/records/{record_id}/files", {"files": [(io.BytesIO(pdf.read_bytes()), "a.pdf")]},
        page=f"/records/{record_id}/files")

    assert response.status_code == 302
    with app.app_context():
        file = db.session.scalar(select(RecordFile).where(RecordFile.record_id == record_id))
        assert file.text_status == "ok" and BODY_WORD in file.extracted_text
        assert db.session.scalars(select(Job.status).where(
            Job.name == "files.extract")).all() == ["done"]
    assert search_ids(app, BODY_WORD) == [record_id]
    page = as_user(app, "curator").client.get(f"/records/{record_id}/files")
    assert "Full text:" in page.get_data(as_text=True)


def test_text_that_libmagic_mistakes_for_audio_is_still_extracted(app, collection, tmp_path):
    # "V" then a precomposed Vietnamese letter is the MPEG-4 LOAS sync word for libmagic.
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "cong-van.txt").write_text(f"Về việc bảo đảm {BODY_WORD}.\n", encoding="utf-8")
    path = write_jsonl(package, [line("v-1", "cong-van.txt", access="public")])

    assert run_import(app, path, "--collection", collection).exit_code == 0

    [file] = files_of(app, "v-1")
    assert file["media_type"] != "text/plain"  # what the sniffer said (served as download)
    assert file["status"] == "ok" and BODY_WORD in file["text"]
    assert search_ids(app, BODY_WORD) == [records(app)["v-1"].id]


def test_long_text_is_kept_whole(app, collection, tmp_path):
    lines = [f"{n:06d} {PROBE_TEXT} {BODY_WORD}" for n in range(20_000)]
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "long.txt").write_text("\n".join(lines), encoding="utf-8")
    (package / "long.docx").parent.mkdir(exist_ok=True)
    write_demo_docx(package / "long.docx", "Dài", [f"Đoạn {n}: {PROBE_TEXT}." for n in
                                                   range(4500)])
    path = write_jsonl(package, [line("long", "long.txt", "long.docx")])

    assert run_import(app, path, "--collection", collection).exit_code == 0

    txt, docx = files_of(app, "long")
    assert txt["text"].split("\n") == lines and len(txt["text"]) > 1_000_000
    assert docx["text"].endswith(f"Đoạn 4499: {PROBE_TEXT}.") and len(docx["text"]) > 300_000
    with app.app_context():
        assert db.session.get(RecordFile, txt["id"]).text_chars == len(txt["text"])


def unreadable_in_store(app: Flask, key: str) -> None:
    """Overwrite the stored PDF with a PDF header and zeros, the same size: it still sniffs
    as a PDF, but any later extraction of it finds no text, so a text that survives was kept
    (or copied), not extracted again."""
    header = b"%PDF-1.7\n"
    with app.app_context():
        storage = get_storage()
        size = len(read_raw(storage, key))
        write_raw(storage, key, header + bytes(size - len(header)))


def extraction_state(app: Flask, file_id: int) -> tuple:
    with app.app_context():
        file = db.session.get(RecordFile, file_id)
        return file.text_status, file.extracted_text, file.text_extracted_at


def test_reindex_keeps_the_text_and_does_not_extract_again(app, collection, tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    pdf_with(package / "a.pdf", f"Nội dung {BODY_WORD}.")
    path = write_jsonl(package, [line("r-1", "a.pdf", access="public")])
    assert run_import(app, path, "--collection", collection).exit_code == 0
    [file] = files_of(app, "r-1")
    extracted = extraction_state(app, file["id"])
    assert extracted[:2] == ("ok", f"Tài liệu thử\nNội dung {BODY_WORD}.")
    unreadable_in_store(app, file["key"])

    result = app.test_cli_runner().invoke(cli, ["reindex"])
    assert result.exit_code == 0, result.output
    assert search_ids(app, BODY_WORD) == [records(app)["r-1"].id]
    assert extraction_state(app, file["id"]) == extracted
    # Importing the same line again changes nothing and extracts nothing.
    again = run_import(app, path, "--collection", collection)
    assert "unchanged" in again.output and again.exit_code == 0
    assert extraction_state(app, file["id"]) == extracted


def test_identical_blob_reuses_the_text_and_a_changed_file_is_extracted_again(
        app, collection, tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    pdf_with(package / "a.pdf", f"Bản cũ {BODY_WORD}.")
    path = write_jsonl(package, [line("t-1", "a.pdf", access="public")])
    assert run_import(app, path, "--collection", collection).exit_code == 0
    [first] = files_of(app, "t-1")
    assert (first["status"], first["text"]) == ("ok", f"Tài liệu thử\nBản cũ {BODY_WORD}.")
    # The store keeps the blob (same size), so the twin below reuses it as it stands.
    unreadable_in_store(app, first["key"])

    # The same content in another record: its text is copied, not extracted.
    same = write_jsonl(package, [line("t-2", "a.pdf", access="public")], name="same.jsonl")
    assert run_import(app, same, "--collection", collection).exit_code == 0
    [twin] = files_of(app, "t-2")
    assert twin["key"] == first["key"] and twin["id"] != first["id"]
    assert (twin["status"], twin["text"]) == ("ok", first["text"])

    # A changed file is a new blob: a new row, extracted, and search follows.
    pdf_with(package / "a.pdf", "Bản mới về hậu cần chiến lược.")
    result = run_import(app, path, "--collection", collection)
    assert "updated" in result.output, result.output
    [new] = files_of(app, "t-1")
    assert new["key"] != first["key"]
    assert (new["status"], new["text"]) == ("ok", "Tài liệu thử\nBản mới về hậu cần chiến lược.")
    record_id = records(app)["t-1"].id
    assert record_id not in search_ids(app, BODY_WORD)
    assert record_id in search_ids(app, "chiến lược")
    with app.app_context():
        record = db.session.get(Record, record_id)
        assert record.current_version == 2
        old = db.session.scalar(select(RecordVersion).where(RecordVersion.record_id == record_id,
                                                            RecordVersion.number == 1))
        from lms.files.records import version_files
        assert [f.blob_key for f in version_files(old)] == [first["key"]]


def test_embargoed_records_are_searchable_by_metadata_but_not_by_text(app, collection,
                                                                      tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    pdf_with(package / "a.pdf", f"Nội dung {BODY_WORD}.")
    future = (date.today() + timedelta(days=30)).isoformat()
    path = write_jsonl(package, [line("e-1", "a.pdf", access={
        "level": "public", "embargo_until": future, "embargo_reason": "Chờ xuất bản"})])
    assert run_import(app, path, "--collection", collection).exit_code == 0
    [file] = files_of(app, "e-1")
    assert file["status"] == "ok"  # extracted and kept, but not indexed while embargoed
    assert search_ids(app, BODY_WORD) == []
    assert search_ids(app, "Giáo trình Hậu cần") == [records(app)["e-1"].id]


@pytest.mark.parametrize("kind", ["cyclic", "garbage"])
def test_broken_pdf_fails_visibly_and_the_line_still_imports(app, users, collection, tmp_path,
                                                             kind):
    package = tmp_path / "pkg"
    package.mkdir()
    data = cyclic_pdf() if kind == "cyclic" else b"%PDF-1.7\n" + bytes(range(256)) * 40
    (package / "hong.pdf").write_bytes(data)
    path = write_jsonl(package, [line("b-1", "hong.pdf", access="public")])

    result = run_import(app, path, "--collection", collection)

    assert result.exit_code == 0, result.output
    assert "created" in result.output and "warning" in result.output
    assert "hong.pdf: no text for search" in result.output
    [file] = files_of(app, "b-1")
    assert (file["status"], file["text"]) == ("failed", "")
    record_id = records(app)["b-1"].id
    _shown_to_curators_only(app, record_id)


def _shown_to_curators_only(app: Flask, record_id: int) -> None:
    curator = as_user(app, "curator")
    files_page = curator.client.get(f"/records/{record_id}/files").get_data(as_text=True)
    assert "text-problem" in files_page
    record_page = curator.client.get(f"/records/{record_id}").get_data(as_text=True)
    assert "No full text" in record_page
    listing = curator.client.get("/admin/extraction")
    assert listing.status_code == 200 and f"(#{record_id})" in listing.get_data(as_text=True)
    assert "Files whose text could not be extracted: 1" in \
        curator.client.get("/review").get_data(as_text=True)
    for name, refusal in (("learner", 403), (None, 302)):  # anonymous: to the login page
        reader = as_user(app, name)
        page = reader.client.get(f"/records/{record_id}").get_data(as_text=True)
        assert "No full text" not in page and "text-problem" not in page
        assert reader.client.get("/admin/extraction").status_code == refusal


def test_scanned_pdf_is_reported_as_having_no_text_layer(app, users, collection, tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    scanned_pdf(package / "scan.pdf")
    path = write_jsonl(package, [line("s-1", "scan.pdf", access="public")])

    result = run_import(app, path, "--collection", collection)

    assert result.exit_code == 0 and "scanned document?" in result.output, result.output
    [file] = files_of(app, "s-1")
    assert (file["status"], file["message"]) == ("empty", "no text layer: scanned document?")
    curator = as_user(app, "curator")
    assert "No text layer: scanned document?" in curator.client.get(
        "/admin/extraction").get_data(as_text=True)


def test_extraction_that_runs_too_long_is_stopped_and_recorded(app, users, collection,
                                                              tmp_path, monkeypatch):
    from lms.extract.worker import TEST_SLEEP_ENV

    app.config["EXTRACT_TIMEOUT_SECONDS"] = 1
    monkeypatch.setenv(TEST_SLEEP_ENV, "30")
    package = tmp_path / "pkg"
    package.mkdir()
    pdf_with(package / "slow.pdf", BODY_WORD)
    path = write_jsonl(package, [line("slow", "slow.pdf", access="public")])

    started = time.monotonic()
    result = run_import(app, path, "--collection", collection)

    assert time.monotonic() - started < 20
    assert result.exit_code == 0 and "time limit" in result.output, result.output
    [file] = files_of(app, "slow")
    assert file["status"] == "timeout"
    _shown_to_curators_only(app, records(app)["slow"].id)


def test_demo_documents_are_searchable_by_their_text(app):
    result = app.test_cli_runner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        # Every document has its text; the demo's one image has none to extract.
        statuses = dict(db.session.execute(select(RecordFile.text_status, func.count())
                                           .group_by(RecordFile.text_status)).all())
        assert set(statuses) == {"ok", "unsupported"} and statuses["unsupported"] == 1
        record_id = db.session.scalar(select(Record.id).where(
            Record.external_id == "demo-ky-nang-so"))
    # A phrase of the PDF's body that is in no metadata field of any demo record.
    assert record_id in search_ids(app, '"' + _body_only_phrase() + '"')


def _body_only_phrase() -> str:
    from lms.catalog.demo import demo_records
    from lms.extract.samples import DIGITAL_SKILLS

    metadata = " ".join(s.value for demo in demo_records() for s in demo.statements).lower()
    for paragraph in DIGITAL_SKILLS.paragraphs:
        words = paragraph.rstrip(".").split()
        for i in range(len(words) - 1):
            phrase = f"{words[i]} {words[i + 1]}".strip(",.;:")
            if phrase.lower() not in metadata and len(phrase) > 8:
                return phrase
    raise AssertionError("no body-only phrase in the demo document")


# --- import semantics ----------------------------------------------------------------------

def test_jsonl_import_publishes_keeps_ids_and_audits_each_line(app, users, collection,
                                                               tmp_path):
    with app.app_context():
        parent = UnitFactory(name="Học viện")
        UnitFactory(name="Khoa Hậu cần", parent=parent)
        GroupFactory(name="Tổ biên mục")
        db.session.commit()
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.txt").write_text(f"Nội dung {BODY_WORD}", encoding="utf-8")
    path = write_jsonl(package, [
        line("j-1", "a.txt", access="public"),
        line("j-2", collection="khoa-tai-chinh", access={
            "level": "unit", "units": ["Học viện/Khoa Hậu cần"], "discoverable": False}),
        line("j-3", access={"level": "restricted", "users": ["learner"],
                            "groups": ["Tổ biên mục"]}),
        line("j-4", access={"level": "role", "roles": ["instructor", "trainer"]}),
        line(None, metadata=TITLE),
    ])

    result = run_import(app, path, "--collection", collection)

    assert result.exit_code == 0, result.output
    assert "5 line(s): 5 created, 0 updated, 0 unchanged, 0 failed" in result.output
    found = records(app)
    assert set(found) == {"j-1", "j-2", "j-3", "j-4", None}
    with app.app_context():
        j1, j2, j3, j4 = (db.session.scalar(select(Record).where(Record.external_id == i))
                          for i in ("j-1", "j-2", "j-3", "j-4"))
        assert j1.status == "published" and j1.current_version == 1 and j1.owner_id is None
        assert j1.collection.slug == collection and j2.collection.slug == "khoa-tai-chinh"
        assert j1.access_level == "public" and j1.ever_public
        assert [u.path for u in j2.access_units] == ["Học viện/Khoa Hậu cần"]
        assert not j2.discoverable
        assert [u.username for u in j3.access_users] == ["learner"]
        assert [g.name for g in j3.access_groups] == ["Tổ biên mục"]
        assert sorted(j4.access_roles) == ["instructor", "trainer"]
        assert not j1.metadata_incomplete
        untitled = db.session.scalar(select(Record).where(Record.external_id.is_(None)))
        assert untitled.metadata_incomplete  # deposit-required gaps: a warning, a flag
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record_import").order_by(AuditEvent.id)).all()
        import hashlib
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert [(e.details["line"], e.details["sha256"], e.details["via"], e.actor_id)
                for e in events] == [(n, digest, "cli", None) for n in range(1, 6)]
    assert "warning" in result.output  # the untitled-but-incomplete line
    assert search_ids(app, BODY_WORD) == [found["j-1"].id]


def test_the_line_collection_wins_and_a_line_without_one_needs_the_option(app, collection,
                                                                          tmp_path):
    path = write_jsonl(tmp_path, [line("c-1", collection="khoa-tai-chinh"), line("c-2")])

    without = run_import(app, path)
    assert without.exit_code == 1
    assert "No collection: name one in the line or with --collection." in without.output
    assert set(records(app)) == {"c-1"}

    result = run_import(app, path, "--collection", collection)
    assert result.exit_code == 0, result.output
    found = records(app)
    with app.app_context():
        assert db.session.get(Record, found["c-1"].id).collection.slug == "khoa-tai-chinh"
        assert db.session.get(Record, found["c-2"].id).collection.slug == collection
    assert run_import(app, path, "--collection", "no-such").exit_code == 1


def test_review_sends_records_to_the_queue(app, users, collection, tmp_path):
    path = write_jsonl(tmp_path, [line("r-1", access="public")])

    result = run_import(app, path, "--collection", collection, "--review")

    assert result.exit_code == 0, result.output
    with app.app_context():
        record = db.session.scalar(select(Record).where(Record.external_id == "r-1"))
        assert (record.status, record.current_version) == ("submitted", 0)
        assert [t.step for t in db.session.scalars(select(ReviewTask).where(
            ReviewTask.record_id == record.id))] == [1]
        record_id = record.id
    assert search_ids(app, "Giáo trình") == []
    assert "Giáo trình Hậu cần quân đội" in as_user(app, "curator").client.get(
        "/review").get_data(as_text=True)
    again = run_import(app, path, "--collection", collection, "--review")
    assert "unchanged" in again.output
    assert count(app, ReviewTask, ReviewTask.record_id == record_id) == 1
    # Without --review the same line publishes it.
    published = run_import(app, path, "--collection", collection)
    assert "updated" in published.output
    assert records(app)["r-1"].status == "published"


def test_reimport_updates_in_place_and_makes_versions_only_for_changes(app, collection,
                                                                       tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.txt").write_text("một", encoding="utf-8")
    first = [line("u-1", "a.txt", access="public")]
    path = write_jsonl(package, first)
    assert run_import(app, path, "--collection", collection).exit_code == 0
    record_id = records(app)["u-1"].id

    same = run_import(app, path, "--collection", collection)
    assert "unchanged" in same.output and "0 created, 0 updated, 1 unchanged" in same.output
    assert records(app)["u-1"].current_version == 1

    changed = dict(COMPLETE, title=[{"value": "Tên mới", "lang": "vi"}])
    write_jsonl(package, [line("u-1", "a.txt", metadata=changed, access="public")])
    assert "updated" in run_import(app, path, "--collection", collection).output
    state = records(app)["u-1"]
    assert (state.id, state.current_version, state.title) == (record_id, 2, "Tên mới")

    # Access only: the record is updated, the published version stays the same.
    write_jsonl(package, [line("u-1", "a.txt", metadata=changed, access="internal")])
    assert "updated" in run_import(app, path, "--collection", collection).output
    state = records(app)["u-1"]
    assert (state.access_level, state.current_version) == ("internal", 2)

    # Files: dropping one is a change too; the earlier version keeps its file.
    write_jsonl(package, [line("u-1", metadata=changed, access="internal")])
    assert "updated" in run_import(app, path, "--collection", collection).output
    assert records(app)["u-1"].current_version == 3 and files_of(app, "u-1") == []
    assert len(files_of(app, "u-1", working=False)) == 1
    assert count(app, Record) == 1


def test_withdrawn_records_are_not_brought_back_by_an_import(app, users, collection,
                                                             tmp_path):
    from lms.catalog import workflow

    path = write_jsonl(tmp_path, [line("w-1", access="public")])
    assert run_import(app, path, "--collection", collection).exit_code == 0
    with app.app_context():
        record = db.session.scalar(select(Record).where(Record.external_id == "w-1"))
        workflow.withdraw(db.session.get(User, users["curator"].id), record, "Sai nội dung")
    write_jsonl(tmp_path, [line("w-1", access="public", metadata=TITLE)])

    result = run_import(app, path, "--collection", collection)

    assert result.exit_code == 1 and "withdrawn or purged" in result.output
    assert records(app)["w-1"].status == "withdrawn"


def test_acting_as_an_administrator(app, users, collection, tmp_path):
    path = write_jsonl(tmp_path, [line("as-1")])
    refused = run_import(app, path, "--collection", collection, "--as", "curator")
    assert refused.exit_code == 1 and "is not an active administrator" in refused.output
    assert records(app) == {}

    result = run_import(app, path, "--collection", collection, "--as", "admin")

    assert result.exit_code == 0, result.output
    assert records(app)["as-1"].owner_id == users["admin"].id
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "record_import"))
        assert (event.actor_id, event.details["via"]) == (users["admin"].id, "cli")


def test_files_stored_before_extraction_existed_are_extracted_by_the_command(
        app, collection, tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.txt").write_text(BODY_WORD, encoding="utf-8")
    path = write_jsonl(package, [line("old", "a.txt", access="public")])
    assert run_import(app, path, "--collection", collection).exit_code == 0
    with app.app_context():  # as the 0005 migration leaves older files
        file = db.session.scalar(select(RecordFile))
        file.text_status, file.text_row = "pending", None
        db.session.commit()

    result = app.test_cli_runner().invoke(cli, ["files", "extract"])

    assert result.exit_code == 0 and "Extracted 1 file(s); 0 without text." in result.output
    assert files_of(app, "old")[0]["status"] == "ok"
    assert search_ids(app, BODY_WORD) == [records(app)["old"].id]


def test_metadata_is_validated_with_the_import_rules(app, collection, tmp_path):
    path = write_jsonl(tmp_path, [
        line("v-1", metadata={"creator": [{"value": "Không có nhan đề"}]}),
        line("v-2", metadata={"title": [{"value": "Chỉ có nhan đề", "lang": "vi"}]}),
        line("v-3", metadata={**TITLE, "colour": [{"value": "đỏ"}]}),
        line("v-4", metadata={**TITLE, "issued": [{"value": "ngày mai"}]}),
    ])

    result = run_import(app, path, "--collection", collection)

    assert result.exit_code == 1
    found = records(app)
    assert set(found) == {"v-2"} and found["v-2"].metadata_incomplete
    out = result.output
    assert "line      1  error" in out and "line      2  created" in out
    assert "line      3  error" in out and "colour" in out
    assert "line      4  error" in out


def test_bad_lines_fail_alone_with_clear_messages(app, collection, tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "ok.txt").write_text("ổn", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("bí mật", encoding="utf-8")
    lines = [
        line("ok", "ok.txt"),
        "{not json",
        line("ok", "ok.txt"),                                   # duplicate id
        line("abs", "/etc/passwd"),
        line("up", "../outside.txt"),
        line("missing", "nope.txt"),
        {**line("owner"), "owner": "admin", "status": "published"},  # mass assignment
        line("lvl", access="secret"),
        line("unit", access={"level": "unit", "units": ["Không có/Đơn vị"]}),
        line("usr", access={"level": "restricted", "users": ["nobody"]}),
        line("grp", access={"level": "restricted", "groups": ["Không có"]}),
        line("role", access={"level": "role", "roles": ["general"]}),
        line("key", access={"level": "public", "owner": "admin"}),
        line("emb", access={"level": "public", "embargo_until": "sau này"}),
        ["a", "list"],
    ]
    path = write_jsonl(package, lines)

    result = run_import(app, path, "--collection", collection)

    assert result.exit_code == 1
    assert set(records(app)) == {"ok"}
    out = result.output
    for message in ("not valid JSON", "duplicate id 'ok' (first on line 1)",
                    "must be relative to the package", "leaves the package",
                    "'nope.txt' is not in the package", "unknown keys: owner, status",
                    "access: unknown level secret", "access: no unit Không có/Đơn vị",
                    "access: no active user nobody", "access: no group Không có",
                    "Unknown role: general", "access: unknown keys: owner",
                    "embargo_until must be a date", "a line must be a JSON object"):
        assert message in out, message
    assert "14 failed" in out and "1 created" in out
    assert "bí mật" not in out


REFUSE_TRIGGER = {
    "sqlite": ["CREATE TRIGGER refuse_r3 BEFORE INSERT ON records WHEN NEW.external_id = 'r-3' "
               "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"],
    "postgresql": [
        "CREATE FUNCTION refuse_r3() RETURNS trigger AS $$ BEGIN "
        "IF NEW.external_id = 'r-3' THEN RAISE EXCEPTION 'refused by the test'; END IF; "
        "RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_r3 BEFORE INSERT ON records FOR EACH ROW "
        "EXECUTE FUNCTION refuse_r3()"],
}


def test_a_line_the_database_refuses_mid_batch_fails_alone(app, collection, tmp_path):
    """The new records of a batch are written together; when the database refuses one of
    them (here a trigger), the batch is written again line by line: that line fails with
    nothing of it kept (record, file, audit, history), the lines around it are imported."""
    package = tmp_path / "pkg"
    (package / "docs").mkdir(parents=True)
    lines = []
    for n in range(1, 6):
        (package / "docs" / f"{n}.txt").write_text(f"Bài {n} {BODY_WORD}", encoding="utf-8")
        lines.append(line(f"r-{n}", f"docs/{n}.txt", access="public"))
    path = write_jsonl(package, lines)
    with app.app_context():
        for statement in REFUSE_TRIGGER[db.engine.dialect.name]:
            db.session.execute(text(statement))
        db.session.commit()

    result = run_import(app, path, "--collection", collection, "--batch-size", "5")

    assert result.exit_code == 1
    assert "line      3  error" in result.output
    assert "Database error" in result.output
    assert sorted(records(app)) == ["r-1", "r-2", "r-4", "r-5"]
    for n in (1, 2, 4, 5):
        [file] = files_of(app, f"r-{n}")
        assert file["status"] == "ok" and file["text"] == f"Bài {n} {BODY_WORD}"
    with app.app_context():
        audited = db.session.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "record_import")).all()
        assert sorted(d["external_id"] for d in audited) == ["r-1", "r-2", "r-4", "r-5"]
        assert db.session.scalar(select(func.count()).select_from(RecordFile)) == 4
        assert db.session.scalar(select(func.count()).select_from(RecordVersion)) == 4
    assert len(search_ids(app, BODY_WORD)) == 4


@pytest.mark.parametrize("depth", [100_000, 200])
def test_a_line_nested_too_deeply_fails_alone(app, collection, tmp_path, depth):
    """Observation 10: 100,000 nested arrays made the whole job fail (RecursionError) and the
    valid line before it was lost. Any nesting beyond what a record needs is a line error."""
    deep = '{"id": "deep", "metadata": {"title": ' + "[" * depth + "]" * depth + "}}"
    path = write_jsonl(tmp_path / "pkg", [line("before"), deep, line("after")])

    result = run_import(app, path, "--collection", collection)

    assert result.exit_code == 1, result.output
    assert set(records(app)) == {"before", "after"}
    assert "line      2  error" in result.output
    assert "nested too deeply" in result.output
    assert "2 created" in result.output and "1 failed" in result.output


def test_dry_run_commits_nothing_and_writes_no_blob(app, collection, tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    pdf_with(package / "a.pdf", BODY_WORD)
    path = write_jsonl(package, [line("d-1", "a.pdf"), line("d-2", "missing.pdf")])

    result = run_import(app, path, "--collection", collection, "--dry-run")

    assert result.exit_code == 1  # a dry run reports the failures a real run would have
    assert result.output.startswith("DRY RUN: nothing was saved and no file was stored")
    assert "line      1  created" in result.output and "line      2  error" in result.output
    assert records(app) == {}
    assert blobs_on_disk(app) == [] and data_tmp_files(app) == []
    assert count(app, AuditEvent, AuditEvent.action == "record_import") == 0
    assert count(app, RecordFile) == 0
    # It checks what the real run checks: an unknown collection fails the same way.
    assert "No collection" in run_import(app, path, "--dry-run").output
    real = run_import(app, write_jsonl(package, [line("d-1", "a.pdf")]), "--collection",
                      collection)
    assert real.exit_code == 0 and "created" in real.output
    # A dry run of an existing, changed line reports "updated" and changes nothing.
    write_jsonl(package, [line("d-1", metadata=TITLE)])
    dry = run_import(app, path, "--collection", collection, "--dry-run")
    assert "line      1  updated" in dry.output
    assert records(app)["d-1"].title == "Giáo trình Hậu cần quân đội"
    assert len(files_of(app, "d-1")) == 1


def test_mirrors_are_brought_up_to_date_in_batches(app, collection, tmp_path):
    app.config["IMPORT_MIRROR_PROCESS"] = False
    path = write_jsonl(tmp_path, [line(f"b-{n}") for n in range(5)])

    with recording(app) as mirror:
        result = run_import(app, path, "--collection", collection, "--batch-size", "2")

    assert result.exit_code == 0, result.output
    assert [len(records) for records, _collections in mirror.calls] == [2, 2, 1]


def test_a_long_import_applies_its_batches_in_a_second_process(app, collection, tmp_path):
    path = write_jsonl(tmp_path, [line(f"b-{n}", metadata={
        **COMPLETE, "title": [{"value": f"Quân nhu số {n}", "lang": "vi"}]}, access="public")
        for n in range(5)])

    with recording(app, tmp_path / "journal.jsonl") as mirror:
        result = run_import(app, path, "--collection", collection, "--batch-size", "2")

    assert result.exit_code == 0, result.output
    calls = mirror.journal_lines
    assert [len(call["records"]) for call in calls] == [2, 2, 1]
    assert len({call["pid"] for call in calls}) == 1
    assert calls[0]["pid"] != os.getpid()
    assert mirror.calls == []  # nothing was applied in the import's own process
    assert pending_changes(app) == {"search": 0, "oai": 0}
    assert sorted(search_ids(app, "quan nhu")) == sorted(r.id for r in records(app).values())
    assert oai_identifiers(app) == 5


def test_an_applier_killed_mid_import_loses_no_change(app, collection, tmp_path):
    from lms.changelog.apart import APPLIER_NAME
    from lms.ingest.imports import ImportOptions
    from lms.ingest.imports import run_import as import_service

    path = write_jsonl(tmp_path, [line(f"k-{n}", metadata={
        **COMPLETE, "title": [{"value": f"Doanh trại {n}", "lang": "vi"}]}, access="public")
        for n in range(7)])
    killed: list[int] = []
    frozen_while_applying: list[int] = []

    def kill_the_applier(done: int, total: int | None) -> None:
        if done == 3 and not killed:
            frozen_while_applying.append(gc.get_freeze_count())
            for child in multiprocessing.active_children():
                if child.name == APPLIER_NAME:
                    os.kill(child.pid, signal.SIGKILL)
                    child.join()
                    killed.append(child.exitcode)

    with app.app_context():
        report = import_service(None, path, ImportOptions(collection=collection, batch_size=2),
                                progress=kill_the_applier)

    assert killed == [-signal.SIGKILL]
    # The heap the applier inherited stayed frozen while it ran (its pages stay shared), and
    # is collected normally again once the run is over.
    assert frozen_while_applying[0] > 0
    assert gc.get_freeze_count() == 0
    assert report.counts["created"] == 7
    assert pending_changes(app) == {"search": 0, "oai": 0}
    assert sorted(search_ids(app, "doanh trai")) == sorted(r.id for r in records(app).values())
    assert oai_identifiers(app) == 7


def test_async_leaves_extraction_to_the_worker(app, collection, tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.txt").write_text(BODY_WORD, encoding="utf-8")
    path = write_jsonl(package, [line("a-1", "a.txt", access="public")])

    result = run_import(app, path, "--collection", collection, "--async")

    assert result.exit_code == 0, result.output
    with app.app_context():
        jobs = db.session.scalars(select(Job).where(Job.name == "files.extract")).all()
        assert len(jobs) == 1 and jobs[0].params == {"file_id": files_of(app, "a-1")[0]["id"]}
    # (JOBS_IMMEDIATE in tests: the queued job ran at once.)
    assert files_of(app, "a-1")[0]["status"] == "ok"


# --- packages: ZIP and folder with manifest.csv ---------------------------------------------

MANIFEST_HEADER = "id,title[vi],creator,type,issued,file,collection,access\n"


def manifest_zip(path: Path, rows: list[str], files: dict[str, bytes],
                 header: str = MANIFEST_HEADER) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.csv", header + "".join(rows))
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def test_zip_package_with_manifest(app, collection, tmp_path):
    pdf = pdf_with(tmp_path / "x.pdf", f"Tài liệu {BODY_WORD}").read_bytes()
    package = manifest_zip(tmp_path / "goi.zip", [
        "m-1,Giáo trình xăng dầu,Trần Văn B,Text,2024,docs/a.pdf||docs/b.txt,,public\n",
        "m-2,Bài giảng,Trần Văn B,Text,2024,,khoa-tai-chinh,internal\n",
    ], {"docs/a.pdf": pdf, "docs/b.txt": "Văn bản".encode()})

    result = run_import(app, package, "--collection", collection)

    assert result.exit_code == 0, result.output
    assert [f["name"] for f in files_of(app, "m-1")] == ["a.pdf", "b.txt"]
    assert all(f["status"] == "ok" for f in files_of(app, "m-1"))
    found = records(app)
    assert found["m-1"].access_level == "public" and found["m-2"].access_level == "internal"
    assert search_ids(app, BODY_WORD) == [found["m-1"].id]
    assert data_tmp_files(app) == []  # the unpacked copy is gone


def test_folder_package_with_manifest_and_a_symlink_out(app, collection, tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwd.txt").write_text("root:x:0:0", encoding="utf-8")
    package = tmp_path / "pkg"
    (package / "docs").mkdir(parents=True)
    (package / "docs" / "a.txt").write_text("nội dung", encoding="utf-8")
    os.symlink(secret, package / "linked")
    os.symlink(secret / "passwd.txt", package / "docs" / "link.txt")
    (package / "manifest.csv").write_text(MANIFEST_HEADER + "".join([
        "f-1,Một,A,Text,2024,docs/a.txt,,\n",
        "f-2,Hai,A,Text,2024,linked/passwd.txt,,\n",
        "f-3,Ba,A,Text,2024,docs/link.txt,,\n",
        "f-4,Bốn,A,Text,2024,/etc/passwd,,\n",
        "f-5,Năm,A,Text,2024,../secret/passwd.txt,,\n",
    ]), encoding="utf-8")

    result = run_import(app, package, "--collection", collection)

    assert result.exit_code == 1
    assert set(records(app)) == {"f-1"}
    out = result.output
    # A linked folder and a linked file both resolve outside the package.
    assert "file path 'linked/passwd.txt' leads out of the package" in out
    assert "file path 'docs/link.txt' leads out of the package" in out
    assert "must be relative to the package" in out and "leaves the package" in out
    assert "root:x" not in out
    with app.app_context():
        texts = db.session.scalars(select(FileText.text)).all()
        assert all("root:x" not in t for t in texts)


def _zip_with(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return path


def _symlink_entry(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (0o120777 << 16)
    return info


def _manifest_for(*files: str) -> bytes:
    return (MANIFEST_HEADER + "".join(f"z-{n},Tên {n},A,Text,2024,{f},,\n"
                                      for n, f in enumerate(files))).encode()


HOSTILE = {
    "dot-dot": (lambda: [("manifest.csv", _manifest_for("a.txt")), ("../evil.txt", b"x")],
                "leaves the package"),
    "absolute": (lambda: [("manifest.csv", _manifest_for("a.txt")), ("/srv/lms-evil.txt", b"x")],
                 "absolute or forbidden path"),
    "symlink": (lambda: [("manifest.csv", _manifest_for("a.txt")),
                         (_symlink_entry("a.txt", "/etc/passwd"), b"/etc/passwd")],
                "is a symbolic link"),
    "duplicate": (lambda: [("manifest.csv", _manifest_for("a.txt")), ("a.txt", b"1"),
                           ("A.TXT", b"2")], "appears twice"),
    "bomb": (lambda: [("manifest.csv", _manifest_for("big.txt")),
                      ("big.txt", b"\0" * (3 * 1024 * 1024))], "compression bomb"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_archives_are_refused_whole(app, collection, tmp_path, kind):
    entries, message = HOSTILE[kind]
    package = _zip_with(tmp_path / f"{kind}.zip", entries())
    outside_before = sorted(p.name for p in tmp_path.parent.iterdir())

    result = run_import(app, package, "--collection", collection)

    assert result.exit_code == 1
    assert "the package cannot be read" in result.output and message in result.output
    assert records(app) == {} and blobs_on_disk(app) == [] and data_tmp_files(app) == []
    assert not Path("/srv/lms-evil.txt").exists()
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == outside_before
    assert not list((Path(app.config["DATA_DIR"]) / "tmp" / "imports").glob("import-*"))


def test_too_many_entries_are_refused(app, collection, tmp_path):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.csv", _manifest_for("a.txt"))
        for n in range(10_001):
            zf.writestr(f"d/{n}.txt", b"")
    result = run_import(app, path, "--collection", collection)
    assert result.exit_code == 1 and "entries; at most 10000 are allowed" in result.output
    assert records(app) == {}


def _legacy_zip(path: Path, manifest: bytes, raw_name: bytes) -> Path:
    """A ZIP whose document entry name is ``raw_name`` without the UTF-8 flag, as old
    Windows and DOS tools write them.

    zipfile writes an ASCII stand-in of the same length (so no UTF-8 flag), whose bytes are
    then replaced in the local header and the central directory: no offset moves, and the
    CRC covers the content only."""
    stand_in = b"~" * len(raw_name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("manifest.csv", manifest)
        zf.writestr(stand_in.decode("ascii"), "nội dung".encode())
    archive = buffer.getvalue()
    assert archive.count(stand_in) == 2  # the local header and the central directory
    path.write_bytes(archive.replace(stand_in, raw_name))
    return path




@pytest.mark.parametrize("name, encode", [
    ("Giáo trình hậu cần.txt", to_cp1258),             # Vietnamese Windows tools
    ("Übung ½ ╔═╗.txt", lambda n: n.encode("cp437")),   # DOS tools (not valid CP1258)
], ids=["cp1258", "cp437"])
def test_legacy_encoded_entry_names_are_read(app, collection, tmp_path, name, encode):
    path = _legacy_zip(tmp_path / "legacy.zip", _manifest_for(name), encode(name))
    with zipfile.ZipFile(path) as zf:
        assert not any(i.flag_bits & 0x800 for i in zf.infolist())
        document = zf.infolist()[1]
        assert document.filename.encode("cp437") == encode(name)  # the legacy bytes, as is
        assert zf.read(document) == "nội dung".encode()

    result = run_import(app, path, "--collection", collection)

    assert result.exit_code == 0, result.output
    assert [f["name"] for f in files_of(app, "z-0")] == [name]
    assert data_tmp_files(app) == []


def test_not_a_package(app, collection, tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n")
    result = run_import(app, tmp_path / "x.csv", "--collection", collection)
    assert result.exit_code == 1 and "the package cannot be read" in result.output
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    result = run_import(app, tmp_path / "broken.zip", "--collection", collection)
    assert result.exit_code == 1 and "not a readable ZIP archive" in result.output


# --- an interrupted import, run again ------------------------------------------------------

def test_killed_import_resumes_without_duplicates_or_half_records(app, collection, tmp_path):
    package = tmp_path / "pkg"
    (package / "docs").mkdir(parents=True)
    lines = []
    for n in range(300):
        (package / "docs" / f"{n}.txt").write_text(f"Bài {n} {BODY_WORD}", encoding="utf-8")
        lines.append(line(f"k-{n}", f"docs/{n}.txt", access="public",
                          metadata=dict(COMPLETE, title=[{"value": f"Bài số {n}",
                                                          "lang": "vi"}])))
    path = write_jsonl(package, lines)
    env = {**os.environ, "LMS_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "LMS_DATA_DIR": app.config["DATA_DIR"],
           "LMS_INSTANCE_PATH": str(tmp_path / "instance"), "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "lms", "import", str(path), "--collection", collection,
               "--batch-size", "25"]

    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while count(app, Record) < 40 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    interrupted = count(app, Record)
    assert 0 < interrupted < 300, "the import was not killed half-way"
    # Lines commit a batch at a time (25 here): the kill left whole batches, each record
    # with its file row and a durable blob.
    assert interrupted % 25 == 0
    with app.app_context():
        assert count(app, RecordFile) == interrupted
        storage = get_storage()
        assert all(storage.exists(key) for key in db.session.scalars(
            select(RecordFile.blob_key)))

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)

    assert again.returncode == 0, again.stdout + again.stderr
    summary = again.stdout.strip().splitlines()[-1]
    assert summary == (f"300 line(s): {300 - interrupted} created, 0 updated, "
                       f"{interrupted} unchanged, 0 failed, 0 with warnings.")
    with app.app_context():
        ids = db.session.scalars(select(Record.external_id)).all()
        assert sorted(ids) == sorted(f"k-{n}" for n in range(300))  # each exactly once
        for record in db.session.scalars(select(Record)):
            n = record.external_id.removeprefix("k-")
            assert record.title == f"Bài số {n}" and record.current_version == 1
            [file] = db.session.scalars(select(RecordFile).where(
                RecordFile.record_id == record.id)).all()
            assert file.name == f"{n}.txt" and file.text_status == "ok"
            assert file.extracted_text == f"Bài {n} {BODY_WORD}"
    assert len(search_ids(app, BODY_WORD)) == 10  # a full first page of hits


# --- the administrators' page --------------------------------------------------------------

def _upload(browser: Browser, name: str, data: bytes, **fields):
    return browser.post("/admin/import/", {"package": (io.BytesIO(data), name), **fields},
                        page="/admin/import/")


def test_admin_page_imports_a_zip_as_a_job_and_shows_the_report(app, users, collection,
                                                                 tmp_path):
    pdf = pdf_with(tmp_path / "x.pdf", f"Tài liệu {BODY_WORD}").read_bytes()
    package = manifest_zip(tmp_path / "goi.zip", [
        "w-1,Giáo trình xăng dầu,Trần Văn B,Text,2024,docs/a.pdf,,public\n",
        "w-2,Hỏng,A,Text,2024,docs/missing.pdf,,public\n",
    ], {"docs/a.pdf": pdf})
    admin = as_user(app, "admin")
    assert admin.client.get("/admin/import/").status_code == 200

    response = _upload(admin, "goi.zip", package.read_bytes(), collection=collection)

    assert response.status_code == 302
    report_url = response.headers["Location"]
    page = admin.client.get(report_url).get_data(as_text=True)
    assert "2 lines: 1 created, 0 updated, 0 unchanged, 1 failed" in page
    assert "not in the package" in page
    job_id = int(report_url.rstrip("/").rsplit("/", 1)[1])
    status = admin.client.get(f"/jobs/{job_id}.json").get_json()
    assert status["status"] == "done" and status["progress"]["done"] == 2
    assert status["progress"]["total"] == 2 and "lines" not in status["result"]
    found = records(app)
    assert set(found) == {"w-1"} and found["w-1"].owner_id == users["admin"].id
    assert files_of(app, "w-1")[0]["status"] == "ok"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "record_import"))
        assert event.actor_id == users["admin"].id and event.details["via"] == "web"
    assert data_tmp_files(app) == []  # the uploaded package is removed after the job
    assert search_ids(app, BODY_WORD) == [found["w-1"].id]


def test_admin_page_dry_run_review_and_hostile_zip(app, users, collection, tmp_path):
    admin = as_user(app, "admin")
    jsonl = "\n".join(json.dumps(line(f"p-{n}", access="public"), ensure_ascii=False)
                      for n in range(3)).encode()

    dry = _upload(admin, "lines.jsonl", jsonl, collection=collection, dry_run="1")
    page = admin.client.get(dry.headers["Location"]).get_data(as_text=True)
    assert "Dry run: nothing was saved" in page and "3 created" in page
    assert records(app) == {}

    review = _upload(admin, "lines.jsonl", jsonl, collection=collection, review="1")
    assert "3 created" in admin.client.get(review.headers["Location"]).get_data(as_text=True)
    assert {r.status for r in records(app).values()} == {"submitted"}

    bomb = _zip_with(tmp_path / "bomb.zip", HOSTILE["bomb"][0]())
    response = _upload(admin, "bomb.zip", bomb.read_bytes(), collection=collection)
    page = admin.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The package cannot be read" in page and "compression bomb" in page
    assert data_tmp_files(app) == []

    refused = _upload(admin, "notes.txt", b"hello", collection=collection)
    assert refused.status_code == 400


def test_a_line_without_collection_on_the_page_is_told_to_choose_one_in_the_form(
        app, users, collection):
    admin = as_user(app, "admin")
    jsonl = json.dumps(line("no-home", access="public"), ensure_ascii=False).encode()
    response = _upload(admin, "lines.jsonl", jsonl, collection="")
    page = admin.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No collection: name one in the line or choose the collection for lines that " \
           "name none." in page
    assert records(app) == {}


def test_import_page_is_for_admins_only(app, users, collection):
    for name in ("curator", "instructor", "learner"):
        browser = as_user(app, name)
        assert browser.client.get("/admin/import/").status_code == 403
    assert as_user(app, None).client.get("/admin/import/").status_code == 302
    curator = as_user(app, "curator")
    response = curator.client.post("/admin/import/", data={
        "package": (io.BytesIO(b"{}"), "a.jsonl")})
    assert response.status_code == 400  # no CSRF token: refused before the role is asked
    assert count(app, Job, Job.name == "ingest.import") == 0
