"""Content-addressed blob storage behind a small interface.

:class:`Storage` is what the rest of the app uses; :class:`LocalStorage` keeps blobs under
``<DATA_DIR>/blobs`` and is the only backend today. An S3-compatible backend can implement the
same methods later; only :meth:`LocalStorage.path` is local-only.

A blob's key is the lowercase hex SHA-256 of its content, so identical uploads share one blob
and keys never come from user input. Every key is validated before it touches the file system:
``../../etc/passwd`` raises :class:`ValueError`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import stat
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

from lms.errors import GENERIC_MESSAGES, ServiceError

CHUNK_SIZE = 1024 * 1024
#: fsyncs of a batch of blobs issued side by side (:meth:`LocalStorage.sync`).
SYNC_THREADS = 8
BLOB_MODE = 0o440  # blobs are never modified in place
_KEY = re.compile(r"[0-9a-f]{64}")
_SHARD = re.compile(r"[0-9a-f]{2}")
# Spool files in ``tmp_dir``: uploads being hashed, copies handed to tools.
PUT_PREFIX = "put-"
GET_PREFIX = "get-"


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class FileTooLarge(ServiceError):
    """The stream was longer than the allowed size; nothing was stored."""

    status = 413

    def default_message(self) -> str:
        return str(GENERIC_MESSAGES[413])


class BlobNotFound(FileNotFoundError):
    """No blob has this key (a fixity problem when the database references it)."""


@dataclass(frozen=True)
class StoredBlob:
    """The outcome of :meth:`Storage.put`.

    ``reused`` is true when an identical blob was already stored. ``size`` may be 0: storing an
    empty file is allowed, refusing it is the caller's rule.
    """

    key: str
    sha256: str
    size: int
    reused: bool = False


def validate_key(key: str) -> str:
    """Return ``key`` if it is 64 lowercase hex digits.

    :raise ValueError: anything else (path fragments, upper case, other lengths).
    """
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError("invalid blob key")
    return key


@dataclass(frozen=True)
class Spooled:
    """A stream copied to a local file, with its digests (``md5`` for stores that check a
    ``Content-MD5`` on upload)."""

    path: Path
    sha256: str
    md5: bytes
    size: int


def spool(tmp_dir: Path, stream: Readable, max_size: int | None, *,
          fsync: bool = True) -> Spooled:
    """Copy ``stream`` into a new file in ``tmp_dir`` (fsync'd unless ``fsync`` is false: the
    caller then syncs it later), hashing on the way; the caller moves or removes the file.
    Nothing is left behind on failure.

    :raise FileTooLarge: more than ``max_size`` bytes were read.
    :raise OSError: the stream or the disk failed.
    """
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix=PUT_PREFIX, suffix=".part")
    tmp = Path(tmp_name)
    try:
        sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK_SIZE):
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise FileTooLarge(limit=max_size)
                sha256.update(chunk)
                md5.update(chunk)
                out.write(chunk)
            out.flush()
            if fsync:
                os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Spooled(tmp, sha256.hexdigest(), md5.digest(), size)


class Storage(ABC):
    """Where blobs live. Implementations must validate every key they are given.

    ``tmp_dir`` is a local folder for spooling (uploads being hashed, copies for tools that
    need a path); stale files there are removed by :meth:`clean_tmp`.
    """

    tmp_dir: Path
    #: Whether :meth:`presigned_url` works (object stores).
    can_presign = False

    @abstractmethod
    def put(self, stream: Readable, *, max_size: int | None = None,
            deferred_sync: bool = False) -> StoredBlob:
        """Store the bytes read from ``stream`` (until it returns ``b""``), hashing on the way.

        Nothing is kept if reading or writing fails half-way or the stream is longer than
        ``max_size`` bytes. The blob is durable when this returns, unless ``deferred_sync``:
        then it is durable once :meth:`sync` was called with its key (bulk imports store a
        batch of blobs, then make them durable together, before any row references them).

        :raise FileTooLarge: more than ``max_size`` bytes were read.
        :raise OSError: the stream or the disk failed (disk full, upload cut off).
        """

    def sync(self, keys: Iterable[str]) -> None:
        """Make the blobs ``put`` with ``deferred_sync`` durable (stores whose ``put`` always
        is durable have nothing to do).

        :raise OSError: the disk failed.
        """
        return None

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Open the blob for binary reading (seekable); the caller closes it.

        :raise BlobNotFound: no such blob.
        """

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int:
        """:raise BlobNotFound: no such blob."""

    @abstractmethod
    def modified(self, key: str) -> datetime:
        """When the blob was last written or reused by :meth:`put` (UTC).

        :raise BlobNotFound: no such blob.
        """

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove the blob; return whether it existed."""

    @abstractmethod
    def keys(self) -> Iterator[str]:
        """Iterate over every stored key (for garbage collection and audits)."""

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """A file on local disk holding the blob, for tools that need a path (thumbnails,
        text extraction); removed when the block ends. Read-only for the caller.

        :raise BlobNotFound: no such blob.
        """
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix=GET_PREFIX, suffix=".part")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out, self.open(key) as source:
                shutil.copyfileobj(source, out, CHUNK_SIZE)
            yield path
        finally:
            path.unlink(missing_ok=True)

    def presigned_url(self, key: str, *, expires: int, content_type: str,
                      content_disposition: str, cache_control: str) -> str:
        """A URL the blob can be fetched from without the app (see :attr:`can_presign`)."""
        raise NotImplementedError(f"{type(self).__name__} has no presigned URLs")

    def describe(self) -> str:
        """Where the blobs are, for operators (never with credentials)."""
        return repr(self)

    def clean_tmp(self, older_than: timedelta, *, now: datetime | None = None) -> list[Path]:
        """Remove spool files left by a crashed process; return what was removed."""
        if not self.tmp_dir.is_dir():
            return []
        cutoff = ((now or datetime.now(UTC)) - older_than).timestamp()
        removed = []
        with os.scandir(self.tmp_dir) as entries:
            for entry in entries:
                if (
                    entry.name.startswith((PUT_PREFIX, GET_PREFIX))
                    and entry.is_file(follow_symlinks=False)
                    and entry.stat(follow_symlinks=False).st_mtime < cutoff
                ):
                    Path(entry.path).unlink(missing_ok=True)
                    removed.append(Path(entry.path))
        return removed

    def gc_candidates(
        self, referenced: set[str], older_than: timedelta, *, now: datetime | None = None
    ) -> list[str]:
        """Keys not in ``referenced`` whose blob is older than the grace period ``older_than``.

        The grace period protects blobs stored by an upload whose database row is not
        committed yet; :meth:`put` refreshes the time of a reused blob for the same reason.
        """
        cutoff = (now or datetime.now(UTC)) - older_than
        candidates = []
        for key in self.keys():
            if key in referenced:
                continue
            try:
                if self.modified(key) < cutoff:
                    candidates.append(key)
            except BlobNotFound:
                continue  # removed meanwhile
        return sorted(candidates)


class LocalStorage(Storage):
    """Blobs as files ``<root>/ab/cd/abcd…`` written through ``tmp_dir``.

    ``tmp_dir`` must be on the same file system as ``root`` (``os.replace`` is atomic only
    there); by default it is ``<root>/../tmp``, i.e. ``<DATA_DIR>/tmp``.
    """

    def __init__(self, root: Path | str, tmp_dir: Path | str | None = None) -> None:
        self.root = Path(root).resolve()
        self.tmp_dir = Path(tmp_dir).resolve() if tmp_dir else self.root.parent / "tmp"

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # -- paths

    def path(self, key: str) -> Path:
        """The file holding the blob (local backend only: for ``send_file`` or X-Sendfile)."""
        validate_key(key)
        return self.root / key[:2] / key[2:4] / key

    # -- writing

    def put(self, stream: Readable, *, max_size: int | None = None,
            deferred_sync: bool = False) -> StoredBlob:
        spooled = spool(self.tmp_dir, stream, max_size, fsync=not deferred_sync)
        try:
            reused = self._install(spooled.path, spooled.sha256, spooled.size,
                                   sync=not deferred_sync)
        except BaseException:
            spooled.path.unlink(missing_ok=True)
            raise
        return StoredBlob(key=spooled.sha256, sha256=spooled.sha256, size=spooled.size,
                          reused=reused)

    def _install(self, tmp: Path, key: str, size: int, *, sync: bool = True) -> bool:
        target = self.path(key)
        try:
            existing = os.stat(target, follow_symlinks=False)
        except FileNotFoundError:
            existing = None
        if existing is not None and stat.S_ISREG(existing.st_mode) and existing.st_size == size:
            tmp.unlink()
            # A fresh time keeps garbage collection away until the caller's row is committed.
            os.utime(target)
            return True
        # Missing, or damaged (wrong size): the new, verified content takes its place.
        created = self._make_dirs(target.parent)
        os.chmod(tmp, BLOB_MODE)
        os.replace(tmp, target)
        if sync:
            _fsync_dir(target.parent)
            for directory in created:
                _fsync_dir(directory.parent)
        return False

    def sync(self, keys: Iterable[str]) -> None:
        """Each blob's file, then once each the folders that may have got a new entry (its
        folder, the one above, the root). The fsyncs run side by side: the file system
        commits them together instead of one journal commit after another."""
        files = [self.path(key) for key in dict.fromkeys(keys)]
        if not files:
            return
        folders = {path.parent for path in files}
        folders |= {folder.parent for folder in folders} | {self.root}
        pool = _sync_pool()
        list(pool.map(_fsync_file, files))
        list(pool.map(_fsync_dir, folders))

    def _make_dirs(self, directory: Path) -> list[Path]:
        created = []
        for path in (directory.parent, directory):
            try:
                path.mkdir(mode=0o750, parents=True)
                created.append(path)
            except FileExistsError:
                pass
        return created

    # -- reading

    def open(self, key: str) -> BinaryIO:
        path = self.path(key)
        try:
            # O_NOFOLLOW: a symlink planted in the blob tree never leads outside it.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise BlobNotFound(key) from None
            raise
        return os.fdopen(fd, "rb")

    def _stat(self, key: str) -> os.stat_result:
        try:
            result = os.stat(self.path(key), follow_symlinks=False)
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        if not stat.S_ISREG(result.st_mode):
            raise BlobNotFound(key)
        return result

    def exists(self, key: str) -> bool:
        try:
            self._stat(key)
        except BlobNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        return self._stat(key).st_size

    def modified(self, key: str) -> datetime:
        return datetime.fromtimestamp(self._stat(key).st_mtime, UTC)

    def delete(self, key: str) -> bool:
        path = self.path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(path.parent)
        return True

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for first in _subdirs(self.root):
            for second in _subdirs(first):
                with os.scandir(second) as entries:
                    for entry in entries:
                        name = entry.name
                        if (
                            _KEY.fullmatch(name)
                            and name[:2] == first.name
                            and name[2:4] == second.name
                            and entry.is_file(follow_symlinks=False)
                        ):
                            yield name

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """The blob's own file: no copy is needed on local disk."""
        self._stat(key)
        yield self.path(key)


