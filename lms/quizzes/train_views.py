"""Banks and quizzes in the trainers' area (/train/banks, /train/quizzes): views parse forms
and call the services, which check the policy and raise domain errors shown beside the form.
"""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from lms.accounts.services import unit_tree
from lms.auth.forms import EmptyForm
from lms.auth.services import find_user
from lms.db import paginate_rows
from lms.errors import FORM_ERRORS, NotFound, ValidationError
from lms.extensions import db
from lms.localtime import local_to_utc, utc_to_local
from lms.permissions import can, require
from lms.quizzes import attempts, banks, kinds, quizzes, statistics, transfer
from lms.quizzes.access import quiz_lessons
from lms.quizzes.forms import (
    BankForm,
    CourseQuizForm,
    DrawForm,
    GrantForm,
    ImportForm,
    PresetForm,
    QuestionForm,
    QuizForm,
    options_from,
)
from lms.quizzes.models import QuestionCategory, QuestionType, QuizSlot
from lms.training.access import reachable_units
from lms.training.train_views import area_blueprint
from lms.web import flash_outcome, page_of, posted_row, request_int, save_edit

bp = area_blueprint("quiz_train", __name__)
LIST_SIZE = 20


def _page(stmt, per_page: int = LIST_SIZE):
    return page_of(stmt, per_page)


def _lock() -> int:
    return request.form.get("lock_version", 0, type=request_int)


def _unit_choices(with_all: bool) -> list[SelectChoice]:
    """Units ``current_user`` reaches; 0 is the whole academy, or (``with_all`` False) their
    own unit."""
    reach = reachable_units(current_user)
    choices = [SelectChoice(0, _("The whole academy") if with_all else _("My unit"))]
    return choices + [SelectChoice(unit.id, "\u00a0\u00a0" * depth + unit.name)
                      for unit, depth in unit_tree() if reach is None or unit.id in reach]


# --- banks ---------------------------------------------------------------------------------

@bp.get("/banks")
def bank_list():
    page = _page(banks.usable_banks(current_user))
    return render_template("quizzes/train/banks.html", page=page,
                           counts=banks.question_counts([b.id for b in page.items]),
                           sharing_labels=banks.SHARING_LABELS)


def _bank_input(form: BankForm) -> banks.BankInput:
    return banks.BankInput(name=form.name.data or "", description=form.description.data or "",
                           sharing=form.sharing.data, unit_id=form.unit_id.data or None)


@bp.route("/banks/new", methods=["GET", "POST"])
def bank_new():
    require(current_user, "bank.create")
    form = BankForm()
    form.unit_id.choices = _unit_choices(False)
    if request.method == "GET" and current_user.unit_id:
        form.unit_id.data = current_user.unit_id
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            bank = banks.create_bank(current_user, _bank_input(form))
        except FORM_ERRORS as error:
            flash(error.message, "error")
            status = error.status
        else:
            flash(_("Bank created. Add its categories, then questions or an import."),
                  "success")
            return redirect(url_for("quiz_train.bank", bank_id=bank.id))
    return render_template("quizzes/train/bank_new.html", form=form), status


@bp.route("/banks/<int:bank_id>", methods=["GET", "POST"])
def bank(bank_id: int):
    found = banks.get_bank(current_user, bank_id)
    form = BankForm(obj=found if request.method == "GET" else None)
    form.unit_id.choices = _unit_choices(False)
    if request.method == "GET":
        form.unit_id.data = found.unit_id or 0
    status = save_edit(form, found, _("Bank saved."), lambda: banks.update_bank(
        current_user, found, _bank_input(form), form.lock))
    if status is None:
        return redirect(url_for("quiz_train.bank", bank_id=found.id))
    category_id = request.args.get("category", 0, type=request_int)
    category = db.session.get(QuestionCategory, category_id) if category_id else None
    if category is not None and category.bank_id != found.id:
        category = None
    difficulty = request.args.get("difficulty", "")
    query = request.args.get("q", "")[:100]
    archived = request.args.get("archived") == "1"
    return render_template(
        "quizzes/train/bank.html", bank=found, form=form, categories=banks.categories(found),
        counts=banks.category_counts(found), category=category, difficulty=difficulty,
        query=query, archived=archived, may_manage=can(current_user, "bank.manage", found),
        page=_page(banks.find_questions(found, category=category, difficulty=difficulty,
                                        query=query, archived=archived), 50),
        sharing_labels=banks.SHARING_LABELS, action_form=EmptyForm()), status


