"""Courses and tracks over HTTP: building a course from repository materials and pages,
publishing, concurrent edits, editing a course people follow, materials withdrawn or not
readable, owners and who may edit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.catalog.models import Record
from lms.extensions import db
from lms.training.models import Course, Enrolment, Lesson, LessonProgress
from tests.training_world import (
    add_page_lesson,
    add_record_lesson,
    apply_rule,
    assign,
    create_audience,
    create_course,
    flashes,
    follow,
    lock_on,
    set_status,
    signed_in,
    text,
)

pytestmark = pytest.mark.functional


def lessons_of(app, course_id: int, *, removed: bool = False) -> list[tuple]:
    with app.app_context():
        stmt = select(Lesson.title, Lesson.kind, Lesson.record_id, Lesson.required).where(
            Lesson.course_id == course_id).order_by(Lesson.position)
        if not removed:
            stmt = stmt.where(Lesson.removed_at.is_(None))
        return [tuple(row) for row in db.session.execute(stmt)]


def course_row(app, course_id: int) -> Course:
    with app.app_context():
        found = db.session.get(Course, course_id)
        db.session.expunge(found)
        return found


def test_a_trainer_builds_a_course_from_repository_materials_and_a_page(app, world, trainer):
    course_id = create_course(trainer, "Kỹ năng số cơ bản")
    # The editor searches the repository for materials.
    found = text(trainer.client.get(f"/train/courses/{course_id}/lessons/new?kind=record"
                                    "&q=an+toàn+thông+tin"))
    assert "An toàn thông tin trên mạng quân sự" in found
    assert f"record_id={world.internal_record}" in found
    assert f"record_id={world.finance_record}" not in found  # the trainer may not read it
    response = add_record_lesson(trainer, course_id, world.internal_record)
    assert "Lesson added." in flashes(follow(trainer, response))
    add_record_lesson(trainer, course_id, world.public_record, title="Bài 2: kỹ năng số",
                      required=False)
    response = add_page_lesson(trainer, course_id, "Tổng kết",
                               '<h2>Ghi nhớ</h2><p onclick="steal()">Đọc kỹ'
                               '<script>alert(1)</script></p><img src="http://evil/x.png">')
    assert response.status_code == 302
    assert lessons_of(app, course_id) == [
        ("An toàn thông tin trên mạng quân sự", "record", world.internal_record, True),
        ("Bài 2: kỹ năng số", "record", world.public_record, False),
        ("Tổng kết", "page", None, True)]
    with app.app_context():
        body = db.session.scalar(select(Lesson.body_html).where(Lesson.title == "Tổng kết"))
    assert body == "<h2>Ghi nhớ</h2><p>Đọc kỹ</p><img>"

    response = set_status(trainer, course_id, "published")
    assert "The course is now: Published." in flashes(follow(trainer, response))
    assert course_row(app, course_id).status == "published"


def test_a_record_the_trainer_cannot_read_is_refused(app, world, trainer):
    course_id = create_course(trainer, "Khóa thử")
    response = add_record_lesson(trainer, course_id, world.finance_record)
    assert response.status_code == 422
    assert "Choose a published repository record you can read." in flashes(response)
    assert lessons_of(app, course_id) == []


def test_a_course_needs_a_required_lesson_to_be_published(app, world, trainer):
    course_id = create_course(trainer, "Trống")
    response = set_status(trainer, course_id, "published")
    assert ("A course needs at least one required lesson before it is published."
            in flashes(follow(trainer, response)))
    assert course_row(app, course_id).status == "draft"


def test_quiz_lessons_are_not_offered_yet(app, world, trainer):
    course_id = create_course(trainer, "Có bài kiểm tra")
    assert trainer.client.get(f"/train/courses/{course_id}/lessons/new?kind=quiz"
                              ).status_code == 404
    page = text(trainer.client.get(f"/train/courses/{course_id}"))
    assert "Add a material" in page
    assert "quiz" not in page.lower()


def test_two_trainers_editing_a_course_at_once(app, world, trainer):
    course_id = create_course(trainer, "Khóa chung")
    other = signed_in(app, "admin")
    # Both open the editor.
    lock = lock_on(trainer, f"/train/courses/{course_id}")
    assert lock_on(other, f"/train/courses/{course_id}") == lock
    form = {"title": "Tên của người thứ nhất", "description": "", "language": "vi",
            "target_group_id": "0", "estimated_hours": "", "cover_file_id": "0",
            "lock_version": lock}
    first = trainer.post(f"/train/courses/{course_id}", form, page=f"/train/courses/{course_id}")
    assert first.status_code == 302
    second = other.post(f"/train/courses/{course_id}", {**form, "title": "Tên thứ hai"},
                        page=f"/train/courses/{course_id}")
    assert second.status_code == 409
    assert ("This course was changed since you opened it (perhaps by another trainer). Reload "
            "it to see the changes, then make yours again.") in flashes(second)
    assert course_row(app, course_id).title == "Tên của người thứ nhất"
    # A lesson added from a stale page is refused the same way.
    page = f"/train/courses/{course_id}/lessons/new?kind=page"
    stale = other.post(page, {"kind": "page", "title": "Trang", "body": "Nội dung",
                              "required": "y", "lock_version": lock}, page=page)
    assert stale.status_code == 409
    assert lessons_of(app, course_id) == []


def publish_and_assign(app, trainer, world, *lessons) -> tuple[int, int]:
    """A sequential course of the given record lessons, assigned to Lớp 1."""
    course_id = create_course(trainer, "Khóa đang học")
    for record_id in lessons:
        add_record_lesson(trainer, course_id, record_id)
    set_status(trainer, course_id, "published")
    audience_id = create_audience(trainer, "Lớp 1", scope_unit=world.academy)
    apply_rule(trainer, audience_id, g0={"unit": [world.class1], "subunits": True})
    response = assign(trainer, course_id, [audience_id])
    assert response.status_code == 302, text(response)[:2000]
    return course_id, audience_id


def enrolment(app, username: str, course_id: int) -> dict:
    from lms.accounts.models import User

    with app.app_context():
        e = db.session.scalar(select(Enrolment).join(User, User.id == Enrolment.user_id).where(
            User.username == username, Enrolment.course_id == course_id))
        return {"status": e.status, "done": e.required_done, "total": e.required_total,
                "required": e.required, "due_at": e.due_at, "id": e.id}


def test_adding_a_required_lesson_leaves_completed_learners_complete_unless_chosen(
        app, world, trainer):
    course_id, _audience = publish_and_assign(app, trainer, world, world.public_record)
    learner = signed_in(app, "hv1")
    lesson_id = lessons_ids(app, course_id)[0]
    assert learner.client.get(f"/courses/{course_id}/lessons/{lesson_id}").status_code == 200
    assert enrolment(app, "hv1", course_id)["status"] == "completed"
    # A new required lesson, without reopening: hv1 stays complete; hv2 now has two to do.
    add_page_lesson(trainer, course_id, "Trang mới", "Nội dung mới")
    assert enrolment(app, "hv1", course_id) | {"id": 0} == {
        "status": "completed", "done": 1, "total": 2, "required": True,
        "due_at": None, "id": 0}
    assert enrolment(app, "hv2", course_id)["total"] == 2
    # Another one, reopening: hv1 is in progress again, their progress kept.
    add_page_lesson(trainer, course_id, "Trang bắt buộc", "Phải đọc", reopen=True)
    assert (enrolment(app, "hv1", course_id)["status"], enrolment(app, "hv1", course_id)["done"],
            enrolment(app, "hv1", course_id)["total"]) == ("in_progress", 1, 3)


def lessons_ids(app, course_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Lesson.id).where(
            Lesson.course_id == course_id, Lesson.removed_at.is_(None))
            .order_by(Lesson.position)))


def test_removing_a_lesson_keeps_learners_records(app, world, trainer):
    course_id, _audience = publish_and_assign(app, trainer, world, world.public_record,
                                              world.internal_record)
    first, second = lessons_ids(app, course_id)
    learner = signed_in(app, "hv1")
    learner.client.get(f"/courses/{course_id}/lessons/{first}")
    assert enrolment(app, "hv1", course_id)["done"] == 1
    response = trainer.post(f"/train/courses/{course_id}/lessons/{first}/remove",
                            {"lock_version": lock_on(trainer, f"/train/courses/{course_id}")},
                            page=f"/train/courses/{course_id}")
    assert ("Lesson “Kỹ năng số cơ bản cho cán bộ” removed; learners' progress on it is kept."
            in flashes(follow(trainer, response)))
    assert [t for t, *_ in lessons_of(app, course_id)] == ["An toàn thông tin trên mạng quân sự"]
    assert len(lessons_of(app, course_id, removed=True)) == 2
    with app.app_context():
        kept = db.session.scalar(select(func.count(LessonProgress.id)).where(
            LessonProgress.lesson_id == first))
    assert kept == 1
    state = enrolment(app, "hv1", course_id)
    assert (state["done"], state["total"], state["status"]) == (0, 1, "in_progress")
    # A removed lesson is gone for learners.
    assert learner.client.get(f"/courses/{course_id}/lessons/{first}").status_code == 404
    # The last required lesson of a published course stays.
    last = trainer.post(f"/train/courses/{course_id}/lessons/{second}/remove",
                        {"lock_version": lock_on(trainer, f"/train/courses/{course_id}")},
                        page=f"/train/courses/{course_id}")
    assert ("A published course keeps at least one required lesson."
            in flashes(follow(trainer, last)))


def test_lessons_are_reordered(app, world, trainer):
    course_id = create_course(trainer, "Sắp xếp")
    add_record_lesson(trainer, course_id, world.public_record)
    add_record_lesson(trainer, course_id, world.internal_record)
    second = lessons_ids(app, course_id)[1]
    response = trainer.post(f"/train/courses/{course_id}/lessons/{second}/up",
                            {"lock_version": lock_on(trainer, f"/train/courses/{course_id}")},
                            page=f"/train/courses/{course_id}")
    assert response.status_code == 302
    assert [r for _t, _k, r, _q in lessons_of(app, course_id)] == [world.internal_record,
                                                                   world.public_record]


def test_a_withdrawn_material_shows_its_tombstone_and_the_course_goes_on(app, world, trainer):
    course_id, _audience = publish_and_assign(app, trainer, world, world.internal_record,
                                              world.public_record)
    first, second = lessons_ids(app, course_id)
    with app.app_context():
        from lms.accounts.models import User
        from lms.catalog.workflow import withdraw

        curator = db.session.scalar(select(User).where(User.username == "curator"))
        withdraw(curator, db.session.get(Record, world.internal_record), "Nội dung đã cũ")
    warnings = text(trainer.client.get(f"/train/courses/{course_id}"))
    assert ("“An toàn thông tin trên mạng quân sự”: the material was withdrawn from the "
            "repository.") in warnings
    learner = signed_in(app, "hv1")
    page = learner.client.get(f"/courses/{course_id}/lessons/{first}")
    assert page.status_code == 200
    body = text(page)
    assert "This material has been withdrawn from the repository" in body
    assert "Reason: Nội dung đã cũ" in body
    # It counts as seen: the next lesson opens and the course can be completed.
    assert learner.client.get(f"/courses/{course_id}/lessons/{second}").status_code == 200
    assert enrolment(app, "hv1", course_id)["status"] == "completed"


def test_a_learner_who_may_not_read_a_material_is_told_whom_to_ask(app, world, trainer):
    # The admin may read the Khoa Tài chính material and puts it in a course for Lớp 1.
    admin = signed_in(app, "admin")
    course_id = create_course(admin, "Tài chính cho mọi người", sequential=False)
    add_record_lesson(admin, course_id, world.finance_record)
    set_status(admin, course_id, "published")
    audience_id = create_audience(admin, "Lớp 1", scope_unit=world.academy)
    apply_rule(admin, audience_id, g0={"unit": [world.class1], "subunits": True})
    assign(admin, course_id, [audience_id])
    warnings = text(admin.client.get(f"/train/courses/{course_id}"))
    assert ("“Quản lý tài chính đơn vị”: 2 of the 2 members checked of audience “Lớp 1” may "
            "not read this material.") in warnings
    learner = signed_in(app, "hv1")
    [lesson_id] = lessons_ids(app, course_id)
    page = text(learner.client.get(f"/courses/{course_id}/lessons/{lesson_id}"))
    assert "You may not read this material" in page
    assert ("Ask the trainers of this course (Quản trị) to choose another material, or the "
            "library staff who look after “Bộ sưu tập bdhvs” (Nguyễn Thị Thư) to grant you "
            "access.") in page
    assert "Quản lý tài chính đơn vị.pdf" not in page
    assert enrolment(app, "hv1", course_id)["done"] == 0


def test_only_owners_and_admins_edit_a_course(app, world, trainer):
    course_id = create_course(trainer, "Của tôi")
    other = signed_in(app, "trainer2")
    assert other.client.get(f"/train/courses/{course_id}").status_code == 404
    assert other.post(f"/train/courses/{course_id}/status", {"status": "archived",
                      "lock_version": "1"}, page="/train/").status_code == 404
    assert signed_in(app, "admin").client.get(f"/train/courses/{course_id}").status_code == 200
    # Owners are training officers; another one can be added.
    page = f"/train/courses/{course_id}"
    from tests.training_world import user_id

    refused = trainer.post(f"{page}/owners", {"owners": [str(user_id(app, "hv1"))],
                           "lock_version": lock_on(trainer, page)}, page=page)
    assert ("Only training officers can own a course: hv1."
            in flashes(follow(trainer, refused)))
    trainer.post(f"{page}/owners", {"owners": [str(user_id(app, "trainer")),
                 str(user_id(app, "trainer2"))], "lock_version": lock_on(trainer, page)},
                 page=page)
    assert other.client.get(page).status_code == 200


def test_a_draft_course_is_invisible_to_learners(app, world, trainer):
    course_id = create_course(trainer, "Nháp")
    learner = signed_in(app, "hv1")
    assert learner.client.get(f"/courses/{course_id}").status_code == 404


def test_a_track_completes_with_its_required_courses(app, world, trainer):
    first, _a = publish_and_assign(app, trainer, world, world.public_record)
    second = create_course(trainer, "Khóa hai")
    add_record_lesson(trainer, second, world.internal_record)
    set_status(trainer, second, "published")
    response = trainer.post("/train/tracks/new", {"title": "Lộ trình số", "description": ""},
                            page="/train/tracks/new")
    track_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = f"/train/tracks/{track_id}"
    for course_id in (first, second):
        trainer.post(f"{page}/courses", {"action": "add", "course": str(course_id),
                     "lock_version": lock_on(trainer, page)}, page=page)
    trainer.post(page, {"title": "Lộ trình số", "description": "", "status": "published",
                        "lock_version": lock_on(trainer, page)}, page=page)
    audience_id = create_audience(trainer, "Lớp 2", scope_unit=world.academy)
    apply_rule(trainer, audience_id, g0={"unit": [world.class2]})
    response = trainer.post(f"/train/assignments/new?track={track_id}", {
        "track": str(track_id), "audiences": [str(audience_id)], "due_kind": "after_assigned",
        "due_days": "60"}, page=f"/train/assignments/new?track={track_id}")
    assert response.status_code == 302, text(response)[:2000]
    learner = signed_in(app, "hv3")
    dashboard = text(learner.client.get("/learn"))
    assert "Lộ trình số" in dashboard
    assert "0 of 2 required courses" in dashboard
    for course_id in (first, second):
        for lesson_id in lessons_ids(app, course_id):
            learner.client.get(f"/courses/{course_id}/lessons/{lesson_id}")
    with app.app_context():
        from lms.accounts.models import User

        row = db.session.scalar(select(Enrolment).join(User, User.id == Enrolment.user_id)
                                .where(User.username == "hv3", Enrolment.track_id == track_id))
        assert (row.status, row.required_done, row.required_total) == ("completed", 2, 2)
    assert "Completed" in text(learner.client.get(f"/tracks/{track_id}"))


def test_an_archived_course_stays_on_its_learners_record_with_its_lessons_closed(
        app, world, trainer):
    course_id, _audience = publish_and_assign(app, trainer, world, world.public_record)
    [lesson_id] = lessons_ids(app, course_id)
    learner = signed_in(app, "hv1")
    learner.client.get(f"/courses/{course_id}/lessons/{lesson_id}")
    set_status(trainer, course_id, "archived")
    page = learner.client.get(f"/courses/{course_id}")
    assert page.status_code == 200
    assert ("This course is archived: its lessons are closed, your record of it is kept."
            in text(page))
    assert learner.client.get(f"/courses/{course_id}/lessons/{lesson_id}").status_code == 404
    assert "Khóa đang học" in text(learner.client.get("/learn"))
    # Someone never enrolled does not see it.
    assert signed_in(app, "kt1").client.get(f"/courses/{course_id}").status_code == 404


def test_the_cover_is_an_image_of_a_material_shown_to_those_who_may_see_it(app, world, trainer):
    import io

    from PIL import Image

    from lms.accounts.models import Unit, User
    from lms.catalog import deposit, workflow
    from lms.catalog.access_settings import AccessSettings
    from lms.catalog.models import AccessLevel, Collection
    from lms.files.upload import Upload, upload_files
    from tests.factories import statements

    picture = io.BytesIO()
    Image.new("RGB", (240, 160), (30, 110, 60)).save(picture, format="PNG")
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.username == "instructor"))
        curator = db.session.scalar(select(User).where(User.username == "curator"))
        collection = db.session.get(Collection, world.collection)
        # Readable by Khoa Hậu cần and its classes only.
        record = deposit.create_draft(owner, collection, statements("Ảnh bìa"), AccessSettings(
            level=AccessLevel.UNIT, units=[db.session.get(Unit, world.faculty)]))
        upload_files(owner, record, [Upload(io.BytesIO(picture.getvalue()), "bia.png")])
        workflow.submit(owner, record, record.lock_version)
        task = next(t for t in workflow.review_queue(curator).pool if t.record_id == record.id)
        workflow.claim(curator, task.id)
        workflow.accept(curator, task.id)
        record_id = record.id
    admin = signed_in(app, "admin")
    course_id = create_course(admin, "Có ảnh bìa", sequential=False)
    add_record_lesson(admin, course_id, record_id)
    page = f"/train/courses/{course_id}"
    form = text(admin.client.get(page))
    assert "bia.png" in form  # offered as a cover
    with app.app_context():
        from lms.files.models import RecordFile

        file_id = db.session.scalar(select(RecordFile.id).where(RecordFile.record_id == record_id))
    response = admin.post(page, {"title": "Có ảnh bìa", "description": "", "language": "vi",
                                 "target_group_id": "0", "estimated_hours": "",
                                 "cover_file_id": str(file_id), "self_enrol": "y",
                                 "lock_version": lock_on(admin, page)}, page=page)
    assert response.status_code == 302
    set_status(admin, course_id, "published")
    thumbnail = f"/records/{record_id}/files/{file_id}/thumbnail"
    assert thumbnail in text(signed_in(app, "hv1").client.get(f"/courses/{course_id}"))
    # Khoa Tài chính may not see the material: no cover for them, the course still opens.
    outsider = text(signed_in(app, "kt1").client.get(f"/courses/{course_id}"))
    assert "Có ảnh bìa" in outsider and thumbnail not in outsider
