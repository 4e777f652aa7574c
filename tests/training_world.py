"""A small academy for training tests: units, people, repository materials, and helpers that
drive the trainers' and learners' forms the way a browser does."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select

from lms.accounts.models import Unit, User
from lms.catalog.models import AccessLevel, Collection
from lms.extensions import db
from tests.conftest import Browser, csrf_token
from tests.factories import UnitFactory, UserFactory, make_collection, publish_record

ACADEMY = "Học viện Hậu cần"


@dataclass
class World:
    academy: int
    faculty: int  # Khoa Hậu cần
    class1: int  # Khoa Hậu cần/Lớp 1
    class2: int  # Khoa Hậu cần/Lớp 2
    other_faculty: int  # Khoa Tài chính
    public_record: int
    internal_record: int
    finance_record: int  # readable by Khoa Tài chính only
    collection: int


def build_world(app: Flask) -> World:
    """Units, a trainer of the whole academy (``trainer``), a trainer of Khoa Tài chính
    (``trainer2``), learners in the classes (``hv1``, ``hv2`` in Lớp 1, ``hv3`` in Lớp 2,
    ``kt1`` in Khoa Tài chính) and three published materials."""
    from lms.catalog.access_settings import AccessSettings

    with app.app_context():
        academy = UnitFactory(name=ACADEMY)
        faculty = UnitFactory(name="Khoa Hậu cần", parent=academy)
        class1 = UnitFactory(name="Lớp 1", parent=faculty)
        class2 = UnitFactory(name="Lớp 2", parent=faculty)
        finance = UnitFactory(name="Khoa Tài chính", parent=academy)
        UserFactory(username="admin", full_name="Quản trị", roles=["admin"], unit=academy)
        UserFactory(username="trainer", full_name="Lê Văn Huấn", roles=["trainer"],
                    unit=academy)
        UserFactory(username="trainer2", full_name="Trần Thị Tài", roles=["trainer"],
                    unit=finance)
        curator = UserFactory(username="curator", full_name="Nguyễn Thị Thư",
                              roles=["curator"], unit=academy)
        owner = UserFactory(username="instructor", roles=["instructor"], unit=academy)
        UserFactory(username="hv1", full_name="Phạm Văn Một", unit=class1)
        UserFactory(username="hv2", full_name="Phạm Văn Hai", unit=class1)
        UserFactory(username="hv3", full_name="Phạm Văn Ba", unit=class2)
        UserFactory(username="kt1", full_name="Đỗ Thị Kế", unit=finance)
        db.session.flush()
        collection = make_collection("bdhvs", curators=[curator], steps=1)
        public = publish_record(owner, curator, collection, AccessSettings(
            level=AccessLevel.PUBLIC), title="Kỹ năng số cơ bản cho cán bộ")
        internal = publish_record(owner, curator, collection, AccessSettings(
            level=AccessLevel.INTERNAL), title="An toàn thông tin trên mạng quân sự")
        restricted = publish_record(owner, curator, collection, AccessSettings(
            level=AccessLevel.UNIT, units=[finance]), title="Quản lý tài chính đơn vị")
        db.session.commit()
        return World(academy.id, faculty.id, class1.id, class2.id, finance.id, public.id,
                     internal.id, restricted.id, collection.id)


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(app)


@pytest.fixture
def trainer(app: Flask, world: World) -> Browser:
    """The academy's training officer, signed in."""
    return signed_in(app, "trainer")


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def flashes(response) -> list[str]:
    found = re.findall(r'<p class="flash flash-\w+"[^>]*>(.*?)</p>',
                       response.get_data(as_text=True), re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", m)).strip() for m in found]


def follow(browser: Browser, response):
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return browser.client.get(response.headers["Location"])


def signed_in(app: Flask, username: str) -> Browser:
    """A new browser, in English, logged in as ``username``."""
    from tests.factories import PASSWORD

    browser = Browser(app.test_client())
    assert browser.post("/language", {"language": "en"}).status_code == 302
    response = browser.login(username, PASSWORD)
    assert response.status_code == 302, text(response)[:2000]
    return browser


def lock_on(browser: Browser, page: str) -> str:
    """The lock_version a page's forms carry (the course or audience as the page shows it)."""
    found = re.search(r'name="lock_version"[^>]*value="(\d+)"',
                      browser.client.get(page).get_data(as_text=True))
    assert found, f"no lock_version on {page}"
    return found.group(1)


def user_id(app: Flask, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def unit_id(app: Flask, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Unit.id).where(Unit.name == name))


def collection_id(app: Flask, slug: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Collection.id).where(Collection.slug == slug))


