"""lms.uow: one commit per use case, callbacks only after it, nothing half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.accounts.models import Group
from lms.extensions import db
from lms.uow import current_work, unit_of_work


def groups() -> list[str]:
    db.session.expire_all()
    return db.session.scalars(select(Group.name).order_by(Group.name)).all()


def test_success_commits_once_and_then_runs_the_callbacks(app_ctx):
    seen = []
    with unit_of_work() as on_commit:
        db.session.add(Group(name="Tổ 1"))
        on_commit(lambda: seen.append(("callback", groups(), current_work())))
        assert seen == []  # not before the commit
    assert seen == [("callback", ["Tổ 1"], None)]


def test_an_exception_rolls_everything_back_and_runs_no_callback(app_ctx):
    seen = []
    with pytest.raises(RuntimeError, match="midway"), unit_of_work() as on_commit:
        db.session.add(Group(name="Tổ 1"))
        db.session.flush()  # written to the transaction...
        db.session.add(Group(name="Tổ 2"))
        on_commit(lambda: seen.append("callback"))
        raise RuntimeError("midway")
    assert (groups(), seen) == ([], [])  # ...and gone with it: nothing half-written


def test_a_failing_commit_rolls_back_and_the_session_stays_usable(app_ctx):
    with unit_of_work():
        db.session.add(Group(name="Tổ 1"))
    seen = []
    with pytest.raises(Exception, match=r"(?i)unique"), unit_of_work() as on_commit:
        db.session.add(Group(name="Tổ 2"))
        db.session.add(Group(name="Tổ 1"))  # a duplicate: the commit fails
        on_commit(lambda: seen.append("callback"))
    assert (groups(), seen) == (["Tổ 1"], [])
    with unit_of_work():
        db.session.add(Group(name="Tổ 3"))
    assert groups() == ["Tổ 1", "Tổ 3"]


def test_current_work_is_the_open_unit_only(app_ctx):
    assert current_work() is None
    with unit_of_work():
        work = current_work()
        work.state["note"] = "kept for this use case"
        assert current_work() is work
    assert current_work() is None
    assert db.session.scalar(select(func.count(Group.id))) == 0
