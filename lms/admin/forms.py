from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.accounts.models import RoleName

ROLE_LABELS = {
    RoleName.ADMIN: _l("Administrator"),
    RoleName.CURATOR: _l("Curator (librarian)"),
    RoleName.INSTRUCTOR: _l("Instructor"),
    RoleName.TRAINER: _l("Training officer"),
    RoleName.LEARNER: _l("Learner / staff"),
}


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=2, max=64)])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    rank = StringField(_l("Rank"), validators=[Optional(), Length(max=64)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    unit_id = SelectField(_l("Unit"), coerce=int, validators=[Optional()])
    roles = CheckboxListField(
        _l("Roles"), choices=[SelectChoice(str(r), label) for r, label in ROLE_LABELS.items()]
    )
    groups = CheckboxListField(_l("Groups"), coerce=int, validators=[Optional()])
    password = PasswordField(
        _l("Initial password (leave empty to generate one)"),
        validators=[Optional(), Length(max=1024)],
    )


class UnitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    parent_id = SelectField(_l("Parent unit"), coerce=int, validators=[Optional()])


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    members = TextAreaField(
        _l("Members (one username per line)"), validators=[Optional(), Length(max=100_000)]
    )
