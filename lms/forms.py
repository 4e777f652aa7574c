"""The base of every form: Flask-WTF's, with WTForms' own messages ("This field is required.")
in the page's language.

WTForms ships no Vietnamese catalogue, so ours is ``translations/<lang>/LC_MESSAGES/
wtforms.po`` (its ``wtforms`` domain, updated from the library's ``wtforms.pot`` by
``scripts/i18n``).
"""

from __future__ import annotations

from pathlib import Path

from babel.support import NullTranslations
from flask_babel import Domain
from flask_wtf import FlaskForm

#: WTForms' messages, loaded once per language by Flask-Babel.
WTFORMS_MESSAGES = Domain(str(Path(__file__).parent / "translations"), domain="wtforms")


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form: FlaskForm) -> NullTranslations:
            return WTFORMS_MESSAGES.get_translations()
