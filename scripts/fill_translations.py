"""Fill empty entries of the Vietnamese catalogue from a file defining ``VI = {msgid: msgstr}``.

Usage: .venv/bin/python scripts/fill_translations.py NEW_STRINGS.py && scripts/i18n
(scripts/i18n lists nothing; open messages.po to translate by hand, or use this for batches.)
"""

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path(__file__).resolve().parents[1] / "lms/translations/vi/LC_MESSAGES/messages.po"


def main(source: str) -> None:
    translations = runpy.run_path(source)["VI"]
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    missing = []
    for message in catalog:
        if not message.id:
            continue
        if message.pluralizable:
            # Plural entries are keyed by their singular; Vietnamese has one plural form.
            if not any(message.string):
                if message.id[0] in translations:
                    message.string = (translations[message.id[0]],)
                else:
                    missing.append(message.id[0])
        elif not message.string:
            if message.id in translations:
                message.string = translations[message.id]
            else:
                missing.append(message.id)
    with CATALOG.open("wb") as fh:
        write_po(fh, catalog, width=100)
    for message_id in missing:
        print(f"untranslated: {message_id!r}")


if __name__ == "__main__":
    main(sys.argv[1])
