"""The trainers' area (/train): courses, tracks, audiences and assignments.

Views parse forms and call the services; the services check the policy and raise domain
errors, which the forms show beside what was typed.
"""

from __future__ import annotations

import json

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectChoice

from lms.accounts.models import TermKind, Unit, User
from lms.accounts.people_import import decode_text
from lms.accounts.services import get_term, list_terms, unit_tree
from lms.auth.forms import EmptyForm
from lms.auth.services import find_user
from lms.catalog.models import Record
from lms.db import paginate_rows
from lms.errors import FORM_ERRORS, NotFound, ValidationError
from lms.extensions import db
from lms.localtime import local_day, local_day_end, local_day_start
from lms.permissions import can, require
from lms.training import assignments, audiences, courses
from lms.training.access import reachable_units
from lms.training.forms import (
    AssignmentForm,
    AudienceEditForm,
    AudienceForm,
    CourseForm,
    DueForm,
    LessonForm,
    TrackForm,
)
from lms.training.models import (
    Audience,
    Course,
    CourseStatus,
    LessonKind,
    Track,
    TrackCourse,
)
from lms.training.progress import current_lessons
from lms.training.rules import FIELD_LABELS, MAX_GROUPS, parse_rule
from lms.web import flash_outcome, guard_blueprint, page_of, posted_row, request_int, save_edit

#: Why the training area refuses someone (every blueprint under /train says the same).
AREA_REFUSAL = _l("The training area is for training officers.")


def area_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of the trainers' area (/train): every page of it needs a login and the
    policy's ``training.area``."""
    blueprint = Blueprint(name, import_name)
    guard_blueprint(blueprint, "training.area", AREA_REFUSAL)
    return blueprint


bp = area_blueprint("train", __name__)
LIST_SIZE = 20


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"course_status_labels": courses.STATUS_LABELS,
            "audience_kind_labels": audiences.KIND_LABELS,
            "due_labels": assignments.DUE_LABELS,
            "rule_field_labels": FIELD_LABELS}


def _lang() -> str:
    return str(get_locale() or "vi")


def _page(stmt, per_page: int = LIST_SIZE):
    return page_of(stmt, per_page)


def _row_page(stmt, per_page: int):
    return paginate_rows(db.session, stmt, request.args.get("page", 1, type=request_int), per_page)


@bp.get("/")
def index():
    return render_template(
        "training/train/index.html",
        courses=db.session.scalars(courses.editable_courses(current_user).limit(5)).all(),
        tracks=db.session.scalars(courses.editable_tracks(current_user).limit(5)).all(),
        audiences=db.session.scalars(
            audiences.manageable_audiences(current_user).limit(5)).all(),
        assignments=db.session.scalars(
            assignments.visible_assignments(current_user).limit(5)).all())


# --- courses -------------------------------------------------------------------------------

@bp.get("/courses")
def course_list():
    query = request.args.get("q", "")[:100]
    return render_template("training/train/courses.html", query=query,
                           page=_page(courses.editable_courses(current_user, query)))


def _course_form(form: CourseForm, course: Course | None) -> None:
    lang = _lang()
    form.target_group_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(t.id, t.label(lang)) for t in list_terms(TermKind.TARGET_GROUP,
                                                              active_only=True)]
    form.cover_file_id.choices = [SelectChoice(0, _("None"))] + [
        SelectChoice(f.id, f.name) for f in (courses.cover_choices(course) if course else [])]


def _course_input(form: CourseForm) -> courses.CourseInput:
    return courses.CourseInput(
        title=form.title.data or "", description=form.description.data or "",
        language=form.language.data, self_enrol=form.self_enrol.data,
        sequential=form.sequential.data,
        target_group=get_term(form.target_group_id.data, TermKind.TARGET_GROUP),
        estimated_hours=float(form.estimated_hours.data) if form.estimated_hours.data
        is not None else None, cover_file_id=form.cover_file_id.data or None)


@bp.route("/courses/new", methods=["GET", "POST"])
def course_new():
    require(current_user, "course.create")
    form = CourseForm()
    _course_form(form, None)
    if request.method == "GET":
        form.sequential.data = True
    if form.validate_on_submit():
        with flash_outcome(_("Course created. Add its lessons, then publish it.")) as outcome:
            course = courses.create_course(current_user, _course_input(form))
        if outcome.failed:
            return render_template("training/train/course_new.html", form=form), \
                outcome.error.status
        return redirect(url_for("train.course_edit", course_id=course.id))
    status = 400 if request.method == "POST" else 200
    return render_template("training/train/course_new.html", form=form), status


