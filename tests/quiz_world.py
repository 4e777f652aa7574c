"""Question banks and quizzes for tests, on top of the training world (``tests.training_world``):
a bank of the four question types, a course ending with a quiz, and helpers that read an
attempt's key from the database (what only a test may do) to answer right or wrong."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from lms.accounts.models import User
from lms.extensions import db
from lms.quizzes import banks, quizzes, transfer
from lms.quizzes.models import (
    AttemptQuestion,
    BankSharing,
    QuestionBank,
    QuestionType,
    QuestionVersion,
    QuizAttempt,
)
from lms.training import assignments, courses
from lms.training.models import CourseStatus, DueKind
from tests.conftest import Browser
from tests.training_world import World, build_world

HEADER = ["category", "type", "text", "option_a", "option_b", "option_c", "option_d",
          "correct", "points", "explanation", "record", "difficulty", "feedback_a",
          "feedback_b"]
# Markers that must never reach a learner before the attempt is graded.
FEEDBACK_MARK = "PHẢN-HỒI-BÍ-MẬT"
EXPLANATION_MARK = "GIẢI-THÍCH-BÍ-MẬT"


def bank_csv(per_category: int = 12, categories=("Kỹ năng số / Máy tính",
                                                 "An toàn thông tin / Mật khẩu",
                                                 "An toàn thông tin / Lừa đảo")) -> bytes:
    """Single-choice questions (correct option rotating A-D), difficulties in turn."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    number = 0
    for category in categories:
        for _ in range(per_category):
            number += 1
            letter = "abcd"[number % 4]
            writer.writerow([category, "single", f"Câu hỏi số {number} về {category}?",
                             *(f"Phương án {c.upper()} của câu {number}" for c in "abcd"),
                             letter, "1", f"{EXPLANATION_MARK} {number}", "",
                             ("easy", "medium", "hard")[number % 3],
                             f"{FEEDBACK_MARK} a{number}", f"{FEEDBACK_MARK} b{number}"])
    return out.getvalue().encode()


