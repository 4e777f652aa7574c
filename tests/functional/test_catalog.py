"""A material's life through the UI: draft, submit, return, publish, version, withdraw."""

from __future__ import annotations

import re
import threading
from collections import defaultdict

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.catalog import deposit, workflow
from lms.catalog.models import Record, RecordStatus, RecordVersion, ReviewTask, WorkflowEvent
from lms.errors import Conflict, PermissionDenied, ValidationError
from lms.extensions import db
from lms.models import AuditEvent
from tests.conftest import Browser
from tests.factories import PASSWORD, make_collection, publish_record, statements

pytestmark = pytest.mark.functional


def form_data(rows) -> dict[str, str]:
    """The record form's fields for these statements, as a browser would post them."""
    data: dict[str, str] = {}
    counters: dict[str, int] = defaultdict(int)
    for s in rows:
        i = counters[s.term]
        counters[s.term] += 1
        data[f"dc.{s.term}.{i}.value"] = s.value
        if s.lang:
            data[f"dc.{s.term}.{i}.lang"] = s.lang
    return data


@pytest.fixture
def collection(app, users):
    with app.app_context():
        curator = db.session.get(User, users["curator"].id)
        return make_collection("khoa-hau-can", curators=[curator]).id


def as_user(app, name: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(name, PASSWORD).status_code == 302
    return browser


def record_state(app, record_id: int) -> Record:
    with app.app_context():
        record = db.session.get(Record, record_id)
        db.session.expunge(record)
        return record


def save_and_submit(depositor: Browser, record_id: int, form: dict[str, str]) -> None:
    """The wizard's way: describe (save and go on), then submit from the last step."""
    edit_page = f"/records/{record_id}/edit"
    response = depositor.post(edit_page, {**form, "lock_version": lock_of(depositor, edit_page),
                                          "action": "next"}, page=edit_page)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/records/{record_id}/files"
    review_step = f"/records/{record_id}/submit"
    response = depositor.post(review_step, {"lock_version": lock_of(depositor, review_step)},
                              page=review_step)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def lock_of(browser: Browser, page: str) -> str:
    html = browser.client.get(page).get_data(as_text=True)
    return re.search(r'name="lock_version" value="(\d+)"', html).group(1)


def test_full_life_cycle_in_the_ui(app, users, collection):
    instructor, curator = as_user(app, "instructor"), as_user(app, "curator")

    # Draft with only a title, then the rest.
    response = instructor.post("/records/new", {"collection": "khoa-hau-can",
                                                "dc.title.0.value": "Giáo trình Xăng dầu",
                                                "dc.title.0.lang": "vi"}, page="/records/new")
    assert response.status_code == 302
    record_id = int(response.headers["Location"].split("/")[2])
    assert record_state(app, record_id).status == RecordStatus.DRAFT

    # Submitting without the deposit-required fields lists what is missing.
    review_step = f"/records/{record_id}/submit"
    lock = record_state(app, record_id).lock_version
    response = instructor.post(review_step, {"lock_version": lock}, page=review_step)
    assert response.status_code == 422
    assert "Trước khi gửi duyệt, cần bổ sung" in response.get_data(as_text=True)
    assert record_state(app, record_id).status == RecordStatus.DRAFT

    full = form_data(statements("Giáo trình Xăng dầu"))
    save_and_submit(instructor, record_id, full)
    assert record_state(app, record_id).status == RecordStatus.SUBMITTED

    # The curator claims and returns it with a comment; the depositor is notified.
    with app.app_context():
        task_id = db.session.scalar(select(ReviewTask.id).where(ReviewTask.record_id == record_id))
    assert curator.post(f"/review/{task_id}/claim", page="/review").status_code == 302
    curator.post(f"/review/{task_id}/return", {"comment": "Bổ sung tóm tắt"}, page="/review")
    assert record_state(app, record_id).status == RecordStatus.RETURNED
    badge = '<span class="count">1<span class="visually-hidden"> chưa đọc</span></span>'
    assert badge in instructor.client.get("/deposits").get_data(as_text=True)
    notes = instructor.client.get("/notifications").get_data(as_text=True)
    assert "Bổ sung tóm tắt" in notes
    assert 'class="count"' not in instructor.client.get("/deposits").get_data(as_text=True)

    # Resubmit; two review steps; published as version 1.
    full["dc.abstract.0.value"] = "Tóm tắt giáo trình"
    full["dc.abstract.0.lang"] = "vi"
    save_and_submit(instructor, record_id, full)
    for _step in (1, 2):
        with app.app_context():
            task_id = db.session.scalar(select(ReviewTask.id).where(
                ReviewTask.record_id == record_id, ReviewTask.status == "pool"))
        curator.post(f"/review/{task_id}/claim", page="/review")
        curator.post(f"/review/{task_id}/accept", page="/review")
    state = record_state(app, record_id)
    assert (state.status, state.current_version) == (RecordStatus.PUBLISHED, 1)

    # A new version: the depositor's edit is a draft; readers still see version 1.
    full["dc.title.0.value"] = "Giáo trình Xăng dầu (tái bản)"
    save_and_submit(instructor, record_id, full)
    reader = as_user(app, "learner")
    page = reader.client.get(f"/records/{record_id}").get_data(as_text=True)
    assert "Giáo trình Xăng dầu" in page and "tái bản" not in page
    for _step in (1, 2):
        with app.app_context():
            task_id = db.session.scalar(select(ReviewTask.id).where(
                ReviewTask.record_id == record_id, ReviewTask.status == "pool"))
        curator.post(f"/review/{task_id}/claim", page="/review")
        curator.post(f"/review/{task_id}/accept", page="/review")
    assert record_state(app, record_id).current_version == 2
    assert "tái bản" in reader.client.get(f"/records/{record_id}").get_data(as_text=True)
    old = reader.client.get(f"/records/{record_id}/v/1").get_data(as_text=True)
    assert "Đây là phiên bản 1. Đã có phiên bản mới hơn." in old  # the default language

    # Withdraw: 410 with a tombstone for readers who could see it.
    response = curator.post(f"/records/{record_id}/withdraw", {"reason": "Tài liệu lỗi thời"},
                            page=f"/records/{record_id}")
    assert response.status_code == 302
    gone = reader.client.get(f"/records/{record_id}")
    assert gone.status_code == 410
    assert "Tài liệu lỗi thời" in gone.get_data(as_text=True)

    with app.app_context():
        actions = db.session.scalars(select(WorkflowEvent.action).where(
            WorkflowEvent.record_id == record_id).order_by(WorkflowEvent.id)).all()
        assert actions[:3] == ["create", "edit", "submit"]
        assert actions.count("publish") == 2 and actions[-1] == "withdraw"
        audited = set(db.session.scalars(select(AuditEvent.action)))
        assert {"record_create", "record_submit", "record_return", "record_publish",
                "record_withdraw"} <= audited


def test_history_page_shows_every_transition_to_participants(app, users, collection):
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        record = publish_record(owner, curator, db.session.get(
            __import__("lms.catalog.models", fromlist=["Collection"]).Collection, collection))
        record_id = record.id
    page = as_user(app, "instructor").client.get(f"/records/{record_id}/history")
    assert page.status_code == 200
    # create, submit, claim, accept (step 1), claim, publish; plus the header row
    assert page.get_data(as_text=True).count("<tr>") == 1 + 6


def test_two_curators_claiming_the_same_task_one_wins(app, users, collection):
    with app.app_context():
        from lms.catalog.models import Collection

        owner = db.session.get(User, users["instructor"].id)
        first = db.session.get(User, users["curator"].id)
        second = User(username="curator2", password_hash=first.password_hash, roles=first.roles)
        db.session.add(second)
        coll = db.session.get(Collection, collection)
        coll.curators.append(second)
        db.session.commit()
        record = deposit.create_draft(owner, coll, statements())
        workflow.submit(owner, record, record.lock_version)
        task_id = db.session.scalar(select(ReviewTask.id))
        curator_ids = [first.id, second.id]

    # Both claim at the same moment, each in its own thread, session and transaction.
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def claim(user_id: int) -> None:
        with app.app_context():
            user = db.session.get(User, user_id)
            barrier.wait()
            try:
                workflow.claim(user, task_id)
                outcomes[user_id] = "won"
            except Conflict as error:
                outcomes[user_id] = str(error)

    threads = [threading.Thread(target=claim, args=(uid,)) for uid in curator_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(v == "won" for v in outcomes.values()) == [False, True]
    loser_message = next(v for v in outcomes.values() if v != "won")
    assert "already claimed" in loser_message
    with app.app_context():
        winner = next(uid for uid, v in outcomes.items() if v == "won")
        assert db.session.get(ReviewTask, task_id).claimed_by_id == winner


def test_stale_edit_form_is_refused(app, users, collection):
    with app.app_context():
        from lms.catalog.models import Collection

        owner = db.session.get(User, users["instructor"].id)
        record = deposit.create_draft(owner, db.session.get(Collection, collection), statements())
        record_id, stale = record.id, record.lock_version
        deposit.save_metadata(owner, record, statements("Tên mới"), stale)
    browser = as_user(app, "instructor")
    response = browser.post(f"/records/{record_id}/edit",
                            {**form_data(statements("Tên của tôi")), "lock_version": stale},
                            page=f"/records/{record_id}/edit")
    assert response.status_code == 422  # the form is shown again, with the message
    assert "Biểu ghi đã bị thay đổi sau khi bạn mở. Hãy tải lại để xem thay đổi, rồi sửa lại " \
        "phần của bạn." in response.get_data(as_text=True)  # the default language
    assert record_state(app, record_id).title == "Tên mới"


def test_saving_an_unchanged_record_creates_no_version(app, users, collection):
    with app.app_context():
        from lms.catalog.models import Collection

        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        record = publish_record(owner, curator, db.session.get(Collection, collection))
        lock = record.lock_version
        assert deposit.save_metadata(curator, record, record.dc, lock) is False
        assert db.session.scalar(select(func.count(RecordVersion.id))) == 1


def test_curator_correction_of_a_published_record_is_a_new_version(app, users, collection):
    with app.app_context():
        from lms.catalog.models import Collection

        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        record = publish_record(owner, curator, db.session.get(Collection, collection))
        deposit.save_metadata(curator, record, statements("Tên đã sửa"), record.lock_version)
        assert (record.status, record.current_version) == (RecordStatus.PUBLISHED, 2)
        assert [v.title for v in record.versions] == ["Giáo trình Hậu cần quân đội",
                                                      "Tên đã sửa"]


def test_only_depositors_deposit_and_only_owners_edit_drafts(app, users, collection):
    learner = as_user(app, "learner")
    assert learner.client.get("/records/new").status_code == 403
    response = learner.post("/records/new", {"collection": "khoa-hau-can",
                                             "dc.title.0.value": "X"})
    assert response.status_code == 403
    with app.app_context():
        from lms.catalog.models import Collection

        owner = db.session.get(User, users["instructor"].id)
        record = deposit.create_draft(owner, db.session.get(Collection, collection), statements())
        record_id, lock = record.id, record.lock_version
    # Another user does not learn that the draft exists: 404, and nothing changes.
    trainer = as_user(app, "trainer")
    assert trainer.client.get(f"/records/{record_id}/edit").status_code == 404
    response = trainer.post(f"/records/{record_id}/edit",
                            {**form_data(statements("Đè lên")), "lock_version": lock})
    assert response.status_code == 404
    assert trainer.client.get(f"/records/{record_id}").status_code == 404
    assert record_state(app, record_id).title == "Giáo trình Hậu cần quân đội"
    # A curator does not see a draft before it is submitted.
    assert as_user(app, "curator").client.get(f"/records/{record_id}").status_code == 404


def test_replayed_csrf_token_on_a_record_form_changes_nothing(app, users, collection):
    browser = as_user(app, "instructor")
    with browser.client.session_transaction() as session:
        session.pop("csrf_token", None)
    response = browser.client.post("/records/new", data={
        "csrf_token": "forged", "collection": "khoa-hau-can", "dc.title.0.value": "X"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Record.id))) == 0


def test_tampered_lock_version_is_a_clear_error(app, users, collection):
    with app.app_context():
        from lms.catalog.models import Collection

        owner = db.session.get(User, users["instructor"].id)
        record_id = deposit.create_draft(owner, db.session.get(Collection, collection),
                                          statements()).id
    browser = as_user(app, "instructor")
    response = browser.post(f"/records/{record_id}/edit", {"lock_version": "abc",
                                                           "dc.title.0.value": "X"})
    assert response.status_code == 422


def test_withdraw_needs_a_reason_and_a_curator(app, users, collection):
    with app.app_context():
        from lms.catalog.models import Collection

        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        record = publish_record(owner, curator, db.session.get(Collection, collection))
        with pytest.raises(PermissionDenied):
            workflow.withdraw(owner, record, "không cần nữa")
        with pytest.raises(ValidationError):
            workflow.withdraw(curator, record, "  ")
        assert record.status == RecordStatus.PUBLISHED


def test_purge_is_admin_only_and_leaves_a_tombstone(app, users, collection):
    with app.app_context():
        from lms.catalog.models import Collection

        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        record_id = publish_record(owner, curator, db.session.get(Collection, collection)).id
    curator_browser = as_user(app, "curator")
    assert curator_browser.post(f"/records/{record_id}/purge",
                                {"reason": "x"}).status_code == 404
    admin = as_user(app, "admin")
    assert admin.post(f"/records/{record_id}/purge", {"reason": ""}).status_code == 302
    assert record_state(app, record_id).status == RecordStatus.PUBLISHED
    assert admin.post(f"/records/{record_id}/purge",
                      {"reason": "Quyết định số 12/QĐ"}).status_code == 302
    with app.app_context():
        record = db.session.get(Record, record_id)
        assert record.status == RecordStatus.PURGED and record.values == []
        assert record.versions == []
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "record_purge"))
        assert event.details["reason"] == "Quyết định số 12/QĐ"
    response = as_user(app, "learner").client.get(f"/records/{record_id}")
    assert response.status_code == 410
    assert "Giáo trình" not in response.get_data(as_text=True)


