"""The base of every form: Flask-WTF's, with WTForms' own messages ("This field is required.")
in the page's language.

WTForms ships no Vietnamese catalogue, so ours is ``translations/<lang>/LC_MESSAGES/
wtforms.po`` (its ``wtforms`` domain, updated from the library's ``wtforms.pot`` by
``scripts/i18n``).
"""

from __future__ import annotations

from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_wtf import FlaskForm

TRANSLATIONS = Path(__file__).parent / "translations"
DOMAIN = "wtforms"


def wtforms_translations() -> NullTranslations:
    """WTForms' messages in the current request's language (English outside a request)."""
    if not has_request_context():
        return NullTranslations()
    locale = str(get_locale())
    loaded: dict[str, NullTranslations] = current_app.extensions.setdefault(DOMAIN, {})
    if locale not in loaded:
        loaded[locale] = Translations.load(str(TRANSLATIONS), [locale], domain=DOMAIN)
    return loaded[locale]


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form: FlaskForm) -> NullTranslations:
            return wtforms_translations()
