"""Helpers for the extraction tests: rewriting ZIP containers and finding live workers."""

from __future__ import annotations

import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest


def _rezip(
    source: Path, target: Path, replace: dict[str, bytes], *, level: int | None = None
) -> Path:
    """Copy a ZIP container, replacing or adding the named parts (deflated at ``level``)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = replace.get(info.filename)
            if data is None:
                data = old.read(info)
            new.writestr(info.filename, data, zipfile.ZIP_DEFLATED, compresslevel=level)
        for name in replace.keys() - set(old.namelist()):
            new.writestr(name, replace[name], zipfile.ZIP_DEFLATED, compresslevel=level)
    return target


@pytest.fixture
def rezip() -> Callable[..., Path]:
    return _rezip


def _workers_reading(path: Path) -> list[int]:
    """Pids of live (not zombie) processes whose command line mentions ``path``."""
    needle = str(path.resolve()).encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmdline and state != "Z":
            pids.append(int(proc.name))
    return pids


@pytest.fixture
def workers_reading() -> Callable[[Path], list[int]]:
    return _workers_reading


def _cp1258(text: str) -> bytes:
    """Encode as Windows-1258 the way Vietnamese Windows did: base letter + combining tone.

    Python's codec has no precomposed ``ậ``; try each mark as the separate one.
    """
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", char)
        for index, mark in enumerate(marks):
            head = unicodedata.normalize("NFC", base + "".join(marks[:index] + marks[index + 1 :]))
            try:
                out += head.encode("cp1258") + mark.encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:
            raise ValueError(f"cannot encode {char!r} in cp1258")
    return bytes(out)


@pytest.fixture
def cp1258() -> Callable[[str], bytes]:
    return _cp1258
