"""Password hashing with argon2id (argon2-cffi's defaults: 64 MiB, t=3, p=4), and the check
that refuses guessable passwords (OWASP ASVS 5.0, V6.2).

Guessability comes from zxcvbn (Dropbox's estimator, kept on PyPI, MIT licence), which
ships its lists inside the package, so nothing is fetched at run time: 30,000 common
passwords, English words, first names and surnames, TV and film words, plus patterns
(repeats, sequences, keyboard walks, dates, l33t substitutions). Context words (the user's
own username and name, the academy's and the site's names) are added per check.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: argon2-cffi's defaults: argon2id, 64 MiB, t=3, p=4 (RFC 9106's second recommendation).
STANDARD_HASHER = PasswordHasher()
_hasher = STANDARD_HASHER
# Verifying against this keeps the time of a login for an unknown user equal to a real one.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash and verify with ``hasher`` from now on: for test suites only. The standard
    settings make a login cost about 0.1–0.2 s of CPU, on purpose; a test suite that logs in
    thousands of times spends minutes on it and proves nothing more. A hash records its
    settings, so hashes made either way verify either way."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


class Weakness(enum.StrEnum):
    """Why a password is refused (the caller turns it into a message)."""

    PERSONAL = "personal"      # holds the username or the person's name
    CONTEXT = "context"        # holds the academy's or the site's name
    COMMON = "common"          # a common password or word
    REPEAT = "repeat"          # the same characters repeated (aaaa, gv2gv2)
    SEQUENCE = "sequence"      # 12345, abcde
    KEYBOARD = "keyboard"      # qwerty, asdfgh
    DATE = "date"              # a date or a year
    GUESSABLE = "guessable"    # short words and digits easy to guess together


# zxcvbn's score: 3 is "safely unguessable" (about 10^8 guesses and more) against an online
# attack and a slow hash; below that the password is refused.
MIN_SCORE = 3
# zxcvbn refuses longer input (its matching is quadratic); a longer password is judged by its
# first 72 characters, which must then be strong on their own.
ZXCVBN_MAX_LENGTH = 72

_PATTERN_WEAKNESS = {"repeat": Weakness.REPEAT, "sequence": Weakness.SEQUENCE,
                     "spatial": Weakness.KEYBOARD, "date": Weakness.DATE,
                     "regex": Weakness.DATE}


def folded(text: str) -> str:
    """Lower case, accents and đ removed, letters and digits only: "Nguyễn Văn-Đức" ->
    "nguyenvanduc"."""
    text = unicodedata.normalize("NFKD", text.lower().replace("đ", "d"))
    return re.sub(r"[^a-z0-9]", "", text.encode("ascii", "ignore").decode())


def password_weakness(password: str, *, username: str = "", full_name: str = "",
                      context_words: Iterable[str] = ()) -> Weakness | None:
    """Why ``password`` is too easy to guess, or ``None`` if it is not."""
    plain = folded(password)
    personal = [w for w in (folded(username), folded(full_name)) if len(w) >= 3]
    if any(word in plain for word in personal):
        return Weakness.PERSONAL
    name_parts = [folded(part) for part in full_name.split()]
    user_words = [*personal, *(p for p in name_parts if len(p) >= 3)]
    context = [folded(w) for w in context_words if len(folded(w)) >= 3]
    # Imported here: its dictionaries are 12 MB that only a password change needs.
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[*user_words, *context],
                    max_length=ZXCVBN_MAX_LENGTH)
    if result["score"] >= MIN_SCORE:
        return None
    # Name what makes it weak: the person's or the site's words first, else the longest
    # pattern zxcvbn found (random-looking parts, "bruteforce", explain nothing).
    patterns = [m for m in result["sequence"] if m["pattern"] != "bruteforce"]
    for match in patterns:
        if match.get("dictionary_name") == "user_inputs":
            word = folded(match["matched_word"])
            return Weakness.PERSONAL if word in user_words else Weakness.CONTEXT
    if not patterns:
        return Weakness.GUESSABLE
    longest = max(patterns, key=lambda m: len(m["token"]))
    if longest["pattern"] == "dictionary":
        return Weakness.COMMON
    return _PATTERN_WEAKNESS.get(longest["pattern"], Weakness.GUESSABLE)
# A generated one-time password has 96 random bits: no guessing attack can search that space,
# so key stretching buys nothing and the cheapest argon2id settings suffice. Importing 10,000
# people would otherwise spend half an hour hashing. verify_password reads the settings from
# the hash; needs_rehash() flags it, and the first login must replace the password anyway.
_generated_hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


def hash_generated_password(password: str) -> str:
    """Hash a password made by ``secrets`` (never one a person chose)."""
    return _generated_hasher.hash(password)
