from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from lms.forms import Form


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class ChangePasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=1024)]
    )
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", _l("The passwords do not match."))],
    )


class EmptyForm(Form):
    """A form with only the CSRF token, for POST buttons (logout, deactivate...)."""
