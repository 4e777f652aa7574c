"""lms.uow.batch_of_work: one transaction whose units of work are savepoints (bulk imports)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.errors import ValidationError
from lms.extensions import db
from lms.models import Job
from lms.uow import batch_of_work, unit_of_work


def job(name: str) -> None:
    db.session.add(Job(name=name, status="queued", params={}))


def names() -> list[str]:
    db.session.rollback()
    return sorted(db.session.scalars(select(Job.name)))


def test_a_failing_unit_rolls_back_alone_and_the_others_commit_together(app_ctx):
    ran: list[str] = []
    with batch_of_work():
        for name in ("first", "refused", "third"):
            try:
                with unit_of_work() as on_commit:
                    job(name)
                    on_commit(lambda name=name: ran.append(name))
                    db.session.flush()
                    if name == "refused":
                        raise ValidationError("no")
            except ValidationError:
                pass
            assert ran == []  # callbacks wait for the batch's commit
    assert names() == ["first", "third"]
    assert ran == ["first", "third"]


def test_an_error_escaping_the_batch_rolls_every_unit_back(app_ctx):
    ran: list[str] = []
    with pytest.raises(RuntimeError), batch_of_work():
        with unit_of_work() as on_commit:
            job("first")
            on_commit(lambda: ran.append("first"))
        raise RuntimeError("killed")
    assert names() == []
    assert ran == []


def test_a_batch_does_not_nest_in_a_unit_of_work(app_ctx):
    with pytest.raises(RuntimeError), unit_of_work(), batch_of_work():
        pass
