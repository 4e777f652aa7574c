"""Learners' pages of quizzes: the quiz, the attempt (one page per question, with or without
JavaScript), the summary, the result, and the attempt's JSON (its state and answer saves).

Nothing sent before an attempt is graded carries a key: the pages and the JSON are built from
:class:`lms.quizzes.attempts.ShownQuestion`, which holds tokens and texts only.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.auth.forms import EmptyForm
from lms.errors import NotFound, ValidationError
from lms.permissions import can
from lms.quizzes import attempts, banks, kinds, quizzes
from lms.quizzes.attempts import AttemptClosed
from lms.quizzes.models import QuestionType, QuizAttempt
from lms.web import no_store

bp = Blueprint("quizzes", __name__, url_prefix="/quizzes")


@bp.before_request
@login_required
def _logged_in():
    no_store()


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"quiz_type_labels": kinds.TYPE_LABELS, "difficulty_labels": kinds.DIFFICULTY_LABELS,
            "grading_labels": quizzes.GRADING_LABELS, "review_labels": quizzes.REVIEW_LABELS,
            "quiz_status_labels": quizzes.STATUS_LABELS}


def _quiz(quiz_id: int):
    """A quiz its editors, its learners and those who took it may see; others are told why
    not (not enrolled, a lesson still locked) or get 404."""
    quiz = quizzes.get_quiz(current_user, quiz_id)
    if not (can(current_user, "quiz.edit", quiz) or attempts.has_attempts(current_user, quiz)):
        attempts.check_access(current_user, quiz, attempts.lesson_of(current_user, quiz))
    return quiz


@bp.get("/<int:quiz_id>")
def quiz(quiz_id: int):
    found = _quiz(quiz_id)
    standing = attempts.standing(current_user, found)
    return render_template("quizzes/quiz.html", quiz=found, standing=standing,
                           questions=quizzes.question_count(found), action_form=EmptyForm())


@bp.post("/<int:quiz_id>/start")
def start(quiz_id: int):
    found = _quiz(quiz_id)
    attempt = attempts.start_attempt(current_user, found)
    return redirect(url_for("quizzes.question", attempt_id=attempt.id, slot=1))


def _open_attempt(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Give ``view`` the learner's own attempt named by the URL, instead of its id; a closed
    one sends them to its result instead."""

    @functools.wraps(view)
    def with_attempt(attempt_id: int, **values: object) -> ResponseReturnValue:
        attempt = attempts.own_attempt(current_user, attempt_id)
        if not attempt.is_open:
            return redirect(url_for("quizzes.result", attempt_id=attempt.id))
        return view(attempt, **values)

    return with_attempt


@bp.get("/attempts/<int:attempt_id>")
@_open_attempt
def attempt(found: QuizAttempt):
    answered = attempts.answered_slots(found)
    first = next((slot for slot, done in answered.items() if not done), 1)
    return redirect(url_for("quizzes.question", attempt_id=found.id, slot=first))


def _raw_answer(form, shown_type: str, prompts: list[str]):
    if shown_type == QuestionType.MATCHING:
        return {token: form.get(f"match-{token}", "") for token in prompts}
    return form.getlist("choice")


@bp.route("/attempts/<int:attempt_id>/questions/<int:slot>", methods=["GET", "POST"])
@_open_attempt
def question(found: QuizAttempt, slot: int):
    rows = attempts.attempt_questions(found, slot)
    if not rows:
        raise NotFound()
    row, version = rows[0]
    if request.method == "POST":
        shown = attempts.show(row, version)
        raw = _raw_answer(request.form, version.type, [p.token for p in shown.prompts])
        try:
            attempts.save_answer(current_user, found.id, slot, raw,
                                 request.form.get("seq", 0, type=int))
        except AttemptClosed as error:
            flash(error.message, "error")
            attempts.close_if_expired(found)
            return redirect(url_for("quizzes.result", attempt_id=found.id))
        return redirect(_target(found.id, slot, request.form.get("go", "next")))
    answered = attempts.answered_slots(found)
    return render_template(
        "quizzes/attempt.html", attempt=found, quiz=found.quiz, shown=attempts.show(row, version),
        answered=answered, total=len(answered), remaining=attempts.remaining_seconds(found),
        seq=_seq_base())


