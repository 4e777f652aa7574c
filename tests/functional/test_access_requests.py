"""Widening access is reviewed (issue 14, observation 3).

On a published ``restricted`` record its depositor sent ``POST /records/<id>/access
access_level=public`` and anonymous readers got it at once (page, OAI-PMH, search); the same
for a file set to ``inherit``. Now such a change waits for a curator of the collection, who
approves or rejects it from the review queue; narrowing applies at once; curators and admins
change access directly, audited.
"""

from __future__ import annotations

import io
import tempfile
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts.models import Group, User
from lms.catalog import access_requests, access_settings
from lms.catalog.models import (
    AccessLevel,
    AccessRequest,
    Record,
    WorkflowEvent,
)
from lms.errors import Conflict, NotFound, PermissionDenied
from lms.extensions import db
from lms.files.models import RecordFile
from lms.files.upload import Upload, upload_files
from lms.models import AuditEvent
from lms.notify.models import Notification
from tests.conftest import Browser, ClosingClient
from tests.factories import PASSWORD, UserFactory, make_collection, publish_record

pytestmark = pytest.mark.functional

WORD = "quytacbaomatxyz"


@cache
def pdf_bytes() -> bytes:
    from lms.extract.samples import write_demo_pdf

    with tempfile.TemporaryDirectory() as folder:
        return write_demo_pdf(Path(folder) / "s.pdf", "Quy tắc", [WORD]).read_bytes()


@pytest.fixture
def world(app, users):
    """A published record restricted to a group, with one PDF, deposited by ``instructor``."""
    app.test_client_class = ClosingClient
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        group = Group(name="Tổ soạn thảo", members=[db.session.get(User, users["learner"].id)])
        db.session.add(group)
        UserFactory(username="other_curator", roles=["curator"])
        db.session.commit()
        collection = make_collection("quy-tac", curators=[curator], steps=1)
        make_collection("khac", curators=[db.session.scalar(
            select(User).where(User.username == "other_curator"))], steps=1)
        record = publish_record(
            owner, curator, collection,
            access_settings.AccessSettings(level=AccessLevel.RESTRICTED, groups=[group]),
            title="Quy tắc bảo mật", description=f"Từ khoá {WORD}")
        # The file comes with the next version, published by the curator.
        [file] = upload_files(owner, record, [Upload(io.BytesIO(pdf_bytes()), "quy-tac.pdf")])
        publish_record_again(record, curator)
        return {"record": record.id, "file": file.id, "group": group.id}


def publish_record_again(record: Record, curator: User) -> None:
    from lms.catalog import workflow

    workflow.submit(record.owner, record, record.lock_version)
    task = next(t for t in workflow.review_queue(curator).pool if t.record_id == record.id)
    workflow.claim(curator, task.id)
    workflow.accept(curator, task.id)


def browser_for(app, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.post("/language", {"language": "en"}).status_code == 302
    assert browser.login(username, PASSWORD).status_code == 302
    return browser


def set_access(browser: Browser, record_id: int, **fields):
    form = {"access_level": "restricted", "discoverable": "1", **fields}
    return browser.post(f"/records/{record_id}/access", form,
                        page=f"/records/{record_id}/access")


def anonymous_sees(app, world) -> dict[str, bool]:
    """What an anonymous reader gets of the record on each channel."""
    client = app.test_client()
    record_id = world["record"]
    oai = client.get("/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier="
                     f"oai:kho.hvhc.edu.vn:{record_id}").get_data(as_text=True)
    return {
        "page": client.get(f"/records/{record_id}").status_code == 200,
        "oai": "Quy tắc bảo mật" in oai,
        "search": client.get(f"/api/v1/search?q={WORD}").get_json()["total"] == 1,
        "file": client.get(f"/records/{record_id}/files/{world['file']}").status_code == 200,
    }


NOTHING = {"page": False, "oai": False, "search": False, "file": False}
EVERYTHING = {"page": True, "oai": True, "search": True, "file": True}


def stored(app, record_id: int) -> dict[str, object]:
    with app.app_context():
        return access_settings.access_summary(db.session.get(Record, record_id))


def requests_of(app, record_id: int) -> list[tuple[str, dict]]:
    with app.app_context():
        return [(r.status, r.requested) for r in db.session.scalars(
            select(AccessRequest).where(AccessRequest.record_id == record_id)
            .order_by(AccessRequest.id))]


def notifications(app, username: str) -> list[str]:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return list(db.session.scalars(select(Notification.kind).where(
            Notification.user_id == user.id).order_by(Notification.id)))


def history(app, record_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(WorkflowEvent.action).where(
            WorkflowEvent.record_id == record_id).order_by(WorkflowEvent.id)))


