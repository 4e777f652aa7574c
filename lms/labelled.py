"""Stored codes declared together with their display names.

A member is written ``DRAFT = "draft", _l("Draft")``: the code is what the database, URLs and
forms carry, the lazy label what pages show. A member without a label does not import, so no
code of such an enum can reach a page unnamed.
"""

from __future__ import annotations

import enum
from typing import Self

from flask_babel import LazyString


class LabelledEnum(enum.StrEnum):
    label: LazyString

    def __new__(cls, code: str, label: LazyString) -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict[Self, LazyString]:
        """Code -> display name, in declaration order (also looked up by the plain string)."""
        return {member: member.label for member in cls}