def test_my_deposits_counts_and_filters(app, users, collection):
    with app.app_context():
        from lms.catalog.models import Collection

        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        coll = db.session.get(Collection, collection)
        deposit.create_draft(owner, coll, statements("Bản nháp một"))
        publish_record(owner, curator, coll, title="Đã xuất bản")
    page = as_user(app, "instructor").client.get("/deposits?status=draft")
    text = page.get_data(as_text=True)
    assert "Bản nháp một" in text and "Đã xuất bản" not in text


def test_review_queue_is_for_curators(app, users, collection):
    assert as_user(app, "learner").client.get("/review").status_code == 403
    assert as_user(app, "curator").client.get("/review").status_code == 200


def test_collection_cli_validates_slugs(app, users):
    from lms.cli import cli

    runner = app.test_cli_runner()
    ok = runner.invoke(cli, ["collection", "create", "khoa-van-tai", "--title", "Khoa Vận tải"])
    assert ok.exit_code == 0, ok.output
    child = runner.invoke(cli, ["collection", "create", "o-to", "--title", "Ô tô",
                                "--parent", "khoa-van-tai"])
    assert child.exit_code == 0, child.output
    for bad in ("Khoa Vận Tải", "a_b", "-x", "x--y", "a" * 65, "khoa-van-tai"):
        result = runner.invoke(cli, ["collection", "create", bad, "--title", "X"])
        assert result.exit_code != 0 and "Error" in result.output, bad
    missing = runner.invoke(cli, ["collection", "create", "x", "--title", "X", "--parent", "nope"])
    assert missing.exit_code != 0


