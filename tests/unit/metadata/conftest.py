"""Shared fixtures: a bilingual record, its context, and the OAI-PMH schemas from shared/."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from metadata import Metadata, RecordContext, Statement

REPO_ROOT = Path(__file__).resolve().parents[3]
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


def shared_dir() -> Path:
    return Path(os.environ.get("LMS_SHARED_DIR", REPO_ROOT.parent / "shared"))


class _CatalogResolver(etree.Resolver):
    """Maps the schemas' remote URLs to local files, as listed in catalog.xml."""

    def __init__(self, catalog: Path) -> None:
        super().__init__()
        tree = etree.parse(str(catalog), etree.XMLParser(resolve_entities=False,
                                                         no_network=True))
        ns = {"c": "urn:oasis:names:tc:entity:xmlns:xml:catalog"}
        self.mapping = {
            entry.get("name"): str(catalog.parent / entry.get("uri"))
            for entry in tree.iterfind("c:uri", ns)
        }

    def resolve(self, url, public_id, context):  # type: ignore[no-untyped-def]
        local = self.mapping.get(url)
        return self.resolve_filename(local, context) if local else None


@pytest.fixture(scope="session")
def oai_dc_schema() -> etree.XMLSchema:
    """oai_dc.xsd with its imports resolved offline. Fails (never skips) if shared/ is missing."""
    folder = shared_dir() / "standards" / "oai-pmh"
    assert (folder / "oai_dc.xsd").is_file(), (
        f"OAI-PMH schemas not found in {folder}; set LMS_SHARED_DIR to the shared folder"
    )
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    parser.resolvers.add(_CatalogResolver(folder / "catalog.xml"))
    return etree.XMLSchema(etree.parse(str(folder / "oai_dc.xsd"), parser))
