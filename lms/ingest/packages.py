"""Reading import packages safely: a JSONL file, or a ZIP or folder with ``manifest.csv``.

Nothing outside the package (or, for a ZIP, the private folder it is unpacked into) is ever
read: every file path must resolve inside it, symlinks are refused, and archives are checked
against their declared and their actual sizes before and while they are unpacked.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from metadata import Metadata, import_csv
from metadata.model import ShapeError

MANIFEST = "manifest.csv"
FILE_SEPARATOR = "||"
MANIFEST_COLUMNS = ("file", "collection", "access")


@dataclass(frozen=True)
class Limits:
    max_entries: int = 10_000
    max_total_bytes: int = 4 * 1024**3
    max_entry_bytes: int = 2 * 1024**3
    max_ratio: int = 100  # uncompressed / compressed, for entries above ratio_floor
    ratio_floor: int = 1024 * 1024
    max_line_bytes: int = 10 * 1024 * 1024
    # A record line needs four levels ({"metadata": {"title": [{"value": …}]}}); anything far
    # deeper is hostile, and a parser or a walk over it could exhaust the stack.
    max_nesting: int = 16


@dataclass
class ImportLine:
    """One record to import, or the reasons it cannot be."""

    number: int  # line in the JSONL file or manifest
    external_id: str | None = None
    collection: str | None = None
    access: dict[str, Any] = field(default_factory=dict)
    metadata: Metadata | dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class PackageError(ValueError):
    """The package as a whole cannot be read (not a line of it)."""


def _inside(root: Path, relative: str) -> tuple[Path | None, str | None]:
    """``relative`` resolved inside ``root``, or the reason it is refused."""
    if not relative or relative.strip() != relative:
        return None, "empty or padded file path"
    if "\x00" in relative or "\\" in relative:
        return None, f"file path {relative[:80]!r} has forbidden characters"
    pure = PurePosixPath(relative)
    if pure.is_absolute() or relative.startswith("~") or ":" in pure.parts[0]:
        return None, f"file path {relative[:80]!r} must be relative to the package"
    if ".." in pure.parts:
        return None, f"file path {relative[:80]!r} leaves the package"
    candidate = root.joinpath(*pure.parts)
    try:
        resolved = candidate.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        return None, f"file {relative[:80]!r} is not in the package"
    if not resolved.is_relative_to(root.resolve()):
        return None, f"file path {relative[:80]!r} leads out of the package"
    if candidate.is_symlink() or not resolved.is_file():
        return None, f"{relative[:80]!r} is not a regular file"
    return resolved, None


def read_jsonl(path: Path, limits: Limits = Limits()) -> Iterator[ImportLine]:
    """One :class:`ImportLine` per non-blank line; a malformed line becomes an error line."""
    root = path.parent.resolve()
    seen_ids: dict[str, int] = {}
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if len(raw) > limits.max_line_bytes:
                yield ImportLine(number, errors=["the line is too long"])
                continue
            if not raw.strip():
                continue
            line = ImportLine(number)
            try:
                data = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                line.errors.append(f"not valid JSON ({error.__class__.__name__})")
                yield line
                continue
            except RecursionError:
                data = _TOO_DEEP  # deeper than the parser's own limit
            if data is _TOO_DEEP or _nesting_exceeds(data, limits.max_nesting):
                line.errors.append(f"the line is nested too deeply (more than "
                                   f"{limits.max_nesting} levels of arrays and objects)")
                yield line
                continue
            if not isinstance(data, dict):
                line.errors.append("a line must be a JSON object")
                yield line
                continue
            _fill(line, data, root, seen_ids)
            yield line


_TOO_DEEP = object()


def _nesting_exceeds(data: Any, limit: int) -> bool:
    """Whether arrays and objects in ``data`` nest deeper than ``limit`` (walked without
    recursion, so a hostile value cannot exhaust the stack here either)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else \
            value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _fill(line: ImportLine, data: dict[str, Any], root: Path, seen_ids: dict[str, int]) -> None:
    # "record" is what the records API adds to a line (``lms.api.records``): ignored here,
    # so that a record read from the API imports as it is.
    unknown = set(data) - {"id", "collection", "access", "metadata", "files", "record"}
    if unknown:
        line.errors.append(f"unknown keys: {', '.join(sorted(unknown))}")
    external_id = data.get("id")
    if external_id is not None:
        if not isinstance(external_id, str) or not external_id.strip() or len(external_id) > 200:
            line.errors.append("'id' must be a non-empty string of at most 200 characters")
        elif external_id in seen_ids:
            line.errors.append(f"duplicate id {external_id!r} (first on line "
                               f"{seen_ids[external_id]})")
        else:
            seen_ids[external_id] = line.number
            line.external_id = external_id
    collection = data.get("collection")
    if collection is not None and not isinstance(collection, str):
        line.errors.append("'collection' must be a collection slug")
    line.collection = collection
    access = data.get("access", {})
    if isinstance(access, str):
        access = {"level": access}
    if not isinstance(access, dict):
        line.errors.append("'access' must be a level name or an object")
        access = {}
    line.access = access
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        line.errors.append("'metadata' must be an object of DCMI terms")
    else:
        try:
            line.metadata = Metadata.from_dict(metadata)
        except ShapeError as error:
            line.errors.append(f"metadata: {error}")
    files = data.get("files", [])
    if not isinstance(files, list):
        line.errors.append("'files' must be a list")
        files = []
    for item in files:
        relative = item.get("path") if isinstance(item, dict) else None
        if not isinstance(relative, str):
            line.errors.append("each file needs a 'path'")
            continue
        resolved, problem = _inside(root, relative)
        if problem:
            line.errors.append(problem)
        else:
            line.files.append(resolved)


