"""Every UI string has a Vietnamese translation, and the compiled catalogue is current."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from wtforms.i18n import messages_path

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "lms" / "translations" / "vi" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
METHODS = [("lms/**.py", "python"), ("templates/**.html", "jinja2"),
           ("templates/**.txt", "jinja2")]


def source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, options_map={}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def read_catalog(domain: str = "messages"):
    with (CATALOG / f"{domain}.po").open("rb") as fh:
        return read_po(fh)


def test_every_ui_string_is_translated_to_vietnamese():
    catalog = read_catalog()
    translated = {m.id[0] if m.pluralizable else m.id for m in catalog
                  if m.id and not m.fuzzy
                  and (all(m.string) if m.pluralizable else m.string)}
    missing = sorted(source_messages() - translated)
    assert not missing, f"run scripts/i18n and translate: {missing}"


def test_every_wtforms_message_is_translated_to_vietnamese():
    """WTForms' own messages ("This field is required.") of the installed WTForms."""
    with (Path(messages_path()) / "wtforms.pot").open("rb") as fh:
        library = {m.id[0] if m.pluralizable else m.id for m in read_po(fh) if m.id}
    translated = {m.id[0] if m.pluralizable else m.id for m in read_catalog("wtforms")
                  if m.id and not m.fuzzy and (all(m.string) if m.pluralizable else m.string)}
    assert sorted(library - translated) == [], "run scripts/i18n and translate wtforms.po"


@pytest.mark.parametrize("domain", ["messages", "wtforms"])
def test_compiled_catalogue_matches_the_po_file(domain):
    def entries(messages) -> dict[object, object]:
        # Plural entries carry tuples (or lists, from the .mo reader) as id and string.
        def plain(value):
            return tuple(value) if isinstance(value, list | tuple) else value

        return {plain(m.id): plain(m.string) for m in messages if m.id}

    po = entries(read_catalog(domain))
    mo = entries(read_mo(BytesIO((CATALOG / f"{domain}.mo").read_bytes())))
    assert po == mo, f"{domain}.mo is stale: run scripts/i18n"
