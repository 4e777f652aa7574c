"""Forms of the banks and quizzes in the trainers' area. Choices that depend on the database
are filled by the views; a question's options are read from numbered fields
(:func:`options_from`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.forms import Form
from lms.quizzes import banks, kinds, quizzes
from lms.quizzes.models import QuestionType
from lms.training.forms import LockedForm


class BankForm(LockedForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    sharing = RadioField(_l("Shared with"), default="private",
                         choices=[SelectChoice(str(k), v)
                                  for k, v in banks.SHARING_LABELS.items()])
    unit_id = SelectField(_l("Unit"), coerce=int, validators=[Optional()])


class QuestionForm(LockedForm):
    category_id = SelectField(_l("Category"), coerce=int)
    difficulty = SelectField(_l("Difficulty"), default="medium",
                             choices=[SelectChoice(str(k), v)
                                      for k, v in kinds.DIFFICULTY_LABELS.items()])
    text = TextAreaField(_l("Question (HTML allowed: paragraphs, lists, tables, images of this "
                            "site)"), validators=[Optional(), Length(max=40_000)])
    image = FileField(_l("Add an image below the text (PNG, JPEG, GIF or WebP)"))
    partial = BooleanField(_l("Partial credit (otherwise all or nothing)"))
    points = DecimalField(_l("Points"), places=2, default=1,
                          validators=[DataRequired(), NumberRange(min=0.01, max=1000)])
    explanation = TextAreaField(_l("Explanation shown after the attempt (optional)"),
                                validators=[Optional(), Length(max=40_000)])
    record_id = StringField(_l("Repository record that teaches it (number, optional)"),
                            validators=[Optional(), Length(max=12)])


def options_from(form, question_type: str) -> list[kinds.OptionInput]:
    """The options typed in the editor's numbered fields (empty rows left out)."""
    if question_type == QuestionType.TRUE_FALSE:
        return kinds.true_false(form.get("truth") == "true", form.get("feedback-true", ""),
                                form.get("feedback-false", ""))
    correct = set(form.getlist("correct"))
    options = []
    for index in range(kinds.MAX_OPTIONS):
        text = form.get(f"option-{index}", "").strip()
        match = form.get(f"match-{index}", "").strip()
        if not text and not match:
            continue
        options.append(kinds.OptionInput(text, str(index) in correct,
                                         form.get(f"feedback-{index}", "").strip(), match))
    return options


class QuizForm(LockedForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Instructions for learners"),
                                validators=[Optional(), Length(max=20_000)])
    unit_id = SelectField(_l("Assessment of the unit (with its sub-units)"), coerce=int,
                          validators=[Optional()])
    time_limit_minutes = IntegerField(_l("Time limit (minutes; empty: none)"),
                                      validators=[Optional(), NumberRange(min=1, max=600)])
    attempts_allowed = IntegerField(_l("Attempts allowed (empty: unlimited)"),
                                    validators=[Optional(), NumberRange(min=1, max=100)])
    wait_minutes = IntegerField(_l("Waiting time between attempts (minutes)"), default=0,
                                validators=[Optional(), NumberRange(min=0, max=43_200)])
    pass_percent = DecimalField(_l("Pass mark (%)"), places=1, default=80,
                                validators=[DataRequired(), NumberRange(min=0.1, max=100)])
    grading = RadioField(_l("Result"), default="best",
                         choices=[SelectChoice(str(k), v)
                                  for k, v in quizzes.GRADING_LABELS.items()])
    opens_at = DateTimeLocalField(_l("Opens (optional)"), validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Closes (optional)"), validators=[Optional()])
    shuffle_questions = BooleanField(_l("Shuffle the questions of each attempt"), default=True)
    shuffle_options = BooleanField(_l("Shuffle the options of each question"), default=True)
    review_after_submit = SelectField(_l("After submitting, learners see"),
                                      choices=[SelectChoice(str(k), v)
                                               for k, v in quizzes.REVIEW_LABELS.items()])
    review_after_close = SelectField(_l("After the quiz closes, learners see"),
                                     choices=[SelectChoice(str(k), v)
                                              for k, v in quizzes.REVIEW_LABELS.items()])


class DrawForm(LockedForm):
    category_id = SelectField(_l("Category"), coerce=int)
    count = IntegerField(_l("Questions drawn"), default=10,
                         validators=[DataRequired(), NumberRange(min=1, max=200)])
    easy = IntegerField(_l("of which easy"), default=0,
                        validators=[Optional(), NumberRange(min=0, max=200)])
    medium = IntegerField(_l("of which medium"), default=0,
                          validators=[Optional(), NumberRange(min=0, max=200)])
    hard = IntegerField(_l("of which hard"), default=0,
                        validators=[Optional(), NumberRange(min=0, max=200)])
    subcategories = BooleanField(_l("Include sub-categories"), default=True)
    points = DecimalField(_l("Points per question (empty: each question's own)"), places=2,
                          validators=[Optional(), NumberRange(min=0.01, max=1000)])


class ImportForm(Form):
    file = FileField(_l("File (.csv, .xlsx or .gift)"))
    dry_run = BooleanField(_l("Dry run: check the file, change nothing"), default=True)
    create_categories = BooleanField(_l("Create the categories the file names and the bank "
                                        "lacks"))


class GrantForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    extra_attempts = IntegerField(_l("Extra attempts"), default=0,
                                  validators=[Optional(), NumberRange(min=0, max=20)])
    extra_minutes = IntegerField(_l("Extra minutes per attempt"), default=0,
                                 validators=[Optional(), NumberRange(min=0, max=600)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class CourseQuizForm(LockedForm):
    mode = RadioField(_l("How"), default="preset", choices=[
        SelectChoice("preset", quizzes.DIGITAL_SKILLS.label),
        SelectChoice("blank", _l("An empty quiz whose questions I choose"))])
    bank_id = SelectField(_l("Question bank"), coerce=int, validators=[Optional()])
    title = StringField(_l("Title (optional)"), validators=[Optional(), Length(max=300)])
    reopen_completed = BooleanField(_l("Learners who completed the course must also pass this "
                                       "quiz (they become “in progress” again)"))


class PresetForm(Form):
    bank_id = SelectField(_l("Question bank"), coerce=int)
    title = StringField(_l("Title (optional)"), validators=[Optional(), Length(max=300)])
    unit_id = SelectField(_l("Assessment of the unit (with its sub-units)"), coerce=int,
                          validators=[Optional()])
