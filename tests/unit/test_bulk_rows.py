"""Bulk writes of lms/db.py against the test database (SQLite, or PostgreSQL in CI)."""

from __future__ import annotations

from sqlalchemy import select

from lms.db import insert_rows, insert_rows_returning, one_of, utcnow
from lms.extensions import db
from lms.notify.models import Notification, NotificationMute
from tests.factories import UserFactory


def test_insert_rows_counts_the_rows_inserted_and_skips_conflicts(app_ctx):
    first, second = UserFactory(), UserFactory()
    db.session.flush()
    rows = [{"user_id": first.id, "kind": "completed"}, {"user_id": second.id, "kind": "completed"}]
    assert insert_rows(db.session, NotificationMute, rows[:1]) == 1
    assert insert_rows(db.session, NotificationMute, rows,
                       ignore_conflicts_on=("user_id", "kind")) == 1
    assert sorted(db.session.execute(select(NotificationMute.user_id)).scalars()) == sorted(
        [first.id, second.id])


def test_insert_rows_fills_the_columns_left_out_with_their_python_defaults(app_ctx):
    person = UserFactory()
    db.session.flush()
    before = utcnow()
    insert_rows(db.session, Notification, [{"user_id": person.id, "kind": "assigned"}])
    stored = db.session.scalars(select(Notification)).one()
    assert (stored.params, stored.muted, stored.email_status) == ({}, False, "none")
    assert before <= stored.created_at <= utcnow()


def test_insert_rows_returning_gives_the_new_rows_only(app_ctx):
    person = UserFactory()
    db.session.flush()
    now = utcnow()

    def event(subject: int) -> dict:
        return {"user_id": person.id, "kind": "assigned", "params": {"title": "Kỹ năng số"},
                "subject_id": subject, "occurrence_at": now, "muted": False,
                "email_status": "none", "link": "/courses/1", "read_at": None,
                "created_at": now}

    insert_rows(db.session, Notification, [event(1)])
    made = insert_rows_returning(db.session, Notification, [event(1), event(2)],
                                 ("subject_id", "params"),
                                 ignore_conflicts_on=("user_id", "kind", "subject_id",
                                                      "occurrence_at"))
    assert made == [(2, {"title": "Kỹ năng số"})]


def test_one_of_selects_the_rows_of_the_values_given(app_ctx):
    people = [UserFactory() for _ in range(3)]
    db.session.flush()
    wanted = [people[0].id, people[2].id]
    assert sorted(db.session.scalars(select(type(people[0]).id).where(
        one_of(db.session, type(people[0]).id, wanted)))) == sorted(wanted)
