"""Run the extraction worker in a child process with time, memory and output limits."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lms.extract.base import NOT_FOUND, OUT_OF_MEMORY, RESULT_MARKER, UNSUPPORTED
from lms.extract.core import SUPPORTED_MEDIA_TYPES, MediaType, normalize_media_type

log = logging.getLogger(__name__)

Status = Literal["ok", "empty", "failed", "timeout", "unsupported"]

#: The largest text a document may produce. A *failure* above it, never a truncation; a
#: 200 MB upload of prose gives well under this.
MAX_OUTPUT_MB = 512
#: CPU seconds allowed beyond the wall-clock timeout: the CPU limit is only a backstop that
#: ends an orphaned child if the parent died before it could kill it.
CPU_GRACE_SECONDS = 5
_RESULT_TAIL_BYTES = 65536
_PROJECT_ROOT = Path(__file__).resolve().parents[2]

CRASHED = "the extractor stopped unexpectedly"
KILLED = "the extractor was stopped by a resource limit"
CPU_LIMIT = "CPU time limit exceeded"
TOO_MUCH_TEXT = "extracted text too large"
NOT_STARTED = "the extractor could not be started"


@dataclass(frozen=True)
class Extraction:
    """The outcome of one extraction; ``message`` is safe to show to curators.

    ``ok``: ``text`` holds all the text (never truncated), ``message`` may note a partial
    result. ``empty``: readable but no text (a scan). ``failed``/``timeout``: ``message`` says
    why. ``unsupported``: no extractor for the media type. Only ``ok`` has text.
    """

    status: Status
    text: str
    message: str
    chars: int
    pages: int | None

    @classmethod
    def without_text(cls, status: Status, message: str, pages: int | None = None) -> Extraction:
        return cls(status=status, text="", message=message, chars=0, pages=pages)


def extract_text(
    path: Path, media_type: str, *, timeout: float = 120, memory_mb: int = 1024,
    text_in_process_bytes: int = 0,
) -> Extraction:
    """Extract the full text of ``path`` (sniffed as ``media_type``) in a limited child process.

    ``text_in_process_bytes``: plain text (``text/plain``) of at most this size is decoded in
    this process instead (decoding bytes needs no sandbox; a child costs ~0.1 s to start).
    Every other type always goes to the child.

    The child (``python -m lms.extract.worker``) runs in its own session with an address-space
    limit of ``memory_mb``, a CPU limit a little above ``timeout`` and a cap on the text it may
    write; it is killed after ``timeout`` seconds of wall-clock time. Its stdout and stderr go
    to temporary files, not pipes, so a huge text cannot deadlock it.

    Never raises for a bad document: every problem comes back as a status and a message.
    """
    media_type = normalize_media_type(media_type)
    if media_type not in SUPPORTED_MEDIA_TYPES:
        return Extraction.without_text("unsupported", UNSUPPORTED)
    path = Path(path)
    if not path.is_file():
        return Extraction.without_text("failed", NOT_FOUND)
    if media_type == MediaType.TEXT and path.stat().st_size <= text_in_process_bytes:
        return _plain_text_here(path)
    command = [
        sys.executable,
        "-m",
        "lms.extract.worker",
        f"--memory-mb={int(memory_mb)}",
        f"--cpu-seconds={math.ceil(timeout) + CPU_GRACE_SECONDS}",
        f"--max-output-mb={MAX_OUTPUT_MB}",
        media_type,
        str(path.resolve()),  # absolute: cannot be read as an option
    ]
    with tempfile.TemporaryDirectory(prefix="lms-extract-") as scratch:
        text_path = Path(scratch, "text.out")
        log_path = Path(scratch, "worker.log")
        with text_path.open("wb") as stdout, log_path.open("wb") as stderr:
            try:
                child = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                    cwd=scratch,
                    env=_child_environment(),
                    start_new_session=True,  # its own process group, killed as one
                )
            except OSError:
                log.exception("could not start the extraction worker")
                return Extraction.without_text("failed", NOT_STARTED)
            try:
                returncode = child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.info("extraction of %s timed out after %s s", media_type, timeout)
                message = f"extraction timed out after {timeout:g} s"
                return Extraction.without_text("timeout", message)
            finally:
                if child.poll() is None:
                    _kill(child)
        return _collect(media_type, returncode, text_path, log_path)


def _plain_text_here(path: Path) -> Extraction:
    from lms.extract.worker import extract

    result, text = extract(path, MediaType.TEXT)
    status = result["status"] if result["status"] in {"ok", "empty", "failed"} else "failed"
    if status != "ok":
        return Extraction.without_text(status, result["message"])
    return Extraction(status="ok", text=text, message=result["message"], chars=len(text),
                      pages=None)


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    # Warnings from libraries on a damaged file are noise there, and "error" would kill it.
    env["PYTHONWARNINGS"] = "ignore"
    # The worker must import this very package, installed or not.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
    )
    return env


def _kill(child: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def _read_result(log_path: Path) -> dict | None:
    with log_path.open("rb") as stream:
        stream.seek(max(0, log_path.stat().st_size - _RESULT_TAIL_BYTES))
        tail = stream.read().decode("utf-8", errors="replace")
    for line in reversed(tail.splitlines()):
        if line.startswith(RESULT_MARKER):
            try:
                result = json.loads(line[len(RESULT_MARKER) :])
            except ValueError:
                return None
            return result if isinstance(result, dict) else None
    return None


def _collect(media_type: str, returncode: int, text_path: Path, log_path: Path) -> Extraction:
    result = _read_result(log_path) if returncode == 0 else None
    if result is None:
        status, message = _from_exit(returncode)
        log.warning("extraction worker for %s ended with %s", media_type, returncode)
        return Extraction.without_text(status, message)
    status = result.get("status")
    message = str(result.get("message") or "")
    pages = result.get("pages")
    pages = pages if isinstance(pages, int) else None
    if result.get("detail"):
        log.info("extraction of %s: %s (%s)", media_type, status, result["detail"])
    if status != "ok":
        if status not in {"empty", "failed", "unsupported"}:
            status, message = "failed", CRASHED
        return Extraction.without_text(status, message, pages)
    text = text_path.read_bytes().decode("utf-8", errors="replace")
    return Extraction(status="ok", text=text, message=message, chars=len(text), pages=pages)


def _from_exit(returncode: int) -> tuple[Status, str]:
    """Status and message for a worker that ended without reporting."""
    if returncode == -signal.SIGXCPU:
        return "timeout", CPU_LIMIT
    if returncode == -signal.SIGXFSZ:
        return "failed", TOO_MUCH_TEXT
    if returncode == -signal.SIGKILL:
        return "failed", KILLED
    if returncode == -signal.SIGABRT:
        # Python raises MemoryError under the address-space limit, but native code (PDFium)
        # aborts when an allocation fails: a PDF whose forms draw each other 2**30 times
        # ends here in under a second.
        return "failed", OUT_OF_MEMORY
    return "failed", CRASHED