@bp.post("/banks/<int:bank_id>/categories")
def bank_categories(bank_id: int):
    found = banks.get_bank(current_user, bank_id, manage=True)
    action = request.form.get("action", "add")
    category = posted_row(QuestionCategory, "category", bank_id=found.id)
    with flash_outcome():
        if action == "add":
            banks.add_category(current_user, found, request.form.get("name", ""), category)
            flash(_("Category added."), "success")
        elif action == "rename" and category is not None:
            banks.rename_category(current_user, category, request.form.get("name", ""))
            flash(_("Category renamed."), "success")
        elif action == "remove" and category is not None:
            banks.remove_category(current_user, category)
            flash(_("Category removed."), "success")
        else:
            raise NotFound()
    return redirect(url_for("quiz_train.bank", bank_id=found.id))


# --- questions -----------------------------------------------------------------------------

def _question_form(form: QuestionForm, bank) -> None:
    form.category_id.choices = [SelectChoice(c.id, c.path) for c in banks.categories(bank)]


def _question_input(form: QuestionForm, question_type: str, text: str) -> banks.QuestionInput:
    record = (form.record_id.data or "").strip().lstrip("#")
    if record and not record.isdigit():
        raise ValidationError(_("The record is given by its number."))
    content = kinds.QuestionContent(
        question_type, text, options_from(request.form, question_type), form.partial.data,
        float(form.points.data or 1), form.explanation.data or "")
    return banks.QuestionInput(content, form.category_id.data, form.difficulty.data,
                               int(record) if record else None)


def _text_with_image(bank, form: QuestionForm) -> str:
    """The text typed, with an uploaded image appended (stored in the files storage)."""
    text = form.text.data or ""
    upload = request.files.get("image")
    if upload is not None and upload.filename:
        image = banks.add_image(current_user, bank, upload.stream, upload.filename)
        text = f'{text}\n<p><img src="{banks.image_url(image)}" alt=""></p>'
    return text


def _editor(bank, form: QuestionForm, question_type: str, question=None, version=None,
            status: int = 200):
    options = options_from(request.form, question_type) if request.method == "POST" else (
        kinds.content_of(version.type, version.options) if version else [])
    return render_template(
        "quizzes/train/question_form.html", bank=bank, form=form, question=question,
        version=version, question_type=question_type, options=options,
        rows=max(4, len(options) + (0 if len(options) >= kinds.MAX_OPTIONS else 1))
        if question_type != QuestionType.TRUE_FALSE else 0,
        versions=banks.versions(question) if question else [],
        used=banks.is_used(version.id) if version else False, action_form=EmptyForm()), status


