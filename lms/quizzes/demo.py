"""Demo quiz content: a bank of digital-skills questions (imported through the CSV import, as a
trainer would) and the ministry's 30-question test as the last lesson of the demo course
"Kỹ năng số cơ bản". Running it again changes nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from lms.auth.services import find_user
from lms.extensions import db
from lms.quizzes import banks, quizzes, transfer
from lms.quizzes.models import BankSharing, QuestionBank
from lms.training.models import Course, Lesson, LessonKind

BANK_NAME = "Ngân hàng câu hỏi Kỹ năng số cơ bản"
COURSE_TITLE = "Kỹ năng số cơ bản"

# The bank as a trainer would write it: the CSV of the import page.
BANK_FILE = Path(__file__).with_name("demo_bank.csv")


def load_quiz_demo() -> bool:
    """The demo bank and the demo course's final test; returns whether the test was added."""
    trainer = find_user("huanluyen")
    course = db.session.scalar(select(Course).where(Course.title == COURSE_TITLE))
    if trainer is None or course is None or not trainer.is_demo:
        return False
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.name == BANK_NAME))
    if bank is None:
        bank = banks.create_bank(trainer, banks.BankInput(
            name=BANK_NAME, sharing=BankSharing.UNIT, unit_id=trainer.unit_id,
            description="Câu hỏi kiểm tra kỹ năng số cơ bản theo mô hình của Bộ Quốc phòng."))
        transfer.import_bank(trainer, bank, BANK_FILE.read_bytes(), BANK_FILE.name,
                             create_categories=True)
    if db.session.scalar(select(Lesson.id).where(Lesson.course_id == course.id,
                                                 Lesson.kind == LessonKind.QUIZ)):
        return False
    db.session.refresh(course)
    quizzes.create_course_quiz(trainer, course, course.lock_version,
                               preset=quizzes.DIGITAL_SKILLS, bank=bank,
                               title="Kiểm tra kỹ năng số")
    return True