# --- the trainers' forms -------------------------------------------------------------------

def create_course(browser: Browser, title: str, *, sequential: bool = True,
                  self_enrol: bool = False) -> int:
    data = {"title": title, "description": "", "language": "vi", "target_group_id": "0",
            "estimated_hours": "", "cover_file_id": "0"}
    if sequential:
        data["sequential"] = "y"
    if self_enrol:
        data["self_enrol"] = "y"
    response = browser.post("/train/courses/new", data, page="/train/courses/new")
    assert response.status_code == 302, text(response)[:3000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def add_record_lesson(browser: Browser, course_id: int, record_id: int, *, title: str = "",
                      required: bool = True, reopen: bool = False):
    page = f"/train/courses/{course_id}/lessons/new?kind=record&record_id={record_id}"
    data = {"kind": "record", "record_id": str(record_id), "title": title,
            "duration_minutes": "20", "lock_version": lock_on(browser,
                                                              f"/train/courses/{course_id}")}
    if required:
        data["required"] = "y"
    if reopen:
        data["reopen_completed"] = "y"
    return browser.post(page, data, page=page)


def add_page_lesson(browser: Browser, course_id: int, title: str, body: str, *,
                    required: bool = True, reopen: bool = False):
    page = f"/train/courses/{course_id}/lessons/new?kind=page"
    data = {"kind": "page", "title": title, "body": body, "duration_minutes": "",
            "lock_version": lock_on(browser, f"/train/courses/{course_id}")}
    if required:
        data["required"] = "y"
    if reopen:
        data["reopen_completed"] = "y"
    return browser.post(page, data, page=page)


def set_status(browser: Browser, course_id: int, status: str):
    return browser.post(f"/train/courses/{course_id}/status",
                        {"status": status,
                         "lock_version": lock_on(browser, f"/train/courses/{course_id}")},
                        page=f"/train/courses/{course_id}")


def create_audience(browser: Browser, name: str, *, kind: str = "rule",
                    scope_unit: int = 0) -> int:
    response = browser.post("/train/audiences/new", {"name": name, "description": "",
                                                     "kind": kind,
                                                     "scope_unit_id": str(scope_unit)},
                            page="/train/audiences/new")
    assert response.status_code == 302, text(response)[:3000]
    return int(re.search(r"/train/audiences/(\d+)", response.headers["Location"]).group(1))


def rule_form(**groups) -> dict:
    """Form fields of the rule editor: ``g0={"unit": [3], "subunits": True}`` etc."""
    data: dict = {"combine": groups.pop("combine", "all"), "groups": str(max(len(groups), 1))}
    for name, fields in groups.items():
        prefix = f"{name}-"
        data[prefix + "combine"] = fields.pop("combine", "all")
        for key, value in fields.items():
            if key == "subunits":
                if value:
                    data[prefix + "subunits"] = "1"
            elif isinstance(value, list):
                data[prefix + key] = [str(v) for v in value]
            else:
                data[prefix + key] = str(value)
    return data


def preview_rule(browser: Browser, audience_id: int, **groups):
    page = f"/train/audiences/{audience_id}/rule"
    return browser.post(page, {**rule_form(**groups), "action": "preview",
                               "lock_version": lock_on(browser, page)}, page=page)


def apply_rule(browser: Browser, audience_id: int, **groups):
    """Preview, then confirm, as a trainer does; returns the confirming response."""
    preview = preview_rule(browser, audience_id, **groups)
    assert preview.status_code == 200, text(preview)[:3000]
    page = preview.get_data(as_text=True)
    rule_json = html.unescape(re.search(r'name="rule_json" value="([^"]*)"', page).group(1))
    lock = re.search(r'name="lock_version" value="(\d+)"', page).group(1)
    return browser.post(f"/train/audiences/{audience_id}/rule",
                        {"action": "apply", "rule_json": rule_json, "lock_version": lock},
                        page=f"/train/audiences/{audience_id}/rule")


def assign(browser: Browser, course_id: int, audience_ids=(), *, people: str = "",
           due_kind: str = "none", due_date: str = "", due_days: str = "",
           start_date: str = ""):
    page = f"/train/assignments/new?course={course_id}"
    return browser.post(page, {"course": str(course_id),
                               "audiences": [str(a) for a in audience_ids], "people": people,
                               "due_kind": due_kind, "due_date": due_date,
                               "due_days": due_days, "start_date": start_date}, page=page)


def token(browser: Browser, page: str = "/learn") -> str:
    return csrf_token(browser.client, page)