def _course_page(course: Course, form: CourseForm, status: int = 200):
    lessons = current_lessons(course.id)
    trainers = courses.owner_candidates()
    assigned = assignments.of_course(course)
    return render_template(
        "training/train/course.html", course=course, form=form, lessons=lessons,
        warnings=courses.material_warnings(course), trainers=trainers,
        assignments=assigned, action_form=EmptyForm()), status


@bp.route("/courses/<int:course_id>", methods=["GET", "POST"])
def course_edit(course_id: int):
    course = courses.get_course(current_user, course_id, for_edit=True)
    form = CourseForm(obj=course if request.method == "GET" else None)
    _course_form(form, course)
    if request.method == "GET":
        form.target_group_id.data = course.target_group_id or 0
        form.cover_file_id.data = course.cover_file_id or 0
    status = save_edit(form, course, _("Course saved."), lambda: courses.update_course(
        current_user, course, _course_input(form), form.lock))
    if status is None:
        return redirect(url_for("train.course_edit", course_id=course.id))
    return _course_page(course, form, status)


def _lock_from_form() -> int:
    try:
        return int(request.form.get("lock_version", "0"))
    except ValueError:
        return 0


@bp.post("/courses/<int:course_id>/status")
def course_status(course_id: int):
    course = courses.get_course(current_user, course_id, for_edit=True)
    try:
        courses.set_course_status(current_user, course, request.form.get("status", ""),
                                  _lock_from_form())
    except FORM_ERRORS as error:
        flash(error.message, "error")
    else:
        flash(_("The course is now: %(status)s.",
                status=courses.STATUS_LABELS[CourseStatus(course.status)]), "success")
    return redirect(url_for("train.course_edit", course_id=course.id))


@bp.post("/courses/<int:course_id>/owners")
def course_owners(course_id: int):
    course = courses.get_course(current_user, course_id, for_edit=True)
    owners = [db.session.get(User, i) for i in request.form.getlist("owners", type=request_int)]
    with flash_outcome(_("Owners saved.")):
        courses.set_owners(current_user, course, [u for u in owners if u is not None],
                           _lock_from_form())
    return redirect(url_for("train.course_edit", course_id=course.id))


def _lesson_input(form: LessonForm, kind: str) -> courses.LessonInput:
    record_id = form.record_id.data
    return courses.LessonInput(
        kind=kind, title=form.title.data or "",
        record_id=int(record_id) if record_id and record_id.isdigit() else None,
        body=form.body.data or "", required=form.required.data,
        duration_minutes=form.duration_minutes.data)


@bp.route("/courses/<int:course_id>/lessons/new", methods=["GET", "POST"])
def lesson_new(course_id: int):
    course = courses.get_course(current_user, course_id, for_edit=True)
    kind = request.values.get("kind", LessonKind.RECORD)
    if kind not in courses.OFFERED_KINDS:
        raise NotFound()
    form = LessonForm()
    query = request.args.get("q", "")[:200]
    found = courses.find_records(current_user, query) if query else []
    chosen = None
    record_id = request.values.get("record_id", "")
    if record_id.isdigit():
        chosen = db.session.get(Record, int(record_id))
    if request.method == "GET":
        form.lock_version.data = course.lock_version
        form.required.data = True
        form.record_id.data = record_id if chosen else ""
        if chosen is not None:
            form.title.data = chosen.title
    status = 200
    if form.validate_on_submit():
        with flash_outcome(_("Lesson added.")) as outcome:
            courses.add_lesson(current_user, course, _lesson_input(form, kind), form.lock,
                               reopen_completed=form.reopen_completed.data)
        if outcome.failed:
            status = outcome.error.status
        else:
            return redirect(url_for("train.course_edit", course_id=course.id))
    elif request.method == "POST":
        status = 400
    return render_template("training/train/lesson_form.html", course=course, form=form,
                           kind=kind, lesson=None, query=query, found=found,
                           chosen=chosen), status


@bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>", methods=["GET", "POST"])
def lesson_edit(course_id: int, lesson_id: int):
    course = courses.get_course(current_user, course_id, for_edit=True)
    from lms.training.progress import course_lesson

    lesson = course_lesson(course, lesson_id)
    if lesson.kind not in courses.OFFERED_KINDS:
        raise NotFound()
    form = LessonForm(obj=lesson if request.method == "GET" else None)
    if request.method == "GET":
        form.lock_version.data = course.lock_version
        form.record_id.data = str(lesson.record_id or "")
        form.body.data = lesson.body_html
    status = save_edit(form, course, _("Lesson saved."), lambda: courses.update_lesson(
        current_user, lesson, _lesson_input(form, lesson.kind), form.lock,
        reopen_completed=form.reopen_completed.data))
    if status is None:
        return redirect(url_for("train.course_edit", course_id=course.id))
    return render_template("training/train/lesson_form.html", course=course, form=form,
                           kind=lesson.kind, lesson=lesson, query="", found=[],
                           chosen=lesson.record), status


@bp.post("/courses/<int:course_id>/lessons/<int:lesson_id>/<action>")
def lesson_action(course_id: int, lesson_id: int, action: str):
    from lms.training.progress import course_lesson

    course = courses.get_course(current_user, course_id, for_edit=True)
    lesson = course_lesson(course, lesson_id)
    if action not in ("remove", "up", "down"):
        raise NotFound()
    with flash_outcome():
        if action == "remove":
            courses.remove_lesson(current_user, lesson, _lock_from_form())
            flash(_("Lesson “%(title)s” removed; learners' progress on it is kept.",
                    title=lesson.title), "success")
        else:
            courses.move_lesson(current_user, lesson, -1 if action == "up" else 1,
                                _lock_from_form())
    return redirect(url_for("train.course_edit", course_id=course.id))


# --- tracks --------------------------------------------------------------------------------

@bp.get("/tracks")
def track_list():
    return render_template("training/train/tracks.html",
                           page=_page(courses.editable_tracks(current_user)))


def _status_choices() -> list[SelectChoice]:
    return [SelectChoice(str(s), label) for s, label in courses.STATUS_LABELS.items()]


@bp.route("/tracks/new", methods=["GET", "POST"])
def track_new():
    require(current_user, "track.create")
    form = TrackForm()
    form.status.choices = _status_choices()
    if form.validate_on_submit():
        with flash_outcome(_("Track created. Add its courses.")) as outcome:
            track = courses.create_track(current_user, form.title.data,
                                         form.description.data or "")
        if outcome.failed:
            return render_template("training/train/track_new.html", form=form), outcome.error.status
        return redirect(url_for("train.track_edit", track_id=track.id))
    status = 400 if request.method == "POST" else 200
    return render_template("training/train/track_new.html", form=form), status


@bp.route("/tracks/<int:track_id>", methods=["GET", "POST"])
def track_edit(track_id: int):
    track = courses.get_track(current_user, track_id, for_edit=True)
    form = TrackForm(obj=track if request.method == "GET" else None)
    form.status.choices = _status_choices()
    status = save_edit(form, track, _("Track saved."), lambda: courses.update_track(
        current_user, track, title=form.title.data, description=form.description.data or "",
        status=form.status.data, lock_version=form.lock))
    if status is None:
        return redirect(url_for("train.track_edit", track_id=track.id))
    in_track = {item.course_id for item in track.items}
    return render_template("training/train/track.html", track=track, form=form,
                           addable=[c for c in courses.published_courses(current_user)
                                    if c.id not in in_track],
                           action_form=EmptyForm()), status


@bp.post("/tracks/<int:track_id>/courses")
def track_courses(track_id: int):
    track = courses.get_track(current_user, track_id, for_edit=True)
    action = request.form.get("action", "")
    item = posted_row(TrackCourse, "item", track_id=track.id)
    with flash_outcome(_("Track saved.")):
        if action == "add":
            course = db.session.get(Course, request.form.get("course", 0, type=request_int))
            if course is None:
                raise ValidationError(_("Choose a published course."))
            courses.change_track_courses(current_user, track, add=course,
                                         lock_version=_lock_from_form())
        elif item is not None and action in ("remove", "toggle", "up", "down"):
            courses.change_track_courses(
                current_user, track, remove=item if action == "remove" else None,
                toggle=item if action == "toggle" else None,
                move=(item, -1 if action == "up" else 1) if action in ("up", "down")
                else None, lock_version=_lock_from_form())
        else:
            raise NotFound()
    return redirect(url_for("train.track_edit", track_id=track.id))


# --- audiences -----------------------------------------------------------------------------

@bp.get("/audiences")
def audience_list():
    return render_template("training/train/audiences.html",
                           page=_page(audiences.manageable_audiences(current_user)))