def _seq_base() -> int:
    """Sequence numbers of saves from a page start at the time it was made (ms): a page
    opened later, on any device, saves over what an older page sent."""
    return int(time.time() * 1000)


def _target(attempt_id: int, slot: int, go: str) -> str:
    if go == "summary":
        return url_for("quizzes.summary", attempt_id=attempt_id)
    if go == "previous":
        return url_for("quizzes.question", attempt_id=attempt_id, slot=max(1, slot - 1))
    if go.isdigit():
        return url_for("quizzes.question", attempt_id=attempt_id, slot=int(go))
    return url_for("quizzes.question", attempt_id=attempt_id, slot=slot + 1)


@bp.get("/attempts/<int:attempt_id>/summary")
@_open_attempt
def summary(found: QuizAttempt):
    answered = attempts.answered_slots(found)
    return render_template("quizzes/summary.html", attempt=found, quiz=found.quiz,
                           answered=answered, remaining=attempts.remaining_seconds(found),
                           action_form=EmptyForm())


@bp.post("/attempts/<int:attempt_id>/submit")
def submit(attempt_id: int):
    found = attempts.submit(current_user, attempt_id)
    if found.closed_by == "deadline":
        flash(_("The time had run out: the answers saved until then were graded."), "info")
    return redirect(url_for("quizzes.result", attempt_id=found.id))


@bp.get("/attempts/<int:attempt_id>/result")
def result(attempt_id: int):
    found = attempts.own_attempt(current_user, attempt_id)
    if found.is_open:
        return redirect(url_for("quizzes.question", attempt_id=found.id, slot=1))
    level = attempts.review_level(found)
    standing = attempts.standing(current_user, found.quiz)
    return render_template("quizzes/result.html", attempt=found, quiz=found.quiz, level=level,
                           reviewed=attempts.review(found, level), standing=standing)


# --- JSON ----------------------------------------------------------------------------------

@bp.get("/attempts/<int:attempt_id>/state")
def state(attempt_id: int):
    """Where the attempt stands: open with its remaining time and the learner's answers (as
    tokens), or graded with the address of its result. No score, no key."""
    found = attempts.own_attempt(current_user, attempt_id)
    if not found.is_open:
        return jsonify(attempt=found.id, state=found.state,
                       result_url=url_for("quizzes.result", attempt_id=found.id))
    questions = []
    for row, version in attempts.attempt_questions(found):
        shown = attempts.show(row, version)
        questions.append({"slot": shown.slot, "answered": shown.answered,
                          "answer": shown.matched if version.type == QuestionType.MATCHING
                          else shown.chosen})
    return jsonify(attempt=found.id, state=found.state,
                   remaining_seconds=attempts.remaining_seconds(found),
                   deadline=found.deadline_at.isoformat() if found.deadline_at else None,
                   questions=questions)


@bp.post("/attempts/<int:attempt_id>/answers")
def save(attempt_id: int):
    """Save one answer: ``{"slot": 3, "answer": ["token"], "seq": 17}`` (matching:
    ``"answer": {"prompt token": "answer token"}``). CSRF in the X-CSRFToken header."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError(_("Send the answer as JSON."))
    saved = attempts.save_answer(current_user, attempt_id, body.get("slot"), body.get("answer"),
                                 body.get("seq"))
    return jsonify(saved=saved.saved, slot=body.get("slot"), seq=body.get("seq"),
                   remaining_seconds=saved.remaining_seconds)


@bp.get("/images/<int:image_id>")
def image(image_id: int):
    from lms.files.serving import send_blob
    from lms.files.stores import get_storage

    found = banks.readable_image(current_user, image_id)
    return send_blob(get_storage(), found.blob_key, media_type=found.media_type,
                     sniff_mismatch=False, display_name=found.name)
