"""Every paginated listing, pages 1, 2 and the last, as anonymous, learner, curator and admin.

The pager once rebound the translation function ``_`` in its macro, so every second page
answered 500 while 1,284 tests passed: each listing here gets enough rows for three pages and
is walked through its own pager links, the way a reader clicks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from lms import audit
from lms.accounts.models import User
from lms.catalog import deposit
from lms.catalog.access_settings import AccessSettings
from lms.catalog.models import AccessLevel, Record, RecordStatus, RecordValue, ReviewTask
from lms.extensions import db
from lms.models import Job, JobStatus
from metadata import Metadata
from tests.conftest import Browser
from tests.factories import PASSWORD, UserFactory, make_collection, statements
from tests.pagewalk import read_page

pytestmark = pytest.mark.functional

ROLES = ("anonymous", "learner", "curator", "admin")


@dataclass(frozen=True)
class Listing:
    name: str
    url: str
    roles: tuple[str, ...]  # who may open it; the others get a login redirect or 403


LISTINGS = (
    Listing("collection", "/collections/khoa-hau-can", ROLES),
    Listing("search", "/search?q=giáo+trình", ROLES),
    Listing("search with filters", "/search?f.type=Text&f.audience=cadet-year-1&sort=title", ROLES),
    Listing("deposits", "/deposits", ("learner", "curator", "admin")),
    Listing("deposits by status", "/deposits?status=draft", ("learner", "curator", "admin")),
    Listing("users", "/admin/users", ("admin",)),
    Listing("users filtered", "/admin/users?role=learner", ("admin",)),
    Listing("audit log", "/admin/audit", ("admin",)),
    Listing("my jobs", "/jobs/", ("learner", "curator", "admin")),
    Listing("every job", "/admin/jobs/?status=done", ("admin",)),
    Listing("review pool", "/review", ("curator", "admin")),
)

CURRENT = re.compile(r'<span aria-current="page">(\d+)</span>')


@pytest.fixture
def crowded(app, users):
    """Enough of everything for three pages of each listing, for every role."""
    with app.app_context():
        curator = db.session.get(User, users["curator"].id)
        collection = make_collection("khoa-hau-can", curators=[curator], steps=1)
        public = AccessSettings(level=AccessLevel.PUBLIC)
        for n in range(45):  # 20 a page on the collection page, 10 on search
            deposit.import_record(
                None, external_id=f"gt-{n}", collection=collection,
                metadata=Metadata(statements(f"Giáo trình hậu cần số {n:02d}")),
                incomplete=False, access=public, files=[], review=False, source={})
        for role in ("learner", "curator", "admin"):  # 25 a page on "my deposits"
            owner = db.session.get(User, users[role].id)
            for n in range(55):
                record = Record(owner=owner, collection=collection, status=RecordStatus.DRAFT,
                                title=f"Bản nháp {n}", current_version=0, lock_version=1)
                record.values = [RecordValue(position=0, term="title",
                                             value=f"Bản nháp {n}", lang="vi")]
                db.session.add(record)
        for _n in range(110):  # 50 a page on the users list (and learners filtered)
            UserFactory(roles=["learner"])
        db.session.commit()
        admin = db.session.get(User, users["admin"].id)
        for _n in range(60):  # 50 a page on the audit log (the imports wrote 45)
            audit.record("login_success", actor=admin, obj=admin, standalone=True)
        for role in ("learner", "curator", "admin"):  # 50 a page of jobs
            db.session.add_all(Job(name="ingest.import", owner_id=users[role].id,
                                   status=JobStatus.DONE) for _n in range(110))
        depositor = db.session.get(User, users["instructor"].id)
        for n in range(60):  # 25 a page of the review pool
            record = Record(owner=depositor, collection=collection,
                            status=RecordStatus.SUBMITTED, title=f"Chờ duyệt {n}",
                            current_version=0, lock_version=1)
            db.session.add_all([record, ReviewTask(record=record, step=1)])
        db.session.commit()


def client_for(app, role: str):
    client = app.test_client()
    if role != "anonymous":
        assert Browser(client).login(role, PASSWORD).status_code == 302
    return client


def _pages(html: str, name: str) -> tuple[int, int, dict[int, str]]:
    """(current page, last page, page number → link) from a page's pager."""
    page = read_page(html)
    current = CURRENT.search(html)
    assert current, f"no pager on {name}"
    links: dict[int, str] = {}
    for href in page.links:
        match = re.search(r"[?&]page=(\d+)", href)
        if match:
            links[int(match.group(1))] = href.replace("&amp;", "&")
    return int(current.group(1)), max([*links, int(current.group(1))]), links


@pytest.mark.parametrize("role", ROLES)
def test_pages_one_two_and_last_render(app, crowded, role):
    client = client_for(app, role)
    for listing in LISTINGS:
        first = client.get(listing.url)
        if role not in listing.roles:
            assert first.status_code == (302 if role == "anonymous" else 403), listing.name
            continue
        assert first.status_code == 200, listing.name
        number, last, links = _pages(first.get_data(as_text=True), listing.name)
        assert (number, last >= 3) == (1, True), listing.name
        for wanted in (2, last):
            response = client.get(links[wanted])
            assert response.status_code == 200, f"{links[wanted]}: {response.status_code}"
            current, _last, _links = _pages(response.get_data(as_text=True), listing.name)
            assert current == wanted, links[wanted]
            # The pager keeps every other argument of the listing (filters, sort, query).
            kept = parse_qs(urlsplit(links[wanted]).query)
            assert kept == {**parse_qs(urlsplit(listing.url).query), "page": [str(wanted)]}


def test_a_page_past_the_end_is_empty_not_an_error(app, crowded):
    client = client_for(app, "admin")
    for url in ("/collections/khoa-hau-can?page=999", "/deposits?page=999",
                "/admin/users?page=999", "/admin/audit?page=999", "/search?page=999"):
        assert client.get(url).status_code == 200, url
    assert client.get("/collections/khoa-hau-can?page=abc").status_code == 200


def test_the_collection_list_is_sorted_as_asked(app, crowded):
    client = client_for(app, "anonymous")
    html = client.get("/collections/khoa-hau-can?sort=title").get_data(as_text=True)
    titles = re.findall(r"Giáo trình hậu cần số (\d\d)", html)
    assert titles[:3] == ["00", "01", "02"]
    with app.app_context():
        count = len(db.session.scalars(select(Record.id).where(
            Record.external_id.like("gt-%"))).all())
    assert f"{count} học liệu" in html


def test_templates_never_rebind_the_translation_function():
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "templates"
    offenders = [str(p.relative_to(templates)) for p in templates.rglob("*.html")
                 if re.search(r"{%-?\s*set\s+_\s*=", p.read_text())]
    assert offenders == []

