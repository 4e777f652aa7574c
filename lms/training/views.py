"""Learners' pages: the dashboard (/learn), course and track pages, lessons."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    flash,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_babel import format_date, format_datetime, format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.auth.forms import EmptyForm
from lms.catalog.access import can_view
from lms.catalog.models import RecordStatus
from lms.db import utcnow
from lms.errors import PermissionDenied
from lms.files.serving import files_for_display
from lms.permissions import can
from lms.training import assignments, courses, progress
from lms.training.models import Course, EnrolmentStatus, LessonKind
from lms.web import no_store

bp = Blueprint("learn", __name__)


@bp.app_template_filter("local_date")
def _local_date(value: datetime | None) -> str:
    return format_date(value, "medium") if value else ""


@bp.app_template_filter("local_datetime")
def _local_datetime(value: datetime | None) -> str:
    return format_datetime(value, "short") if value else ""


@bp.app_template_filter("hours")
def _hours(value: float | None) -> str:
    """2.0 → "2", 1.5 → "1,5" in Vietnamese."""
    return format_decimal(value or 0, "#,##0.#")


@bp.app_template_filter("duration")
def _duration(seconds: int | None) -> str:
    minutes = (seconds or 0) // 60
    if minutes < 60:
        return _("%(n)d min", n=minutes)
    return _("%(h)d h %(m)d min", h=minutes // 60, m=minutes % 60)


def _cover_url(course: Course) -> str | None:
    """The course's cover (a thumbnail of one of its materials), if this person may see it."""
    from lms.files.access import may_read_file

    file = course.cover_file
    if file is None or file.thumbnail_key is None:
        return None
    if not may_read_file(current_user, file.record, file):
        return None
    return url_for("files.thumbnail", record_id=file.record_id, file_id=file.id)


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"now_utc": utcnow(), "course_cover": _cover_url,
            "enrolment_status_labels": progress.STATUS_LABELS,
            "lesson_status_labels": progress.LESSON_STATUS_LABELS,
            "lesson_kind_labels": courses.KIND_LABELS}


@bp.before_request
@login_required
def _logged_in():
    no_store()


@bp.get("/learn")
def dashboard():
    return render_template("training/learn.html", board=progress.dashboard(current_user),
                           action_form=EmptyForm())


@bp.get("/courses/<int:course_id>")
def course(course_id: int):
    found = courses.get_course(current_user, course_id)
    outline = progress.outline(current_user, found)
    return render_template("training/course.html", course=found, outline=outline,
                           may_enrol=outline.enrolment is None
                           and can(current_user, "course.enrol_self", found),
                           may_edit=can(current_user, "course.edit", found),
                           action_form=EmptyForm())


@bp.post("/courses/<int:course_id>/enrol")
def enrol(course_id: int):
    found = courses.get_course(current_user, course_id)
    if assignments.enrol_self(current_user, found):
        flash(_("You are enrolled in %(title)s.", title=found.title), "success")
    return redirect(url_for("learn.course", course_id=found.id))


def _lesson(course_id: int, lesson_id: int):
    return progress.find_lesson(current_user, course_id, lesson_id)


@bp.get("/courses/<int:course_id>/lessons/<int:lesson_id>")
def lesson(course_id: int, lesson_id: int):
    found, chosen = _lesson(course_id, lesson_id)
    outline = progress.check_open(current_user, found, chosen)
    material = None
    if chosen.kind == LessonKind.RECORD:
        material = _material(chosen)
        if outline.enrolment is not None and material["readable"]:
            progress.record_open(current_user, outline.enrolment, chosen, completes=True)
            outline = progress.outline(current_user, found)
    elif chosen.kind in (LessonKind.PAGE, LessonKind.QUIZ) and outline.enrolment is not None:
        progress.record_open(current_user, outline.enrolment, chosen, completes=False)
        outline = progress.outline(current_user, found)
    line = outline.line_of(chosen)
    index = outline.lines.index(line) if line else 0
    return render_template(
        "training/lesson.html", course=found, lesson=chosen, outline=outline, line=line,
        material=material, quiz=_quiz_panel(chosen),
        previous=outline.lines[index - 1] if index > 0 else None,
        following=outline.lines[index + 1] if index + 1 < len(outline.lines) else None,
        action_form=EmptyForm())


def _quiz_panel(lesson) -> dict[str, object] | None:
    """A quiz lesson's quiz and where the learner stands in it (lms.quizzes)."""
    if lesson.kind != LessonKind.QUIZ or lesson.quiz_id is None:
        return None
    from lms.quizzes import attempts, quizzes

    quiz = quizzes.get_quiz(current_user, lesson.quiz_id)
    return {"quiz": quiz, "standing": attempts.standing(current_user, quiz),
            "questions": quizzes.question_count(quiz)}


def _material(lesson) -> dict[str, object]:
    """What the lesson shows of its record: the files and viewer, a tombstone, or whom to
    ask. The repository's own rules decide (``lms.catalog.access``, ``lms.files``)."""
    record = lesson.record
    if record.status in (RecordStatus.WITHDRAWN, RecordStatus.PURGED):
        # Opening the tombstone counts: the course stays passable without the material.
        return {"record": record, "withdrawn": True, "readable": True, "files": None}
    if not can_view(current_user, record):
        return {"record": record, "withdrawn": False, "readable": False, "files": None,
                "ask": _whom_to_ask(lesson)}
    version = record.latest_version
    return {"record": record, "withdrawn": False, "readable": True,
            "files": files_for_display(current_user, record, version), "version": version}


def _whom_to_ask(lesson) -> dict[str, object]:
    record = lesson.record
    curators = sorted({u.display_name for c in record.all_collections for u in c.curators})
    owners = [u.display_name for u in lesson.course.owners]
    return {"owners": owners, "curators": curators,
            "collection": record.collection.title if record.collection else ""}


@bp.post("/courses/<int:course_id>/lessons/<int:lesson_id>/done")
def lesson_done(course_id: int, lesson_id: int):
    found, chosen = _lesson(course_id, lesson_id)
    if progress.mark_done(current_user, found, chosen):
        flash(_("“%(title)s” is done.", title=chosen.title), "success")
    outline = progress.outline(current_user, found)
    if outline.enrolment is not None and \
            outline.enrolment.status == EnrolmentStatus.COMPLETED:
        flash(_("You have completed the course %(title)s.", title=found.title), "success")
    following = outline.next_line
    if following is not None:
        return redirect(url_for("learn.lesson", course_id=found.id,
                                lesson_id=following.lesson.id))
    return redirect(url_for("learn.course", course_id=found.id))


@bp.post("/courses/<int:course_id>/lessons/<int:lesson_id>/time")
def lesson_time(course_id: int, lesson_id: int):
    """A heartbeat of an open lesson page (CSRF header sent by static/js/lesson.js)."""
    found, chosen = _lesson(course_id, lesson_id)
    if not can(current_user, "lesson.open", chosen):
        raise PermissionDenied()
    return jsonify(added=progress.add_time(current_user, found, chosen))


@bp.get("/tracks/<int:track_id>")
def track(track_id: int):
    found = courses.get_track(current_user, track_id)
    enrolment = progress.track_enrolment(current_user, found)
    return render_template("training/track.html", track=found, enrolment=enrolment,
                           items=progress.track_courses(current_user, found),
                           may_edit=can(current_user, "track.edit", found))
