"""Byte encodings that old Vietnamese tools write, for tests of what we read."""

from __future__ import annotations

import unicodedata


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese tools write it: â, ê, ô, ơ, ư, ă precomposed, tone marks as
    combining characters after them."""
    out = b""
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            shape = "".join(m for m in marks if m in "\u0302\u0306\u031b")
            tones = "".join(m for m in marks if m not in shape)
            out += unicodedata.normalize("NFC", base + shape).encode("cp1258")
            out += tones.encode("cp1258")
    return out
