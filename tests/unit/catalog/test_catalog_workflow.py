"""lms.catalog.workflow at the service level: submit, review, publish, withdraw and the
history they write; wrong transitions are domain errors that change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.catalog import workflow
from lms.catalog.models import Record, ReviewTask, WorkflowEvent
from lms.errors import Conflict, PermissionDenied, ValidationError
from lms.extensions import db
from lms.uow import unit_of_work
from tests.factories import CollectionFactory, RecordFactory, ReviewTaskFactory, UserFactory


@pytest.fixture
def curator(app_ctx):
    return UserFactory(roles=["curator"])


def collection_of(curator, steps: int = 1):
    return CollectionFactory(curators=[curator], workflow_steps=steps)


def fresh(record: Record) -> Record:
    db.session.expire_all()
    return db.session.get(Record, record.id)


def tasks(record: Record) -> list[tuple[int, str]]:
    return [(t.step, t.status) for t in db.session.scalars(
        select(ReviewTask).where(ReviewTask.record_id == record.id).order_by(ReviewTask.id))]


def history(record: Record) -> list[tuple[str, str | None, str | None]]:
    return [(e.action, e.from_status, e.to_status) for e in workflow.history(record)]


def test_submit_sends_a_draft_to_the_pool(curator):
    record = RecordFactory(collection=collection_of(curator))
    db.session.commit()
    workflow.submit(record.owner, record, record.lock_version)
    record = fresh(record)
    assert (record.status, record.lock_version) == ("submitted", 2)
    assert tasks(record) == [(1, "pool")]
    assert history(record) == [("submit", "draft", "submitted")]


def test_submit_with_a_stale_form_is_a_conflict_and_changes_nothing(curator):
    record = RecordFactory(collection=collection_of(curator))
    db.session.commit()
    with pytest.raises(Conflict, match="changed since you opened it"):
        workflow.submit(record.owner, record, record.lock_version - 1)
    assert (fresh(record).status, tasks(record), history(record)) == ("draft", [], [])


@pytest.mark.parametrize("trait", ["published", "submitted", "withdrawn"])
def test_only_a_draft_or_returned_record_is_submitted(curator, trait):
    record = RecordFactory(collection=collection_of(curator), **{trait: True})
    db.session.commit()
    with pytest.raises(PermissionDenied):
        workflow.submit(record.owner, record, record.lock_version)
    assert fresh(record).status == trait


def test_only_the_depositor_submits(curator):
    record = RecordFactory(collection=collection_of(curator))
    db.session.commit()
    with pytest.raises(PermissionDenied):
        workflow.submit(UserFactory(roles=["instructor"]), record, record.lock_version)
    assert fresh(record).status == "draft"


def test_accepting_the_last_step_publishes_version_one(curator):
    task = ReviewTaskFactory(record__collection=collection_of(curator, steps=1))
    db.session.commit()
    workflow.claim(curator, task.id)
    record = workflow.accept(curator, task.id, "Đạt")
    record = fresh(record)
    assert (record.status, record.current_version, record.published_at is not None) == (
        "published", 1, True)
    assert record.latest_version.dc.first("title") == record.title
    assert tasks(record) == [(1, "done")]
    assert history(record) == [("claim", "submitted", "submitted"),
                               ("publish", "submitted", "published")]


def test_accepting_an_early_step_opens_the_next_one(curator):
    task = ReviewTaskFactory(record__collection=collection_of(curator, steps=2))
    db.session.commit()
    workflow.claim(curator, task.id)
    record = fresh(workflow.accept(curator, task.id))
    assert (record.status, record.current_version) == ("submitted", 0)
    assert tasks(record) == [(1, "done"), (2, "pool")]


def test_a_claimed_task_cannot_be_claimed_again(curator):
    other = UserFactory(roles=["curator"], full_name="Trần Văn B")
    task = ReviewTaskFactory(record__collection=CollectionFactory(curators=[curator, other]))
    db.session.commit()
    workflow.claim(other, task.id)
    with pytest.raises(Conflict, match="already claimed by Trần Văn B"):
        workflow.claim(curator, task.id)
    assert db.session.get(ReviewTask, task.id).claimed_by_id == other.id


def test_a_task_is_claimed_only_by_a_curator_of_its_collection(curator):
    task = ReviewTaskFactory(record__collection=collection_of(curator))
    db.session.commit()
    from lms.errors import NotFound

    with pytest.raises(NotFound):
        workflow.claim(UserFactory(roles=["curator"]), task.id)
    assert db.session.get(ReviewTask, task.id).status == "pool"


def test_a_return_needs_a_comment_and_then_goes_back_to_the_depositor(curator):
    task = ReviewTaskFactory(record__collection=collection_of(curator))
    db.session.commit()
    workflow.claim(curator, task.id)
    with pytest.raises(ValidationError, match="Tell the depositor what to change"):
        workflow.return_to_depositor(curator, task.id, "   ")
    assert fresh(task.record).status == "submitted"
    workflow.return_to_depositor(curator, task.id, "Bổ sung tóm tắt")
    record = fresh(task.record)
    assert record.status == "returned"
    assert history(record)[-1] == ("return", "submitted", "returned")


def test_withdraw_needs_a_curator_and_a_reason(curator):
    record = RecordFactory(published=True, collection=collection_of(curator))
    db.session.commit()
    with pytest.raises(PermissionDenied):
        workflow.withdraw(record.owner, record, "Cũ")
    with pytest.raises(ValidationError, match="Give a reason for the withdrawal"):
        workflow.withdraw(curator, record, "")
    assert fresh(record).status == "published"
    workflow.withdraw(curator, record, "Nội dung đã cũ")
    record = fresh(record)
    assert (record.status, record.withdrawal_reason) == ("withdrawn", "Nội dung đã cũ")
    assert history(record) == [("withdraw", "published", "withdrawn")]


def test_publishing_an_unchanged_working_copy_makes_no_new_version(curator):
    record = RecordFactory(published=True, collection=collection_of(curator))
    db.session.flush()
    assert workflow.publish(curator, record) == 1
    assert [v.number for v in record.versions] == [1]


def test_record_history_is_part_of_the_callers_transaction(curator):
    record = RecordFactory(collection=collection_of(curator))
    db.session.commit()
    with pytest.raises(RuntimeError), unit_of_work():
        workflow.record_history(record, curator, "note", "draft", "draft", "ghi chú")
        raise RuntimeError("the use case failed")
    assert db.session.scalars(select(WorkflowEvent)).all() == []
    with unit_of_work():
        workflow.record_history(record, curator, "note", "draft", "draft", "ghi chú")
    assert history(record) == [("note", "draft", "draft")]
