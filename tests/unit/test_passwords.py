"""Which passwords are refused, and why (``lms.passwords.password_weakness``)."""

from __future__ import annotations

import pytest
from argon2 import Type

from lms.passwords import (
    STANDARD_HASHER,
    Weakness,
    folded,
    needs_rehash,
    password_weakness,
    verify_password,
)

CONTEXT = ("hvhc", "hocvienhaucan", "khohoclieu")


@pytest.mark.parametrize("password, weakness", [
    # Issue 14, observation 8: these three were accepted.
    ("aaaaaaaaaa", Weakness.REPEAT),
    ("1234567890", Weakness.COMMON),
    ("gv2gv2gv2gv2", Weakness.REPEAT),
    ("password12345", Weakness.COMMON),
    ("matkhau123456", Weakness.COMMON),
    ("abcdefghijk", Weakness.SEQUENCE),
    ("asdfghjkl;", Weakness.KEYBOARD),
    ("19/05/1990ab", Weakness.DATE),
    ("x" * 80, Weakness.REPEAT),
    ("thuthu12345", Weakness.PERSONAL),
    ("Nguyễn Văn An 1990", Weakness.PERSONAL),
    ("NGUYENVANAN!!", Weakness.PERSONAL),
    ("hocvienhaucan1", Weakness.CONTEXT),
])
def test_guessable_passwords_are_refused_with_their_reason(password, weakness):
    assert password_weakness(password, username="thuthu", full_name="Nguyễn Văn An",
                             context_words=CONTEXT) == weakness


@pytest.mark.parametrize("password", [
    "correct horse battery staple", "Lớp K55 đại đội 3 bắn giỏi", "Tr@ngHoa-mua-thu-29",
    "xe tăng chạy trên đê lúc 5 giờ",
])
def test_strong_passwords_pass(password):
    assert password_weakness(password, username="thuthu", full_name="Nguyễn Văn An",
                             context_words=CONTEXT) is None


def test_short_names_and_usernames_do_not_forbid_their_letters():
    """A two-letter username would otherwise forbid every password containing it."""
    assert password_weakness("correct horse battery staple", username="or",
                             full_name="Lê Ạ") is None


def test_folding_drops_accents_case_and_punctuation():
    assert folded("Nguyễn Văn-Đức 1") == "nguyenvanduc1"


def test_the_standard_settings_are_argon2id_with_64_mib_three_passes_and_four_lanes():
    assert (STANDARD_HASHER.type, STANDARD_HASHER.memory_cost, STANDARD_HASHER.time_cost,
            STANDARD_HASHER.parallelism) == (Type.ID, 65536, 3, 4)


def test_a_hash_made_with_other_settings_verifies_and_is_made_again_at_the_next_login():
    # The test suite hashes with cheaper settings (tests/conftest.py): a hash of the
    # standard ones is then the "other settings" case.
    stored = STANDARD_HASHER.hash("một mật khẩu đủ dài")
    assert verify_password(stored, "một mật khẩu đủ dài") is True
    assert verify_password(stored, "một mật khẩu khác") is False
    assert needs_rehash(stored) is True
