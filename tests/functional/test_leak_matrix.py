"""The leak-test matrix: user kind × access setting × channel.

A record's title, metadata and even its existence must reach exactly those allowed to see it.
The expected answer is written here independently of ``lms.catalog.access``. Later features
add their channels to ``CHANNELS``.

Every record carries a small PDF: its download, in-page preview and thumbnail are channels
too, answering exactly those who may read the record's files (an embargo hides the files
from readers while the page stays visible).
"""

from __future__ import annotations

import io
import re
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from lms.accounts.models import Group, Unit, User
from lms.catalog import access_settings, deposit, workflow
from lms.catalog.models import AccessLevel
from lms.discovery.services import backend
from lms.errors import PermissionDenied
from lms.extensions import db
from lms.files.upload import Upload, upload_files
from tests.conftest import Browser, ClosingClient, search_backend_params
from tests.factories import PASSWORD, UserFactory, make_collection, statements

pytestmark = pytest.mark.functional

SECRET_TITLE = "Tài liệu bí mật Zulu"
SECRET_WORD = "zulukhoaxyz"

USER_KINDS = ("anonymous", "learner_other_unit", "learner_in_unit", "instructor_owner",
              "curator_other_collection", "curator", "admin")


@dataclass(frozen=True)
class Setting:
    name: str
    level: str
    published: bool = True
    withdrawn: bool = False
    discoverable: bool = True
    embargoed: bool = False


SETTINGS = [
    Setting("public", AccessLevel.PUBLIC),
    Setting("internal", AccessLevel.INTERNAL),
    Setting("unit", AccessLevel.UNIT),
    Setting("role", AccessLevel.ROLE),
    Setting("restricted", AccessLevel.RESTRICTED),
    Setting("public-undiscoverable", AccessLevel.PUBLIC, discoverable=False),
    Setting("public-embargoed", AccessLevel.PUBLIC, embargoed=True),
    Setting("public-draft", AccessLevel.PUBLIC, published=False),
    Setting("submitted-unpublished", AccessLevel.PUBLIC, published=False),
    Setting("public-withdrawn", AccessLevel.PUBLIC, withdrawn=True),
    Setting("restricted-withdrawn", AccessLevel.RESTRICTED, withdrawn=True),
]


def level_allows(kind: str, level: str) -> bool:
    return {
        AccessLevel.PUBLIC: True,
        AccessLevel.INTERNAL: kind != "anonymous",
        # Access for "Khoa A" covers its class "Lớp 1", where learner_in_unit is.
        AccessLevel.UNIT: kind == "learner_in_unit",
        # Role access for curators: any curator, whatever their collection.
        AccessLevel.ROLE: kind in ("curator_other_collection", "curator"),
        # Restricted to a group holding learner_in_unit.
        AccessLevel.RESTRICTED: kind == "learner_in_unit",
    }[level]


def may_see_page(kind: str, setting: Setting) -> bool:
    if kind == "admin" or (kind == "curator" and setting.withdrawn):
        return True  # they may restore it
    if kind == "instructor_owner":
        return not setting.withdrawn
    if kind == "curator":
        return setting.name != "public-draft"  # a never-submitted draft is its owner's only
    if not setting.published or setting.withdrawn:
        return False
    return level_allows(kind, setting.level)


def may_list(kind: str, setting: Setting) -> bool:
    if not setting.published or setting.withdrawn:
        return False
    if kind in ("instructor_owner", "admin", "curator"):
        return True
    return setting.discoverable and level_allows(kind, setting.level)


def may_find(kind: str, setting: Setting) -> bool:
    """Search (hits, totals, facet counts, snippets, suggestions) holds published,
    discoverable records only, each found by those allowed to read it."""
    if not setting.published or setting.withdrawn or not setting.discoverable:
        return False
    return kind in ("instructor_owner", "curator", "admin") or level_allows(kind, setting.level)


def may_harvest(setting: Setting) -> bool:
    """OAI-PMH serves what an anonymous reader may see, whoever asks (metadata under an
    embargo included)."""
    return (setting.published and not setting.withdrawn and setting.discoverable
            and setting.level == AccessLevel.PUBLIC)