@bp.route("/banks/<int:bank_id>/questions/new", methods=["GET", "POST"])
def question_new(bank_id: int):
    found = banks.get_bank(current_user, bank_id, manage=True)
    question_type = request.values.get("type", QuestionType.SINGLE)
    if question_type not in set(QuestionType):
        raise NotFound()
    form = QuestionForm()
    _question_form(form, found)
    if not form.category_id.choices:
        flash(_("Add a category to the bank first."), "info")
        return redirect(url_for("quiz_train.bank", bank_id=found.id))
    if request.method == "GET":
        form.category_id.data = request.args.get("category", 0, type=request_int) or None
        form.partial.data = question_type == QuestionType.MATCHING
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        with flash_outcome(_("Question saved.")) as outcome:
            question = banks.create_question(current_user, found, _question_input(
                form, question_type, _text_with_image(found, form)))
        if outcome.failed:
            status = outcome.error.status
        else:
            if request.form.get("then") == "another":
                return redirect(url_for("quiz_train.question_new", bank_id=found.id,
                                        type=question_type, category=question.category_id))
            return redirect(url_for("quiz_train.bank", bank_id=found.id))
    return _editor(found, form, question_type, status=status)


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
def question_edit(question_id: int):
    question = banks.get_question(current_user, question_id)
    found = question.bank
    version = banks.current_version(question)
    question_type = request.values.get("type", version.type)
    if question_type not in set(QuestionType):
        raise NotFound()
    form = QuestionForm(obj=question if request.method == "GET" else None)
    _question_form(form, found)
    if request.method == "GET":
        form.lock_version.data = question.lock_version
        form.text.data = version.text_html
        form.explanation.data = version.explanation_html
        form.points.data = version.points
        form.partial.data = version.partial
        form.record_id.data = str(question.record_id or "")
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            new = banks.update_question(current_user, question, _question_input(
                form, question_type, _text_with_image(found, form)), form.lock)
        except FORM_ERRORS as error:
            flash(error.message, "error")
            status = error.status
        else:
            flash(_("Question saved as version %(n)d: attempts that showed the earlier "
                    "version keep it.", n=question.current_version) if new
                  else _("Question saved."), "success")
            return redirect(url_for("quiz_train.question_edit", question_id=question.id))
    return _editor(found, form, question_type, question, version, status)


@bp.post("/questions/<int:question_id>/key")
def question_key(question_id: int):
    """Correct the key of a version that attempts showed, and regrade them."""
    question = banks.get_question(current_user, question_id, manage=True)
    version = next((v for v in banks.versions(question)
                    if v.id == request.form.get("version", 0, type=request_int)), None)
    if version is None:
        raise NotFound()
    keys = request.form.getlist("correct")
    if version.type == QuestionType.TRUE_FALSE:
        keys = [request.form.get("truth", "")]
    try:
        outcome = banks.fix_key(current_user, version, keys,
                                partial=request.form.get("partial") == "y")
    except FORM_ERRORS as error:
        flash(error.message, "error")
    else:
        if outcome.queued:
            flash(_("The key is corrected; %(n)d attempts are being regraded in the "
                    "background.", n=outcome.attempts), "success")
        else:
            flash(_("The key is corrected: %(n)d attempts regraded, %(changed)d results "
                    "changed (their learners are notified).", n=outcome.attempts,
                    changed=outcome.changed), "success")
    return redirect(url_for("quiz_train.question_edit", question_id=question.id))


@bp.post("/questions/<int:question_id>/archive")
def question_archive(question_id: int):
    question = banks.get_question(current_user, question_id, manage=True)
    archived = request.form.get("archived") == "1"
    try:
        banks.set_archived(current_user, question, archived)
    except FORM_ERRORS as error:
        flash(error.message, "error")
    else:
        flash(_("Question archived: it is no longer drawn.") if archived
              else _("Question restored."), "success")
    return redirect(url_for("quiz_train.bank", bank_id=question.bank_id))


# --- import and export ---------------------------------------------------------------------

