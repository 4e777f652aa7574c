"""Fixity: re-hash a stored blob and compare it with the SHA-256 it was stored under.

Choosing which blobs are due (and recording results, alerting) is the caller's job; this is
the check itself. A ``mismatch`` or ``missing`` blob must never be served silently.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from lms.files.storage import CHUNK_SIZE, BlobNotFound, Storage, validate_key


class FixityStatus(StrEnum):
    OK = "ok"
    MISMATCH = "mismatch"
    MISSING = "missing"


@dataclass(frozen=True)
class FixityResult:
    key: str
    status: FixityStatus
    actual_sha256: str | None  # None when the blob is missing
    size: int | None = None

    @property
    def ok(self) -> bool:
        return self.status is FixityStatus.OK


def check_blob(storage: Storage, key: str, expected_sha256: str | None = None) -> FixityResult:
    """Re-hash the blob ``key`` in bounded chunks and compare it with ``expected_sha256``
    (by default the key itself, which is the SHA-256 on content-addressed storage).

    :raise ValueError: ``key`` is not a valid blob key.
    :raise OSError: the blob exists but cannot be read (an I/O error is not a verdict).
    """
    validate_key(key)
    expected = (expected_sha256 or key).lower()
    digest = hashlib.sha256()
    size = 0
    try:
        with storage.open(key) as fh:
            while chunk := fh.read(CHUNK_SIZE):
                digest.update(chunk)
                size += len(chunk)
    except BlobNotFound:
        return FixityResult(key, FixityStatus.MISSING, None)
    actual = digest.hexdigest()
    status = FixityStatus.OK if actual == expected else FixityStatus.MISMATCH
    return FixityResult(key, status, actual, size)