def may_read_files(kind: str, setting: Setting) -> bool:
    """Files follow the page, except that an embargo hides them from mere readers, and a
    withdrawn record's files are for its curators only (no tombstone for a file: 404)."""
    if not may_see_page(kind, setting):
        return False
    if setting.withdrawn:
        return kind in ("curator", "admin")
    if setting.embargoed:
        return kind in ("instructor_owner", "curator", "admin")
    return True


def gone_for(kind: str, setting: Setting) -> bool:
    """A withdrawn record answers 410 to those who could have seen it (404 to others)."""
    return setting.withdrawn and kind != "curator" and kind != "admin" and (
        kind == "instructor_owner" or level_allows(kind, setting.level))


@dataclass
class World:
    record_id: int
    collection_slug: str
    file_id: int


@cache
def secret_pdf() -> bytes:
    from lms.extract.samples import write_demo_pdf

    with tempfile.TemporaryDirectory() as folder:
        path = write_demo_pdf(Path(folder) / "s.pdf", SECRET_TITLE, [SECRET_WORD])
        return path.read_bytes()


def build_world(app, setting: Setting) -> World:
    with app.app_context():
        academy = Unit(name="Học viện")
        faculty_a = Unit(name="Khoa A", parent=academy)
        class_1 = Unit(name="Lớp 1", parent=faculty_a)
        faculty_b = Unit(name="Khoa B", parent=academy)
        db.session.add_all([academy, faculty_a, class_1, faculty_b])
        db.session.flush()
        people = {
            "learner_other_unit": UserFactory(username="learner_other_unit", unit=faculty_b),
            "learner_in_unit": UserFactory(username="learner_in_unit", unit=class_1),
            "instructor_owner": UserFactory(username="instructor_owner", roles=["instructor"]),
            "curator_other_collection": UserFactory(username="curator_other_collection",
                                                    roles=["curator"]),
            "curator": UserFactory(username="curator", roles=["curator"]),
            "admin": UserFactory(username="admin", roles=["admin"]),
        }
        group = Group(name="Nhóm được phép", members=[people["learner_in_unit"]])
        db.session.add(group)
        db.session.commit()
        collection = make_collection("bo-suu-tap", curators=[people["curator"]], steps=1)
        make_collection("bo-khac", curators=[people["curator_other_collection"]], steps=1)
        access = access_settings.AccessSettings(
            level=setting.level, units=[faculty_a], roles=["curator"], groups=[group],
            discoverable=setting.discoverable,
            embargo_until=date.today() + timedelta(days=30) if setting.embargoed else None)
        owner, curator = people["instructor_owner"], people["curator"]
        record = deposit.create_draft(
            owner, collection,
            statements(SECRET_TITLE, description=f"Mô tả chứa từ {SECRET_WORD}"), access)
        [file] = upload_files(owner, record, [Upload(io.BytesIO(secret_pdf()),
                                                     f"{SECRET_WORD}.pdf")])
        assert file.thumbnail_status == "ready", file.thumbnail_message
        if setting.published or setting.name == "submitted-unpublished":
            workflow.submit(owner, record, record.lock_version)
        while setting.published and record.status != "published":
            task = next(t for t in workflow.review_queue(curator).pool
                        if t.record_id == record.id)
            workflow.claim(curator, task.id)
            workflow.accept(curator, task.id)
        if setting.withdrawn:
            workflow.withdraw(curator, record, "Hết hiệu lực")
        return World(record.id, collection.slug, file.id)


