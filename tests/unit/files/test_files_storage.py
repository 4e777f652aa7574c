"""Content-addressed local storage: atomic writes, dedupe, failures leave nothing, gc."""

from __future__ import annotations

import errno
import hashlib
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lms.files import storage as storage_module
from lms.files.storage import (
    CHUNK_SIZE,
    BlobNotFound,
    FileTooLarge,
    LocalStorage,
    Storage,
    StoredBlob,
    collect_garbage,
    validate_key,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


class ChunkedStream:
    """Yields ``total`` bytes in reads of whatever size is asked, then fails if told to."""

    def __init__(self, total: int, *, fail_after: int | None = None, error: OSError | None = None):
        self.total, self.sent, self.fail_after, self.error = total, 0, fail_after, error
        self.requested: list[int] = []

    def read(self, size: int = -1) -> bytes:
        self.requested.append(size)
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise self.error or OSError(errno.ECONNRESET, "upload cut off")
        count = min(size if size > 0 else self.total, self.total - self.sent)
        self.sent += count
        return bytes([self.sent % 251]) * count


def test_local_storage_is_a_storage(storage):
    assert isinstance(storage, Storage)


def test_put_stores_content_under_its_sharded_sha256(storage):
    data = "Giáo trình Hậu cần".encode() * 1000
    blob = storage.put(io.BytesIO(data))

    assert blob == StoredBlob(key=sha(data), sha256=sha(data), size=len(data), reused=False)
    path = storage.path(blob.key)
    assert path == storage.root / blob.key[:2] / blob.key[2:4] / blob.key
    assert path.read_bytes() == data
    with storage.open(blob.key) as fh:
        assert fh.read() == data
    assert storage.exists(blob.key)
    assert storage.size(blob.key) == len(data)
    assert list(storage.keys()) == [blob.key]
    assert files_under(storage.tmp_dir) == []


def test_blobs_are_read_only_files(storage):
    blob = storage.put(io.BytesIO(b"x"))
    assert storage.path(blob.key).stat().st_mode & 0o777 == 0o440


def test_identical_content_is_stored_once(storage):
    first = storage.put(io.BytesIO(b"same bytes"))
    second = storage.put(io.BytesIO(b"same bytes"))
    assert second.key == first.key
    assert (first.reused, second.reused) == (False, True)
    assert len(files_under(storage.root)) == 1
    assert files_under(storage.tmp_dir) == []


def test_reuse_refreshes_the_blob_time_so_gc_spares_it(storage):
    blob = storage.put(io.BytesIO(b"old"))
    old = (datetime.now(UTC) - timedelta(days=30)).timestamp()
    os.utime(storage.path(blob.key), (old, old))
    assert storage.gc_candidates(set(), timedelta(days=1)) == [blob.key]

    storage.put(io.BytesIO(b"old"))  # a new upload of the same content, row not committed yet
    assert storage.gc_candidates(set(), timedelta(days=1)) == []


def test_a_damaged_blob_is_replaced_by_a_fresh_upload_of_the_same_content(storage):
    blob = storage.put(io.BytesIO(b"0123456789"))
    path = storage.path(blob.key)
    path.chmod(0o640)
    path.write_bytes(b"01234")  # truncated on disk
    again = storage.put(io.BytesIO(b"0123456789"))
    assert again.reused is False
    assert path.read_bytes() == b"0123456789"


def test_put_reads_in_bounded_chunks(storage):
    stream = ChunkedStream(5 * CHUNK_SIZE + 123)
    blob = storage.put(stream)
    assert blob.size == 5 * CHUNK_SIZE + 123
    assert max(stream.requested) <= CHUNK_SIZE
    assert storage.size(blob.key) == blob.size


def test_zero_byte_file_is_stored_and_reports_size_zero(storage):
    blob = storage.put(io.BytesIO(b""))
    assert blob.size == 0
    assert blob.key == hashlib.sha256(b"").hexdigest()
    assert storage.size(blob.key) == 0
    with storage.open(blob.key) as fh:
        assert fh.read() == b""


def test_max_size_is_enforced_while_streaming(storage):
    stream = ChunkedStream(10 * CHUNK_SIZE)
    with pytest.raises(FileTooLarge) as raised:
        storage.put(stream, max_size=2 * CHUNK_SIZE)
    assert raised.value.status == 413
    # It stopped reading soon after the limit instead of draining the stream.
    assert stream.sent <= 3 * CHUNK_SIZE
    assert files_under(storage.root) == []
    assert files_under(storage.tmp_dir) == []


def test_exactly_max_size_is_accepted(storage):
    assert storage.put(io.BytesIO(b"x" * 10), max_size=10).size == 10
    with pytest.raises(FileTooLarge):
        storage.put(io.BytesIO(b"x" * 11), max_size=10)


def test_upload_cut_off_half_way_leaves_nothing(storage):
    stream = ChunkedStream(4 * CHUNK_SIZE, fail_after=2 * CHUNK_SIZE)
    with pytest.raises(OSError, match="upload cut off"):
        storage.put(stream)
    assert files_under(storage.root) == []
    assert files_under(storage.tmp_dir) == []


def test_disk_full_while_reading_a_spooled_upload_leaves_nothing(storage):
    stream = ChunkedStream(
        4 * CHUNK_SIZE, fail_after=CHUNK_SIZE, error=OSError(errno.ENOSPC, "No space left")
    )
    with pytest.raises(OSError) as raised:
        storage.put(stream)
    assert raised.value.errno == errno.ENOSPC
    assert files_under(storage.root) == []
    assert files_under(storage.tmp_dir) == []


class _FullDisk(io.RawIOBase):
    """A temp file that accepts ``room`` bytes, then fails as a full disk does."""

    def __init__(self, fd: int, room: int) -> None:
        self._file = io.FileIO(fd, "wb")
        self.room = room

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self._file.write(data)

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
        super().close()


def test_disk_full_while_writing_removes_the_temp_file(storage, monkeypatch):
    real_fdopen = os.fdopen

    def fdopen(fd, mode="r", *args, **kwargs):
        if mode == "wb":
            return io.BufferedWriter(_FullDisk(fd, room=CHUNK_SIZE + 10))
        return real_fdopen(fd, mode, *args, **kwargs)

    monkeypatch.setattr(storage_module.os, "fdopen", fdopen)
    with pytest.raises(OSError) as raised:
        storage.put(ChunkedStream(3 * CHUNK_SIZE))
    monkeypatch.undo()
    assert raised.value.errno == errno.ENOSPC
    assert files_under(storage.root) == []
    assert files_under(storage.tmp_dir) == []


def test_fsync_failure_removes_the_temp_file(storage, monkeypatch):
    def fsync(fd):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(storage_module.os, "fsync", fsync)
    with pytest.raises(OSError):
        storage.put(io.BytesIO(b"data"))
    monkeypatch.undo()
    assert files_under(storage.root) == []
    assert files_under(storage.tmp_dir) == []


def test_failed_rename_removes_the_temp_file(storage, monkeypatch):
    def replace(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(storage_module.os, "replace", replace)
    with pytest.raises(OSError):
        storage.put(io.BytesIO(b"data"))
    monkeypatch.undo()
    assert [p for p in files_under(storage.root)] == []
    assert files_under(storage.tmp_dir) == []


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "",
        "A" * 64,  # upper case
        "a" * 63,
        "a" * 65,
        "g" * 64,
        "a" * 62 + "/x",
        "a" * 64 + "\n",
        "..%2F" * 13,
        None,
        42,
    ],
)
def test_invalid_keys_are_refused_everywhere(storage, key):
    for call in (storage.path, storage.open, storage.exists, storage.size, storage.delete,
                 storage.modified, validate_key):
        with pytest.raises(ValueError):
            call(key)