def pending_id(app, record_id: int) -> int:
    with app.app_context():
        [request] = access_requests.pending_requests(record_id)
        return request.id


def test_a_depositor_making_a_published_record_public_waits_for_a_curator(app, world):
    """Observation 3: before the fix anonymous readers got the record at once."""
    before = stored(app, world["record"])
    response = set_access(browser_for(app, "instructor"), world["record"],
                          access_level="public")
    assert response.status_code == 302
    assert stored(app, world["record"]) == before
    assert anonymous_sees(app, world) == NOTHING
    assert requests_of(app, world["record"]) == [("pending", {
        "level": "public", "units": [], "roles": [], "users": [], "groups": []})]
    assert notifications(app, "curator")[-1] == "access_request_waiting"
    assert history(app, world["record"])[-1] == "access_request"
    queue = browser_for(app, "curator").client.get("/review").get_data(as_text=True)
    assert "Access changes waiting for approval" in queue and "Quy tắc bảo mật" in queue


def test_approval_applies_it_and_tells_the_depositor(app, world):
    set_access(browser_for(app, "instructor"), world["record"], access_level="public")
    curator = browser_for(app, "curator")
    response = curator.post(f"/review/access/{pending_id(app, world['record'])}/approve",
                            {"comment": "Được phép công khai"}, page="/review")
    assert response.status_code == 302
    assert stored(app, world["record"])["level"] == "public"
    assert anonymous_sees(app, world) == EVERYTHING
    assert requests_of(app, world["record"])[0][0] == "approved"
    assert notifications(app, "instructor")[-1] == "access_approved"
    assert history(app, world["record"])[-1] == "access_approve"
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record_access_change")).all()[-1]
        assert event.actor_name == "curator"
        assert event.details["after"]["level"] == "public"


def test_rejection_changes_nothing_and_says_why(app, world):
    before = stored(app, world["record"])
    set_access(browser_for(app, "instructor"), world["record"], access_level="public")
    curator = browser_for(app, "curator")
    request_id = pending_id(app, world["record"])
    refused = curator.post(f"/review/access/{request_id}/reject", {"comment": ""},
                           page="/review")
    assert "Tell the depositor why" in curator.client.get(
        refused.headers["Location"]).get_data(as_text=True)
    curator.post(f"/review/access/{request_id}/reject", {"comment": "Tài liệu mật"},
                 page="/review")
    assert stored(app, world["record"]) == before
    assert anonymous_sees(app, world) == NOTHING
    assert requests_of(app, world["record"])[0][0] == "rejected"
    assert notifications(app, "instructor")[-1] == "access_rejected"
    assert "Tài liệu mật" in browser_for(app, "instructor").client.get(
        "/notifications").get_data(as_text=True)


def test_narrowing_applies_at_once_and_only_the_widening_part_waits(app, world):
    """One form: undiscoverable (narrower, now) and public (wider, waits)."""
    set_access(browser_for(app, "instructor"), world["record"], access_level="public",
               discoverable="")
    now = stored(app, world["record"])
    assert now["discoverable"] is False
    assert now["level"] == "restricted"
    assert [r for _s, r in requests_of(app, world["record"])] == [
        {"level": "public", "units": [], "roles": [], "users": [], "groups": []}]


def test_a_pure_narrowing_applies_at_once_without_a_request(app, world):
    later = (date.today() + timedelta(days=30)).isoformat()
    set_access(browser_for(app, "instructor"), world["record"],
               access_groups=str(world["group"]), discoverable="", embargo_until=later)
    assert stored(app, world["record"])["discoverable"] is False
    assert stored(app, world["record"])["embargo_until"] == later
    assert requests_of(app, world["record"]) == []


def test_naming_a_user_widens_even_if_they_are_in_the_group_today(app, world):
    """Group membership changes: a list with a new name admits someone new, whoever is in
    the group now."""
    set_access(browser_for(app, "instructor"), world["record"], access_users="learner")
    assert stored(app, world["record"])["groups"] == [world["group"]]
    assert requests_of(app, world["record"])[0][0] == "pending"