# Each channel: (url for the world, what it is: "page", "listing" or "file").
CHANNELS = {
    "page": (lambda w: f"/records/{w.record_id}", "page"),
    "version": (lambda w: f"/records/{w.record_id}/v/1", "page"),
    "history": (lambda w: f"/records/{w.record_id}/history", "page"),
    "export_oai_dc": (lambda w: f"/records/{w.record_id}/export/oai_dc", "page"),
    "export_jsonld": (lambda w: f"/records/{w.record_id}/export/jsonld", "page"),
    "export_csv": (lambda w: f"/records/{w.record_id}/export/csv", "page"),
    "collection_listing": (lambda w: f"/collections/{w.collection_slug}", "listing"),
    "download": (lambda w: f"/records/{w.record_id}/files/{w.file_id}", "file"),
    "preview": (lambda w: f"/records/{w.record_id}/files/{w.file_id}/preview", "file"),
    "thumbnail": (lambda w: f"/records/{w.record_id}/files/{w.file_id}/thumbnail", "file"),
    "search_hits": (lambda w: f"/api/v1/search?q={SECRET_WORD}", "search"),
    "search_page": (lambda w: f"/search?q={SECRET_WORD}", "search_page"),
    "search_snippets": (lambda w: f"/api/v1/search?q=zulu+{SECRET_WORD}", "search"),
    "search_counts": (lambda w: f"/api/v1/search?q=&f.collection={w.collection_slug}",
                      "search_count"),
    "search_facets": (lambda w: "/api/v1/search?q=&size=1", "search_facet"),
    "suggestions": (lambda w: "/api/v1/suggest?q=zul", "suggest"),
    "did_you_mean": (lambda w: f"/api/v1/search?q={SECRET_WORD[:-1]}", "search"),
    "oai_get_record": (lambda w: "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier="
                       f"oai:kho.hvhc.edu.vn:{w.record_id}", "oai"),
    "oai_list_records": (lambda w: "/oai?verb=ListRecords&metadataPrefix=oai_dc", "oai"),
    "oai_list_set": (lambda w: "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc"
                     f"&set=collection:{w.collection_slug}", "oai_id"),
    # Issue 20: the library formats, negotiation, Signposting, discovery channels.
    "export_marcxml": (lambda w: f"/records/{w.record_id}/export/marcxml", "page"),
    "export_mods": (lambda w: f"/records/{w.record_id}/export/mods", "page"),
    "export_csl": (lambda w: f"/records/{w.record_id}/export/csl", "page"),
    "export_ris": (lambda w: f"/records/{w.record_id}/export/ris", "page"),
    "negotiated_jsonld": (lambda w: f"/records/{w.record_id}", "page",
                          {"Accept": "application/ld+json"}),
    "negotiated_marcxml": (lambda w: f"/records/{w.record_id}", "page",
                           {"Accept": "application/marcxml+xml"}),
    "linkset": (lambda w: f"/records/{w.record_id}/linkset", "linkset"),
    "linkset_json": (lambda w: f"/records/{w.record_id}/linkset.json", "linkset"),
    "oai_get_marcxml": (lambda w: "/oai?verb=GetRecord&metadataPrefix=marcxml&identifier="
                        f"oai:kho.hvhc.edu.vn:{w.record_id}", "oai"),
    "oai_list_mods": (lambda w: "/oai?verb=ListRecords&metadataPrefix=mods", "oai"),
    "sitemap": (lambda w: "/sitemap.xml", "sitemap"),
    "feed_newest": (lambda w: "/feeds/newest.atom", "feed"),
    "feed_collection": (lambda w: f"/collections/{w.collection_slug}/feed.atom", "feed"),
    "feed_search": (lambda w: f"/search?q={SECRET_WORD}&format=atom", "feed"),
    # The records API, called with a read token of each user kind (anonymous: none).
    "api_list": (lambda w: "/api/v1/records?size=100", "listing"),
    "api_list_collection": (lambda w: f"/api/v1/records?collection={w.collection_slug}",
                            "listing"),
    "api_record": (lambda w: f"/api/v1/records/{w.record_id}", "api"),
    "api_versions": (lambda w: f"/api/v1/records/{w.record_id}/versions", "api_versions"),
    "api_files": (lambda w: f"/api/v1/records/{w.record_id}/files", "api"),
    "api_file": (lambda w: f"/api/v1/records/{w.record_id}/files/{w.file_id}", "file"),
}
FILE_SIGNATURES = (b"%PDF-", b"\x89PNG")


def api_headers(app, kind: str) -> dict[str, str]:
    """A read token of ``kind`` (what a script of theirs would send)."""
    if kind == "anonymous":
        return {}
    from lms.api.tokens import create_token

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == kind))
        return {"Authorization": f"Bearer {create_token(user, 'leak', 'read', 1).secret}"}


