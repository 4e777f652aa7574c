"""Content-addressed storage: atomic writes, dedupe, failures leave nothing, gc — on both
stores (``storage`` is parametrised: local files, then moto's S3 server), plus what only one
of them has (file modes and symlinks; object names, ranged reads, presigned URLs)."""

from __future__ import annotations

import errno
import hashlib
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lms.files import storage as storage_module
from lms.files.object_storage import S3Storage
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
from tests.storage_tools import age, put_stray, read_raw, stored_names, write_raw


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


def test_every_store_is_a_storage(storage):
    assert isinstance(storage, Storage)


def test_put_stores_content_under_its_sharded_sha256(storage):
    data = "Giáo trình Hậu cần".encode() * 1000
    blob = storage.put(io.BytesIO(data))

    assert blob == StoredBlob(key=sha(data), sha256=sha(data), size=len(data), reused=False)
    [name] = stored_names(storage)
    assert name.endswith(f"{blob.key[:2]}/{blob.key[2:4]}/{blob.key}")
    assert read_raw(storage, blob.key) == data
    with storage.open(blob.key) as fh:
        assert fh.read() == data
    assert storage.exists(blob.key)
    assert storage.size(blob.key) == len(data)
    assert list(storage.keys()) == [blob.key]
    assert files_under(storage.tmp_dir) == []


def test_local_blobs_are_read_only_files_at_their_path(local_storage):
    blob = local_storage.put(io.BytesIO(b"x"))
    path = local_storage.path(blob.key)
    assert path == local_storage.root / blob.key[:2] / blob.key[2:4] / blob.key
    assert path.stat().st_mode & 0o777 == 0o440


def test_identical_content_is_stored_once(storage):
    first = storage.put(io.BytesIO(b"same bytes"))
    second = storage.put(io.BytesIO(b"same bytes"))
    assert second.key == first.key
    assert (first.reused, second.reused) == (False, True)
    assert len(stored_names(storage)) == 1
    assert files_under(storage.tmp_dir) == []


def test_reuse_refreshes_the_blob_time_so_gc_spares_it(storage):
    blob = storage.put(io.BytesIO(b"old"))
    age(storage, blob.key, hours=30 * 24)
    assert storage.gc_candidates(set(), timedelta(days=1)) == [blob.key]

    storage.put(io.BytesIO(b"old"))  # a new upload of the same content, row not committed yet
    assert storage.gc_candidates(set(), timedelta(days=1)) == []


def test_a_damaged_blob_is_replaced_by_a_fresh_upload_of_the_same_content(storage):
    blob = storage.put(io.BytesIO(b"0123456789"))
    write_raw(storage, blob.key, b"01234")  # truncated in the store
    again = storage.put(io.BytesIO(b"0123456789"))
    assert again.reused is False
    assert read_raw(storage, blob.key) == b"0123456789"


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
    assert stored_names(storage) == []
    assert files_under(storage.tmp_dir) == []


def test_exactly_max_size_is_accepted(storage):
    assert storage.put(io.BytesIO(b"x" * 10), max_size=10).size == 10
    with pytest.raises(FileTooLarge):
        storage.put(io.BytesIO(b"x" * 11), max_size=10)


def test_upload_cut_off_half_way_leaves_nothing(storage):
    stream = ChunkedStream(4 * CHUNK_SIZE, fail_after=2 * CHUNK_SIZE)
    with pytest.raises(OSError, match="upload cut off"):
        storage.put(stream)
    assert stored_names(storage) == []
    assert files_under(storage.tmp_dir) == []


def test_disk_full_while_reading_a_spooled_upload_leaves_nothing(storage):
    stream = ChunkedStream(
        4 * CHUNK_SIZE, fail_after=CHUNK_SIZE, error=OSError(errno.ENOSPC, "No space left")
    )
    with pytest.raises(OSError) as raised:
        storage.put(stream)
    assert raised.value.errno == errno.ENOSPC
    assert stored_names(storage) == []
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
    assert stored_names(storage) == []
    assert files_under(storage.tmp_dir) == []


def test_fsync_failure_removes_the_temp_file(storage, monkeypatch):
    def fsync(fd):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(storage_module.os, "fsync", fsync)
    with pytest.raises(OSError):
        storage.put(io.BytesIO(b"data"))
    monkeypatch.undo()
    assert stored_names(storage) == []
    assert files_under(storage.tmp_dir) == []


