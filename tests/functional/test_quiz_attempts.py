"""Taking a quiz over HTTP: starting, the draw, saving answers (idempotent, in order), the
server's clock, submitting (once, even twice at the same moment), results per review option,
resuming, completion of the lesson and course, and every bad input of the issue."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from lms.db import utcnow
from lms.extensions import db
from lms.quizzes.models import (
    AttemptQuestion,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizGrade,
)
from lms.training.models import Enrolment, LearningStatement
from tests.quiz_world import (
    EXPLANATION_MARK,
    FEEDBACK_MARK,
    answers,
    attempt_id_from,
    attempt_of,
    build_quiz_world,
    save,
    start,
)
from tests.training_world import flashes, signed_in, text, token, user_id

pytestmark = pytest.mark.functional


@pytest.fixture
def qw(app):
    return build_quiz_world(app)


def started(app, qw, username: str = "hv1"):
    learner = signed_in(app, username)
    response = start(learner, qw.quiz)
    assert response.status_code == 302, text(response)[:2000]
    return learner, attempt_id_from(response)


def set_deadline(app, attempt_id: int, delta: timedelta) -> None:
    with app.app_context():
        db.session.execute(update(QuizAttempt).where(QuizAttempt.id == attempt_id)
                           .values(deadline_at=utcnow() + delta))
        db.session.commit()


def attempt_row(app, attempt_id: int) -> QuizAttempt:
    with app.app_context():
        row = db.session.get(QuizAttempt, attempt_id)
        db.session.expunge(row)
        return row


def saved_answers(app, attempt_id: int) -> list:
    with app.app_context():
        return list(db.session.scalars(select(AttemptQuestion.answer).where(
            AttemptQuestion.attempt_id == attempt_id).order_by(AttemptQuestion.slot)))


def answer_all(app, learner, attempt_id: int, *, right: int | None = None) -> None:
    csrf = token(learner, f"/quizzes/attempts/{attempt_id}/questions/1")
    for seq, body in enumerate(answers(app, attempt_id, right=right), start=1):
        response = save(learner, attempt_id, body, seq, csrf)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["saved"] is True


def submit(learner, attempt_id: int):
    """Press "Submit" (the form's token is the session's, on any page)."""
    return learner.post(f"/quizzes/attempts/{attempt_id}/submit", page="/learn")


# --- the whole way -------------------------------------------------------------------------

def test_passing_the_quiz_completes_the_lesson_and_the_course(app, qw):
    learner, attempt_id = started(app, qw)
    first = learner.client.get(f"/quizzes/attempts/{attempt_id}/questions/1")
    assert first.status_code == 200
    assert "Question 1 of 4" in text(first)
    answer_all(app, learner, attempt_id, right=3)  # 3 of 4 = 75%: the pass mark
    result = learner.client.get(submit(learner, attempt_id).headers["Location"])
    page = text(result)
    assert "75.0%" in page
    assert "Passed" in page
    assert "The lesson “Bài kiểm tra” is complete." in page
    with app.app_context():
        enrolment = db.session.scalar(select(Enrolment).where(
            Enrolment.user_id == user_id(app, "hv1"), Enrolment.course_id == qw.course))
        # The page lesson was never opened: the course is not complete without it.
        assert (enrolment.required_done, enrolment.required_total) == (1, 2)
        grade = db.session.scalar(select(QuizGrade).where(QuizGrade.quiz_id == qw.quiz))
        assert (grade.percent, grade.passed, grade.attempts) == (75.0, True, 1)
        verbs = db.session.execute(select(LearningStatement.verb, LearningStatement.object_type)
                                   .where(LearningStatement.actor_id == user_id(app, "hv1"))
                                   .order_by(LearningStatement.id)).all()
    assert ("passed", "quiz") in verbs and ("completed", "lesson") in verbs
    lessons = learner.client.get(f"/courses/{qw.course}")
    page_lesson = re.search(r'href="(/courses/\d+/lessons/\d+)">Đọc trước', text(lessons))
    learner.client.get(page_lesson.group(1))
    done = learner.post(page_lesson.group(1) + "/done", page=page_lesson.group(1))
    assert "You have completed the course Kỹ năng số." in flashes(
        learner.client.get(done.headers["Location"]))


def test_failing_leaves_the_lesson_open_and_another_attempt_may_start(app, qw):
    learner, attempt_id = started(app, qw)
    answer_all(app, learner, attempt_id, right=2)
    result = text(learner.client.get(submit(learner, attempt_id).headers["Location"]))
    assert "50.0%" in result and "Not passed" in result
    assert "Try again" in result
    again = start(learner, qw.quiz)
    assert attempt_id_from(again) != attempt_id
    assert attempt_of(app, "hv1", qw.quiz).number == 2


# --- the key never reaches the browser -----------------------------------------------------

def test_nothing_sent_before_grading_reveals_the_key(app, qw):
    learner, attempt_id = started(app, qw)
    with app.app_context():
        rows = db.session.execute(select(AttemptQuestion, QuestionVersion).join(
            QuestionVersion, QuestionVersion.id == AttemptQuestion.version_id).where(
            AttemptQuestion.attempt_id == attempt_id)).all()
        keys = {o["key"] for _row, version in rows for o in version.options}
        tokens = {t for row, _v in rows for t, _k in (
            row.choices if isinstance(row.choices, list)
            else row.choices["prompts"] + row.choices["answers"])}
    bodies = []
    for slot in range(1, 5):
        page = learner.client.get(f"/quizzes/attempts/{attempt_id}/questions/{slot}")
        bodies.append(page.get_data(as_text=True))
        values = set(re.findall(r'name="choice" value="([^"]*)"', bodies[-1])) | set(
            re.findall(r'<option value="([^"]+)"', bodies[-1]))
        assert values <= tokens  # inputs carry this attempt's tokens only
        assert not values & keys
    bodies.append(learner.client.get(f"/quizzes/attempts/{attempt_id}/summary")
                  .get_data(as_text=True))
    bodies.append(learner.client.get(f"/quizzes/{qw.quiz}").get_data(as_text=True))
    bodies.append(learner.client.get(f"/courses/{qw.course}/lessons/{qw.lesson}")
                  .get_data(as_text=True))
    state = learner.client.get(f"/quizzes/attempts/{attempt_id}/state",
                               headers={"Accept": "application/json"})
    bodies.append(state.get_data(as_text=True))
    csrf = token(learner, f"/quizzes/attempts/{attempt_id}/questions/1")
    for seq, body in enumerate(answers(app, attempt_id), start=1):
        bodies.append(save(learner, attempt_id, body, seq, csrf).get_data(as_text=True))
    bodies.append(learner.client.get(f"/quizzes/attempts/{attempt_id}/state",
                                     headers={"Accept": "application/json"})
                  .get_data(as_text=True))
    for body in bodies:
        assert FEEDBACK_MARK not in body
        assert EXPLANATION_MARK not in body
        assert '"correct"' not in body and '"score"' not in body and '"key"' not in body
        assert "is-key" not in body and "correct answer" not in body
    state_json = json.loads(bodies[-1])
    assert set(state_json) == {"attempt", "state", "remaining_seconds", "deadline", "questions"}
    assert all(set(q) == {"slot", "answered", "answer"} for q in state_json["questions"])
    # Once graded, the review options decide: here, which were wrong but not the key.
    result = text(learner.client.get(submit(learner, attempt_id).headers["Location"]))
    assert "Correct" in result and EXPLANATION_MARK not in result


def test_each_attempt_has_its_own_tokens(app, qw):
    learner, first = started(app, qw)
    submit(learner, first)
    second = attempt_id_from(start(learner, qw.quiz))
    with app.app_context():
        def tokens(attempt_id):
            return {t for (choices,) in db.session.execute(select(AttemptQuestion.choices).where(
                AttemptQuestion.attempt_id == attempt_id))
                for t, _k in (choices if isinstance(choices, list)
                              else choices["prompts"] + choices["answers"])}
        assert not tokens(first) & tokens(second)


# --- saving answers ------------------------------------------------------------------------

def test_saves_are_idempotent_and_an_older_save_never_overwrites_a_newer(app, qw):
    learner, attempt_id = started(app, qw)
    csrf = token(learner, f"/quizzes/attempts/{attempt_id}/questions/1")
    right = answers(app, attempt_id)
    wrong = answers(app, attempt_id, right=0)
    slot = right[0]["slot"]
    assert save(learner, attempt_id, right[0], 10, csrf).get_json()["saved"] is True
    assert save(learner, attempt_id, right[0], 10, csrf).get_json()["saved"] is False
    late = save(learner, attempt_id, wrong[0], 9, csrf)  # sent earlier, arrived later
    assert (late.status_code, late.get_json()["saved"]) == (200, False)
    with app.app_context():
        row = db.session.scalar(select(AttemptQuestion).where(
            AttemptQuestion.attempt_id == attempt_id, AttemptQuestion.slot == slot))
        assert row.answer_seq == 10
    assert saved_answers(app, attempt_id)[0] is not None
    empty = [] if isinstance(right[0]["answer"], list) else {}
    cleared = save(learner, attempt_id, {"slot": slot, "answer": empty}, 11, csrf)
    assert cleared.get_json()["saved"] is True
    assert saved_answers(app, attempt_id)[0] is None


def test_the_pages_save_answers_without_javascript(app, qw):
    learner, attempt_id = started(app, qw)
    body = answers(app, attempt_id)[0]
    page = f"/quizzes/attempts/{attempt_id}/questions/{body['slot']}"
    form = {"seq": "5", "go": "next"}
    if isinstance(body["answer"], list):
        form["choice"] = body["answer"]
    else:
        form.update({f"match-{p}": a for p, a in body["answer"].items()})
    response = learner.post(page, form, page=page)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/questions/{body['slot'] + 1}")
    assert saved_answers(app, attempt_id)[body["slot"] - 1] is not None
    back = learner.client.get(page)
    # A choice question marks its boxes; a matching question its options.
    marker = "checked" if isinstance(body["answer"], list) else "selected"
    assert marker in text(back)
    summary = text(learner.client.get(f"/quizzes/attempts/{attempt_id}/summary"))
    assert "3 of 4 questions have no answer." in summary


@pytest.mark.parametrize("case", ["other_slot", "unknown_slot", "other_option", "not_a_list",
                                  "two_for_single", "no_seq"])
def test_a_bad_save_is_refused_and_changes_nothing(app, qw, case):
    learner, attempt_id = started(app, qw)
    csrf = token(learner, f"/quizzes/attempts/{attempt_id}/questions/1")
    bodies = answers(app, attempt_id)
    with app.app_context():
        kinds = dict(db.session.execute(select(AttemptQuestion.slot, QuestionVersion.type).join(
            QuestionVersion, QuestionVersion.id == AttemptQuestion.version_id).where(
            AttemptQuestion.attempt_id == attempt_id)).all())
    single = next(b for b in bodies if kinds[b["slot"]] == "single")
    multiple = next(b for b in bodies if kinds[b["slot"]] == "multiple")
    body, seq = dict(single), 1
    if case == "other_slot":
        body = {"slot": single["slot"], "answer": multiple["answer"]}
    elif case == "unknown_slot":
        body = {"slot": 99, "answer": single["answer"]}
    elif case == "other_option":
        body = {"slot": single["slot"], "answer": ["x" * 8]}
    elif case == "not_a_list":
        body = {"slot": single["slot"], "answer": "a"}
    elif case == "two_for_single":
        with app.app_context():
            choices = db.session.scalar(select(AttemptQuestion.choices).where(
                AttemptQuestion.attempt_id == attempt_id,
                AttemptQuestion.slot == single["slot"]))
        body = {"slot": single["slot"], "answer": [choices[0][0], choices[1][0]]}
    elif case == "no_seq":
        seq = 0
    response = save(learner, attempt_id, body, seq, csrf)
    assert response.status_code == 422
    assert response.get_json()["error"]["status"] == 422
    assert saved_answers(app, attempt_id) == [None] * 4


def test_no_one_answers_in_another_persons_attempt(app, qw):
    _owner, attempt_id = started(app, qw, "hv1")
    other = signed_in(app, "hv2")
    csrf = token(other, "/learn")
    body = answers(app, attempt_id)[0]
    assert save(other, attempt_id, body, 1, csrf).status_code == 404
    for page in ("questions/1", "summary", "result", "state"):
        assert other.client.get(f"/quizzes/attempts/{attempt_id}/{page}").status_code == 404
    assert other.post(f"/quizzes/attempts/{attempt_id}/submit", page="/learn").status_code == 404
    assert saved_answers(app, attempt_id) == [None] * 4
    assert attempt_row(app, attempt_id).state == "open"


# --- the server's clock --------------------------------------------------------------------

def test_a_save_after_the_deadline_is_refused(app, qw):
    learner, attempt_id = started(app, qw)
    csrf = token(learner, f"/quizzes/attempts/{attempt_id}/questions/1")
    bodies = answers(app, attempt_id)
    assert save(learner, attempt_id, bodies[0], 1, csrf).status_code == 200
    set_deadline(app, attempt_id, timedelta(seconds=-1))
    late = save(learner, attempt_id, bodies[1], 2, csrf)
    assert late.status_code == 409
    assert "The time ran out" in late.get_json()["error"]["message"]
    answers_now = saved_answers(app, attempt_id)
    assert sum(a is not None for a in answers_now) == 1


def test_a_form_posted_after_the_deadline_is_refused_and_the_attempt_graded(app, qw):
    learner, attempt_id = started(app, qw)
    body = answers(app, attempt_id)[0]
    page = f"/quizzes/attempts/{attempt_id}/questions/{body['slot']}"
    csrf = token(learner, page)
    set_deadline(app, attempt_id, timedelta(seconds=-5))
    form = {"csrf_token": csrf, "seq": "3", "go": "next"}
    if isinstance(body["answer"], list):
        form["choice"] = body["answer"]
    else:
        form.update({f"match-{p}": a for p, a in body["answer"].items()})
    response = learner.client.post(page, data=form)
    assert response.headers["Location"].endswith(f"/quizzes/attempts/{attempt_id}/result")
    row = attempt_row(app, attempt_id)
    assert (row.state, row.closed_by, row.percent) == ("graded", "deadline", 0.0)
    assert row.submitted_at == row.deadline_at


def test_submitting_after_the_deadline_grades_what_was_saved_in_time(app, qw):
    learner, attempt_id = started(app, qw)
    answer_all(app, learner, attempt_id)
    csrf = token(learner, f"/quizzes/attempts/{attempt_id}/summary")  # the page left open
    set_deadline(app, attempt_id, timedelta(seconds=-30))
    response = learner.client.post(f"/quizzes/attempts/{attempt_id}/submit",
                                   data={"csrf_token": csrf})
    result = learner.client.get(response.headers["Location"])
    assert "The time had run out: the answers saved until then were graded." in flashes(result)
    row = attempt_row(app, attempt_id)
    assert (row.closed_by, row.percent, row.passed) == ("deadline", 100.0, True)


def test_the_worker_closes_expired_attempts_with_what_was_saved(app, qw):
    from lms.jobs.queue import execute
    from lms.models import Job

    learner, attempt_id = started(app, qw)
    answer_all(app, learner, attempt_id, right=3)
    _other, still_running = started(app, qw, "hv2")
    set_deadline(app, attempt_id, timedelta(minutes=-2))
    with app.app_context():
        job = Job(name="quizzes.close_expired", params={})
        db.session.add(job)
        db.session.commit()
        execute("quizzes.close_expired", job.id)
        assert db.session.get(Job, job.id).result == {"closed": 1}
    row = attempt_row(app, attempt_id)
    assert (row.state, row.closed_by, row.percent, row.passed) == ("graded", "deadline", 75.0,
                                                                   True)
    assert attempt_row(app, still_running).state == "open"
    with app.app_context():
        assert db.session.scalar(select(QuizGrade.passed).where(
            QuizGrade.user_id == user_id(app, "hv1"))) is True


def test_the_learner_comes_back_to_the_same_attempt_with_the_time_still_running(app, qw):
    learner, attempt_id = started(app, qw)
    answer_all(app, learner, attempt_id, right=1)
    set_deadline(app, attempt_id, timedelta(minutes=7, seconds=30))
    # Another device: a new session of the same person.
    other_device = signed_in(app, "hv1")
    quiz_page = text(other_device.client.get(f"/quizzes/{qw.quiz}"))
    assert "Continue the attempt" in quiz_page
    again = other_device.client.get(f"/quizzes/attempts/{attempt_id}")
    assert again.status_code == 302  # to the first unanswered question
    page = text(other_device.client.get(again.headers["Location"]))
    remaining = int(re.search(r'data-remaining="(\d+)"', page).group(1))
    assert 440 <= remaining <= 450
    assert re.search(r'class="quiz-clock">7:[0-9]{2}<', page)
    state = other_device.client.get(f"/quizzes/attempts/{attempt_id}/state",
                                    headers={"Accept": "application/json"}).get_json()
    assert [q["answered"] for q in state["questions"]].count(True) == 4
    assert start(other_device, qw.quiz).headers["Location"].endswith(
        f"/quizzes/attempts/{attempt_id}/questions/1")


# --- submitting ----------------------------------------------------------------------------

def test_submitting_twice_grades_once(app, qw):
    learner, attempt_id = started(app, qw)
    answer_all(app, learner, attempt_id)
    first = submit(learner, attempt_id)
    second = submit(learner, attempt_id)
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count(LearningStatement.id)).where(
            LearningStatement.verb == "passed")) == 1
        assert db.session.scalar(select(QuizGrade.attempts)) == 1


def test_two_submissions_at_the_same_moment_grade_once(app, qw):
    learner, attempt_id = started(app, qw)
    answer_all(app, learner, attempt_id)
    # Two tabs of the same learner (two sessions), each with its own form.
    tabs = [learner, signed_in(app, "hv1")]
    tokens = [token(tab, f"/quizzes/attempts/{attempt_id}/summary") for tab in tabs]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def press(tab, csrf):
        barrier.wait()
        response = tab.client.post(f"/quizzes/attempts/{attempt_id}/submit",
                                   data={"csrf_token": csrf})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=press, args=pair) for pair in zip(tabs, tokens,
                                                                          strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302, 302]
    with app.app_context():
        assert db.session.scalar(select(func.count(LearningStatement.id)).where(
            LearningStatement.verb.in_(["passed", "failed"]))) == 1
        assert db.session.scalar(select(func.count(LearningStatement.id)).where(
            LearningStatement.verb == "completed",
            LearningStatement.object_type == "lesson")) == 1
        grade = db.session.scalar(select(QuizGrade))
        assert (grade.attempts, grade.percent) == (1, 100.0)
    assert attempt_row(app, attempt_id).state == "graded"


# --- starting ------------------------------------------------------------------------------

def test_a_second_attempt_does_not_start_while_one_is_open(app, qw):
    learner, attempt_id = started(app, qw)
    again = start(learner, qw.quiz)
    assert attempt_id_from(again) == attempt_id
    with app.app_context():
        assert db.session.scalar(select(func.count(QuizAttempt.id))) == 1


def test_two_starts_at_the_same_moment_make_one_attempt(app, qw):
    tabs = [signed_in(app, "hv1"), signed_in(app, "hv1")]
    tokens = [token(tab, f"/quizzes/{qw.quiz}") for tab in tabs]
    barrier = threading.Barrier(2)
    locations: list[str] = []

    def press(tab, csrf):
        barrier.wait()
        response = tab.client.post(f"/quizzes/{qw.quiz}/start", data={"csrf_token": csrf})
        locations.append(response.headers.get("Location", str(response.status_code)))

    threads = [threading.Thread(target=press, args=pair) for pair in zip(tabs, tokens,
                                                                          strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(set(locations)) == 1 and "/quizzes/attempts/" in locations[0]
    with app.app_context():
        assert db.session.scalar(select(func.count(QuizAttempt.id))) == 1


def test_no_attempt_beyond_those_allowed_until_a_trainer_grants_one(app):
    qw = build_quiz_world(app, attempts_allowed=1)
    learner, attempt_id = started(app, qw)
    submit(learner, attempt_id)
    refused = start(learner, qw.quiz)
    assert refused.status_code == 403
    assert "You have used the 1 attempts allowed." in text(refused)
    trainer = signed_in(app, "trainer")
    response = trainer.post(f"/train/quizzes/{qw.quiz}/grants",
                            {"username": "hv1", "extra_attempts": "1", "extra_minutes": "0",
                             "reason": "Mất điện trong lúc làm bài"},
                            page=f"/train/quizzes/{qw.quiz}/attempts")
    assert "Granted to Phạm Văn Một." in flashes(trainer.client.get(response.headers["Location"]))
    assert attempt_id_from(start(learner, qw.quiz)) != attempt_id


def test_extra_time_moves_the_deadline_of_the_open_attempt(app, qw):
    _learner, attempt_id = started(app, qw)
    before = attempt_row(app, attempt_id).deadline_at
    trainer = signed_in(app, "trainer")
    trainer.post(f"/train/quizzes/{qw.quiz}/grants",
                 {"username": "hv1", "extra_attempts": "0", "extra_minutes": "15",
                  "reason": "Khuyết tật thị lực"}, page=f"/train/quizzes/{qw.quiz}/attempts")
    assert attempt_row(app, attempt_id).deadline_at == before + timedelta(minutes=15)


def test_no_attempt_before_the_quiz_opens_or_after_it_closes(app):
    opens = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    qw = build_quiz_world(app, opens_at=opens)
    learner = signed_in(app, "hv1")
    refused = start(learner, qw.quiz)
    assert refused.status_code == 403
    assert "This quiz opens on" in text(refused)
    with app.app_context():
        db.session.execute(update(Quiz).values(opens_at=None,
                                               closes_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    closed = start(learner, qw.quiz)
    assert closed.status_code == 403 and "This quiz closed on" in text(closed)
    with app.app_context():
        assert db.session.scalar(select(func.count(QuizAttempt.id))) == 0


def test_the_waiting_time_between_attempts_is_kept(app):
    qw = build_quiz_world(app, wait_minutes=30)
    learner, attempt_id = started(app, qw)
    submit(learner, attempt_id)
    refused = start(learner, qw.quiz)
    assert refused.status_code == 403
    assert "You may start another attempt on" in text(refused)


def test_a_learner_not_enrolled_in_the_course_is_told_why(app, qw):
    outsider = signed_in(app, "kt1")
    for url in (f"/quizzes/{qw.quiz}", f"/courses/{qw.course}/lessons/{qw.lesson}"):
        response = outsider.client.get(url)
        assert response.status_code == 403
        assert "Ask your training officer to assign the course to you." in text(response)
    refused = outsider.post(f"/quizzes/{qw.quiz}/start", page="/learn")
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(QuizAttempt.id))) == 0


def test_a_quiz_lesson_locked_by_the_order_of_lessons_cannot_be_started(app, qw):
    from lms.training.models import Course

    with app.app_context():
        db.session.execute(update(Course).values(sequential=True))
        db.session.commit()
    learner = signed_in(app, "hv1")
    refused = start(learner, qw.quiz)
    assert refused.status_code == 403
    assert "it opens once you complete “Đọc trước”" in text(refused)


# --- results -------------------------------------------------------------------------------

@pytest.mark.parametrize(("level", "shown", "hidden"), [
    ("score", ["75.0%"], ["Correct", EXPLANATION_MARK]),
    ("wrong", ["Correct", "Wrong"], [EXPLANATION_MARK, "correct answer"]),
    ("full", ["Correct", EXPLANATION_MARK, "correct answer"], []),
])
def test_the_result_page_follows_the_review_options(app, level, shown, hidden):
    qw = build_quiz_world(app, review_after_submit=level, review_after_close="full")
    learner, attempt_id = started(app, qw)
    answer_all(app, learner, attempt_id, right=3)
    page = text(learner.client.get(submit(learner, attempt_id).headers["Location"]))
    for expected in shown:
        assert expected in page
    for absent in hidden:
        assert absent not in page


def test_after_the_close_date_the_review_shows_more(app):
    qw = build_quiz_world(app, review_after_submit="score", review_after_close="full")
    learner, attempt_id = started(app, qw)
    answer_all(app, learner, attempt_id, right=3)
    url = submit(learner, attempt_id).headers["Location"]
    assert EXPLANATION_MARK not in text(learner.client.get(url))
    with app.app_context():
        db.session.execute(update(Quiz).values(closes_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    assert EXPLANATION_MARK in text(learner.client.get(url))


# --- in the unit reports ---------------------------------------------------------------------

def test_the_unit_report_counts_each_person_s_grade_in_the_course_quiz(app, qw):
    from tests.functional.test_reports import cells

    for username, right in (("hv1", 3), ("hv2", 1)):  # 75%: passed; 25%: not passed
        learner, attempt_id = started(app, qw, username)
        answer_all(app, learner, attempt_id, right=right)
        submit(learner, attempt_id)
    admin = signed_in(app, "admin")
    page = text(admin.client.get(
        f"/reports/?unit={qw.world.academy}&item=course:{qw.course}"))
    # unit, assigned, not started, in progress, completed, overdue, %, target, status,
    # quiz pass rate, average score, certificates
    total = cells(page, "Total")
    assert (total[1], total[9], total[10]) == ("2", "50.0", "50.0")


def test_each_enrolment_keeps_its_quiz_figures_as_grades_lessons_and_enrolments_change(
        app, qw):
    from lms.quizzes import quizzes
    from lms.quizzes.models import Quiz
    from lms.training import assignments, courses
    from lms.training.models import Course, DueKind, Lesson
    from tests.quiz_world import user

    learner, attempt_id = started(app, qw)
    answer_all(app, learner, attempt_id, right=3)  # 75%: passed
    submit(learner, attempt_id)

    def figures(course_id: int) -> tuple[int, int, float]:
        with app.app_context():
            enrolment = db.session.scalar(select(Enrolment).where(
                Enrolment.user_id == user_id(app, "hv1"), Enrolment.course_id == course_id))
            return enrolment.quiz_graded, enrolment.quiz_passed, enrolment.quiz_percent

    assert figures(qw.course) == (1, 1, 75.0)
    with app.app_context():
        trainer = user("trainer")
        # The same quiz ends a second course, to which hv1 is then assigned: the new
        # enrolment counts the grade hv1 already has.
        other = courses.create_course(trainer, courses.CourseInput(title="Ôn tập"))
        quizzes.add_quiz_lesson(trainer, other, db.session.get(Quiz, qw.quiz),
                                other.lock_version)
        db.session.refresh(other)
        courses.set_course_status(trainer, other, "published", other.lock_version)
        assignments.create_assignment(trainer, course=other, people=[user("hv1")],
                                      due=assignments.DueSpec(kind=DueKind.NONE))
        other_id = other.id
    assert figures(other_id) == (1, 1, 75.0)
    with app.app_context():
        # Taken out of the first course, the quiz no longer counts there.
        course = db.session.get(Course, qw.course)
        courses.remove_lesson(user("trainer"), db.session.get(Lesson, qw.lesson),
                              course.lock_version)
    assert figures(qw.course) == (0, 0, 0.0)
    assert figures(other_id) == (1, 1, 75.0)


def test_a_start_or_a_submit_without_the_form_token_is_refused_and_changes_nothing(app, qw):
    learner = signed_in(app, "hv1")
    refused = learner.client.post(f"/quizzes/{qw.quiz}/start")
    assert refused.status_code == 400
    assert "Your form has expired" in text(refused)
    with app.app_context():
        assert db.session.scalar(select(func.count(QuizAttempt.id))) == 0

    learner, attempt_id = started(app, qw)
    refused = learner.client.post(f"/quizzes/attempts/{attempt_id}/submit")
    assert refused.status_code == 400
    assert attempt_row(app, attempt_id).submitted_at is None
