"""The certificate template form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.certificates.designs import MAX_RENEW_DAYS, MAX_VALID_MONTHS
from lms.training.forms import LockedForm


class TemplateForm(LockedForm):
    name = StringField(_l("Name (for trainers)"), validators=[DataRequired(), Length(max=200)])
    title = StringField(_l("Title on the certificate"),
                        validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=4000)])
    issuer = TextAreaField(_l("Issuing unit (one line per level)"),
                           validators=[DataRequired(), Length(max=300)])
    place = StringField(_l("Place (before the date)"), validators=[Optional(), Length(max=100)])
    signer_title = StringField(_l("Signer's title"), validators=[Optional(), Length(max=200)])
    signer_name = StringField(_l("Signer's name"), validators=[Optional(), Length(max=200)])
    valid_months = IntegerField(_l("Valid for (months; empty: no expiry)"),
                                validators=[Optional(), NumberRange(min=1,
                                                                    max=MAX_VALID_MONTHS)])
    renew_days_before = IntegerField(
        _l("Assign again for renewal this many days before expiry"), default=30,
        validators=[Optional(), NumberRange(min=0, max=MAX_RENEW_DAYS)])
    remove_background = BooleanField(_l("Remove the background image"))
    remove_logo = BooleanField(_l("Remove the logo"))
