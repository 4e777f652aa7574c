"""The index folder layout both engines share: ``CURRENT`` names the live ``gen-…`` folder.

A rebuild writes a new generation beside the live one and swaps the pointer atomically, so
searches keep working meanwhile and other processes follow the swap on their next query.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

POINTER_FILE = "CURRENT"


def new_generation_name() -> str:
    return f"gen-{time.time_ns():x}-{uuid.uuid4().hex[:8]}"


def read_pointer(index_dir: Path) -> str | None:
    """The live generation's folder name, or None (no pointer, or one that is not ours)."""
    try:
        name = (index_dir / POINTER_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name if name.startswith("gen-") and "/" not in name else None


def write_pointer(index_dir: Path, name: str) -> None:
    """Point ``CURRENT`` at ``name``: written aside, fsynced, then renamed into place."""
    tmp = index_dir / f"{POINTER_FILE}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(name)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / POINTER_FILE)


def remove_old_generations(index_dir: Path, keep: str | None) -> None:
    for path in index_dir.glob("gen-*"):
        if path.name != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
