"""Helpers shared by the search tests: corpus reading, small documents, hostile queries."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lms.search import SearchDocument
from tests.conftest import search_backend_params

REPO = Path(__file__).resolve().parents[3]
CORPUS_FILE = "corpus/vntc-10topics-00.jsonl.gz"
CORPUS_DOCS = 2000


def backend_params() -> list:
    """``BACKENDS`` as pytest params, so every backend-level test runs once per backend.

    Whoosh and tantivy are dependencies: a missing one fails the suite, it is never skipped.
    The postgres backend needs the PostgreSQL server of ``LMS_TEST_DATABASE_URL``; on SQLite
    runs it is skipped with that reason."""
    return search_backend_params()


def empty_search_tables(engine) -> None:
    """A fresh PostgreSQL search index: no rows, no state."""
    from sqlalchemy import text

    from lms.search.postgres.schema import TABLES

    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)}"))


def shared_dir() -> Path:
    return Path(os.environ.get("LMS_SHARED_DIR") or REPO.parent / "shared")


def slug(text: str) -> str:
    from lms.search.analysis import fold

    return "-".join(fold(text).split())


def read_corpus(limit: int) -> list[dict]:
    """The first ``limit`` VNTC records (streamed). Missing corpus is a failure, not a skip."""
    path = shared_dir() / CORPUS_FILE
    if not path.is_file():
        pytest.fail(f"VNTC corpus not found at {path} (set LMS_SHARED_DIR)")
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            out.append(json.loads(line))
            if len(out) >= limit:
                break
    return out


def corpus_document(i: int, rec: dict, principals: list[str] | None = None) -> SearchDocument:
    return SearchDocument(
        id=i,
        external_id=rec["id"],
        title=[rec["title"]],
        creator=[rec["source"]],
        subject=[rec["category"]],
        description=[],
        fulltext=rec["text"],
        principals=principals or ["public"],
        type=["Text"],
        subject_path=[f"tin-tuc/{slug(rec['category'])}"],
        language=["vi"],
        year=2005 + i % 2,
        collection_path=[f"vntc/{slug(rec['source'])}"],
        format=["text/plain"],
        has_files=i % 3 != 0,
        published_at=datetime(2006, 1, 1, tzinfo=UTC) + timedelta(hours=i),
        downloads=i % 97,
    )


def doc(i: int, title: str, text: str = "", **kw) -> SearchDocument:
    """A small synthetic document, public unless ``principals`` is given."""
    defaults: dict = {
        "external_id": f"ext-{i}",
        "creator": [],
        "subject": [],
        "description": [],
        "principals": ["public"],
    }
    defaults.update(kw)
    return SearchDocument(id=i, title=[title], fulltext=text, **defaults)


HOSTILE = [
    "test:",
    "10/",
    '"unbalanced quote',
    'abc"',
    "!!!",
    "?*&^%$#@",
    "x) OR level:secret OR (y",
    "*",
    "**",
    "-",
    "--",
    "OR",
    "OR OR OR",
    "a OR",
    "OR a",
    '""',
    "title:",
    "title:*",
    "year:",
    "year:abc",
    "year:99999999999999999999",
    "type:",
    "principals:public",
    "principals:*",
    "-principals:x",
    ":::",
    "\x00\x01\x1f\x1e\x1d",
    "\u0301\u0300",
    " OR ".join(f"w{i}" for i in range(10_000)),
    "x" * 100_000,
    "bóng " * 5000,
    "(((((((",
    "title:(a OR b)",
    'title:"',
    '-""',
    "\\",
    "a\\*",
    "AND NOT",
    "%s %d {0}",
    "<script>alert(1)</script>",
]
