"""What only the PostgreSQL backend needs checking: its rows of tsvector literals within
PostgreSQL's limits. Everything else runs for every backend (``backend`` fixture)."""

from __future__ import annotations

from search_helpers import doc, empty_search_tables

from lms.search import SearchQuery, create_backend
from lms.search.analysis import ChunkAnalyser
from lms.search.postgres.schema import (
    MAX_POSITION,
    MAX_POSITIONS_PER_LEXEME,
    MAX_TSVECTOR_BYTES,
    document_row,
    quote,
)
from tests.conftest import NEEDS_POSTGRES


def entries(literal: str) -> dict[str, list[str]]:
    out = {}
    for item in literal.split(" "):
        lexeme, _, positions = item.rpartition(":")
        out[lexeme.strip("'")] = positions.split(",")
    return out


def row(**kw) -> dict:
    return document_row(doc(1, **kw), ChunkAnalyser(codes_last=False))


def test_fields_carry_their_labels_and_codes_share_a_position() -> None:
    r = row(title="Kế hoạch 4325/KH-BQP", text="hậu cần", subject=["Hậu cần"],
            creator=["Nguyễn An"])
    all_f = entries(r["all_f"])
    assert all_f["ke"] == ["1A"] and all_f["4325"] == ["3A"] and all_f["4325/kh-bqp"] == ["3A"]
    assert all_f["kh"] == ["4A"] and all_f["bqp"] == ["5A"]
    assert all_f["hau"][0].endswith("B") and all_f["an"][0].endswith("C")
    assert all_f["hau"][-1].isdigit()  # the full text is label D, the literal's default
    assert entries(r["all_a"])["hậu"] == all_f["hau"]
    assert set(entries(r["meta_f"])) == {"ke", "hoach", "4325", "4325/kh-bqp", "kh", "bqp",
                                         "hau", "can", "nguyen", "an"}


def test_limits_of_postgresql_are_kept() -> None:
    many = " ".join(["chung"] * 300 + [f"w{i}" for i in range(20_000)] + ["cuoi"])
    r = row(title="Tiêu đề", text=many)
    all_f = entries(r["all_f"])
    assert len(all_f["chung"]) == MAX_POSITIONS_PER_LEXEME
    assert all_f["cuoi"] == [str(MAX_POSITION)]  # past the last position: counted there
    huge = " ".join(f"từ{i:06d}" for i in range(150_000))
    literal = row(title="Tiêu đề", text=huge)["all_f"]
    assert len(literal.encode()) < 2 * MAX_TSVECTOR_BYTES
    assert entries(literal)["tieu"] == ["1A"]  # cut at the end, never at the title


def test_quotes_never_let_a_lexeme_out() -> None:
    assert quote("a'b\\c") == "'a''b\\\\c'"


@NEEDS_POSTGRES
def test_a_huge_text_is_indexed_and_searchable(postgres_engine, tmp_path) -> None:
    empty_search_tables(postgres_engine)
    b = create_backend("postgres", tmp_path, database=postgres_engine)
    words = " ".join(f"từ{i:06d}" for i in range(150_000))
    b.index([doc(1, "Sổ tay hậu cần", f"mở đầu {words} kết thúc")])
    assert [h.id for h in b.query(SearchQuery("mở đầu", frozenset({"public"}))).hits] == [1]
    assert b.query(SearchQuery("sổ tay", frozenset({"public"}))).total == 1