def read_manifest(folder: Path) -> Iterator[ImportLine]:
    """The lines of ``folder/manifest.csv`` (the CSV crosswalk's columns plus file,
    collection and access)."""
    manifest = folder / MANIFEST
    if manifest.is_symlink() or not manifest.is_file():
        raise PackageError(f"the package has no {MANIFEST}")
    result = import_csv(manifest.read_bytes(), extra_columns=MANIFEST_COLUMNS)
    if result.problems:
        raise PackageError("; ".join(p.message("en") for p in result.problems))
    root = folder.resolve()
    seen_ids: dict[str, int] = {}
    for row in result.rows:
        line = ImportLine(row.line, metadata=row.metadata,
                          errors=[p.message("en") for p in row.problems if p.is_error])
        if row.id:
            if row.id in seen_ids:
                line.errors.append(f"duplicate id {row.id!r} (first on line {seen_ids[row.id]})")
            else:
                seen_ids[row.id] = row.line
                line.external_id = row.id
        line.collection = row.extra.get("collection") or None
        line.access = {"level": row.extra["access"]} if row.extra.get("access") else {}
        for relative in filter(None, (p.strip() for p in row.extra.get("file", "").split(
                FILE_SEPARATOR))):
            resolved, problem = _inside(root, relative)
            if problem:
                line.errors.append(problem)
            else:
                line.files.append(resolved)
        yield line


# --- archives ------------------------------------------------------------------------------

def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's real name: UTF-8 when flagged, else UTF-8 or CP1258 behind the CP437
    that zipfile assumes (Vietnamese Windows tools write either, without saying which)."""
    if info.flag_bits & 0x800:
        name = info.filename
    else:
        raw = info.filename.encode("cp437")
        for encoding in ("utf-8", "cp1258"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            name = info.filename
    return unicodedata.normalize("NFC", name)


def _check_entry(info: zipfile.ZipInfo, name: str, limits: Limits) -> str | None:
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the tool recorded no Unix type
    if kind == stat.S_IFLNK:
        return f"{name!r} is a symbolic link"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return f"{name!r} is a device or special file"
    pure = PurePosixPath(name)
    if "\\" in name or "\x00" in name or pure.is_absolute() or (
            pure.parts and ":" in pure.parts[0]):
        return f"{name!r} has an absolute or forbidden path"
    if ".." in pure.parts:
        return f"{name!r} leaves the package"
    if info.file_size > limits.max_entry_bytes:
        return f"{name!r} is too large"
    if info.file_size > limits.ratio_floor and info.compress_size and (
            info.file_size / info.compress_size > limits.max_ratio):
        return f"{name!r} is compressed suspiciously well (a compression bomb?)"
    return None


@contextmanager
def unpacked(archive: Path, workdir: Path, limits: Limits = Limits()) -> Iterator[Path]:
    """Unpack a ZIP into a private folder under ``workdir``, removed afterwards.

    While in use the folder's lock file (``<folder>.lock``) is held, so that the folder of an
    import killed half-way can be told apart from one in use
    (:func:`remove_abandoned_unpacked`).

    :raise PackageError: the archive is unreadable or breaks a rule; nothing is left behind.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="import-", dir=workdir))
    lock_path = target.with_name(target.name + ".lock")
    with lock_path.open("wb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _unpack(archive, target, limits)
            yield target
        finally:
            shutil.rmtree(target, ignore_errors=True)
            lock_path.unlink(missing_ok=True)


def remove_abandoned_unpacked(workdir: Path) -> list[str]:
    """Remove the folders :func:`unpacked` left behind when its process died (their lock is
    free); returns their names."""
    removed: list[str] = []
    if not workdir.is_dir():
        return removed
    for folder in workdir.glob("import-*"):
        if not folder.is_dir() or folder.is_symlink():
            continue
        lock_path = folder.with_name(folder.name + ".lock")
        try:
            with lock_path.open("ab") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(folder, ignore_errors=True)
                lock_path.unlink(missing_ok=True)
        except BlockingIOError:
            continue  # in use by a live import
        removed.append(folder.name)
    return removed


def _unpack(archive: Path, target: Path, limits: Limits) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise PackageError(f"not a readable ZIP archive ({error.__class__.__name__})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise PackageError(f"the archive has {len(infos)} entries; at most "
                               f"{limits.max_entries} are allowed")
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_total_bytes:
            raise PackageError("the archive would unpack to more than the allowed size")
        names: set[str] = set()
        plan = []
        for info in infos:
            name = entry_name(info)
            problem = _check_entry(info, name, limits)
            if problem:
                raise PackageError(problem)
            key = name.rstrip("/").casefold()
            if key in names:
                raise PackageError(f"{name!r} appears twice in the archive")
            names.add(key)
            plan.append((info, name))
        try:
            _extract(zf, plan, target, limits)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise PackageError(f"the archive is damaged ({error.__class__.__name__})") from None


def _extract(zf: zipfile.ZipFile, plan: list[tuple[zipfile.ZipInfo, str]], target: Path,
             limits: Limits) -> None:
    written = 0
    for info, name in plan:
        destination = target.joinpath(*PurePosixPath(name).parts)
        if not destination.resolve().is_relative_to(target.resolve()):
            raise PackageError(f"{name!r} leaves the package")
        if info.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        # Count what really comes out, not what the header claims.
        with zf.open(info) as source, destination.open("xb") as sink:
            remaining = info.file_size
            while chunk := source.read(1024 * 1024):
                remaining -= len(chunk)
                written += len(chunk)
                if remaining < 0 or written > limits.max_total_bytes:
                    raise PackageError(f"{name!r} is larger than its header says")
                sink.write(chunk)