def client_for(app, kind: str):
    app.test_client_class = ClosingClient  # file responses hold the blob open until closed
    client = app.test_client()
    if kind != "anonymous":
        assert Browser(client).login(kind, PASSWORD).status_code == 302, kind
    return client


@pytest.fixture(params=search_backend_params())
def search_backend(app, request) -> str:
    """Every search engine answers the search channels (set before anything is indexed)."""
    app.config["SEARCH_BACKEND"] = request.param
    return request.param


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_leak_matrix(app, search_backend, setting):
    world = build_world(app, setting)
    with app.app_context():
        assert backend().name == search_backend
    failures = matrix_failures(app, world, setting)
    assert not failures, "\n".join(failures)


def matrix_failures(app, world: World, setting: Setting,
                    file_readers: frozenset[str] | None = None) -> list[str]:
    """Every user kind on every channel against what ``setting`` allows; ``file_readers``
    (user kinds), when given, are those the file's own level admits on top of the record's."""
    failures = []
    for kind in USER_KINDS:
        client = client_for(app, kind)
        reads_file = may_read_files(kind, setting) and (
            file_readers is None or kind in file_readers
            or kind in ("instructor_owner", "curator", "admin"))
        token = api_headers(app, kind)
        for channel, (url_of, what, *headers) in CHANNELS.items():
            if channel.startswith("api_"):
                headers = [token]
            response = client.get(url_of(world), headers=headers[0] if headers else {})
            body = response.get_data().decode("utf-8", "replace")
            if what == "sitemap":  # the index, then every page it names
                body = "".join(client.get(urlsplit(page).path).get_data(as_text=True)
                               for page in re.findall(r"<loc>([^<]+)</loc>", body))
                listed = f"/records/{world.record_id}<" in body
                if listed != may_harvest(setting):
                    failures.append(f"{kind}/{channel}: listed={listed}")
                continue
            if what == "feed":
                shown = SECRET_TITLE in body
                if shown != may_find(kind, setting) or response.status_code != 200:
                    failures.append(f"{kind}/{channel}: shown={shown}, "
                                    f"expected {may_find(kind, setting)}")
                continue
            if channel == "page":
                # Signposting names a file only to those who may fetch it.
                named = f"/files/{world.file_id}>" in response.headers.get("Link", "")
                if named != (reads_file and setting.published):
                    failures.append(f"{kind}/page Link item: named={named}")
            if what == "file":
                expected = reads_file
                served = response.status_code == 200 and response.data.startswith(
                    FILE_SIGNATURES)
                hidden = response.status_code == 404 and "ETag" not in response.headers \
                    and not response.data.startswith(FILE_SIGNATURES) \
                    and SECRET_TITLE not in body and SECRET_WORD not in body
                if (served if expected else hidden) is not True:
                    failures.append(f"{kind}/{channel}: {response.status_code}, expected "
                                    f"{'served' if expected else 'hidden'}")
                continue
            if what in ("search", "search_page", "suggest", "oai"):
                expected = may_harvest(setting) if what == "oai" else may_find(kind, setting)
                if what == "search_page":  # the page repeats the query: look for the title
                    shown = SECRET_TITLE in body
                elif what == "suggest":  # "zulu" is a word of the secret title only
                    shown = '"zulu"' in body.lower()
                else:
                    shown = SECRET_TITLE.lower() in body.lower() or SECRET_WORD in body
                if shown != expected or response.status_code != 200:
                    failures.append(f"{kind}/{channel}: shown={shown}, expected {expected}")
                continue
            if what in ("search_count", "search_facet"):
                data = response.get_json()
                counted = data["total"] if what == "search_count" else sum(
                    v["count"] for v in data["facets"].get("collection", [])
                    if v["value"] == world.collection_slug)
                if counted != int(may_find(kind, setting)):
                    failures.append(f"{kind}/{channel}: counted {counted}")
                continue
            if what == "oai_id":
                listed = f"oai:kho.hvhc.edu.vn:{world.record_id}<" in body
                # A withdrawn public record stays listed, as a deleted header without metadata.
                expected = may_harvest(setting) or (setting.withdrawn and setting.level
                                                    == AccessLevel.PUBLIC)
                if listed != expected:
                    failures.append(f"{kind}/{channel}: listed={listed}, expected {expected}")
                continue
            if what == "listing":
                expected = may_list(kind, setting)
                shown = SECRET_TITLE in body
                if shown != expected or response.status_code != 200:
                    failures.append(f"{kind}/{channel}: listed={shown}, expected {expected}")
                continue
            visible = may_see_page(kind, setting)
            if channel == "version" and not setting.published:
                visible = False  # there is no version 1 to show
            if what in ("linkset", "api") and visible and \
                    (f"files/{world.file_id}" in body) != reads_file:
                failures.append(f"{kind}/{channel}: file named against its access")
            if what == "api_versions" and visible:
                # Versions exist once published; a draft's list is empty, never its title.
                if response.status_code != 200 or (SECRET_TITLE in body) != setting.published:
                    failures.append(f"{kind}/{channel}: {response.status_code}, "
                                    f"title shown={SECRET_TITLE in body}")
                continue
            if visible:
                ok = response.status_code == 200 and (
                    SECRET_TITLE in body or channel in ("history", "linkset", "linkset_json",
                                                        "api_files"))
            elif gone_for(kind, setting):
                ok = response.status_code == 410 and SECRET_WORD not in body
            else:
                ok = response.status_code == 404 and SECRET_TITLE not in body \
                    and SECRET_WORD not in body and "ETag" not in response.headers
            if not ok:
                failures.append(f"{kind}/{channel}: {response.status_code}, expected "
                                f"{'visible' if visible else 'hidden'}")
    return failures