def _scope_units() -> list[tuple[Unit, int]]:
    """Units a trainer may draw audiences from (admins: all), in tree order."""
    reach = reachable_units(current_user)
    return [(unit, depth) for unit, depth in unit_tree() if reach is None or unit.id in reach]


def _unit_choices(with_none: bool) -> list[SelectChoice]:
    choices = [SelectChoice(0, _("The whole academy"))] if with_none else []
    return choices + [SelectChoice(unit.id, "\u00a0\u00a0" * depth + unit.name)
                      for unit, depth in _scope_units()]


@bp.route("/audiences/new", methods=["GET", "POST"])
def audience_new():
    require(current_user, "audience.create")
    form = AudienceForm()
    form.scope_unit_id.choices = _unit_choices(can(current_user, "audience.scope_all"))
    if request.method == "GET" and current_user.unit_id:
        form.scope_unit_id.data = current_user.unit_id
    if form.validate_on_submit():
        scope = db.session.get(Unit, form.scope_unit_id.data) if form.scope_unit_id.data \
            else None
        with flash_outcome(_("Audience created.")) as outcome:
            audience = audiences.create_audience(
                current_user, name=form.name.data, description=form.description.data or "",
                kind=form.kind.data, scope_unit=scope)
        if outcome.failed:
            return render_template("training/train/audience_new.html", form=form), \
                outcome.error.status
        if audience.is_rule_based:
            return redirect(url_for("train.audience_rule", audience_id=audience.id))
        return redirect(url_for("train.audience", audience_id=audience.id))
    status = 400 if request.method == "POST" else 200
    return render_template("training/train/audience_new.html", form=form), status


@bp.route("/audiences/<int:audience_id>", methods=["GET", "POST"])
def audience(audience_id: int):
    found = audiences.get_audience(current_user, audience_id)
    form = AudienceEditForm(obj=found if request.method == "GET" else None)
    status = save_edit(form, found, _("Audience saved."), lambda: audiences.update_audience(
        current_user, found, name=form.name.data, description=form.description.data or "",
        lock_version=form.lock))
    if status is None:
        return redirect(url_for("train.audience", audience_id=found.id))
    query = request.args.get("q", "")[:100]
    search = request.args.get("find", "")[:100]
    return render_template(
        "training/train/audience.html", audience=found, form=form,
        members=_row_page(audiences.members(found, query), 50), query=query,
        search=search, candidates=audiences.find_people(current_user, found, search)
        if search and not found.is_rule_based else [],
        rule=_rule_text(found.rule), action_form=EmptyForm()), status


def _rule_text(data: dict | None) -> list[dict[str, object]]:
    """A rule as lines a person reads: group → [(field label, values as text)]."""
    if not data:
        return []
    rule = parse_rule(data)
    names = audiences.rule_value_names(_lang())
    groups = []
    for group in rule.groups:
        lines = []
        for condition in group.conditions:
            shown = [names.get((condition.field, value), str(value))
                     for value in condition.values]
            lines.append({"field": FIELD_LABELS[condition.field], "values": shown,
                          "subunits": condition.subunits})
        groups.append({"combine": group.combine, "lines": lines})
    return groups


def _rule_from_form(form) -> dict:
    groups = []
    count = min(form.get("groups", 1, type=request_int) or 1, MAX_GROUPS)
    for index in range(count):
        prefix = f"g{index}-"
        conditions = []
        for field_name in ("unit", "rank", "position", "target_group", "audience"):
            values = form.getlist(prefix + field_name, type=request_int)
            if values:
                condition = {"field": field_name, "values": values}
                if field_name == "unit":
                    condition["subunits"] = bool(form.get(prefix + "subunits"))
                conditions.append(condition)
        roles = form.getlist(prefix + "role")
        if roles:
            conditions.append({"field": "role", "values": roles})
        for field_name in ("cohort", "class_name", "cohort_year"):
            text = form.get(prefix + field_name, "")
            values = [v.strip() for v in text.replace(";", ",").split(",") if v.strip()]
            if values:
                if field_name == "cohort_year" and not all(v.isdigit() for v in values):
                    raise ValidationError(_("The years of study are numbers separated by "
                                            "commas."))
                conditions.append({"field": field_name, "values": values})
        groups.append({"combine": "any" if form.get(prefix + "combine") == "any" else "all",
                       "conditions": conditions})
    return {"combine": "any" if form.get("combine") == "any" else "all", "groups": groups}