@bp.route("/banks/<int:bank_id>/import", methods=["GET", "POST"])
def bank_import(bank_id: int):
    found = banks.get_bank(current_user, bank_id, manage=True)
    form = ImportForm()
    report, status = None, 200
    if request.method == "POST":
        status = 400
        upload = request.files.get("file")
        if form.validate_on_submit() and upload is not None and upload.filename:
            limit = current_app.config["MAX_FORM_MEMORY_SIZE"] * 40
            data = upload.read(limit + 1)
            try:
                if len(data) > limit:
                    raise ValidationError(_("The file is larger than %(n)d MB.",
                                            n=limit // 1_000_000))
                report = transfer.import_bank(
                    current_user, found, data, upload.filename, dry_run=form.dry_run.data,
                    create_categories=form.create_categories.data)
            except FORM_ERRORS as error:
                flash(error.message, "error")
                status = error.status
            else:
                status = 422 if report.failed else 200
                if not report.failed and not report.dry_run:
                    flash(_("Imported: %(new)d new questions, %(exists)d already in the bank.",
                            **report.counts), "success")
        elif form.validate_on_submit():
            flash(_("Choose a file."), "error")
    return render_template("quizzes/train/import.html", bank=found, form=form, report=report,
                           columns=transfer.COLUMNS), status


@bp.get("/banks/<int:bank_id>/export")
def bank_export(bank_id: int):
    found = banks.get_bank(current_user, bank_id)
    fmt = request.args.get("format", "csv")
    if fmt not in transfer.FORMATS:
        raise NotFound()
    content, media_type, name = transfer.export_bank(current_user, found, fmt)
    return Response(content, mimetype=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- quizzes -------------------------------------------------------------------------------

@bp.get("/quizzes")
def quiz_list():
    return render_template("quizzes/train/quizzes.html",
                           page=_page(quizzes.editable_quizzes(current_user)),
                           lessons_of=quiz_lessons)


def _usable_banks():
    return db.session.scalars(banks.usable_banks(current_user)).all()


@bp.route("/quizzes/new", methods=["GET", "POST"])
def quiz_new():
    """A quiz on its own (a unit's assessment): from the preset, or empty."""
    require(current_user, "quiz.create")
    form = PresetForm()
    form.bank_id.choices = [SelectChoice(b.id, b.name) for b in _usable_banks()]
    form.unit_id.choices = _unit_choices(can(current_user, "quiz.all_units"))
    if request.method == "GET" and current_user.unit_id:
        form.unit_id.data = current_user.unit_id
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        with flash_outcome(_("Quiz created.")) as outcome:
            if request.form.get("mode") == "blank":
                quiz = quizzes.create_quiz(current_user, quizzes.QuizInput(
                    title=form.title.data or _("Assessment"), unit_id=form.unit_id.data or None))
            else:
                bank = banks.get_bank(current_user, form.bank_id.data)
                quiz = quizzes.create_from_preset(current_user, quizzes.DIGITAL_SKILLS, bank,
                                                  title=form.title.data or None,
                                                  unit_id=form.unit_id.data or None)
        if outcome.failed:
            status = outcome.error.status
        else:
            return redirect(url_for("quiz_train.quiz_edit", quiz_id=quiz.id))
    return render_template("quizzes/train/quiz_new.html", form=form,
                           preset=quizzes.DIGITAL_SKILLS), status


@bp.route("/courses/<int:course_id>/quiz", methods=["GET", "POST"])
def course_quiz(course_id: int):
    """A quiz lesson at the end of a course."""
    from lms.training import courses

    course = courses.get_course(current_user, course_id, for_edit=True)
    form = CourseQuizForm()
    form.bank_id.choices = [SelectChoice(b.id, b.name) for b in _usable_banks()]
    if request.method == "GET":
        form.lock_version.data = course.lock_version
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            preset = quizzes.DIGITAL_SKILLS if form.mode.data == "preset" else None
            bank = banks.get_bank(current_user, form.bank_id.data) \
                if preset and form.bank_id.data else None
            quiz = quizzes.create_course_quiz(current_user, course, form.lock, preset=preset,
                                              bank=bank, title=form.title.data or "",
                                              reopen_completed=form.reopen_completed.data)
        except FORM_ERRORS as error:
            flash(error.message, "error")
            status = error.status
        else:
            if preset:
                flash(_("The quiz “%(title)s” is the course's last lesson.", title=quiz.title),
                      "success")
                return redirect(url_for("train.course_edit", course_id=course.id))
            flash(_("Quiz added to the course: choose its questions."), "success")
            return redirect(url_for("quiz_train.quiz_edit", quiz_id=quiz.id))
    return render_template("quizzes/train/course_quiz.html", course=course, form=form), status


def _quiz_input(form: QuizForm) -> quizzes.QuizInput:
    return quizzes.QuizInput(
        title=form.title.data or "", description=form.description.data or "",
        unit_id=form.unit_id.data or None, time_limit_minutes=form.time_limit_minutes.data,
        attempts_allowed=form.attempts_allowed.data, wait_minutes=form.wait_minutes.data or 0,
        pass_percent=float(form.pass_percent.data or 0), grading=form.grading.data,
        opens_at=local_to_utc(form.opens_at.data), closes_at=local_to_utc(form.closes_at.data),
        shuffle_questions=form.shuffle_questions.data, shuffle_options=form.shuffle_options.data,
        review_after_submit=form.review_after_submit.data,
        review_after_close=form.review_after_close.data)


def _draw_form(bank_list) -> DrawForm:
    form = DrawForm(prefix="draw")
    form.category_id.choices = [SelectChoice(c.id, f"{b.name}: {c.path}")
                                for b in bank_list for c in banks.categories(b)]
    return form


@bp.route("/quizzes/<int:quiz_id>", methods=["GET", "POST"])
def quiz_edit(quiz_id: int):
    quiz = quizzes.get_quiz(current_user, quiz_id, for_edit=True)
    form = QuizForm(obj=quiz if request.method == "GET" else None)
    form.unit_id.choices = _unit_choices(True)
    if request.method == "GET":
        form.unit_id.data = quiz.unit_id or 0
        form.opens_at.data = utc_to_local(quiz.opens_at)
        form.closes_at.data = utc_to_local(quiz.closes_at)
    status = save_edit(form, quiz, _("Quiz saved."), lambda: quizzes.update_quiz(
        current_user, quiz, _quiz_input(form), form.lock))
    if status is None:
        return redirect(url_for("quiz_train.quiz_edit", quiz_id=quiz.id))
    bank_list = _usable_banks()
    draw_form = _draw_form(bank_list)
    draw_form.lock_version.data = quiz.lock_version
    return render_template(
        "quizzes/train/quiz.html", quiz=quiz, form=form, draw_form=draw_form,
        lessons=quiz_lessons(quiz), total=quizzes.question_count(quiz),
        problems=quizzes.draw_problems(quiz.slots), summary=attempts.summary(quiz),
        banks=bank_list, action_form=EmptyForm()), status


@bp.post("/quizzes/<int:quiz_id>/status")
def quiz_status(quiz_id: int):
    quiz = quizzes.get_quiz(current_user, quiz_id, for_edit=True)
    try:
        quizzes.set_status(current_user, quiz, request.form.get("status", ""), _lock())
    except FORM_ERRORS as error:
        flash(error.message, "error")
    else:
        flash(_("The quiz is now: %(status)s.",
                status=quizzes.STATUS_LABELS[quiz.status]), "success")
    return redirect(url_for("quiz_train.quiz_edit", quiz_id=quiz.id))


@bp.post("/quizzes/<int:quiz_id>/draws")
def quiz_draw(quiz_id: int):
    quiz = quizzes.get_quiz(current_user, quiz_id, for_edit=True)
    form = _draw_form(_usable_banks())
    if form.validate_on_submit():
        with flash_outcome(_("Draw added.")):
            quizzes.add_draw(current_user, quiz, quizzes.DrawInput(
                category_id=form.category_id.data, count=form.count.data,
                easy=form.easy.data or 0, medium=form.medium.data or 0, hard=form.hard.data or 0,
                subcategories=form.subcategories.data,
                points=float(form.points.data) if form.points.data else None), form.lock)
    else:
        flash(_("Check the draw: the numbers are between 1 and 200."), "error")
    return redirect(url_for("quiz_train.quiz_edit", quiz_id=quiz.id))


@bp.route("/quizzes/<int:quiz_id>/questions", methods=["GET", "POST"])
def quiz_questions(quiz_id: int):
    """Choose fixed questions from a bank."""
    quiz = quizzes.get_quiz(current_user, quiz_id, for_edit=True)
    bank_list = _usable_banks()
    chosen_bank = next((b for b in bank_list
                        if b.id == request.values.get("bank", 0, type=request_int)),
                       bank_list[0] if bank_list else None)
    if request.method == "POST":
        picked = [banks.get_question(current_user, i)
                  for i in request.form.getlist("question", type=request_int)]
        with flash_outcome() as outcome:
            added = quizzes.add_questions(current_user, quiz, picked, _lock())
            outcome.success = _("%(n)d questions added.", n=added)
        if not outcome.failed:
            return redirect(url_for("quiz_train.quiz_edit", quiz_id=quiz.id))
    query = request.args.get("q", "")[:100]
    page = _page(banks.find_questions(chosen_bank, query=query), 50) if chosen_bank else None
    return render_template("quizzes/train/quiz_questions.html", quiz=quiz, banks=bank_list,
                           bank=chosen_bank, page=page, query=query,
                           present={s.question_id for s in quiz.slots})


@bp.post("/quizzes/<int:quiz_id>/slots/<int:slot_id>/<action>")
def quiz_slot(quiz_id: int, slot_id: int, action: str):
    quiz = quizzes.get_quiz(current_user, quiz_id, for_edit=True)
    slot = db.session.get(QuizSlot, slot_id)
    if slot is None or slot.quiz_id != quiz.id:
        raise NotFound()
    with flash_outcome():
        quizzes.change_slot(current_user, quiz, slot, action, _lock())
    return redirect(url_for("quiz_train.quiz_edit", quiz_id=quiz.id))


# --- attempts, results, statistics ---------------------------------------------------------

@bp.get("/quizzes/<int:quiz_id>/attempts")
def quiz_attempts(quiz_id: int):
    quiz = quizzes.get_quiz(current_user, quiz_id, for_edit=True)
    query = request.args.get("q", "")[:100]
    state = request.args.get("state", "")
    page = paginate_rows(db.session, attempts.attempts_of(quiz, query=query, state=state),
                         request.args.get("page", 1, type=request_int), 50)
    return render_template("quizzes/train/attempts.html", quiz=quiz, page=page, query=query,
                           state=state, summary=attempts.summary(quiz),
                           grant_form=GrantForm(), overrides=attempts.overrides_of(quiz),
                           action_form=EmptyForm())


@bp.get("/quizzes/<int:quiz_id>/attempts/<int:attempt_id>")
def attempt_detail(quiz_id: int, attempt_id: int):
    quiz = quizzes.get_quiz(current_user, quiz_id, for_edit=True)
    found = attempts.reviewable_attempt(current_user, attempt_id)
    if found.quiz_id != quiz.id:
        raise NotFound()
    return render_template("quizzes/train/attempt.html", quiz=quiz, attempt=found,
                           reviewed=attempts.review(found, "full") if not found.is_open
                           else [], remaining=attempts.remaining_seconds(found))


@bp.post("/quizzes/<int:quiz_id>/grants")
def quiz_grant(quiz_id: int):
    quiz = quizzes.get_quiz(current_user, quiz_id, for_edit=True)
    form = GrantForm()
    if form.validate_on_submit():
        person = find_user(form.username.data.strip())
        with flash_outcome() as outcome:
            if person is None:
                raise ValidationError(_("No such person: %(names)s.",
                                        names=form.username.data.strip()))
            attempts.grant(current_user, quiz, person,
                           extra_attempts=form.extra_attempts.data or 0,
                           extra_minutes=form.extra_minutes.data or 0, reason=form.reason.data)
            outcome.success = _("Granted to %(name)s.", name=person.display_name)
    else:
        flash(_("Name the person and say why."), "error")
    return redirect(url_for("quiz_train.quiz_attempts", quiz_id=quiz.id))


@bp.post("/quizzes/<int:quiz_id>/regrade")
def quiz_regrade(quiz_id: int):
    quiz = quizzes.get_quiz(current_user, quiz_id, for_edit=True)
    outcome = attempts.regrade_quiz(current_user, quiz)
    if outcome.queued:
        flash(_("%(n)d attempts are being regraded in the background.",
                n=outcome.attempts), "success")
    else:
        flash(_("%(n)d attempts regraded, %(changed)d results changed (their learners are "
                "notified).", n=outcome.attempts, changed=outcome.changed), "success")
    return redirect(url_for("quiz_train.quiz_attempts", quiz_id=quiz.id))


@bp.get("/quizzes/<int:quiz_id>/statistics")
def quiz_statistics(quiz_id: int):
    quiz = quizzes.get_quiz(current_user, quiz_id, for_edit=True)
    return render_template("quizzes/train/statistics.html", quiz=quiz,
                           items=statistics.item_statistics(quiz), summary=attempts.summary(quiz),
                           thresholds=(statistics.TOO_HARD, statistics.TOO_EASY,
                                       statistics.WEAK_DISCRIMINATION))
