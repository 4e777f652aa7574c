"""Reading parts of a ZIP container (OOXML, ODF) without letting a zip bomb inflate.

Each entry is checked against its declared size and compression ratio *before* it is opened,
and every byte actually inflated is counted against one budget for the whole document, so a
lying header cannot get past either (``zipfile`` also stops at the declared size and checks
the CRC).
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from typing import IO

from lms.extract.base import (
    ENCRYPTED,
    TOO_MANY_ENTRIES,
    ZIP_BOMB,
    DamagedDocument,
    ExtractionError,
    RefusedDocument,
)

MAX_ENTRIES = 10_000
MAX_TOTAL_BYTES = 200 * 1024 * 1024  # inflated bytes read from one document, all parts
MAX_RATIO = 100  # uncompressed / compressed, checked for entries above RATIO_FLOOR
RATIO_FLOOR = 2 * 1024 * 1024  # small XML parts legitimately compress very well


class SafeZip:
    """A ZIP container opened for reading a few named parts under a byte budget.

    :raise DamagedDocument: not a ZIP file.
    :raise RefusedDocument: more than ``max_entries`` entries.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_entries: int = MAX_ENTRIES,
        max_total_bytes: int = MAX_TOTAL_BYTES,
        max_ratio: int = MAX_RATIO,
        ratio_floor: int = RATIO_FLOOR,
    ) -> None:
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            raise DamagedDocument(detail=type(exc).__name__) from None
        infos = self._zip.infolist()
        if len(infos) > max_entries:
            self._zip.close()
            raise RefusedDocument(TOO_MANY_ENTRIES, detail=f"{len(infos)} entries")
        self._infos = {info.filename: info for info in infos}
        # OOXML part names are case-insensitive (OPC); relationship targets may differ in case.
        self._folded = {name.casefold(): info for name, info in self._infos.items()}
        self._left = max_total_bytes
        self._max_ratio = max_ratio
        self._ratio_floor = ratio_floor

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()

    def _info(self, name: str) -> zipfile.ZipInfo | None:
        return self._infos.get(name) or self._folded.get(name.casefold())

    def has(self, name: str) -> bool:
        """Whether the container holds a part called ``name``."""
        return self._info(name) is not None

    def open(self, name: str) -> IO[bytes]:
        """Open one part for streaming, after checking its declared size and ratio.

        :raise DamagedDocument: no such part, or an unsupported compression method.
        :raise RefusedDocument: the part would exceed the budget or its ratio is too high.
        :raise ExtractionError: the part is encrypted.
        """
        info = self._info(name)
        if info is None:
            raise DamagedDocument(detail="missing part")
        if info.flag_bits & 0x1:
            raise ExtractionError(ENCRYPTED, detail="encrypted zip entry")
        if info.file_size > self._left:
            raise RefusedDocument(ZIP_BOMB, detail=f"declared {info.file_size} bytes")
        ratio = info.file_size // max(info.compress_size, 1)
        if info.file_size > self._ratio_floor and ratio > self._max_ratio:
            raise RefusedDocument(ZIP_BOMB, detail=f"ratio {ratio}")
        try:
            raw = self._zip.open(info)
        except NotImplementedError:
            raise DamagedDocument(detail="compression method") from None
        return _Budgeted(raw, self)

    def read(self, name: str) -> bytes:
        """Read one (small) part whole, under the same checks as :meth:`open`."""
        with self.open(name) as part:
            return part.read()

    def _spend(self, size: int) -> None:
        self._left -= size
        if self._left < 0:
            raise RefusedDocument(ZIP_BOMB, detail="budget exceeded while reading")


class _Budgeted:
    """A read-only stream that charges every byte it returns to its :class:`SafeZip`."""

    def __init__(self, raw: IO[bytes], owner: SafeZip) -> None:
        self._raw = raw
        self._owner = owner

    def read(self, size: int = -1) -> bytes:
        # Never read unbounded at once: a 64 KiB step keeps the overshoot past the budget small.
        step = 65536 if size is None or size < 0 else min(size, 65536)
        if size is None or size < 0:
            chunks = []
            while chunk := self._raw.read(step):
                self._owner._spend(len(chunk))
                chunks.append(chunk)
            return b"".join(chunks)
        data = self._raw.read(step)
        self._owner._spend(len(data))
        return data

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _Budgeted:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def resolve_target(source_part: str, target: str) -> str:
    """The part name a relationship ``target`` points to, relative to ``source_part``.

    Targets outside the package (``../..``) resolve to a name no entry has.
    """
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))
