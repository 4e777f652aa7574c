"""Verification codes: 100 random bits written in Crockford's base32 (20 characters, no I, L,
O or U), printed in groups of four. Reading one forgives case, dashes and spaces, and the
letters people confuse with digits (I, L → 1; O → 0)."""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 20  # 20 × 5 = 100 bits
_CODE = re.compile(rf"[{ALPHABET}]{{{LENGTH}}}")
_CONFUSED = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(text: str) -> str | None:
    """The code ``text`` stands for, or None if it cannot be one (malformed)."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    cleaned = re.sub(r"[\s-]", "", text).upper().translate(_CONFUSED)
    return cleaned if _CODE.fullmatch(cleaned) else None