def _rule_editor(found: Audience, data: dict, groups: int, status: int = 200):
    lang = _lang()
    rule = parse_rule(data)
    chosen = []
    for index in range(groups):
        group = rule.groups[index] if index < len(rule.groups) else None
        values: dict[str, object] = {"combine": group.combine if group else "all"}
        for condition in (group.conditions if group else []):
            values[condition.field] = condition.values
            if condition.field == "unit":
                values["subunits"] = condition.subunits
        chosen.append(values)
    from lms.accounts.models import ROLE_LABELS

    return render_template(
        "training/train/audience_rule.html", audience=found, combine=rule.combine,
        groups=chosen, units=[(u, d) for u, d in _scope_units()],
        terms={kind: [(t.id, t.label(lang)) for t in list_terms(kind, active_only=True)]
               for kind in TermKind},
        roles=[(str(r), label) for r, label in ROLE_LABELS.items()],
        others=[a for a in db.session.scalars(audiences.manageable_audiences(current_user))
                if a.id != found.id],
        lock_version=found.lock_version, preview=None), status


@bp.route("/audiences/<int:audience_id>/rule", methods=["GET", "POST"])
def audience_rule(audience_id: int):
    found = audiences.get_audience(current_user, audience_id)
    if not found.is_rule_based:
        raise NotFound()
    # GET and HEAD show the editor; only a POST (its token checked by CSRFProtect) acts.
    if request.method != "POST":
        groups = max(2, len(parse_rule(found.rule or {}).groups))
        return _rule_editor(found, found.rule or {}, groups)
    action = request.form.get("action", "preview")
    try:
        if action == "apply":
            data = json.loads(request.form.get("rule_json", "{}"))
            outcome = audiences.apply_rule(current_user, found, data, _lock_from_form())
            if isinstance(outcome, int):
                flash(_("The rule is saved. Many people join or leave: a background job "
                        "updates the audience and its enrolments."), "success")
                return redirect(url_for("jobs.show", job_id=outcome))
            flash(_("The rule is saved: %(joined)d joined, %(left)d left.",
                    joined=len(outcome.joined), left=len(outcome.left)), "success")
            return redirect(url_for("train.audience", audience_id=found.id))
        data = _rule_from_form(request.form)
        groups = len(data["groups"])
        if action == "add_group":
            return _rule_editor(found, data, min(groups + 1, MAX_GROUPS))
        preview = audiences.preview_rule(current_user, found, data)
    except (json.JSONDecodeError, *FORM_ERRORS) as error:
        message = error.message if hasattr(error, "message") else _("The rule is not valid.")
        flash(message, "error")
        db.session.rollback()
        return _rule_editor(found, found.rule or {}, 2, 409 if action == "apply" else 422)
    return render_template("training/train/audience_preview.html", audience=found,
                           preview=preview, rule_json=json.dumps(preview.rule.as_dict()),
                           lock_version=found.lock_version,
                           rule=_rule_text(preview.rule.as_dict()))


@bp.post("/audiences/<int:audience_id>/members")
def audience_members(audience_id: int):
    found = audiences.get_audience(current_user, audience_id)
    with flash_outcome() as outcome:
        people = _people_from(request)
        added = audiences.add_members(current_user, found, people)
        outcome.success = _("%(n)d people added.", n=added)
    return redirect(url_for("train.audience", audience_id=found.id))


def _people_from(req, field: str = "usernames") -> list[User]:
    """People named by username (typed, or a CSV's first column) or ticked in a search."""
    names: list[str] = req.form.get(field, "").split()
    upload = req.files.get("file")
    if upload is not None and upload.filename:
        raw = upload.read(current_app.config["MAX_FORM_MEMORY_SIZE"] + 1)
        upload.close()
        if len(raw) > current_app.config["MAX_FORM_MEMORY_SIZE"]:
            raise ValidationError(_("The list is too long; send at most 500 KB."))
        for line in decode_text(raw).splitlines():
            cell = line.replace(";", ",").split(",")[0].strip().strip('"')
            if cell and cell.lower() != "username":
                names.append(cell)
    people: list[User] = []
    unknown: list[str] = []
    for name in dict.fromkeys(names):
        person = find_user(name)
        (people.append(person) if person is not None else unknown.append(name))
    for user_id in req.form.getlist("user_ids", type=request_int):
        person = db.session.get(User, user_id)
        if person is not None:
            people.append(person)
    if unknown:
        raise ValidationError(_("No such people: %(names)s.", names=", ".join(unknown[:20])))
    if not people:
        raise ValidationError(_("Name at least one person."))
    return people


