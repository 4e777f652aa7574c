"""Fixity: a re-hash finds flipped bytes and missing blobs (on both stores)."""

from __future__ import annotations

import hashlib
import io

import pytest

from lms.files.fixity import FixityResult, FixityStatus, check_blob
from lms.files.storage import CHUNK_SIZE
from tests.storage_tools import read_raw, remove, write_raw


def test_intact_blob_is_ok(storage):
    data = b"Hoc lieu " * (CHUNK_SIZE // 4)  # spans several read chunks
    key = storage.put(io.BytesIO(data)).key
    result = check_blob(storage, key)
    assert result == FixityResult(key, FixityStatus.OK, key, len(data))
    assert result.ok
    assert result.status == "ok"


def test_a_flipped_byte_is_a_mismatch(storage):
    data = b"0123456789" * 1000
    key = storage.put(io.BytesIO(data)).key
    damaged = bytearray(read_raw(storage, key))
    damaged[4321] ^= 0x01
    write_raw(storage, key, bytes(damaged))

    result = check_blob(storage, key)
    assert result.status == FixityStatus.MISMATCH == "mismatch"
    assert result.actual_sha256 == hashlib.sha256(bytes(damaged)).hexdigest()
    assert result.actual_sha256 != key
    assert not result.ok


def test_a_removed_blob_is_missing(storage):
    key = storage.put(io.BytesIO(b"gone")).key
    remove(storage, key)
    result = check_blob(storage, key)
    assert result == FixityResult(key, FixityStatus.MISSING, None)
    assert result.status == "missing"


def test_expected_checksum_can_be_given(storage):
    key = storage.put(io.BytesIO(b"abc")).key
    assert check_blob(storage, key, expected_sha256=key.upper()).ok
    assert check_blob(storage, key, expected_sha256="0" * 64).status == FixityStatus.MISMATCH


def test_invalid_key(storage):
    with pytest.raises(ValueError):
        check_blob(storage, "../../etc/passwd")