def test_failed_rename_removes_the_temp_file(local_storage, monkeypatch):
    def replace(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(storage_module.os, "replace", replace)
    with pytest.raises(OSError):
        local_storage.put(io.BytesIO(b"data"))
    monkeypatch.undo()
    assert stored_names(local_storage) == []
    assert files_under(local_storage.tmp_dir) == []


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
    only_here = storage.path if isinstance(storage, LocalStorage) else storage.name
    for call in (only_here, storage.open, storage.exists, storage.size, storage.delete,
                 storage.modified, validate_key):
        with pytest.raises(ValueError):
            call(key)
    with pytest.raises(ValueError), storage.local_copy(key):
        pass


def test_a_symlink_planted_in_the_tree_is_not_followed(local_storage, tmp_path):
    storage = local_storage
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
    with pytest.raises(BlobNotFound), storage.local_copy(key):
        pass


def test_keys_lists_only_well_placed_blobs(storage):
    keys = {storage.put(io.BytesIO(bytes([n]))).key for n in range(5)}
    # Strays: a misplaced blob, a foreign file, a key at the top.
    stray = sha(b"stray")
    put_stray(storage, "zz/note.txt", b"x")
    put_stray(storage, f"{stray[:2]}/00/{stray}", b"stray")
    put_stray(storage, stray, b"stray")
    assert set(storage.keys()) == keys


def test_keys_of_an_empty_store(storage):
    assert list(storage.keys()) == []
    assert list(LocalStorage(Path("/nonexistent/blobs")).keys()) == []


def test_delete_removes_a_blob(storage):
    blob = storage.put(io.BytesIO(b"bye"))
    assert storage.delete(blob.key) is True
    assert not storage.exists(blob.key)
    assert storage.delete(blob.key) is False


def _age(storage: Storage, key: str, days: float) -> None:
    age(storage, key, hours=days * 24)


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


def test_local_copy_holds_the_bytes_and_is_gone_afterwards(storage):
    data = b"\x00\x01 " + "Giáo trình ".encode() * 5000
    key = storage.put(io.BytesIO(data)).key
    with storage.local_copy(key) as path:
        assert path.read_bytes() == data
    if isinstance(storage, LocalStorage):
        assert path == storage.path(key)  # no copy needed: the blob's own file
    else:
        assert not path.exists()
    assert files_under(storage.tmp_dir) == []


def test_reads_are_seekable_and_bounded(storage):
    data = bytes(range(256)) * (3 * CHUNK_SIZE // 256 + 7)
    key = storage.put(io.BytesIO(data)).key
    with storage.open(key) as fh:
        assert fh.read(10) == data[:10]
        fh.seek(2 * CHUNK_SIZE + 5)
        assert fh.read(100) == data[2 * CHUNK_SIZE + 5: 2 * CHUNK_SIZE + 105]
        fh.seek(-3, os.SEEK_END)
        assert fh.read() == data[-3:]
        assert fh.read(10) == b""
        fh.seek(0)
        assert fh.read() == data


# --- the S3 store only ---------------------------------------------------------------------

@pytest.fixture
def s3_storage(s3_settings, tmp_path) -> S3Storage:
    return S3Storage.from_config(s3_settings, tmp_path / "tmp")


def test_s3_objects_are_named_by_prefix_and_shards_and_checked_by_md5(s3_storage):
    data = "Bài giảng".encode()
    blob = s3_storage.put(io.BytesIO(data))
    name = f"blobs/{blob.key[:2]}/{blob.key[2:4]}/{blob.key}"
    assert s3_storage.name(blob.key) == name
    head = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key=name)
    assert head["ContentType"] == "application/octet-stream"
    # The ETag of a single PUT is the MD5 the store verified against our Content-MD5.
    assert head["ETag"] == f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'
    assert "lms-touched" in head["Metadata"]


def test_two_app_servers_share_one_bucket(s3_settings, tmp_path):
    first = S3Storage.from_config(s3_settings, tmp_path / "a")
    second = S3Storage.from_config(s3_settings, tmp_path / "b")
    key = first.put(io.BytesIO(b"shared")).key
    assert second.exists(key) and list(second.keys()) == [key]
    assert second.put(io.BytesIO(b"shared")).reused is True
    assert second.delete(key) is True
    assert first.exists(key) is False


def test_a_blob_replaced_while_being_read_is_not_mixed(s3_storage):
    key = s3_storage.put(io.BytesIO(b"A" * (3 * CHUNK_SIZE))).key
    with s3_storage.open(key) as fh:
        assert fh.read(10) == b"A" * 10
        write_raw(s3_storage, key, b"B" * (3 * CHUNK_SIZE))  # repaired meanwhile
        fh.seek(2 * CHUNK_SIZE)  # the next read is a new ranged GET, pinned by If-Match
        with pytest.raises(OSError):
            fh.read(10)


def test_a_presigned_url_answers_with_our_headers_and_is_short_lived(s3_storage):
    import urllib.request
    from urllib.parse import parse_qs, urlsplit

    key = s3_storage.put(io.BytesIO(b"%PDF-1.4 public")).key
    url = s3_storage.presigned_url(key, expires=120, content_type="application/pdf",
                                   content_disposition="inline; filename=\"a.pdf\"",
                                   cache_control="private, max-age=60")
    # moto checks neither signatures nor expiry: what the store will enforce is asserted in
    # the URL itself (SigV4, 120 s).
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["120"]
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - moto on loopback
        assert response.read() == b"%PDF-1.4 public"
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"] == 'inline; filename="a.pdf"'
        assert response.headers["Cache-Control"] == "private, max-age=60"


def test_the_storage_setting_is_validated():
    from flask import Flask

    from lms.config import ConfigurationError, load_config

    for bad in ("s3://", "ftp://bucket/x", "s3://Bucket_Upper/x", "/srv/blobs"):
        with pytest.raises(ConfigurationError, match="LMS_STORAGE"):
            load_config(Flask(__name__), {"STORAGE": bad, "SECRET_KEY": "x" * 40})
    with pytest.raises(ConfigurationError, match="LMS_S3_SERVE"):
        load_config(Flask(__name__), {"S3_SERVE": "proxy", "SECRET_KEY": "x" * 40})


def test_deferred_sync_makes_a_batch_durable_with_one_fsync_per_file_and_folder(
        local_storage, monkeypatch):
    synced: list[str] = []
    real_fsync = storage_module.os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(storage_module.os, "fsync", fsync)
    keys = [local_storage.put(io.BytesIO(data), deferred_sync=True).key
            for data in (b"one", b"two", b"one")]
    assert synced == []  # nothing synced yet: the caller syncs the batch
    local_storage.sync(keys)
    paths = {local_storage.path(key) for key in keys}
    folders = {p.parent for p in paths} | {p.parent.parent for p in paths} | {
        local_storage.root}
    assert sorted(synced) == sorted(str(p) for p in paths | folders)
    for key, data in zip(keys, (b"one", b"two", b"one"), strict=True):
        with local_storage.open(key) as fh:
            assert fh.read() == data
    assert files_under(local_storage.tmp_dir) == []
