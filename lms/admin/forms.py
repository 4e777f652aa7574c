from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.accounts.models import ROLE_LABELS
from lms.forms import Form


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=2, max=64)])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    person_code = StringField(_l("Person code (service number)"),
                              validators=[Optional(), Length(max=32)])
    unit_id = SelectField(_l("Unit"), coerce=int, validators=[Optional()])
    rank_id = SelectField(_l("Rank"), coerce=int, validators=[Optional()])
    position_id = SelectField(_l("Position"), coerce=int, validators=[Optional()])
    target_group_id = SelectField(_l("Target group"), coerce=int, validators=[Optional()])
    cohort = StringField(_l("Cohort (khóa)"), validators=[Optional(), Length(max=64)])
    class_name = StringField(_l("Class"), validators=[Optional(), Length(max=64)])
    cohort_year = IntegerField(_l("Year of study"), validators=[Optional(),
                                                                NumberRange(min=1, max=10)])
    roles = CheckboxListField(
        _l("Roles"), choices=[SelectChoice(str(r), label) for r, label in ROLE_LABELS.items()]
    )
    groups = CheckboxListField(_l("Groups"), coerce=int, validators=[Optional()])
    password = PasswordField(
        _l("Initial password (leave empty to generate one)"),
        validators=[Optional(), Length(max=1024)],
    )


class UnitForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    parent_id = SelectField(_l("Parent unit"), coerce=int, validators=[Optional()])


class GroupForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    members = TextAreaField(
        _l("Members (one username per line)"), validators=[Optional(), Length(max=100_000)]
    )


class TermForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=120)])
    sort_order = IntegerField(_l("Order"), validators=[Optional(),
                                                       NumberRange(min=0, max=1_000_000)])
    active = BooleanField(_l("In use"), default=True)


class MovePeopleForm(Form):
    unit_id = SelectField(_l("Move the chosen people to"), coerce=int,
                          validators=[Optional()])
