from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from lms.api.models import TokenScope
from lms.forms import Form

EXPIRY_DAYS = (7, 30, 90, 180, 365)
SCOPE_LABELS = {TokenScope.READ: _l("Read: search, list and read what you may see"),
                TokenScope.WRITE: _l("Write: also deposit, edit, upload and submit, as you may "
                                     "on the pages")}


class TokenForm(Form):
    name = StringField(_l("Name (what the token is for)"),
                       validators=[DataRequired(), Length(max=100)])
    scope = RadioField(_l("Access"),
                       choices=[SelectChoice(v, label) for v, label in SCOPE_LABELS.items()],
                       default=TokenScope.READ, validators=[DataRequired()])
    days = SelectField(_l("Expires after"), coerce=int, default=30)

    def __init__(self, max_days: int, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.days.choices = [SelectChoice(n, _l("%(n)d days", n=n)) for n in EXPIRY_DAYS
                             if n <= max_days]