def mixed_csv() -> bytes:
    """One question of each type, with feedback and explanations."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerow(["Tổng hợp", "single", "Phím tắt nào sao chép?", "Ctrl + C", "Ctrl + V",
                     "Ctrl + X", "Ctrl + Z", "a", "1", f"{EXPLANATION_MARK} 1", "", "easy",
                     f"{FEEDBACK_MARK} 1a", f"{FEEDBACK_MARK} 1b"])
    writer.writerow(["Tổng hợp", "multiple_partial", "Thiết bị nào là thiết bị nhập?",
                     "Bàn phím", "Chuột", "Máy in", "Loa", "a,b", "1",
                     f"{EXPLANATION_MARK} 2", "", "medium", f"{FEEDBACK_MARK} 2a", ""])
    writer.writerow(["Tổng hợp", "truefalse", "Nên dùng chung một mật khẩu cho mọi tài khoản.",
                     "", "", "", "", "false", "1", f"{EXPLANATION_MARK} 3", "", "easy",
                     f"{FEEDBACK_MARK} 3t", f"{FEEDBACK_MARK} 3f"])
    writer.writerow(["Tổng hợp", "matching", "Ghép phần mềm với công việc.",
                     "Soạn thảo -> Công văn", "Bảng tính -> Bảng lương",
                     "Trình chiếu -> Báo cáo", "", "", "1", f"{EXPLANATION_MARK} 4", "",
                     "hard", "", ""])
    return out.getvalue().encode()


@dataclass
class QuizWorld:
    world: World
    bank: int
    course: int
    quiz: int
    lesson: int


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def make_bank(owner: User, data: bytes, name: str = "Ngân hàng kỹ năng số") -> QuestionBank:
    bank = banks.create_bank(owner, banks.BankInput(name=name, sharing=BankSharing.UNIT,
                                                    unit_id=owner.unit_id))
    report = transfer.import_bank(owner, bank, data, "bank.csv", create_categories=True)
    assert not report.failed, [(r.number, r.problems) for r in report.errors]
    return bank


def build_quiz_world(app: Flask, *, preset: bool = False, learners=("hv1", "hv2"),
                     **settings) -> QuizWorld:
    """A bank, a published course "Kỹ năng số" of a page then a quiz, assigned to
    ``learners``. The quiz is the 30/45/80 preset (``preset``) or the four mixed questions,
    fixed, with ``settings`` (time limit 10 minutes and pass mark 75% unless given)."""
    world = build_world(app)
    with app.app_context():
        trainer = user("trainer")
        bank = make_bank(trainer, bank_csv() if preset else mixed_csv())
        course = courses.create_course(trainer, courses.CourseInput(title="Kỹ năng số"))
        courses.add_lesson(trainer, course, courses.LessonInput(
            kind="page", title="Đọc trước", body="Đọc kỹ trước khi làm bài."),
            course.lock_version)
        db.session.refresh(course)
        if preset:
            quiz = quizzes.create_course_quiz(trainer, course, course.lock_version,
                                              preset=quizzes.DIGITAL_SKILLS, bank=bank)
        else:
            quiz = quizzes.create_course_quiz(trainer, course, course.lock_version,
                                              title="Bài kiểm tra")
            values = {"title": "Bài kiểm tra", "time_limit_minutes": 10,
                      "pass_percent": 75.0, "shuffle_questions": True,
                      "shuffle_options": True, **settings}
            quizzes.update_quiz(trainer, quiz, quizzes.QuizInput(**values), quiz.lock_version)
            questions = db.session.scalars(select(banks.Question).where(
                banks.Question.bank_id == bank.id).order_by(banks.Question.id)).all()
            quizzes.add_questions(trainer, quiz, questions, quiz.lock_version)
            quizzes.set_status(trainer, quiz, "published", quiz.lock_version)
        db.session.refresh(course)
        courses.set_course_status(trainer, course, CourseStatus.PUBLISHED, course.lock_version)
        if learners:
            assignments.create_assignment(
                trainer, course=course, people=[user(name) for name in learners],
                due=assignments.DueSpec(kind=DueKind.NONE))
        lesson = courses.current_lessons(course.id)[-1]
        return QuizWorld(world, bank.id, course.id, quiz.id, lesson.id)


# --- reading an attempt's key (tests only) -------------------------------------------------

def attempt_of(app: Flask, username: str, quiz_id: int) -> QuizAttempt:
    with app.app_context():
        found = db.session.scalar(select(QuizAttempt).join(User, User.id == QuizAttempt.user_id)
                                  .where(User.username == username,
                                         QuizAttempt.quiz_id == quiz_id)
                                  .order_by(QuizAttempt.number.desc()))
        db.session.expunge(found)
        return found


def answers(app: Flask, attempt_id: int, *, right: int | None = None) -> list[dict]:
    """A save body per question: the first ``right`` questions answered correctly (all when
    None), the others wrongly."""
    bodies = []
    with app.app_context():
        rows = db.session.execute(select(AttemptQuestion, QuestionVersion).join(
            QuestionVersion, QuestionVersion.id == AttemptQuestion.version_id).where(
            AttemptQuestion.attempt_id == attempt_id).order_by(AttemptQuestion.slot)).all()
        for index, (row, version) in enumerate(rows):
            correct = right is None or index < right
            bodies.append({"slot": row.slot, "answer": _answer(row, version, correct)})
    return bodies


def _answer(row, version, correct: bool):
    options = {o["key"]: o for o in version.options}
    if version.type == QuestionType.MATCHING:
        prompts, answers_ = row.choices["prompts"], row.choices["answers"]
        by_key = {k: t for t, k in answers_}
        keys = [k for _t, k in prompts]
        targets = keys if correct else keys[1:] + keys[:1]
        return {t: by_key[target] for (t, _k), target in zip(prompts, targets, strict=True)}
    tokens = [t for t, k in row.choices if bool(options[k].get("correct")) == correct]
    return tokens if version.type == QuestionType.MULTIPLE or not tokens else tokens[:1]


def save(browser: Browser, attempt_id: int, body: dict, seq: int, token: str):
    return browser.client.post(f"/quizzes/attempts/{attempt_id}/answers",
                               json={**body, "seq": seq},
                               headers={"X-CSRFToken": token, "Accept": "application/json"})


def start(browser: Browser, quiz_id: int):
    return browser.post(f"/quizzes/{quiz_id}/start", page=f"/quizzes/{quiz_id}")


def attempt_id_from(response) -> int:
    return int(re.search(r"/quizzes/attempts/(\d+)", response.headers["Location"]).group(1))
