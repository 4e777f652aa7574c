"""Assignments, enrolment and learning over HTTP, ending with the whole journey of the issue:
a course from repository materials, assigned to a rule-based audience with a relative due
date, a person imported into that unit enrolled automatically, lessons completed in order,
the course complete on /learn."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy import text as sql

from lms.accounts.models import User
from lms.db import utcnow
from lms.extensions import db
from lms.models import Job
from lms.training.models import (
    AssignmentLearner,
    AudienceMember,
    Enrolment,
    LearningStatement,
    Lesson,
)
from tests.functional.test_admin import edit_form
from tests.training_world import (
    ACADEMY,
    add_page_lesson,
    add_record_lesson,
    apply_rule,
    assign,
    create_audience,
    create_course,
    flashes,
    follow,
    set_status,
    signed_in,
    text,
    token,
    user_id,
)

pytestmark = pytest.mark.functional


def course_with_lessons(trainer, world, *, sequential: bool = True, self_enrol: bool = False,
                        title: str = "Kỹ năng số cơ bản") -> int:
    course_id = create_course(trainer, title, sequential=sequential, self_enrol=self_enrol)
    add_record_lesson(trainer, course_id, world.public_record)
    add_record_lesson(trainer, course_id, world.internal_record)
    add_page_lesson(trainer, course_id, "Tổng kết", "Ba thói quen số mỗi ngày.")
    response = set_status(trainer, course_id, "published")
    assert response.status_code == 302
    return course_id


def class_audience(trainer, world, unit: int | None = None, name: str = "Lớp 1") -> int:
    audience_id = create_audience(trainer, name, scope_unit=world.academy)
    apply_rule(trainer, audience_id, g0={"unit": [unit or world.class1], "subunits": True})
    return audience_id


def lesson_ids(app, course_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Lesson.id).where(
            Lesson.course_id == course_id, Lesson.removed_at.is_(None))
            .order_by(Lesson.position)))


def enrolment(app, username: str, course_id: int) -> Enrolment | None:
    with app.app_context():
        found = db.session.scalar(select(Enrolment).join(User, User.id == Enrolment.user_id)
                                  .where(User.username == username,
                                         Enrolment.course_id == course_id))
        if found is not None:
            db.session.expunge(found)
        return found


def statements(app, username: str) -> list[tuple[str, str]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(LearningStatement.verb, LearningStatement.object_type)
            .where(LearningStatement.actor_id == user_id(app, username))
            .order_by(LearningStatement.id))]


def test_an_assignment_with_a_relative_due_date_counts_from_joining(app, world, trainer):
    course_id = course_with_lessons(trainer, world)
    audience_id = class_audience(trainer, world)
    response = assign(trainer, course_id, [audience_id], due_kind="after_joining",
                      due_days="30")
    page = follow(trainer, response)
    assert "Assigned: 2 people enrolled." in flashes(page)
    with app.app_context():
        rows = db.session.execute(
            select(User.username, Enrolment.due_at, AudienceMember.started_at,
                   Enrolment.required, Enrolment.unit_id)
            .join(Enrolment, Enrolment.user_id == User.id)
            .join(AudienceMember, AudienceMember.user_id == User.id)
            .where(Enrolment.course_id == course_id)).all()
    assert sorted(r.username for r in rows) == ["hv1", "hv2"]
    for row in rows:
        assert row.due_at == row.started_at + timedelta(days=30)
        assert (row.required, row.unit_id) == (True, world.class1)
    assert "Phạm Văn Một" in text(page)


def test_a_due_date_in_the_past_is_allowed_with_a_warning(app, world, trainer):
    course_id = course_with_lessons(trainer, world)
    audience_id = class_audience(trainer, world)
    yesterday = (utcnow() - timedelta(days=2)).date().isoformat()
    response = assign(trainer, course_id, [audience_id], due_kind="fixed", due_date=yesterday)
    page = follow(trainer, response)
    assert "The due date is in the past: everyone is overdue at once." in flashes(page)
    assert re.search(r"<strong>2</strong><span>Overdue</span>", page.get_data(as_text=True))
    learner = signed_in(app, "hv1")
    assert '<span class="badge overdue">Overdue</span>' in learner.client.get(
        "/learn").get_data(as_text=True)


def test_assigning_to_an_empty_audience_says_so_and_reaches_later_joiners(app, world, trainer):
    course_id = course_with_lessons(trainer, world)
    audience_id = create_audience(trainer, "Lớp mới", kind="static", scope_unit=world.academy)
    response = assign(trainer, course_id, [audience_id])
    page = follow(trainer, response)
    assert ("Lớp mới has no members now: people who join later are enrolled when they join."
            in flashes(page))
    assert "Assigned: 0 people enrolled." in flashes(page)
    trainer.post(f"/train/audiences/{audience_id}/members", {"usernames": "kt1"},
                 page=f"/train/audiences/{audience_id}")
    assert enrolment(app, "kt1", course_id).required is True


def test_an_assignment_needs_someone_and_a_complete_due_date(app, world, trainer):
    course_id = course_with_lessons(trainer, world)
    nobody = assign(trainer, course_id, [])
    assert nobody.status_code == 422
    assert "Choose at least one audience or person." in flashes(nobody)
    audience_id = class_audience(trainer, world)
    no_date = assign(trainer, course_id, [audience_id], due_kind="fixed")
    assert "Give the due date." in flashes(no_date)
    no_days = assign(trainer, course_id, [audience_id], due_kind="after_joining")
    assert "Give the number of days, from 1 to 3650." in flashes(no_days)
    ghost = assign(trainer, course_id, [], people="hv1\nghost")
    assert "No such people: ghost." in flashes(ghost)
    with app.app_context():
        assert db.session.scalar(select(func.count(Enrolment.id))) == 0


def test_enrolment_is_idempotent(app, world, trainer):
    course_id = course_with_lessons(trainer, world)
    audience_id = class_audience(trainer, world)
    response = assign(trainer, course_id, [audience_id], people="kt1")
    assignment_page = response.headers["Location"]

    def counts():
        with app.app_context():
            return (db.session.scalar(select(func.count(Enrolment.id))),
                    db.session.scalar(select(func.count(AssignmentLearner.id))),
                    db.session.scalar(select(func.count(LearningStatement.id))))

    before = counts()
    assert before == (3, 3, 3)
    for _ in range(2):
        again = trainer.post(f"{assignment_page}/resync", page=assignment_page)
        assert "Enrolment is running again." in flashes(follow(trainer, again))
    assert counts() == before
    with app.app_context():
        jobs = db.session.scalars(select(Job).where(Job.name == "training.enrol")).all()
        assert [(j.status, j.result) for j in jobs] == [("done", {"newly_enrolled": 0})] * 2


def test_a_large_audience_is_enrolled_by_a_job_with_progress(app, world, trainer):
    app.config["AUDIENCE_INLINE_CHANGES"] = 1
    course_id = course_with_lessons(trainer, world)
    audience_id = create_audience(trainer, "Cả khoa", scope_unit=world.academy)
    apply_rule(trainer, audience_id, g0={"unit": [world.faculty], "subunits": True})
    response = assign(trainer, course_id, [audience_id])
    assert ("The assignment is saved; enrolling its people runs in the background."
            in flashes(follow(trainer, response)))
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.name == "training.enrol"))
        assert (job.status, job.progress_done, job.progress_total, job.result) == (
            "done", 3, 3, {"newly_enrolled": 3})
        assert job.message == "3 of 3 people enrolled."


def test_someone_who_leaves_keeps_progress_but_it_is_no_longer_required(app, world, trainer):
    course_id = course_with_lessons(trainer, world)
    audience_id = class_audience(trainer, world)
    assign(trainer, course_id, [audience_id], due_kind="after_assigned", due_days="14")
    learner = signed_in(app, "hv1")
    first = lesson_ids(app, course_id)[0]
    learner.client.get(f"/courses/{course_id}/lessons/{first}")
    admin = signed_in(app, "admin")
    hv1 = user_id(app, "hv1")
    admin.post(f"/admin/users/{hv1}", edit_form(app, "hv1", unit_id=str(world.other_faculty)),
               page=f"/admin/users/{hv1}")
    kept = enrolment(app, "hv1", course_id)
    assert (kept.required, kept.required_done, kept.due_at, kept.unit_id) == (
        False, 1, None, world.other_faculty)
    assert "No longer required" in text(learner.client.get("/learn"))
    page = text(trainer.client.get("/train/assignments/1?status=left"))
    assert "Phạm Văn Một" in page
    # Coming back makes it required again, with a new due date.
    admin.post(f"/admin/users/{hv1}", edit_form(app, "hv1", unit_id=str(world.class1)),
               page=f"/admin/users/{hv1}")
    back = enrolment(app, "hv1", course_id)
    assert (back.required, back.required_done) == (True, 1)
    assert back.due_at > utcnow() + timedelta(days=13)


def test_the_assignment_page_lists_learners_a_page_at_a_time(app, world, trainer):
    app.config["TRAINING_PAGE_SIZE"] = 2
    course_id = course_with_lessons(trainer, world)
    audience_id = class_audience(trainer, world, unit=world.faculty, name="Khoa")
    response = assign(trainer, course_id, [audience_id])
    path = response.headers["Location"]
    first = text(trainer.client.get(path))
    second = text(trainer.client.get(f"{path}?page=2"))
    assert "3 learners" in first
    assert [n for n in ("Phạm Văn Ba", "Phạm Văn Hai") if n in first] == ["Phạm Văn Ba",
                                                                         "Phạm Văn Hai"]
    assert "Phạm Văn Một" in second and "Phạm Văn Ba" not in second
    assert "Page 2 of 2" in second
    assert "Phạm Văn Hai" in text(trainer.client.get(f"{path}?q=hai"))


def test_an_assignment_starting_later_keeps_its_lessons_closed(app, world, trainer):
    course_id = course_with_lessons(trainer, world)
    audience_id = class_audience(trainer, world)
    later = (utcnow() + timedelta(days=5)).date()
    assign(trainer, course_id, [audience_id], due_kind="fixed",
           due_date=(later + timedelta(days=30)).isoformat(), start_date=later.isoformat())
    learner = signed_in(app, "hv1")
    response = learner.client.get(f"/courses/{course_id}/lessons/{lesson_ids(app, course_id)[0]}")
    assert response.status_code == 403
    assert "This course opens on" in text(response)


def test_learners_join_open_courses_themselves(app, world, trainer):
    open_id = course_with_lessons(trainer, world, self_enrol=True, title="Khóa mở")
    closed_id = course_with_lessons(trainer, world, title="Khóa đóng")
    learner = signed_in(app, "kt1")
    dashboard = text(learner.client.get("/learn"))
    assert "Khóa mở" in dashboard and "Khóa đóng" not in dashboard
    response = learner.post(f"/courses/{open_id}/enrol", page=f"/courses/{open_id}")
    assert "You are enrolled in Khóa mở." in flashes(follow(learner, response))
    joined = enrolment(app, "kt1", open_id)
    assert (joined.source, joined.required, joined.due_at) == ("self", False, None)
    # A second click changes nothing.
    learner.post(f"/courses/{open_id}/enrol", page=f"/courses/{open_id}")
    with app.app_context():
        assert db.session.scalar(select(func.count(Enrolment.id)).where(
            Enrolment.course_id == open_id)) == 1
    assert learner.client.get(f"/courses/{closed_id}").status_code == 404
    refused = learner.client.post(f"/courses/{closed_id}/enrol",
                                  data={"csrf_token": token(learner)})
    assert refused.status_code == 404


def test_a_lesson_of_a_course_one_is_not_enrolled_in_is_refused_with_a_reason(
        app, world, trainer):
    course_id = course_with_lessons(trainer, world)
    class_audience(trainer, world)
    open_id = course_with_lessons(trainer, world, self_enrol=True, title="Khóa mở")
    outsider = signed_in(app, "kt1")
    response = outsider.client.get(f"/courses/{course_id}/lessons/{lesson_ids(app, course_id)[0]}")
    assert response.status_code == 403
    assert ("This lesson belongs to a course you are not enrolled in. Ask your training officer "
            "to assign the course to you.") in text(response)
    response = outsider.client.get(f"/courses/{open_id}/lessons/{lesson_ids(app, open_id)[0]}")
    assert response.status_code == 403
    assert ("You are not enrolled in this course. Enrol on the course page first, then open "
            "its lessons.") in text(response)
    assert statements(app, "kt1") == []


def test_completing_twice_at_the_same_moment_counts_once(app, world, trainer):
    course_id = course_with_lessons(trainer, world, sequential=False)
    assign(trainer, course_id, [class_audience(trainer, world)])
    learner = signed_in(app, "hv1")
    page_lesson = lesson_ids(app, course_id)[2]
    url = f"/courses/{course_id}/lessons/{page_lesson}"
    learner.client.get(url)
    csrf = token(learner, url)
    first = learner.client.post(f"{url}/done", data={"csrf_token": csrf})
    second = learner.client.post(f"{url}/done", data={"csrf_token": csrf})
    assert (first.status_code, second.status_code) == (302, 302)
    state = enrolment(app, "hv1", course_id)
    assert (state.required_done, state.items_done) == (1, 1)
    assert statements(app, "hv1").count(("completed", "lesson")) == 1


def test_statements_are_append_only(app, world, trainer):
    course_id = course_with_lessons(trainer, world)
    assign(trainer, course_id, [class_audience(trainer, world)])
    with app.app_context():
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(update(LearningStatement).values(verb="passed"))
        db.session.rollback()
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(sql("DELETE FROM learning_statements"))
        db.session.rollback()
        assert db.session.scalar(select(func.count(LearningStatement.id))) == 2


def test_time_on_a_lesson_page_is_counted(app, world, trainer):
    course_id = course_with_lessons(trainer, world)
    assign(trainer, course_id, [class_audience(trainer, world)])
    learner = signed_in(app, "hv1")
    first = lesson_ids(app, course_id)[0]
    url = f"/courses/{course_id}/lessons/{first}"
    learner.client.get(url)
    with app.app_context():
        from lms.training.models import LessonProgress

        db.session.execute(update(LessonProgress).values(
            last_seen_at=utcnow() - timedelta(seconds=40)))
        db.session.commit()
    beat = learner.client.post(f"{url}/time", headers={"X-CSRFToken": token(learner, url)})
    assert beat.status_code == 200
    assert 40 <= beat.get_json()["added"] <= 45
    assert enrolment(app, "hv1", course_id).time_spent_seconds == beat.get_json()["added"]
    # Without the CSRF header the heartbeat is refused.
    assert learner.client.post(f"{url}/time").status_code == 400


def test_learn_lists_overdue_first(app, world, trainer):
    soon = course_with_lessons(trainer, world, title="Hạn sau")
    late = course_with_lessons(trainer, world, title="Quá hạn")
    audience_id = class_audience(trainer, world)
    assign(trainer, soon, [audience_id], due_kind="fixed",
           due_date=(utcnow() + timedelta(days=10)).date().isoformat())
    assign(trainer, late, [audience_id], due_kind="fixed",
           due_date=(utcnow() - timedelta(days=3)).date().isoformat())
    page = text(signed_in(app, "hv1").client.get("/learn"))
    assert page.index("Quá hạn") < page.index("Hạn sau")


def test_the_journey_from_course_to_completion(app, world, trainer):
    """The issue's "done when", through the forms: build, assign with a relative due date,
    import a new person into the unit, learn in order, complete."""
    course_id = course_with_lessons(trainer, world)
    audience_id = class_audience(trainer, world)
    response = assign(trainer, course_id, [audience_id], due_kind="after_joining",
                      due_days="30")
    assert response.status_code == 302

    admin = signed_in(app, "admin")
    data = ("username,full_name,person_code,unit,rank,position,cohort,target_group,roles,email\n"
            f"hv9,Hoàng Văn Chín,QN-9,{ACADEMY}/Khoa Hậu cần/Lớp 1,Binh nhì,,K45,cadets,,\n")
    response = admin.post("/admin/people/import", {"people": (io.BytesIO(data.encode()),
                                                              "nguoi-moi.csv")},
                          page="/admin/people/import", content_type="multipart/form-data")
    job_page = response.headers["Location"]
    assert "1 created" in text(admin.client.get(job_page))
    passwords = admin.post(f"{job_page}/passwords", page=job_page)
    [row] = list(csv.reader(io.StringIO(passwords.get_data(as_text=True).lstrip("\ufeff"))))[1:]
    new = enrolment(app, "hv9", course_id)
    with app.app_context():
        joined = db.session.scalar(select(AudienceMember.started_at).where(
            AudienceMember.audience_id == audience_id,
            AudienceMember.user_id == user_id(app, "hv9")))
    assert (new.required, new.due_at) == (True, joined + timedelta(days=30))

    from tests.conftest import Browser

    learner = Browser(app.test_client())
    learner.post("/language", {"language": "en"})
    assert learner.login("hv9", row[2]).status_code == 302
    changed = learner.post("/account/password", {
        "current_password": row[2], "new_password": "một mật khẩu mới của tôi",
        "confirm": "một mật khẩu mới của tôi"}, page="/account/password")
    assert changed.status_code == 302
    dashboard = text(learner.client.get("/learn"))
    assert "Kỹ năng số cơ bản" in dashboard
    assert "0 of 3 required lessons" in dashboard

    first, second, last = lesson_ids(app, course_id)
    # In order: the second and third stay locked, even by their address.
    locked = learner.client.get(f"/courses/{course_id}/lessons/{second}")
    assert locked.status_code == 403
    assert ("This lesson is locked: lessons of this course are taken in order, and it opens "
            "once you complete “Kỹ năng số cơ bản cho cán bộ”.") in text(locked)
    material = learner.client.get(f"/courses/{course_id}/lessons/{first}")
    assert material.status_code == 200
    assert "Kỹ năng số cơ bản cho cán bộ" in text(material)
    assert learner.client.get(f"/courses/{course_id}/lessons/{second}").status_code == 200
    page_url = f"/courses/{course_id}/lessons/{last}"
    assert "Ba thói quen số mỗi ngày." in text(learner.client.get(page_url))
    done = learner.post(f"{page_url}/done", page=page_url)
    assert "You have completed the course Kỹ năng số cơ bản." in flashes(
        follow(learner, done))

    finished = enrolment(app, "hv9", course_id)
    assert (finished.status, finished.required_done, finished.required_total) == (
        "completed", 3, 3)
    dashboard = text(learner.client.get("/learn"))
    assert "Completed on" in dashboard
    assert statements(app, "hv9") == [
        ("registered", "course"),
        ("experienced", "lesson"), ("completed", "lesson"),
        ("experienced", "lesson"), ("completed", "lesson"),
        ("experienced", "lesson"), ("completed", "lesson"),
        ("completed", "course")]
    # The trainer sees it on the assignment page.
    assignment_page = text(trainer.client.get("/train/assignments/1?status=completed"))
    assert "Hoàng Văn Chín" in assignment_page
