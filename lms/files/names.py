"""Display names for uploaded files: cleaning, an ASCII fallback, and ``Content-Disposition``.

The original name is metadata only (blobs are stored under their SHA-256), so it is kept as
readable as possible: Vietnamese stays Vietnamese, unlike Werkzeug's ``secure_filename``, which
maps ``Giáo trình.pdf`` to ``Giao_trinh.pdf`` and ``Полевой устав.pdf`` to ``pdf``.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_CHARS = 200
DEFAULT_NAME = "file"
MAX_EXTENSION_CHARS = 16

# Explicit bidi controls; every other format character (category Cf) is removed as well.
BIDI_CONTROLS = frozenset(
    "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Characters Windows refuses in a file name; the browser would replace them on save anyway.
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')
_WHITESPACE = re.compile(r"\s+")
_RESERVED = re.compile(
    r"(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9¹²³]|LPT[0-9¹²³])", re.IGNORECASE
)
_EXTENSION = re.compile(rf"\.[A-Za-z0-9]{{1,{MAX_EXTENSION_CHARS}}}\Z")
# RFC 5987 attr-char: everything else is percent-encoded.
_ATTR_CHARS = "!#$&+-.^_`|~"


def _drop_invisible(name: str) -> str:
    out = []
    for char in name:
        category = unicodedata.category(char)
        if char in BIDI_CONTROLS or category in ("Cc", "Cf", "Cs"):
            # Tabs and newlines become spaces so "a\tb" does not turn into "ab".
            if char in "\t\n\r\v\f":
                out.append(" ")
            continue
        if category in ("Zl", "Zp"):
            out.append(" ")
            continue
        out.append(char)
    return "".join(out)


def _split_extension(name: str) -> tuple[str, str]:
    match = _EXTENSION.search(name)
    if match is None or match.start() == 0:
        return name, ""
    return name[: match.start()], match.group()


def _trim(name: str) -> str:
    return name.strip(" .")


def clean_filename(name: str | None) -> str:
    """Return a safe display name for ``name`` as the client sent it.

    NFC; control, format and bidi characters removed (so ``\\u202efdp.exe`` cannot pose as a
    PDF); only the last path component kept (``../../x`` → ``x``, ``C:\\a\\b.pdf`` → ``b.pdf``);
    characters Windows refuses replaced by ``_``; whitespace collapsed; leading and trailing dots
    and spaces trimmed; Windows device names (``CON``, ``NUL``, ``COM1``...) prefixed with ``_``;
    at most :data:`MAX_NAME_CHARS` characters with the extension kept; ``"file"`` if nothing is
    left.
    """
    # Invisible characters go first: one between a letter and its accent would stop NFC
    # from composing them, and the name would change again on a second cleaning.
    text = unicodedata.normalize("NFC", _drop_invisible(name or ""))
    components = [part for part in re.split(r"[/\\]", text) if part.strip(" .")]
    text = components[-1] if components else ""
    text = _WINDOWS_FORBIDDEN.sub("_", text)
    text = _trim(_WHITESPACE.sub(" ", text))
    if not text:
        return DEFAULT_NAME
    stem = text.split(".", 1)[0].rstrip(" ")
    if _RESERVED.fullmatch(stem):
        text = "_" + text
    if len(text) > MAX_NAME_CHARS:
        stem, extension = _split_extension(text)
        stem = stem[: MAX_NAME_CHARS - len(extension)].rstrip(" .")
        # Do not leave a lone combining mark at the cut.
        while stem and unicodedata.combining(stem[-1]):
            stem = stem[:-1]
        text = (stem or DEFAULT_NAME) + extension
    return text


def ascii_fallback(name: str) -> str:
    """Return a readable ASCII version of ``name`` for old clients (``filename=``).

    Vietnamese loses its diacritics (``Giáo trình Hậu cần.pdf`` → ``Giao trinh Hau can.pdf``,
    ``đ`` → ``d``); any other non-ASCII character becomes ``_``; ``%``, quotes and backslashes
    become ``_`` too, since some clients percent-decode or mis-parse them. A name whose stem has
    no ASCII letter or digit left becomes ``file`` plus the extension, never ``" .pdf"``.
    """
    text = clean_filename(name).replace("đ", "d").replace("Đ", "D")
    out = []
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char):
            continue
        if " " <= char <= "~" and char not in '%"\\':
            out.append(char)
        else:
            out.append("_")
    ascii_name = "".join(out)
    stem, extension = _split_extension(ascii_name)
    if not any(char.isalnum() for char in stem):
        return DEFAULT_NAME + extension
    return ascii_name


def content_disposition(disposition: str, name: str) -> str:
    """Build a ``Content-Disposition`` value (RFC 6266 with an RFC 5987 ``filename*``).

    ``name`` is cleaned first; the ASCII fallback has no quote, backslash, ``%`` or control
    character, and ``filename*`` is percent-encoded UTF-8, so no CR/LF or second parameter
    can be injected whatever ``name`` holds.

    :raise ValueError: ``disposition`` is neither ``"inline"`` nor ``"attachment"``.
    """
    if disposition not in ("inline", "attachment"):
        raise ValueError(f"unknown disposition {disposition!r}")
    cleaned = clean_filename(name)
    fallback = ascii_fallback(cleaned).replace("\\", "\\\\").replace('"', '\\"')
    encoded = quote(cleaned, safe=_ATTR_CHARS)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