def _subdirs(directory: Path) -> Iterator[Path]:
    with os.scandir(directory) as entries:
        names = sorted(
            entry.name
            for entry in entries
            if _SHARD.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)
        )
    for name in names:
        yield directory / name


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _sync_pool() -> ThreadPoolExecutor:
    """The threads of :meth:`LocalStorage.sync`, kept for the life of the process (new threads
    for each batch would each get a malloc arena of their own, and memory would grow)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=SYNC_THREADS, thread_name_prefix="fsync")
        return _pool


def _fsync_file(path: Path) -> None:
    _fsync(path, os.O_RDONLY | os.O_NOFOLLOW)


def _fsync_dir(directory: Path) -> None:
    _fsync(directory, os.O_RDONLY | os.O_DIRECTORY)


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def collect_garbage(
    storage: Storage, referenced: Iterable[str], grace: timedelta, dry_run: bool = False
) -> list[str]:
    """Delete blobs that nothing references and that are older than ``grace``.

    ``referenced`` comes from the database (every blob key any file version points at).
    Each candidate's age is checked again just before it is deleted, so a blob reused by an
    upload in the meantime survives. Stale spool files go too.
    Returns the keys deleted (or, with ``dry_run``, that would be).
    """
    referenced = set(referenced)
    now = datetime.now(UTC)
    candidates = storage.gc_candidates(referenced, grace, now=now)
    if dry_run:
        return candidates
    cutoff = now - grace
    deleted = []
    for key in candidates:
        try:
            if storage.modified(key) >= cutoff:
                continue
        except BlobNotFound:
            continue
        if storage.delete(key):
            deleted.append(key)
    storage.clean_tmp(grace, now=now)
    return deleted
