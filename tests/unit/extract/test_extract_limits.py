"""The worker process: no truncation, wall-clock kill, memory and CPU limits, odd inputs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lms.extract import Extraction, extract_text
from lms.extract.base import NOT_FOUND, OUT_OF_MEMORY, UNSUPPORTED
from lms.extract.core import MediaType
from lms.extract.runner import CPU_LIMIT, TOO_MUCH_TEXT, _from_exit
from lms.extract.samples import PROBE_TEXT, write_demo_docx
from lms.extract.worker import TEST_ALLOC_ENV, TEST_SLEEP_ENV, TEST_SPIN_ENV

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def test_long_text_file_is_never_truncated(tmp_path):
    lines = [f"{n:06d} {PROBE_TEXT}" for n in range(5000)]
    path = tmp_path / "long.txt"
    path.write_text("\n".join(lines), encoding="utf-8")

    result = extract_text(path, MediaType.TEXT)

    assert result.status == "ok"
    assert result.chars > 300_000  # DSpace would have kept the first 100,000
    assert result.text.split("\n") == lines
    assert result.text.endswith(f"004999 {PROBE_TEXT}")


def test_long_docx_is_never_truncated(tmp_path):
    paragraphs = [f"Đoạn {n}: {PROBE_TEXT}." for n in range(4500)]
    path = write_demo_docx(tmp_path / "long.docx", "Tài liệu dài", paragraphs)

    result = extract_text(path, MediaType.DOCX)

    assert result.status == "ok"
    assert result.chars > 300_000
    assert result.text.split("\n")[1:] == paragraphs


def test_wall_clock_timeout_kills_the_worker(tmp_path, monkeypatch, workers_reading):
    path = write_demo_docx(tmp_path / "slow.docx", "Chậm", [PROBE_TEXT])
    monkeypatch.setenv(TEST_SLEEP_ENV, "60")

    started = time.monotonic()
    result = extract_text(path, MediaType.DOCX, timeout=0.5)

    assert time.monotonic() - started < 10  # not the 60 s sleep
    assert result == Extraction("timeout", "", "extraction timed out after 0.5 s", 0, None)
    assert workers_reading(path) == []  # killed and reaped, not left sleeping


def test_memory_limit_turns_into_a_failure(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    path.write_text(PROBE_TEXT)
    monkeypatch.setenv(TEST_ALLOC_ENV, "1024")

    result = extract_text(path, MediaType.TEXT, memory_mb=256)

    assert (result.status, result.message, result.text) == ("failed", OUT_OF_MEMORY, "")


def test_same_allocation_passes_without_the_small_limit(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    path.write_text(PROBE_TEXT)
    monkeypatch.setenv(TEST_ALLOC_ENV, "300")

    assert extract_text(path, MediaType.TEXT, memory_mb=1024).text == PROBE_TEXT


def test_cpu_limit_stops_a_spinning_worker(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(PROBE_TEXT)
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), **{TEST_SPIN_ENV: "30"})
    command = [sys.executable, "-m", "lms.extract.worker", "--cpu-seconds=1", MediaType.TEXT,
               str(path)]

    started = time.monotonic()
    finished = subprocess.run(command, env=env, capture_output=True, timeout=60, check=False)

    assert time.monotonic() - started < 30  # 1 CPU second; generous for a loaded machine
    assert finished.returncode == -signal.SIGXCPU
    assert _from_exit(finished.returncode) == ("timeout", CPU_LIMIT)


def test_worker_cli_writes_text_and_a_result_line(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(f"  {PROBE_TEXT}  \n")
    # "error": importing the package must not warn (runpy warns if lms.extract imported the
    # worker module before running it as __main__).
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), PYTHONWARNINGS="error")
    command = [sys.executable, "-m", "lms.extract.worker", MediaType.TEXT, str(path)]

    finished = subprocess.run(command, env=env, capture_output=True, timeout=30, check=True)

    assert finished.stdout.decode() == PROBE_TEXT
    assert finished.stderr.decode().strip() == (
        'LMS-EXTRACT-RESULT {"status": "ok", "message": "", "pages": null, "detail": ""}'
    )


@pytest.mark.parametrize(
    ("returncode", "expected"),
    [
        (-signal.SIGXFSZ, ("failed", TOO_MUCH_TEXT)),
        (-signal.SIGKILL, ("failed", "the extractor was stopped by a resource limit")),
        (-signal.SIGSEGV, ("failed", "the extractor stopped unexpectedly")),
        (1, ("failed", "the extractor stopped unexpectedly")),
    ],
)
def test_worker_deaths_map_to_safe_messages(returncode, expected):
    assert _from_exit(returncode) == expected


@pytest.mark.parametrize(
    "media_type", ["image/png", "application/zip", "video/mp4", "application/msword", ""]
)
def test_unsupported_types_start_no_worker(tmp_path, media_type):
    path = tmp_path / "a.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")

    assert extract_text(path, media_type) == Extraction("unsupported", "", UNSUPPORTED, 0, None)


def test_media_type_is_matched_without_case_or_parameters(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(PROBE_TEXT)

    assert extract_text(path, " Text/Plain ; charset=UTF-8").text == PROBE_TEXT


def test_missing_file_or_folder_fails_without_a_path(tmp_path):
    for path in (tmp_path / "không-có.pdf", tmp_path):
        result = extract_text(path, MediaType.PDF)
        assert (result.status, result.message) == ("failed", NOT_FOUND)