@pytest.mark.parametrize("fields, waiting", [
    ({"access_groups": "{group}", "access_users": "trainer"}, "level"),  # a user added
    ({"access_level": "internal"}, "level"),
    ({"access_level": "role", "access_roles": "curator"}, "level"),
])
def test_every_kind_of_widening_waits(app, world, fields, waiting):
    fields = {k: v.format(group=world["group"]) for k, v in fields.items()}
    before = stored(app, world["record"])
    set_access(browser_for(app, "instructor"), world["record"], **fields)
    assert stored(app, world["record"]) == before
    [(status, requested)] = requests_of(app, world["record"])
    assert status == "pending" and waiting in requested


def test_an_embargo_lifted_early_waits(app, world):
    group = str(world["group"])
    later = (date.today() + timedelta(days=60)).isoformat()
    depositor = browser_for(app, "instructor")
    set_access(depositor, world["record"], access_groups=group, embargo_until=later)
    assert stored(app, world["record"])["embargo_until"] == later  # a later end: narrower
    set_access(depositor, world["record"], access_groups=group, embargo_until="")
    assert stored(app, world["record"])["embargo_until"] == later
    assert requests_of(app, world["record"])[-1] == ("pending", {
        "embargo_until": None, "embargo_reason": ""})


def test_a_curator_widens_directly_audited_and_replaces_what_waited(app, world):
    set_access(browser_for(app, "instructor"), world["record"], access_level="public")
    set_access(browser_for(app, "curator"), world["record"], access_level="internal")
    assert stored(app, world["record"])["level"] == "internal"
    assert requests_of(app, world["record"])[0][0] == "superseded"
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record_access_change")).all()[-1]
        assert (event.actor_name, event.details["after"]["level"]) == ("curator", "internal")


def test_before_publication_the_depositor_sets_access_freely(app, world, users):
    with app.app_context():
        from lms.catalog import deposit

        collection = db.session.get(Record, world["record"]).collection
        draft = deposit.create_draft(db.session.get(User, users["instructor"].id), collection,
                                     publish_record.__globals__["statements"]("Bản nháp"))
        draft_id = draft.id
    set_access(browser_for(app, "instructor"), draft_id, access_level="public")
    assert stored(app, draft_id)["level"] == "public"
    assert requests_of(app, draft_id) == []


def test_a_file_set_to_follow_a_looser_record_waits(app, world):
    """Observation 3, files: ``inherit`` on a restricted file of a public record."""
    with app.app_context():
        record = db.session.get(Record, world["record"])
        curator = db.session.scalar(select(User).where(User.username == "curator"))
        access_settings.change_access(curator, record,
                                      access_settings.AccessSettings(level=AccessLevel.PUBLIC))
        from lms.files.upload import change_file_access

        change_file_access(curator, record, db.session.get(RecordFile, world["file"]),
                           access_settings.AccessSettings(level=AccessLevel.RESTRICTED,
                                                          users=[curator]))
    assert anonymous_sees(app, world) == {**EVERYTHING, "file": False}
    depositor = browser_for(app, "instructor")
    url = f"/records/{world['record']}/files/{world['file']}/access"
    assert depositor.post(url, {"access_level": "inherit"},
                          page=f"/records/{world['record']}/files").status_code == 302
    assert anonymous_sees(app, world) == {**EVERYTHING, "file": False}
    [(status, requested)] = requests_of(app, world["record"])
    assert (status, requested["level"]) == ("pending", None)
    browser_for(app, "curator").post(
        f"/review/access/{pending_id(app, world['record'])}/approve", page="/review")
    assert anonymous_sees(app, world) == EVERYTHING


def test_only_a_curator_of_the_collection_decides(app, world):
    set_access(browser_for(app, "instructor"), world["record"], access_level="public")
    request_id = pending_id(app, world["record"])
    with app.app_context():
        def who(name):
            return db.session.scalar(select(User).where(User.username == name))

        for name in ("instructor", "other_curator", "learner"):
            with pytest.raises(NotFound):
                access_requests.approve(who(name), request_id)
        # An admin may decide, but never on a request of their own.
        request = db.session.get(AccessRequest, request_id)
        request.requested_by_id = who("admin").id
        db.session.commit()
        with pytest.raises(PermissionDenied):
            access_requests.approve(who("admin"), request_id)
    assert stored(app, world["record"])["level"] == "restricted"


def test_a_request_is_decided_once(app, world):
    set_access(browser_for(app, "instructor"), world["record"], access_level="public")
    request_id = pending_id(app, world["record"])
    with app.app_context():
        curator = db.session.scalar(select(User).where(User.username == "curator"))
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        access_requests.approve(curator, request_id)
        with pytest.raises(Conflict):
            access_requests.reject(admin, request_id, "Quá muộn")
    assert requests_of(app, world["record"])[0][0] == "approved"
