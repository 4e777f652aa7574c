"""Thumbnails of PDFs (first page) and raster images, made in a separate, limited process.

Decoding untrusted files is where parsers crash, hang or allocate gigabytes (pixel floods,
hostile PDFs). :func:`make_thumbnail` therefore runs ``python -m lms.files.thumbnail_worker``
with a wall-clock timeout (the child is killed when it expires) and the worker caps its own
address space, CPU time, output size and open files before it reads a byte of input. Every
failure comes back as ``ThumbnailResult(ok=False, message=...)``; nothing is raised and the
app never waits longer than the timeout. The output is written aside and moved into place
only when complete.

Only :data:`THUMBNAIL_TYPES` are processed, and only when the content itself sniffs as the
declared type and carries no HTML or script markers: SVG, HTML and polyglots never get a
thumbnail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lms.files.sniff import has_active_markup, sniff_file

THUMBNAIL_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif",
                             "image/webp"})
OUTPUT_SUFFIXES = frozenset({".png", ".webp"})
DEFAULT_TIMEOUT = 30.0
DEFAULT_MEMORY_BYTES = 1024 * 1024 * 1024
MAX_IMAGE_PIXELS = 50_000_000
MAX_OUTPUT_BYTES = 8 * 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ThumbnailResult:
    ok: bool
    message: str


def _refusal(source: Path, media_type: str) -> str | None:
    if media_type not in THUMBNAIL_TYPES:
        return f"no thumbnails for {media_type}"
    try:
        sniffed = sniff_file(source, None)
        with open(source, "rb") as fh:
            active = has_active_markup(fh)
    except OSError as error:
        return f"cannot read the source: {error.strerror or error}"
    if sniffed.media_type != media_type:
        return f"content is {sniffed.media_type}, not {media_type}"
    if active:
        return "content holds HTML or script markers (possible polyglot)"
    return None


def _child_env() -> dict[str, str]:
    # No inherited environment: the worker must not see LMS_SECRET_KEY, database URLs...
    return {
        "PATH": os.defpath,
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
    }


def make_thumbnail(
    source_path: Path | str,
    media_type: str,
    out_path: Path | str,
    max_px: int = 320,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
) -> ThumbnailResult:
    """Render a thumbnail of ``source_path`` (at most ``max_px`` on its longer side) to
    ``out_path`` (``.png`` or ``.webp``), in a child process limited to ``memory_bytes`` of
    address space and ``timeout`` seconds.

    ``media_type`` is the sniffed type; the content is sniffed again here and must agree.
    """
    source = Path(source_path).resolve()
    out = Path(out_path).resolve()
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        return ThumbnailResult(False, "the output must be .png or .webp")
    if not 16 <= max_px <= 2048:
        return ThumbnailResult(False, "max_px must be between 16 and 2048")
    refusal = _refusal(source, media_type)
    if refusal:
        return ThumbnailResult(False, refusal)

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, partial_name = tempfile.mkstemp(dir=out.parent, prefix=".thumb-", suffix=out.suffix)
    os.close(fd)
    partial = Path(partial_name)
    # Why the limits are set by the worker on itself rather than in ``preexec_fn``: Python
    # documents preexec_fn as unsafe in a threaded parent (it may deadlock between fork and
    # exec), and the web and job processes run threads. The worker applies them first thing.
    command = [
        sys.executable, "-s", "-m", "lms.files.thumbnail_worker",
        "--memory", str(memory_bytes),
        "--cpu", str(max(1, int(timeout) + 1)),
        "--max-output", str(MAX_OUTPUT_BYTES),
        "--max-pixels", str(MAX_IMAGE_PIXELS),
        "--max-px", str(max_px),
        "--media-type", media_type,
        "--", str(source), str(partial),
    ]  # fmt: skip
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
            command,
            env=_child_env(),
            cwd=str(ROOT),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            close_fds=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        partial.unlink(missing_ok=True)
        return ThumbnailResult(False, f"timed out after {timeout:g} s")
    except OSError as error:
        partial.unlink(missing_ok=True)
        return ThumbnailResult(False, f"could not start the worker: {error.strerror or error}")

    result = _parse_result(completed)
    if not result.ok or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        return result if not result.ok else ThumbnailResult(False, "empty output")
    os.replace(partial, out)
    return result


def _parse_result(completed: subprocess.CompletedProcess[bytes]) -> ThumbnailResult:
    lines = completed.stdout.decode("utf-8", "replace").strip().splitlines()
    report = None
    if lines:
        try:
            report = json.loads(lines[-1])
        except ValueError:
            report = None
    if completed.returncode == 0 and isinstance(report, dict) and report.get("ok") is True:
        return ThumbnailResult(True, str(report.get("message", "ok")))
    if isinstance(report, dict) and report.get("message"):
        return ThumbnailResult(False, str(report["message"])[:500])
    if completed.returncode < 0:
        return ThumbnailResult(False, f"worker killed by signal {-completed.returncode}")
    # An unexpected exception in a decoder: its last traceback line says which.
    errors = completed.stderr.decode("utf-8", "replace").strip().splitlines()
    detail = f": {errors[-1][:300]}" if errors else ""
    return ThumbnailResult(False, f"worker failed (exit {completed.returncode}){detail}")