# --- widening by the depositor ---------------------------------------------------------
# Each transition: the setting the record starts in, how its depositor widens it, and the
# setting it is in once a curator approves. Until then (and after a rejection) every channel
# must answer exactly as for the starting setting.

def _public(settings: access_settings.AccessSettings) -> None:
    settings.level = AccessLevel.PUBLIC


def _discoverable(settings: access_settings.AccessSettings) -> None:
    settings.discoverable = True


def _no_embargo(settings: access_settings.AccessSettings) -> None:
    settings.embargo_until = None


def _add_unit(settings: access_settings.AccessSettings) -> None:
    """Unit access for "Khoa A" gains "Khoa B" (learner_other_unit's)."""
    settings.units = [*settings.units, db.session.scalar(
        db.select(Unit).where(Unit.name == "Khoa B"))]


WIDENINGS = {
    "restricted-to-public": ("restricted", _public, Setting("public", AccessLevel.PUBLIC)),
    "unit-gains-a-unit": ("unit", _add_unit, None),
    "discoverable-on": ("public-undiscoverable", _discoverable,
                        Setting("public", AccessLevel.PUBLIC)),
    "embargo-lifted-early": ("public-embargoed", _no_embargo,
                             Setting("public", AccessLevel.PUBLIC)),
}


def depositor_widens(app, world: World, widen) -> int:
    """The depositor asks; returns the pending request's id."""
    from lms.catalog import access_requests
    from lms.catalog.models import Record

    with app.app_context():
        record = db.session.get(Record, world.record_id)
        owner = db.session.scalar(db.select(User).where(User.username == "instructor_owner"))
        settings = access_settings.AccessSettings.of(record)
        widen(settings)
        request = access_settings.change_access(owner, record, settings)
        assert request is not None
        assert access_requests.pending_requests(record.id) == [request]
        return request.id


def curator_decides(app, request_id: int, approve: bool) -> None:
    from lms.catalog import access_requests

    with app.app_context():
        curator = db.session.scalar(db.select(User).where(User.username == "curator"))
        if approve:
            access_requests.approve(curator, request_id)
        else:
            access_requests.reject(curator, request_id, "Không đồng ý")


