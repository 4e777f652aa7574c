"""Shared fixtures: a bilingual record and its context (schemas: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from metadata import Metadata, RecordContext, Statement

EXPECTED_DIR = Path(__file__).parent / "expected"

RECORD = Metadata([
    Statement("title", "Giáo trình Hậu cần xăng dầu", "vi"),
    Statement("title", "Petroleum Logistics: a Textbook", "en"),
    Statement("alternative", "Xăng dầu quân sự & an toàn <cơ bản>", "vi"),
    Statement("creator", "Nguyễn Văn An"),
    Statement("creator", "Trần Thị Bích Ngọc"),
    Statement("contributor", "Lê Đức Thắng"),
    Statement("subject", "petroleum", None, "subjects"),
    Statement("subject", "Kho xăng dầu dã chiến", "vi"),
    Statement("abstract", "Giáo trình trình bày công tác bảo đảm xăng dầu, \"kho\" dã chiến "
                          "và 100% an toàn.", "vi"),
    Statement("abstract", "The textbook covers fuel supply, field depots & safety_rules.", "en"),
    Statement("publisher", "Học viện Hậu cần", "vi"),
    Statement("issued", "2024-09-05"),
    Statement("created", "2023"),
    Statement("type", "Text", None, "DCMIType"),
    Statement("format", "application/pdf"),
    Statement("extent", "245 tr.", "vi"),
    Statement("language", "vi"),
    Statement("audience", "cadet-year-3", None, "audiences"),
    Statement("audience", "bdhvs-citizens", None, "audiences"),
    Statement("educationLevel", "undergraduate", None, "education-levels"),
    Statement("instructionalMethod", "lecture", None, "instructional-methods"),
    Statement("identifier", "doi:10.1234/hvhc.2024.42"),
    Statement("isPartOf", "urn:isbn:9786040000000"),
    Statement("rights", "Lưu hành nội bộ; © 2024 Học viện Hậu cần", "vi"),
    Statement("license", "https://creativecommons.org/licenses/by-nc/4.0/"),
    Statement("spatial", "Việt Nam", "vi"),
])

CONTEXT = RecordContext(
    identifier="oai:kho.hvhc.edu.vn:42",
    url="https://kho.hvhc.edu.vn/records/42",
    pdf_url="https://kho.hvhc.edu.vn/records/42/files/giao-trinh.pdf",
)


@pytest.fixture
def record() -> Metadata:
    return RECORD


@pytest.fixture
def context() -> RecordContext:
    return CONTEXT


@pytest.fixture
def golden() -> Callable[[str], str]:
    """Reads a golden file from expected/ (bytes decoded as UTF-8, no newline translation)."""

    def read(name: str) -> str:
        return (EXPECTED_DIR / name).read_bytes().decode("utf-8")

    return read
