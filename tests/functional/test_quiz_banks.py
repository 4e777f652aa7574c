"""Question banks through the trainers' forms: banks and sharing, categories, questions of
the four types, versions, correcting a key (regrade and notifications), images, quizzes with
random draws and the preset, quiz lessons, attempts and statistics pages."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from lms.extensions import db
from lms.notify.models import Notification
from lms.quizzes.models import (
    AttemptQuestion,
    Question,
    QuestionBank,
    QuestionCategory,
    QuestionImage,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizGrade,
    QuizSlot,
)
from lms.training.models import Lesson
from tests.quiz_world import answers, bank_csv, build_quiz_world, make_bank, save, start, user
from tests.training_world import flashes, follow, lock_on, signed_in, text, token

pytestmark = pytest.mark.functional


def new_bank(trainer, name: str = "Ngân hàng A", sharing: str = "private") -> int:
    response = trainer.post("/train/banks/new", {"name": name, "description": "",
                                                 "sharing": sharing, "unit_id": "0"},
                            page="/train/banks/new")
    assert response.status_code == 302, text(response)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def add_category(trainer, bank_id: int, name: str, parent: int = 0):
    return trainer.post(f"/train/banks/{bank_id}/categories",
                        {"action": "add", "name": name, "category": str(parent)},
                        page=f"/train/banks/{bank_id}")


def category_id(app, bank_id: int, path: str) -> int:
    with app.app_context():
        return db.session.scalar(select(QuestionCategory.id).where(
            QuestionCategory.bank_id == bank_id, QuestionCategory.path == path))


def question_form(category: int, text_: str, options=(), correct=(), **extra) -> dict:
    data = {"category_id": str(category), "difficulty": "medium", "text": text_,
            "points": "1", "explanation": "", "record_id": "", "correct": [str(c) for c in correct]}
    for index, option in enumerate(options):
        if isinstance(option, tuple):
            data[f"option-{index}"], data[f"match-{index}"] = option
        else:
            data[f"option-{index}"] = option
    data.update(extra)
    return data


def post_question(trainer, bank_id: int, kind: str, data: dict):
    page = f"/train/banks/{bank_id}/questions/new?type={kind}"
    return trainer.post(page, {"type": kind, **data}, page=page)


def test_a_trainer_builds_a_bank_with_nested_categories_and_four_question_types(app, world,
                                                                              trainer):
    bank_id = new_bank(trainer)
    assert add_category(trainer, bank_id, "Kỹ năng số").status_code == 302
    top = category_id(app, bank_id, "Kỹ năng số")
    add_category(trainer, bank_id, "An toàn thông tin", top)
    middle = category_id(app, bank_id, "Kỹ năng số / An toàn thông tin")
    add_category(trainer, bank_id, "Mật khẩu", middle)
    leaf = category_id(app, bank_id, "Kỹ năng số / An toàn thông tin / Mật khẩu")
    assert leaf is not None
    twice = add_category(trainer, bank_id, "Mật khẩu", middle)
    assert "The category “Kỹ năng số / An toàn thông tin / Mật khẩu” exists already." in \
        flashes(follow(trainer, twice))

    assert post_question(trainer, bank_id, "single", question_form(
        leaf, "Mật khẩu nào mạnh nhất?", ["123456", "Tr@m-Hai!Bon7"], [1],
        **{"feedback-0": "Quá ngắn"})).status_code == 302
    assert post_question(trainer, bank_id, "multiple", question_form(
        leaf, "Việc nào bảo vệ mật khẩu?", ["Không ghi ra giấy", "Dùng ngày sinh",
                                            "Bật 2FA"], [0, 2], partial="y")).status_code == 302
    assert post_question(trainer, bank_id, "truefalse", question_form(
        leaf, "Dùng chung mật khẩu là an toàn.", truth="false")).status_code == 302
    assert post_question(trainer, bank_id, "matching", question_form(
        leaf, "Ghép phần mềm và việc.", [("Word", "Văn bản"), ("Excel", "Bảng tính")],
        partial="y")).status_code == 302
    with app.app_context():
        versions = db.session.execute(select(QuestionVersion.type, QuestionVersion.options,
                                             QuestionVersion.partial)
                                      .order_by(QuestionVersion.id)).all()
    assert [v.type for v in versions] == ["single", "multiple", "truefalse", "matching"]
    assert [o["correct"] for o in versions[0].options] == [False, True]
    assert versions[0].options[0]["feedback"] == "Quá ngắn"
    assert ([o["correct"] for o in versions[1].options], versions[1].partial) == (
        [True, False, True], True)
    assert [(o["key"], o["correct"]) for o in versions[2].options] == [("t", False),
                                                                         ("f", True)]
    assert [(o["text"], o["match"]) for o in versions[3].options] == [
        ("Word", "Văn bản"), ("Excel", "Bảng tính")]
    page = text(trainer.client.get(f"/train/banks/{bank_id}?category={top}"))
    assert "4 questions" in page


@pytest.mark.parametrize(("kind", "data", "message"), [
    ("single", {"options": ["A", "B"], "correct": []}, "No option is marked correct."),
    ("single", {"options": ["A", "B"], "correct": [0, 1]},
     "A single-choice question has exactly one correct option; 2 are marked."),
    ("single", {"options": ["Ctrl + C", "ctrl +  c"], "correct": [0]},
     "Options A and B are the same."),
    ("multiple", {"options": ["A"], "correct": [0]},
     "A choice question needs at least two options."),
    ("matching", {"options": [("Word", "")], "correct": []},
     "A matching question needs at least two pairs."),
])
def test_a_malformed_question_is_refused_with_the_reason(app, world, trainer, kind, data,
                                                         message):
    bank_id = new_bank(trainer)
    add_category(trainer, bank_id, "Chung")
    response = post_question(trainer, bank_id, kind, question_form(
        category_id(app, bank_id, "Chung"), "Câu hỏi?", data["options"], data["correct"]))
    assert response.status_code == 422
    assert message in " ".join(flashes(response))
    with app.app_context():
        assert db.session.scalar(select(func.count(Question.id))) == 0


def test_editing_a_question_an_attempt_showed_makes_a_new_version(app):
    qw = build_quiz_world(app)
    learner = signed_in(app, "hv1")
    start(learner, qw.quiz)
    trainer = signed_in(app, "trainer")
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.type == "single"))
        shown_version = db.session.scalar(select(QuestionVersion.id).where(
            QuestionVersion.question_id == question.id))
        question_id, category = question.id, question.category_id
    page = f"/train/questions/{question_id}"
    assert "Attempts have shown this version" in text(trainer.client.get(page))
    response = trainer.post(page, {**question_form(
        category, "Phím tắt nào sao chép nội dung?", ["Ctrl + C", "Ctrl + V", "Ctrl + X"],
        [0]), "type": "single", "lock_version": lock_on(trainer, page)}, page=page)
    assert "Question saved as version 2: attempts that showed the earlier version keep it." in \
        flashes(follow(trainer, response))
    with app.app_context():
        assert db.session.get(Question, question_id).current_version == 2
        old = db.session.get(QuestionVersion, shown_version)
        assert old.text_html == "<p>Phím tắt nào sao chép?</p>"
        assert db.session.scalar(select(AttemptQuestion.version_id).where(
            AttemptQuestion.question_id == question_id)) == shown_version
    # A question no attempt showed is edited in place.
    with app.app_context():
        unused = db.session.scalar(select(Question).where(Question.type == "truefalse"))
        unused_id, unused_category = unused.id, unused.category_id
        db.session.execute(AttemptQuestion.__table__.delete().where(
            AttemptQuestion.question_id == unused_id))
        db.session.commit()
    page = f"/train/questions/{unused_id}"
    response = trainer.post(page, {**question_form(unused_category, "Dùng chung mật khẩu.",
                                                   truth="false"),
                                   "type": "truefalse", "lock_version": lock_on(trainer, page)},
                            page=page)
    assert "Question saved." in flashes(follow(trainer, response))
    with app.app_context():
        assert db.session.scalar(select(func.count(QuestionVersion.id)).where(
            QuestionVersion.question_id == unused_id)) == 1


def test_correcting_a_key_regrades_and_notifies_those_whose_result_changed(app):
    qw = build_quiz_world(app)
    with app.app_context():
        single = db.session.scalar(select(Question).where(Question.type == "single"))
        single_id = single.id
    results = {}
    for username in ("hv1", "hv2"):
        learner = signed_in(app, username)
        attempt_id = int(re.search(r"attempts/(\d+)", start(learner, qw.quiz)
                                   .headers["Location"]).group(1))
        csrf = token(learner, f"/quizzes/attempts/{attempt_id}/questions/1")
        bodies = answers(app, attempt_id)
        wrong = answers(app, attempt_id, right=0)
        with app.app_context():
            slot_of_single = db.session.scalar(select(AttemptQuestion.slot).where(
                AttemptQuestion.attempt_id == attempt_id,
                AttemptQuestion.question_id == single_id))
        for seq, body in enumerate(bodies, start=1):
            # hv1 answers the single-choice question with option "Ctrl + V" (wrong today).
            if username == "hv1" and body["slot"] == slot_of_single:
                body = wrong[body["slot"] - 1]
            save(learner, attempt_id, body, seq, csrf)
        learner.post(f"/quizzes/attempts/{attempt_id}/submit", page="/learn")
        results[username] = attempt_id
    with app.app_context():
        assert [db.session.get(QuizAttempt, results[u]).percent for u in ("hv1", "hv2")] == [
            75.0, 100.0]
        version_id = db.session.scalar(select(QuestionVersion.id).where(
            QuestionVersion.question_id == single_id))
        # The trainer finds that the key was wrong: hv1's answer was the right one.
        chosen = db.session.scalar(select(AttemptQuestion.answer).where(
            AttemptQuestion.attempt_id == results["hv1"],
            AttemptQuestion.question_id == single_id))
    trainer = signed_in(app, "trainer")
    response = trainer.post(f"/train/questions/{single_id}/key",
                            {"version": str(version_id), "correct": chosen},
                            page=f"/train/questions/{single_id}")
    assert ("The key is corrected: 2 attempts regraded, 2 results changed (their learners "
            "are notified).") in flashes(follow(trainer, response))
    with app.app_context():
        assert [db.session.get(QuizAttempt, results[u]).percent for u in ("hv1", "hv2")] == [
            100.0, 75.0]
        notes = db.session.execute(select(Notification.user_id, Notification.kind,
                                          Notification.params).where(
            Notification.kind == "quiz_regraded")).all()
        assert sorted((n.kind, n.params["before"], n.params["after"]) for n in notes) == [
            ("quiz_regraded", 75.0, 100.0), ("quiz_regraded", 100.0, 75.0)]
        grade = db.session.scalar(select(QuizGrade).where(
            QuizGrade.user_id == user("hv2").id))
        assert (grade.percent, grade.passed) == (75.0, True)
    hv2 = signed_in(app, "hv2")
    assert ("Your result in the quiz Bài kiểm tra changed after a correction: 100.0% → 75.0% "
            "(passed).") in text(hv2.client.get("/notifications"))


def test_an_image_is_stored_in_the_files_storage_and_shown_to_those_who_see_the_question(
        app, world, trainer):
    bank_id = new_bank(trainer)
    add_category(trainer, bank_id, "Hình")
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(picture, "PNG")
    page = f"/train/banks/{bank_id}/questions/new?type=single"
    response = trainer.post(page, {"type": "single", **question_form(
        category_id(app, bank_id, "Hình"), "Biểu tượng này là gì?", ["Thư mục", "Tệp"], [0]),
        "image": (io.BytesIO(picture.getvalue()), "bieu-tuong.png")}, page=page,
        content_type="multipart/form-data")
    assert response.status_code == 302, flashes(response)
    with app.app_context():
        image = db.session.scalar(select(QuestionImage))
        text_html = db.session.scalar(select(QuestionVersion.text_html))
        from lms.files.records import referenced_keys

        assert image.blob_key in referenced_keys()  # kept by the files' garbage collection
    assert f'<img src="/quizzes/images/{image.id}" alt="">' in text_html
    served = trainer.client.get(f"/quizzes/images/{image.id}")
    assert (served.status_code, served.mimetype) == (200, "image/png")
    assert served.get_data() == picture.getvalue()
    served.close()
    assert signed_in(app, "hv1").client.get(f"/quizzes/images/{image.id}").status_code == 404
    not_image = trainer.post(page, {"type": "single", **question_form(
        category_id(app, bank_id, "Hình"), "Câu khác?", ["A", "B"], [0]),
        "image": (io.BytesIO(b"<script>alert(1)</script>"), "x.png")}, page=page,
        content_type="multipart/form-data")
    assert "Choose a PNG, JPEG, GIF or WebP image." in flashes(not_image)


def test_a_bank_is_seen_by_those_it_is_shared_with(app, world):
    trainer = signed_in(app, "trainer")
    private = new_bank(trainer, "Riêng")
    unit = new_bank(trainer, "Chia sẻ trong đơn vị", "unit")
    other = signed_in(app, "trainer2")  # of Khoa Tài chính, inside the academy
    assert other.client.get(f"/train/banks/{private}").status_code == 404
    assert other.client.get(f"/train/banks/{unit}").status_code == 200
    assert "Chia sẻ trong đơn vị" in text(other.client.get("/train/banks"))
    assert "Riêng" not in text(other.client.get("/train/banks"))
    assert other.client.get(f"/train/banks/{unit}/import").status_code == 404  # use, not manage
    academy = trainer.post("/train/banks/new", {"name": "Toàn học viện", "sharing": "academy",
                                                 "unit_id": "0"}, page="/train/banks/new")
    assert "Only administrators share a bank with the whole academy." in flashes(academy)
    learner = signed_in(app, "hv1")
    assert learner.client.get("/train/banks").status_code == 403


# --- quizzes -------------------------------------------------------------------------------

def test_the_preset_makes_a_30_45_80_quiz_lesson_in_a_course(app, world, trainer):
    from tests.training_world import add_page_lesson, create_course

    with app.app_context():
        bank = make_bank(user("trainer"), bank_csv())
        bank_id = bank.id
    course_id = create_course(trainer, "Kỹ năng số cơ bản")
    add_page_lesson(trainer, course_id, "Đọc trước", "Nội dung.")
    page = f"/train/courses/{course_id}/quiz"
    response = trainer.post(page, {"mode": "preset", "bank_id": str(bank_id), "title": "",
                                   "lock_version": lock_on(trainer, page)}, page=page)
    assert "The quiz “Digital skills test” is the course's last lesson." in flashes(
        follow(trainer, response))
    with app.app_context():
        quiz = db.session.scalar(select(Quiz))
        assert (quiz.time_limit_minutes, quiz.pass_percent, quiz.status, quiz.preset) == (
            45, 80.0, "published", "digital_skills")
        slots = db.session.scalars(select(QuizSlot).order_by(QuizSlot.position)).all()
        assert sum(s.count for s in slots) == 30
        assert sorted(s.count for s in slots) == [10, 20]  # two top categories: 12 and 24
        lesson = db.session.scalar(select(Lesson).where(Lesson.kind == "quiz"))
        assert (lesson.quiz_id, lesson.position, lesson.required) == (quiz.id, 2, True)
    course_page = text(trainer.client.get(f"/train/courses/{course_id}"))
    assert f'href="/train/quizzes/{quiz.id}">Digital skills test' in course_page


def test_the_preset_refuses_a_bank_with_too_few_questions(app, world, trainer):
    with app.app_context():
        bank_id = make_bank(user("trainer"), bank_csv(per_category=9)).id
    from tests.training_world import create_course

    course_id = create_course(trainer, "Khóa học")
    page = f"/train/courses/{course_id}/quiz"
    response = trainer.post(page, {"mode": "preset", "bank_id": str(bank_id),
                                   "lock_version": lock_on(trainer, page)}, page=page)
    assert response.status_code == 422
    assert "The bank “Ngân hàng kỹ năng số” has 27 questions; the test draws 30." in flashes(
        response)
    with app.app_context():
        assert db.session.scalar(select(func.count(Quiz.id))) == 0
        assert db.session.scalar(select(func.count(Lesson.id))) == 0


def test_a_random_draw_larger_than_its_category_is_refused_with_the_numbers(app, world,
                                                                           trainer):
    with app.app_context():
        bank = make_bank(user("trainer"), bank_csv(per_category=6))
        category = db.session.scalar(select(QuestionCategory.id).where(
            QuestionCategory.path == "An toàn thông tin / Mật khẩu"))
        top = db.session.scalar(select(QuestionCategory.id).where(
            QuestionCategory.path == "An toàn thông tin"))
        del bank
    response = trainer.post("/train/quizzes/new", {"mode": "blank", "title": "Kiểm tra đơn vị",
                                                   "bank_id": "1",
                                                   "unit_id": str(world.academy)},
                            page="/train/quizzes/new")
    quiz_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = f"/train/quizzes/{quiz_id}"

    def draw(category_id, count, easy=0, medium=0, hard=0):
        return trainer.post(f"/train/quizzes/{quiz_id}/draws", {
            "draw-category_id": str(category_id), "draw-count": str(count),
            "draw-easy": str(easy), "draw-medium": str(medium), "draw-hard": str(hard),
            "draw-subcategories": "y", "draw-lock_version": lock_on(trainer, page)}, page=page)

    too_many = follow(trainer, draw(category, 7))
    assert ("“An toàn thông tin / Mật khẩu” has 6 questions; the quiz asks for 7."
            in flashes(too_many))
    too_hard = follow(trainer, draw(category, 5, hard=3))
    assert ("“An toàn thông tin / Mật khẩu” has 2 hard questions; the quiz asks for 3."
            in flashes(too_hard))
    assert "Draw added." in flashes(follow(trainer, draw(category, 4, easy=2, hard=2)))
    overlap = follow(trainer, draw(top, 10))
    assert ("Draws from overlapping categories ask for 14 questions; together they have 12."
            in flashes(overlap))
    with app.app_context():
        assert db.session.scalar(select(func.count(QuizSlot.id))) == 1


def test_a_draw_with_a_difficulty_mix_gives_each_attempt_those_questions(app, world):
    from lms.quizzes import quizzes as quiz_service

    with app.app_context():
        trainer = user("trainer")
        make_bank(trainer, bank_csv(per_category=9))
        category = db.session.scalar(select(QuestionCategory).where(
            QuestionCategory.path == "Kỹ năng số / Máy tính"))
        quiz = quiz_service.create_quiz(trainer, quiz_service.QuizInput(
            title="Đánh giá", unit_id=world.class1))
        quiz_service.add_draw(trainer, quiz, quiz_service.DrawInput(
            category.id, 6, easy=2, medium=1, hard=3), quiz.lock_version)
        quiz_service.set_status(trainer, quiz, "published", quiz.lock_version)
        quiz_id = quiz.id
    for username in ("hv1", "hv2"):
        learner = signed_in(app, username)
        attempt_id = int(re.search(r"attempts/(\d+)", start(learner, quiz_id)
                                   .headers["Location"]).group(1))
        with app.app_context():
            difficulties = db.session.scalars(select(Question.difficulty).join(
                AttemptQuestion, AttemptQuestion.question_id == Question.id).where(
                AttemptQuestion.attempt_id == attempt_id)).all()
        assert sorted(difficulties) == ["easy", "easy", "hard", "hard", "hard", "medium"]
    # A unit's assessment: people of another unit are told so.
    outsider = signed_in(app, "kt1")
    refused = outsider.client.get(f"/quizzes/{quiz_id}")
    assert refused.status_code == 403
    assert "This quiz is an assessment of another unit." in text(refused)


def test_trainers_see_attempts_per_question_and_item_statistics(app):
    qw = build_quiz_world(app)
    for username, right in (("hv1", 4), ("hv2", 1)):
        learner = signed_in(app, username)
        attempt_id = int(re.search(r"attempts/(\d+)", start(learner, qw.quiz)
                                   .headers["Location"]).group(1))
        csrf = token(learner, f"/quizzes/attempts/{attempt_id}/questions/1")
        for seq, body in enumerate(answers(app, attempt_id, right=right), start=1):
            save(learner, attempt_id, body, seq, csrf)
        learner.post(f"/quizzes/attempts/{attempt_id}/submit", page="/learn")
    trainer = signed_in(app, "trainer")
    listing = text(trainer.client.get(f"/train/quizzes/{qw.quiz}/attempts"))
    assert "2 people graded, 1 passed; 0 attempts in progress." in listing
    assert "Phạm Văn Một" in listing and "Phạm Văn Hai" in listing
    with app.app_context():
        first = db.session.scalar(select(QuizAttempt.id).order_by(QuizAttempt.id))
    detail = text(trainer.client.get(f"/train/quizzes/{qw.quiz}/attempts/{first}"))
    assert "100.0%" in detail and "Ctrl + C" in detail
    stats = text(trainer.client.get(f"/train/quizzes/{qw.quiz}/statistics"))
    assert stats.count('data-label="Facility"') == 4
    learner = signed_in(app, "hv1")
    assert learner.client.get(f"/train/quizzes/{qw.quiz}/attempts").status_code == 403
    stranger = signed_in(app, "trainer2")
    assert stranger.client.get(f"/train/quizzes/{qw.quiz}/attempts").status_code == 404


def test_the_bank_pages_and_exports_answer_for_its_users_only(app, world):
    with app.app_context():
        bank_id = make_bank(user("trainer"), bank_csv(per_category=2)).id
        db.session.execute(QuestionBank.__table__.update().values(sharing="private"))
        db.session.commit()
    stranger = signed_in(app, "trainer2")
    for url in (f"/train/banks/{bank_id}", f"/train/banks/{bank_id}/export?format=csv",
                f"/train/banks/{bank_id}/export?format=gift", "/train/questions/1"):
        assert stranger.client.get(url).status_code == 404
