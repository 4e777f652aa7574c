"""Demo collections and materials, written for the demo (never the benchmark corpus): the
public library of :mod:`lms.catalog.demo_library`, and the records of ``demo_records.toml``,
one with each access level."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import select

from lms.accounts.models import Group
from lms.accounts.services import find_unit
from lms.auth.services import find_user
from lms.catalog import access_settings, collections, demo_library, deposit, workflow
from lms.catalog.models import AccessLevel, Collection, Record
from lms.demo import ACADEMY
from lms.extensions import db
from lms.notify.services import mark_notifications_read
from lms.uow import unit_of_work
from metadata import Statement

RECORDS_FILE = Path(__file__).with_name("demo_records.toml")


@dataclass(frozen=True)
class DemoRecord:
    """A record of :data:`RECORDS_FILE`."""

    key: str
    collection: str
    access: AccessLevel
    statements: list[Statement]
    documents: str | None  # a document of lms/extract/samples.py, uploaded in three formats


@cache
def demo_records() -> tuple[DemoRecord, ...]:
    with RECORDS_FILE.open("rb") as fh:
        rows = tomllib.load(fh)["record"]
    return tuple(DemoRecord(row["key"], row["collection"], AccessLevel(row["access"]),
                            _statements(row), row.get("documents")) for row in rows)


def _statements(row: dict[str, str]) -> list[Statement]:
    return [
        Statement("title", row["title"], "vi"), Statement("title", row["title_en"], "en"),
        Statement("creator", row["creator"]), Statement("subject", row["subject"]),
        Statement("abstract", row["abstract"], "vi"), Statement("publisher", ACADEMY),
        Statement("issued", row["issued"]), Statement("type", "Text"),
        Statement("language", "vi"), Statement("audience", row["audience"]),
        Statement("rights", "Tài liệu lưu hành nội bộ Học viện Hậu cần.", "vi"),
    ]


def load_catalog_demo() -> int:
    """Create what is missing of the demo collections and materials; returns records created.

    Materials are deposited by the demo instructor and go through review like any deposit:
    the demo curator takes the first step, the administrator the final one (two-step
    collections want two different curators)."""
    thuthu, giangvien, admin = find_user("thuthu"), find_user("giangvien"), find_user("admin")
    reviewers = [u for u in (thuthu, admin) if u is not None]
    for c in demo_library.COLLECTIONS:
        if _exists(c.slug):
            continue
        collections.create_collection(
            None, c.slug, c.title, title_en=c.title_en, description=c.description,
            parent=collections.get_collection(c.parent) if c.parent else None,
            default_access=c.default_access, workflow_steps=c.steps,
            curators=[thuthu] if thuthu else [])
    created = 0
    for demo in demo_records():
        existing = db.session.scalar(select(Record).where(Record.external_id == demo.key))
        if existing is not None:
            # Demo records made before files existed get theirs (as a curator: published).
            if existing.status == "published" and thuthu is not None:
                attach_demo_files(existing, thuthu)
            continue
        _publish_demo(demo.key, collections.get_collection(demo.collection), demo.access,
                      demo.statements, giangvien, reviewers)
        created += 1
    for material in demo_library.MATERIALS:
        if db.session.scalar(select(Record.id).where(Record.external_id == material.key)):
            continue
        _publish_demo(material.key, collections.get_collection(material.collection),
                      AccessLevel.PUBLIC, material.statements(), giangvien, reviewers,
                      material=material)
        created += 1
    extract_demo_texts()
    # The demo's own review traffic is history: the accounts start with nothing unread.
    for user in (thuthu, giangvien, admin):
        if user is not None:
            mark_notifications_read(user)
    return created


def demo_keys() -> list[str]:
    return [demo.key for demo in demo_records()] + [m.key for m in demo_library.MATERIALS]


def extract_demo_texts() -> None:
    """Extract the demo documents' text now (not by the worker later), so that a new user's
    first full-text search finds them; the records are re-indexed with it."""
    from lms.files.extraction import extract_files, pending_file_ids

    ids = db.session.scalars(select(Record.id).where(Record.external_id.in_(demo_keys())))
    extract_files(pending_file_ids(list(ids)))


def _exists(slug: str) -> bool:
    return db.session.scalar(select(Collection.id).where(Collection.slug == slug)) is not None


def _access(level: AccessLevel) -> access_settings.AccessSettings:
    settings = access_settings.AccessSettings(level=level)
    if level == AccessLevel.UNIT:
        settings.units = [find_unit(f"{ACADEMY}/Khoa Hậu cần")]
    elif level == AccessLevel.ROLE:
        settings.roles = ["instructor", "curator"]
    elif level == AccessLevel.RESTRICTED:
        settings.groups = list(db.session.scalars(select(Group).where(
            Group.name == "Tổ biên mục")))
    return settings


def _upload(user, record: Record, paths) -> int:
    from lms.files.upload import Upload, upload_files

    handles = [path.open("rb") for path in paths]
    try:
        return len(upload_files(user, record, [Upload(fh, path.name)
                                               for fh, path in zip(handles, paths, strict=True)]))
    finally:
        for fh in handles:
            fh.close()


def _work_folder():
    import tempfile
    from pathlib import Path

    from flask import current_app

    folder = Path(current_app.config["DATA_DIR"]) / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="demo-", dir=folder))


def attach_material_files(record: Record, user, material: demo_library.DemoMaterial) -> int:
    """Write the material's documents and upload them as ``user``; returns files added."""
    import shutil

    work = _work_folder()
    try:
        return _upload(user, record, demo_library.write_files(work, material))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def attach_demo_files(record: Record, user) -> int:
    """Write the record's demo documents and upload them as ``user``; returns files added.

    Nothing happens if the record has no demo documents or already has files.
    """
    import shutil

    from lms.extract import samples
    from lms.files import records as record_files

    name = next((demo.documents for demo in demo_records() if demo.key == record.external_id),
                None)
    if name is None or record_files.working_files(record):
        return 0
    document = getattr(samples, name)
    work = _work_folder()
    try:
        stem = document.title.split(" — ")[0]
        return _upload(user, record, [
            samples.write_demo_pdf(work / f"{stem}.pdf", document.title, document.paragraphs),
            samples.write_demo_docx(work / f"{stem}.docx", document.title, document.paragraphs),
            samples.write_demo_pptx(work / f"{stem} (trình chiếu).pptx", document.title,
                                    document.slides),
        ])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _publish_demo(external_id, collection, level, statements, depositor, reviewers,
                  material: demo_library.DemoMaterial | None = None) -> None:
    record = deposit.create_draft(depositor, collection, statements, _access(level))
    with unit_of_work():
        record.external_id = external_id
    if material is not None:
        attach_material_files(record, depositor, material)
    else:
        attach_demo_files(record, depositor)
    workflow.submit(depositor, record, record.lock_version)
    step = 0
    while record.status != "published":
        reviewer = reviewers[step % len(reviewers)]
        task = next(t for t in workflow.review_queue(reviewer).pool if t.record_id == record.id)
        workflow.claim(reviewer, task.id)
        workflow.accept(reviewer, task.id)
        step += 1
