"""The extraction child process: ``python -m lms.extract.worker [limits] MEDIA_TYPE PATH``.

It lowers its own resource limits first, then reads the document, writes the normalised
UTF-8 text to stdout (a temporary file, not a pipe: see :mod:`lms.extract.runner`) and ends
with one result line on stderr::

    LMS-EXTRACT-RESULT {"status": "ok", "message": "", "pages": 3, "detail": ""}

It exits 0 for every document, good or bad; a non-zero exit or a signal means the limits or
a crash ended it before it could report.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from lms.extract.base import (
    NO_PAGES,
    NO_TEXT,
    NOT_FOUND,
    OUT_OF_MEMORY,
    RESULT_MARKER,
    SCANNED,
    UNSUPPORTED,
)

# Test-only hooks, read after the limits are in place: make the child sleep or allocate so
# tests can prove the parent's kill path and the memory limit. Harmless if set by mistake
# (extractions then time out or fail visibly).
TEST_SLEEP_ENV = "LMS_EXTRACT_TEST_SLEEP"
TEST_ALLOC_ENV = "LMS_EXTRACT_TEST_ALLOC_MB"
TEST_SPIN_ENV = "LMS_EXTRACT_TEST_SPIN"


def apply_limits(*, memory_mb: int, cpu_seconds: int, max_output_mb: int) -> None:
    """Lower this process's address space, CPU time and file size limits; no core dumps.

    Set here, in the child, rather than in a ``preexec_fn``: CPython documents ``preexec_fn``
    as unsafe when the parent has threads (the job worker and gunicorn may), and nothing
    untrusted is read before this runs. A limit can only be lowered, never raised past the
    hard limit the parent already had.
    """
    import resource

    def lower(kind: int, soft: int, hard: int | None = None) -> None:
        current_hard = resource.getrlimit(kind)[1]
        hard = soft if hard is None else hard
        if current_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, current_hard), min(hard, current_hard)
        resource.setrlimit(kind, (soft, hard))

    if memory_mb > 0:
        lower(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
    if cpu_seconds > 0:
        # SIGXCPU at the soft limit; SIGKILL one second later if it was caught or ignored.
        lower(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1)
    if max_output_mb > 0:
        lower(resource.RLIMIT_FSIZE, max_output_mb * 1024 * 1024)
    lower(resource.RLIMIT_CORE, 0)


def _run_test_hooks() -> None:
    if seconds := os.environ.get(TEST_SLEEP_ENV):
        time.sleep(float(seconds))
    if megabytes := os.environ.get(TEST_ALLOC_ENV):
        hog = bytearray(int(megabytes) * 1024 * 1024)
        del hog
    if seconds := os.environ.get(TEST_SPIN_ENV):
        end = time.process_time() + float(seconds)
        while time.process_time() < end:
            pass


def extract(path: Path, media_type: str) -> tuple[dict[str, Any], str]:
    """``(result, text)`` for one document; never raises for a bad document.

    The broad ``except Exception`` is deliberate: this process is the containment boundary,
    and a parser library may raise anything on hostile input. Only the exception's class
    name leaves the process (as ``detail``, for the server log).
    """
    from lms.extract.base import ExtractionError
    from lms.extract.core import (
        SUPPORTED_MEDIA_TYPES,
        MediaType,
        normalize_media_type,
        read_document,
    )
    from lms.extract.text import normalize_text

    media_type = normalize_media_type(media_type)
    if media_type not in SUPPORTED_MEDIA_TYPES:
        return _result("unsupported", UNSUPPORTED), ""
    damaged = f"could not read {MediaType(media_type).label}: damaged or invalid file"
    try:
        raw = read_document(path, media_type)
        text = normalize_text(raw.text)
    except ExtractionError as exc:
        return _result("failed", exc.message or damaged, detail=exc.detail), ""
    except MemoryError:
        return _result("failed", OUT_OF_MEMORY, detail="MemoryError"), ""
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        return _result("failed", NOT_FOUND, detail=type(exc).__name__), ""
    except Exception as exc:
        return _result("failed", damaged, detail=type(exc).__name__), ""
    if text:
        return _result("ok", raw.note, pages=raw.pages), text
    if media_type == MediaType.PDF:
        return _result("empty", SCANNED if raw.pages else NO_PAGES, pages=raw.pages), ""
    return _result("empty", NO_TEXT, pages=raw.pages), ""


def _result(status: str, message: str, *, pages: int | None = None, detail: str = "") -> dict:
    return {"status": status, "message": message, "pages": pages, "detail": detail}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lms.extract.worker",
        description="Extract normalised UTF-8 text from one document to stdout.",
    )
    parser.add_argument("--memory-mb", type=int, default=0, help="address-space limit")
    parser.add_argument("--cpu-seconds", type=int, default=0, help="CPU time limit")
    parser.add_argument("--max-output-mb", type=int, default=0, help="largest text written")
    parser.add_argument("media_type")
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)

    apply_limits(
        memory_mb=args.memory_mb, cpu_seconds=args.cpu_seconds, max_output_mb=args.max_output_mb
    )
    # Library warnings and log chatter about a damaged file are noise here: the result line
    # says what matters. (The parent reads only that line.)
    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.CRITICAL)

    try:
        _run_test_hooks()
        result, text = extract(args.path, args.media_type)
        if text:
            sys.stdout.buffer.write(text.encode("utf-8"))
        del text
    except MemoryError:
        result = _result("failed", OUT_OF_MEMORY, detail="MemoryError while writing")
    sys.stdout.flush()
    sys.stderr.write("\n" + RESULT_MARKER + json.dumps(result) + "\n")
    sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