@pytest.mark.parametrize("transition", WIDENINGS)
def test_a_pending_widening_shows_nothing_new_until_approved(app, search_backend, transition):
    start, widen, approved = WIDENINGS[transition]
    setting = next(s for s in SETTINGS if s.name == start)
    world = build_world(app, setting)
    request_id = depositor_widens(app, world, widen)
    failures = [f"pending: {f}" for f in matrix_failures(app, world, setting)]
    curator_decides(app, request_id, approve=False)
    failures += [f"rejected: {f}" for f in matrix_failures(app, world, setting)]
    curator_decides(app, depositor_widens(app, world, widen), approve=True)
    if approved is None:  # unit access, now for both faculties: learner_other_unit reads it
        approved_failures = [f for f in matrix_failures(app, world, setting)
                             if f.startswith("learner_other_unit/")]
        failures += ["approved: learner_other_unit still sees nothing"] \
            if not approved_failures else []
        failures += [f"approved: {f}" for f in matrix_failures(app, world, setting)
                     if not f.startswith("learner_other_unit/")]
    else:
        failures += [f"approved: {f}" for f in matrix_failures(app, world, approved)]
    assert not failures, "\n".join(failures)


def test_a_pending_file_widening_serves_the_file_to_nobody_new(app):
    """A file restricted to a group (learner_in_unit) of a public record: its depositor
    asks that it follow the record; until a curator approves, only the group (and the
    record's owner and curators) gets it."""
    from lms.catalog.models import Record
    from lms.files.models import RecordFile
    from lms.files.upload import change_file_access

    setting = Setting("public", AccessLevel.PUBLIC)
    world = build_world(app, setting)
    with app.app_context():
        record = db.session.get(Record, world.record_id)
        curator = db.session.scalar(db.select(User).where(User.username == "curator"))
        owner = db.session.scalar(db.select(User).where(User.username == "instructor_owner"))
        group = db.session.scalar(db.select(Group).where(Group.name == "Nhóm được phép"))
        change_file_access(curator, record, db.session.get(RecordFile, world.file_id),
                           access_settings.AccessSettings(level=AccessLevel.RESTRICTED,
                                                          groups=[group]))
        request = change_file_access(owner, record, db.session.get(RecordFile, world.file_id),
                                     None)
        assert request is not None
        request_id = request.id
    group_only = frozenset({"learner_in_unit"})
    failures = [f"pending: {f}" for f in matrix_failures(app, world, setting, group_only)]
    curator_decides(app, request_id, approve=True)
    failures += [f"approved: {f}" for f in matrix_failures(app, world, setting)]
    assert not failures, "\n".join(failures)


def test_access_change_takes_effect_at_once(app, search_backend):
    world = build_world(app, Setting("public", AccessLevel.PUBLIC))
    anonymous = client_for(app, "anonymous")
    assert anonymous.get(f"/records/{world.record_id}").status_code == 200
    for url_of, what, *_headers in CHANNELS.values():
        if what == "file":
            assert anonymous.get(url_of(world)).status_code == 200
    with app.app_context():
        from lms.catalog.models import Record

        record = db.session.get(Record, world.record_id)
        curator = db.session.scalar(db.select(User).where(User.username == "curator"))
        settings = access_settings.AccessSettings.of(record)
        settings.level = AccessLevel.INTERNAL
        access_settings.change_access(curator, record, settings)
    for url_of, what, *headers in CHANNELS.values():
        response = anonymous.get(url_of(world), headers=headers[0] if headers else {})
        assert SECRET_TITLE not in response.get_data().decode("utf-8", "replace")
        if what == "file":
            assert response.status_code == 404


def test_instructor_cannot_widen_access_of_a_record_they_do_not_own(app):
    world = build_world(app, Setting("internal", AccessLevel.INTERNAL))
    with app.app_context():
        from lms.catalog.models import Record

        stranger = UserFactory(username="other_instructor", roles=["instructor"])
        db.session.commit()
        record = db.session.get(Record, world.record_id)
        with pytest.raises(PermissionDenied):
            access_settings.change_access(stranger, record,
                                   access_settings.AccessSettings(level=AccessLevel.PUBLIC))
        assert db.session.get(Record, world.record_id).access_level == AccessLevel.INTERNAL
