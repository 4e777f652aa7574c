"""Sort keys of a published version, stored with it so listings sort in the database.

A version is frozen once published, so its keys are computed once, when it is inserted. Keys
sort correctly byte by byte (SQLite's BINARY, PostgreSQL's "C" collation: see
:data:`lms.db.SortKey`): Vietnamese letter order (a < ă < â < b … d < đ), tones only breaking
ties, and no NUL character, which PostgreSQL text refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lms.search.analysis import collation_key

MAX_KEY = 1000


def sort_key(text: str) -> str:
    """:func:`collation_key` with its separators moved up by one (no NUL): words by \\x02,
    the primary and the tie-breaking part by \\x01, so "a" < "a b" < "ab" still holds."""
    key = collation_key(text or "").replace("\x01", "\x02").replace("\x00", "\x01")
    return key[:MAX_KEY]


@dataclass(frozen=True)
class VersionKeys:
    sort_title: str
    sort_creator: str
    issued: str | None
    type: str | None


def version_keys(title: str, statements: Sequence[Sequence[Any]]) -> VersionKeys:
    """Keys from a version's title and its statements (``[term, value, lang, scheme]`` rows)."""
    def first(term: str) -> str | None:
        return next((str(row[1]) for row in statements if row[0] == term and row[1]), None)

    creator = first("creator") or first("contributor") or ""
    issued = first("issued") or first("date") or first("created")
    return VersionKeys(sort_title=sort_key(title), sort_creator=sort_key(creator),
                       issued=issued[:32] if issued else None,
                       type=(first("type") or "")[:32] or None)
