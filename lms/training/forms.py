"""Forms of the trainers' area. Choices that depend on the database are filled by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.forms import Form
from lms.training.assignments import DUE_LABELS
from lms.training.audiences import KIND_LABELS
from lms.training.courses import LANGUAGES

DUE_CHOICES = [SelectChoice(str(k), v) for k, v in DUE_LABELS.items()]


class LockedForm(Form):
    lock_version = HiddenField()

    @property
    def lock(self) -> int:
        try:
            return int(self.lock_version.data or 0)
        except ValueError:
            return 0


class CourseForm(LockedForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20_000)])
    language = SelectField(_l("Language"),
                           choices=[SelectChoice(k, v) for k, v in LANGUAGES.items()])
    target_group_id = SelectField(_l("Intended for"), coerce=int, validators=[Optional()])
    estimated_hours = DecimalField(_l("Estimated hours"), places=1,
                                   validators=[Optional(), NumberRange(min=0.1, max=10_000)])
    self_enrol = BooleanField(_l("Open: anyone may enrol themselves"))
    sequential = BooleanField(_l("Lessons in order: each unlocks when the required lessons "
                                 "before it are complete"))
    cover_file_id = SelectField(_l("Cover image"), coerce=int, validators=[Optional()])


class LessonForm(LockedForm):
    kind = HiddenField()
    record_id = HiddenField()
    title = StringField(_l("Title"), validators=[Optional(), Length(max=300)])
    body = TextAreaField(_l("Text (HTML allowed: headings, lists, links, tables, images of "
                            "this site)"), validators=[Optional(), Length(max=200_000)])
    required = BooleanField(_l("Required"), default=True)
    duration_minutes = IntegerField(_l("Estimated duration (minutes)"),
                                    validators=[Optional(), NumberRange(min=1, max=10_000)])
    reopen_completed = BooleanField(_l("Learners who completed the course must also do this "
                                       "lesson (they become “in progress” again)"))


class TrackForm(LockedForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20_000)])
    status = SelectField(_l("Status"), validators=[Optional()])


class AudienceEditForm(LockedForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])


class AudienceForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    kind = RadioField(_l("Kind"), default="rule",
                      choices=[SelectChoice(str(k), v) for k, v in KIND_LABELS.items()])
    scope_unit_id = SelectField(_l("People of the unit (with its sub-units)"), coerce=int,
                                validators=[Optional()])


class AssignmentForm(Form):
    audiences = SelectMultipleField(_l("Audiences"), coerce=int, validators=[Optional()])
    people = TextAreaField(_l("People (usernames, one per line)"),
                           validators=[Optional(), Length(max=100_000)])
    due_kind = RadioField(_l("Due date"), default="none", choices=DUE_CHOICES)
    due_date = DateField(_l("Due on"), validators=[Optional()])
    due_days = IntegerField(_l("Number of days"), validators=[Optional()])
    start_date = DateField(_l("Starts on (optional)"), validators=[Optional()])


class DueForm(LockedForm):
    due_kind = RadioField(_l("Due date"), choices=DUE_CHOICES)
    due_date = DateField(_l("Due on"), validators=[Optional()])
    due_days = IntegerField(_l("Number of days"), validators=[Optional()])
    start_date = DateField(_l("Starts on (optional)"), validators=[Optional()])