@bp.post("/audiences/<int:audience_id>/members/remove")
def audience_members_remove(audience_id: int):
    found = audiences.get_audience(current_user, audience_id)
    with flash_outcome() as outcome:
        removed = audiences.remove_members(current_user, found,
                                           request.form.getlist("user_ids", type=request_int))
        outcome.success = _("%(n)d people removed.", n=removed)
    return redirect(url_for("train.audience", audience_id=found.id))


# --- assignments ---------------------------------------------------------------------------

@bp.get("/assignments")
def assignment_list():
    return render_template("training/train/assignments.html",
                           page=_page(assignments.visible_assignments(current_user)))


def _due_spec(form) -> assignments.DueSpec:
    return assignments.DueSpec(
        kind=form.due_kind.data or "none", due_at=local_day_end(form.due_date.data),
        days=form.due_days.data, starts_at=local_day_start(form.start_date.data))


@bp.route("/assignments/new", methods=["GET", "POST"])
def assignment_new():
    require(current_user, "assignment.create")
    course = db.session.get(Course, request.values.get("course", 0, type=request_int))
    track = db.session.get(Track, request.values.get("track", 0, type=request_int))
    if (course is None) == (track is None):
        raise NotFound()
    item = course or track
    require(current_user, "course.assign" if course else "track.assign", item)
    form = AssignmentForm()
    choices = db.session.scalars(audiences.manageable_audiences(current_user)).all()
    form.audiences.choices = [SelectChoice(a.id, a.name) for a in choices]
    status = 200
    if form.validate_on_submit():
        try:
            people = _people_from(request, "people") \
                if (request.form.get("people") or "").strip() else []
            chosen = [a for a in choices if a.id in set(form.audiences.data or [])]
            created = assignments.create_assignment(
                current_user, course=course, track=track, audiences=chosen, people=people,
                due=_due_spec(form))
        except FORM_ERRORS as error:
            flash(error.message, "error")
            status = error.status
        else:
            for warning in created.warnings:
                flash(warning, "warning")
            if created.job_id:
                flash(_("The assignment is saved; enrolling its people runs in the "
                        "background."), "success")
            else:
                flash(_("Assigned: %(n)d people enrolled.", n=created.enrolled), "success")
            return redirect(url_for("train.assignment", assignment_id=created.assignment.id))
    elif request.method == "POST":
        status = 400
    return render_template("training/train/assignment_new.html", form=form, item=item,
                           course=course, track=track), status


@bp.get("/assignments/<int:assignment_id>")
def assignment(assignment_id: int):
    found = assignments.get_assignment(current_user, assignment_id)
    status = request.args.get("status", "")
    status = status if status in assignments.STATUS_FILTERS else ""
    query = request.args.get("q", "")[:100]
    form = DueForm()
    form.due_kind.data = found.due_kind
    form.due_date.data = local_day(found.due_at)
    form.due_days.data = found.due_days
    form.start_date.data = local_day(found.starts_at)
    form.lock_version.data = found.lock_version
    page = _row_page(assignments.learners(found, status=status, query=query),
                     current_app.config["TRAINING_PAGE_SIZE"])
    return render_template("training/train/assignment.html", assignment=found,
                           summary=assignments.summary(found), page=page, status=status,
                           query=query, form=form, action_form=EmptyForm())


@bp.post("/assignments/<int:assignment_id>/due")
def assignment_due(assignment_id: int):
    found = assignments.get_assignment(current_user, assignment_id)
    form = DueForm()
    if form.validate_on_submit():
        with flash_outcome(_("Due date saved.")):
            for warning in assignments.change_due(current_user, found, _due_spec(form),
                                                  form.lock):
                flash(warning, "warning")
    return redirect(url_for("train.assignment", assignment_id=found.id))


@bp.post("/assignments/<int:assignment_id>/<action>")
def assignment_action(assignment_id: int, action: str):
    found = assignments.get_assignment(current_user, assignment_id)
    if action not in ("cancel", "resync"):
        raise NotFound()
    if action == "cancel":
        assignments.cancel_assignment(current_user, found)
        flash(_("The assignment is cancelled; progress is kept."), "success")
    else:
        require(current_user, "assignment.manage", found)
        assignments.start_enrol_job(current_user, found)
        flash(_("Enrolment is running again."), "success")
    return redirect(url_for("train.assignment", assignment_id=found.id))