def test_a_symlink_planted_in_the_tree_is_not_followed(storage, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the root")
    key = sha(b"whatever")
    path = storage.path(key)
    path.parent.mkdir(parents=True)
    path.symlink_to(secret)

    with pytest.raises(BlobNotFound):
        storage.open(key)
    assert not storage.exists(key)
    with pytest.raises(BlobNotFound):
        storage.size(key)
    assert list(storage.keys()) == []


def test_missing_blob_raises_blob_not_found(storage):
    key = sha(b"never stored")
    with pytest.raises(BlobNotFound):
        storage.open(key)
    with pytest.raises(FileNotFoundError):  # BlobNotFound is one
        storage.size(key)
    assert storage.exists(key) is False
    assert storage.delete(key) is False


def test_keys_lists_only_well_placed_blobs(storage):
    keys = {storage.put(io.BytesIO(bytes([n]))).key for n in range(5)}
    # Strays: a misplaced blob, a foreign file, a directory with a key's name.
    stray = sha(b"stray")
    (storage.root / "zz").mkdir()
    (storage.root / "zz" / "note.txt").write_text("x")
    wrong = storage.root / stray[:2] / "00"
    wrong.mkdir(parents=True)
    (wrong / stray).write_bytes(b"stray")
    assert set(storage.keys()) == keys


def test_keys_of_an_empty_store():
    assert list(LocalStorage(Path("/nonexistent/blobs")).keys()) == []


def test_delete_removes_a_blob(storage):
    blob = storage.put(io.BytesIO(b"bye"))
    assert storage.delete(blob.key) is True
    assert not storage.exists(blob.key)
    assert storage.delete(blob.key) is False


def _age(storage: LocalStorage, key: str, days: float) -> None:
    when = (datetime.now(UTC) - timedelta(days=days)).timestamp()
    os.utime(storage.path(key), (when, when))


def test_gc_candidates_are_unreferenced_and_older_than_the_grace_period(storage):
    referenced_old = storage.put(io.BytesIO(b"referenced")).key
    orphan_old = storage.put(io.BytesIO(b"orphan")).key
    orphan_new = storage.put(io.BytesIO(b"just uploaded")).key
    _age(storage, referenced_old, 10)
    _age(storage, orphan_old, 10)

    assert storage.gc_candidates({referenced_old}, timedelta(days=1)) == [orphan_old]
    assert storage.gc_candidates({referenced_old}, timedelta(days=30)) == []
    assert orphan_new not in storage.gc_candidates(set(), timedelta(days=1))


def test_collect_garbage_dry_run_deletes_nothing(storage):
    keep = storage.put(io.BytesIO(b"keep")).key
    drop = storage.put(io.BytesIO(b"drop")).key
    _age(storage, keep, 5)
    _age(storage, drop, 5)

    assert collect_garbage(storage, {keep}, timedelta(days=1), dry_run=True) == [drop]
    assert storage.exists(drop)

    assert collect_garbage(storage, {keep}, timedelta(days=1)) == [drop]
    assert not storage.exists(drop)
    assert storage.exists(keep)
    assert collect_garbage(storage, {keep}, timedelta(days=1)) == []


def test_collect_garbage_removes_stale_temp_files_only(storage):
    storage.tmp_dir.mkdir(parents=True)
    stale = storage.tmp_dir / "put-crashed.part"
    fresh = storage.tmp_dir / "put-in-progress.part"
    other = storage.tmp_dir / "somebody-elses"
    for path in (stale, fresh, other):
        path.write_bytes(b"partial")
    when = (datetime.now(UTC) - timedelta(days=3)).timestamp()
    os.utime(stale, (when, when))
    os.utime(other, (when, when))

    collect_garbage(storage, set(), timedelta(days=1))
    assert not stale.exists()
    assert fresh.exists()
    assert other.exists()


def test_modified_is_utc(storage):
    blob = storage.put(io.BytesIO(b"t"))
    modified = storage.modified(blob.key)
    assert modified.tzinfo is UTC
    assert abs((datetime.now(UTC) - modified).total_seconds()) < 60
