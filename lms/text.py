"""Checks and escapes for text typed by people, shared by every feature."""

from __future__ import annotations

import re
import unicodedata

from flask_babel import gettext as _

from lms.errors import ValidationError


def clean_text(value: str, *, max_length: int, what: str) -> str:
    """NFC, trimmed, no control characters.

    :raise ValidationError: empty, too long or containing control characters.
    """
    value = unicodedata.normalize("NFC", value or "").strip()
    if not value:
        raise ValidationError(_("%(what)s must not be empty.", what=what))
    if len(value) > max_length:
        raise ValidationError(_("%(what)s is too long (at most %(n)d characters).", what=what,
                                n=max_length))
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise ValidationError(_("%(what)s contains invalid characters.", what=what))
    return value


def escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (with ``escape="\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def fold(text: str) -> str:
    """Lower case without diacritics ("Đại úy" → "dai uy"), for codes and loose matching."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").lower()


def slugify(text: str) -> str:
    """ASCII, lower case, words joined by '-' ("Thượng úy QNCN" → "thuong-uy-qncn")."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")
