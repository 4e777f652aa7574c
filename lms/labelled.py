"""Stored codes declared together with their display names.

A member is written ``DRAFT = "draft", _l("Draft")``: the code is what the database, URLs and
forms carry, the lazy label what pages show (a plain string only for a name that is the same in
every language, such as a file format's). A member without a label does not import, so no code
of such an enum can reach a page unnamed.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from flask_babel import LazyString


class LabelledEnum(enum.StrEnum):
    label: LazyString | str

    def __new__(cls, code: str, label: LazyString | str) -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict[Self, LazyString | str]:
        """Code -> display name, in declaration order (also looked up by the plain string)."""
        return {member: member.label for member in cls}
