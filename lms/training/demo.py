"""Demo training content, written for the demo: the course "Kỹ năng số cơ bản" from the demo
materials and a page, a rule-based audience of the demo learner's unit, and an assignment due
in 30 days. Running it again changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import PersonTerm, TermKind, User
from lms.accounts.services import find_unit
from lms.auth.services import find_user
from lms.catalog.models import Record
from lms.db import utcnow
from lms.demo import ACADEMY
from lms.extensions import db
from lms.training import assignments, audiences, courses
from lms.training.models import Assignment, Audience, AudienceKind, Course, CourseStatus, DueKind
from lms.uow import unit_of_work

COURSE_TITLE = "Kỹ năng số cơ bản"
AUDIENCE_NAME = "Học viên Lớp Hậu cần 1"
LEARNER_UNIT = f"{ACADEMY}/Khoa Hậu cần/Lớp Hậu cần 1"
# Materials every demo learner may read, in the order they are taught.
LESSON_RECORDS = ("demo-ky-nang-so", "demo-an-toan-thong-tin", "demo-xang-dau")
PAGE_TITLE = "Tổng kết: thực hành kỹ năng số hằng ngày"
PAGE_BODY = """<h2>Ba thói quen số mỗi ngày</h2>
<ol>
<li>Đăng nhập bằng mật khẩu mạnh và không dùng chung mật khẩu giữa các hệ thống.</li>
<li>Kiểm tra người gửi trước khi mở tệp đính kèm trên mạng quân sự.</li>
<li>Tra cứu học liệu trên Kho học liệu số thay vì sao chép tài liệu qua USB.</li>
</ol>
<p>Đánh dấu đã đọc trang này để hoàn thành khóa học.</p>"""

DEMO_PROFILES = {
    # username: (rank code, position code, target group code, cohort, year)
    "hocvien": ("binh-nhat", "hoc-vien", "cadets", "K45", 1),
    "huanluyen": ("dai-uy", "tro-ly", "staff", None, None),
    "giangvien": ("thieu-ta", "giang-vien", "lecturers", None, None),
}


def _term(kind: TermKind, code: str) -> PersonTerm | None:
    return db.session.scalar(select(PersonTerm).where(PersonTerm.kind == kind,
                                                      PersonTerm.code == code))


def _describe_people() -> None:
    """Ranks, positions and target groups of the demo accounts (left alone once set)."""
    with unit_of_work():
        for username, (rank, position, group, cohort, year) in DEMO_PROFILES.items():
            user = find_user(username)
            if user is None or not user.is_demo or user.rank_id is not None:
                continue
            user.rank = _term(TermKind.RANK, rank)
            user.position = _term(TermKind.POSITION, position)
            user.target_group = _term(TermKind.TARGET_GROUP, group)
            user.cohort, user.cohort_year = cohort, year
        trainer = find_user("huanluyen")
        academy = find_unit(ACADEMY)
        if trainer is not None and trainer.is_demo and trainer.unit_id != academy.id:
            trainer.unit = academy  # demos made before trainers managed whole units


def load_training_demo() -> bool:
    """Create what is missing of the training demo; returns whether the course was made."""
    admin, trainer = find_user("admin"), find_user("huanluyen")
    if admin is None or trainer is None:
        return False
    _describe_people()
    db.session.refresh(trainer)
    course = db.session.scalar(select(Course).where(Course.title == COURSE_TITLE))
    if course is not None:
        return False
    records = [db.session.scalar(select(Record).where(Record.external_id == external_id))
               for external_id in LESSON_RECORDS]
    if any(r is None or not r.is_published for r in records):
        return False
    course = courses.create_course(trainer, courses.CourseInput(
        title=COURSE_TITLE, sequential=True, estimated_hours=2,
        target_group=_term(TermKind.TARGET_GROUP, "cadets"),
        description="Khóa học nền tảng của phong trào Bình dân học vụ số: sử dụng máy tính, "
                    "an toàn thông tin và tra cứu học liệu số. Các bài học mở lần lượt."))
    # The admin adds the materials: the trainer may not read the unit-restricted one, which
    # the demo learner's faculty may.
    for record, minutes in zip(records, (30, 25, 40), strict=True):
        courses.add_lesson(admin, course, courses.LessonInput(
            kind="record", record_id=record.id, duration_minutes=minutes), course.lock_version)
        db.session.refresh(course)
    courses.add_lesson(trainer, course, courses.LessonInput(
        kind="page", title=PAGE_TITLE, body=PAGE_BODY, duration_minutes=10),
        course.lock_version)
    db.session.refresh(course)
    courses.set_course_status(trainer, course, CourseStatus.PUBLISHED, course.lock_version)
    audience = _audience(trainer)
    if not db.session.scalar(select(Assignment.id).where(Assignment.course_id == course.id)):
        assignments.create_assignment(trainer, course=course, audiences=[audience],
                                      due=assignments.DueSpec(
                                          kind=DueKind.FIXED,
                                          due_at=utcnow() + timedelta(days=30)))
    return True


def _audience(trainer: User) -> Audience:
    audience = db.session.scalar(select(Audience).where(Audience.name == AUDIENCE_NAME))
    if audience is not None:
        return audience
    unit = find_unit(LEARNER_UNIT)
    audience = audiences.create_audience(
        trainer, name=AUDIENCE_NAME, description="Mọi người thuộc Lớp Hậu cần 1 (tự cập nhật).",
        kind=AudienceKind.RULE, scope_unit=trainer.unit)
    audiences.apply_rule(trainer, audience, {"combine": "all", "groups": [
        {"combine": "all", "conditions": [
            {"field": "unit", "values": [unit.id], "subunits": True}]}]},
        audience.lock_version)
    db.session.refresh(audience)
    return audience
