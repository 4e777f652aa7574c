"""Password hashing with argon2id (argon2-cffi's defaults: 64 MiB, t=3, p=4)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verifying against this keeps the time of a login for an unknown user equal to a real one.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# A generated one-time password has 96 random bits: no guessing attack can search that space,
# so key stretching buys nothing and the cheapest argon2id settings suffice. Importing 10,000
# people would otherwise spend half an hour hashing. verify_password reads the settings from
# the hash; needs_rehash() flags it, and the first login must replace the password anyway.
_generated_hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


def hash_generated_password(password: str) -> str:
    """Hash a password made by ``secrets`` (never one a person chose)."""
    return _generated_hasher.hash(password)
