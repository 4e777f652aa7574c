"""Two decisions on one review task at the same moment (a double click, two tabs): exactly one
is carried out, the other is told why with 409, and nothing is written twice."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.catalog import deposit, workflow
from lms.catalog.models import Collection, Record, RecordVersion, ReviewTask, WorkflowEvent
from lms.extensions import db
from tests.concurrency import at_once
from tests.conftest import Browser, csrf_token
from tests.factories import PASSWORD, make_collection, statements

pytestmark = pytest.mark.functional

ROUNDS = 4


@pytest.fixture
def claimed_tasks(app, users) -> list[int]:
    """ROUNDS one-step tasks, each claimed by the curator."""
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        collection = make_collection("khoa-hau-can", curators=[curator], steps=1)
        db.session.commit()
        collection = db.session.get(Collection, collection.id)
        task_ids = []
        for n in range(ROUNDS):
            record = deposit.create_draft(owner, collection, statements(f"Tài liệu {n}"))
            workflow.submit(owner, record, record.lock_version)
            task_id = db.session.scalar(select(ReviewTask.id).where(
                ReviewTask.record_id == record.id))
            workflow.claim(curator, task_id)
            task_ids.append(task_id)
        return task_ids


def _curator_tab(app) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login("curator", PASSWORD).status_code == 302
    return browser


def _post(tab: Browser, url: str, form: dict) -> tuple[int, str]:
    response = tab.client.post(url, data=form)
    return response.status_code, response.get_data(as_text=True)


def test_two_simultaneous_accepts_one_wins_the_other_gets_409(app, users, claimed_tasks):
    tabs = [_curator_tab(app), _curator_tab(app)]
    for task_id in claimed_tasks:
        forms = [{"csrf_token": csrf_token(tab.client, "/review"), "comment": ""}
                 for tab in tabs]
        answers = at_once(*(partial(_post, tab, f"/review/{task_id}/accept", form)
                            for tab, form in zip(tabs, forms, strict=True)))

        assert sorted(status for status, _ in answers) == [302, 409], answers
        loser = next(body for status, body in answers if status == 409)
        assert "đã được quyết định ở một cửa sổ khác" in loser
        with app.app_context():
            record_id = db.session.scalar(select(ReviewTask.record_id).where(
                ReviewTask.id == task_id))
            record = db.session.get(Record, record_id)
            assert record.status == "published" and record.current_version == 1
            versions = db.session.scalar(select(func.count()).select_from(RecordVersion)
                                         .where(RecordVersion.record_id == record_id))
            assert versions == 1
            publishes = db.session.scalar(select(func.count()).select_from(WorkflowEvent).where(
                WorkflowEvent.record_id == record_id, WorkflowEvent.action == "publish"))
            assert publishes == 1


def test_a_second_accept_after_the_first_was_carried_out_is_told_it_was_decided(
        app, users, claimed_tasks):
    """The late click of two: it reads the task after the first one committed."""
    tab = _curator_tab(app)
    form = {"csrf_token": csrf_token(tab.client, "/review"), "comment": ""}
    assert _post(tab, f"/review/{claimed_tasks[0]}/accept", form)[0] == 302
    status, body = _post(tab, f"/review/{claimed_tasks[0]}/accept", form)
    assert status == 409
    assert "đã được quyết định ở một cửa sổ khác" in body