def test_a_record_can_be_shown_in_other_collections(app, users, collection):
    with app.app_context():
        from lms.catalog.access_settings import AccessSettings
        from lms.catalog.models import Collection

        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        home = db.session.get(Collection, collection)
        make_collection("ky-nang-so", curators=[curator], steps=1)
        make_collection("khoa-khac", steps=1)
        record_id = publish_record(owner, curator, home, AccessSettings(level="public"),
                                   title="Tài liệu dùng chung").id
    browser = as_user(app, "curator")
    response = browser.post(f"/records/{record_id}/collections",
                            {"collections": ["ky-nang-so"]}, page=f"/records/{record_id}")
    assert response.status_code == 302
    assert "Tài liệu dùng chung" in app.test_client().get("/collections/ky-nang-so").get_data(
        as_text=True)
    oai = app.test_client().get(
        f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:kho.hvhc.edu.vn:{record_id}")
    assert "<setSpec>collection:ky-nang-so</setSpec>" in oai.get_data(as_text=True)
    facets = app.test_client().get("/api/v1/search?q=dung+chung").get_json()["facets"]
    assert {v["value"] for v in facets["collection"]} == {"khoa-hau-can", "ky-nang-so"}
    # A collection the curator does not curate is refused, and nothing changes.
    browser.post(f"/records/{record_id}/collections", {"collections": ["khoa-khac"]},
                 page=f"/records/{record_id}")
    with app.app_context():
        record = db.session.get(Record, record_id)
        assert [c.slug for c in record.mapped_collections] == ["ky-nang-so"]
        events = db.session.scalars(select(AuditEvent.action)).all()
        assert events.count("record_mapping") == 1
    # The learner cannot map at all.
    learner = as_user(app, "learner")
    assert learner.post(f"/records/{record_id}/collections",
                        {"collections": []}).status_code == 403
