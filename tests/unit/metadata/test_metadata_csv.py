import codecs
import csv
import io
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metadata import Metadata, Statement, export_csv, import_csv, validate
from metadata.crosswalks.csvio import (
    FORMULA_START,
    Column,
    decode_cell,
    encode_cell,
    escape_formula,
    parse_header,
    to_csv,
    unescape_formula,
)

S = Statement


def grouped(metadata: Metadata) -> dict[tuple[str, str | None, str | None], list[str]]:
    """Values per (term, scheme, lang) column, in order: what the CSV round trip keeps."""
    out: dict[tuple[str, str | None, str | None], list[str]] = defaultdict(list)
    for s in metadata:
        out[(s.term, s.scheme, s.lang)].append(s.value)
    return dict(out)


def single(data: bytes | str) -> Metadata:
    result = import_csv(data)
    assert result.ok, (result.problems, [r.problems for r in result.rows])
    assert len(result.rows) == 1
    return result.rows[0].metadata


def test_exact_output(record, context, golden):
    assert to_csv(record, context) == golden("record.csv")


def test_fixture_round_trip(record, context):
    result = import_csv(to_csv(record, context).encode("utf-8"))
    assert result.ok and result.problems == ()
    (row,) = result.rows
    assert row.id == context.identifier and row.line == 2
    assert grouped(row.metadata) == grouped(record)
    assert validate(row.metadata).problems == ()


def test_headers():
    assert parse_header("title[vi]") == Column("title", None, "vi")
    assert parse_header("audience^audiences") == Column("audience", "audiences", None)
    assert parse_header("subject^LCSH[en-US]") == Column("subject", "LCSH", "en-US")
    assert parse_header(" ISPARTOF ") == Column("isPartOf")
    assert parse_header("title[vi") is None
    assert parse_header("title vi") is None
    assert Column("subject", "ISO639-2", "vi").header == "subject^ISO639-2[vi]"


@pytest.mark.parametrize(("values", "cell"), [
    (["a", "b"], "a||b"),
    (["a||b"], r"a\|\|b"),
    (["|start", "end|"], r"\|start||end\|"),
    (["C:\\dir\\"], r"C:\\dir\\"),
    (["=SUM(A1)"], "'=SUM(A1)"),
    (["-5"], "'-5"),
    (["5"], "5"),
])
def test_cell_encoding(values, cell):
    assert encode_cell(values) == cell
    assert decode_cell(cell) == values


@pytest.mark.parametrize("value", ["=1+1", "+84 912", "-5", "@SUM(A1)", "%x", "\tx", "\rx",
                                   "\nx", "\x00x", "|x"])
def test_formula_cells_are_neutralised_and_round_trip(value):
    text = export_csv([("r1", Metadata([S("description", value)]))], bom=False)
    cell = list(csv.reader(io.StringIO(text, newline="")))[1][1]
    assert cell[0] not in FORMULA_START  # "'" added, or "\|" for a leading "|"
    assert single(text).values("description") == [value]


@pytest.mark.parametrize(("value", "written"), [
    ("'=x", "''=x"), ("''-1", "'''-1"), ("'plain", "'plain"), ("'", "'"), ("it's", "it's"),
])
def test_apostrophes_round_trip(value, written):
    assert escape_formula(value) == written
    assert unescape_formula(written) == value
    text = export_csv([("r1", Metadata([S("description", value)]))], bom=False)
    assert single(text).values("description") == [value]


def test_identifier_cell_is_guarded_too():
    text = export_csv([("=cmd|' /C calc'!A0", Metadata([S("title", "t")]))], bom=False)
    assert "\r\n'=cmd" in text
    assert import_csv(text).rows[0].id == "=cmd|' /C calc'!A0"


def test_export_starts_with_a_bom_and_uses_crlf(record, context):
    text = to_csv(record, context)
    assert text.startswith("\ufeffid,title[vi],title[en],")
    assert text.endswith("\r\n")


def test_reads_utf8_with_and_without_bom_and_utf16():
    text = "id,title[vi],subject^subjects\r\n7,Giáo trình Quân y,military-medicine||petroleum\r\n"
    want = [S("title", "Giáo trình Quân y", "vi"), S("subject", "military-medicine", None,
                                                        "subjects"),
            S("subject", "petroleum", None, "subjects")]
    for data in (text.encode("utf-8"), codecs.BOM_UTF8 + text.encode("utf-8"),
                 text.encode("utf-16"), codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
                 "\ufeff" + text):
        assert list(single(data)) == want


def test_invalid_utf8_reports_the_line():
    data = "id,title\r\n1,ok\r\n2,bad \xff here\r\n".encode("latin-1")
    result = import_csv(data)
    assert result.rows == () and not result.ok
    (problem,) = result.problems
    assert problem.code == "bad_encoding" and problem.index == 3
    assert "3" in problem.message_vi and "line 3" in problem.message_en


def test_utf16_without_bom_is_refused_not_misread():
    result = import_csv("id,title\r\n1,Tiếng Việt\r\n".encode("utf-16-le"))
    assert [p.code for p in result.problems] == ["bad_encoding"]


def test_duplicate_header():
    result = import_csv(b"id,title[vi],creator,title[vi]\r\n1,a,b,c\r\n")
    assert [(p.code, p.severity) for p in result.problems] == [("duplicate_header", "error")]
    assert "title[vi]" in result.problems[0].message_en and result.rows == ()


def test_unknown_and_malformed_headers():
    result = import_csv(b"id,title,colour,subject[vi\r\n1,a,b,c\r\n")
    assert [p.code for p in result.problems] == ["unknown_header", "bad_header"]
    assert "colour" in result.problems[0].message_vi
    assert "subject[vi" in result.problems[1].message_en


def test_duplicate_id_header():
    assert [p.code for p in import_csv(b"id,ID,title\r\n").problems] == ["duplicate_header"]


def test_empty_file():
    assert [p.code for p in import_csv(b"").problems] == ["empty_file"]


def test_rows_with_too_many_cells_are_reported_per_row():
    result = import_csv(b"id,title\r\n1,a\r\n2,b,extra\r\n3,c,\r\n")
    assert result.problems == ()
    assert [row.id for row in result.rows] == ["1", "2", "3"]
    assert result.rows[0].problems == () and result.rows[2].problems == ()
    assert [(p.code, p.index) for p in result.rows[1].problems] == [("row_too_long", 3)]
    assert not result.ok


def test_line_numbers_count_multiline_cells():
    result = import_csv(b'id,description\r\n1,"a\r\nb"\r\n\r\n2,c\r\n')
    assert [(row.id, row.line) for row in result.rows] == [("1", 2), ("2", 5)]
    assert result.rows[0].metadata.values("description") == ["a\r\nb"]


def test_short_rows_and_missing_id_column():
    result = import_csv(b"title,creator\r\nonly title\r\n")
    assert result.ok
    assert result.rows[0].id == "" and list(result.rows[0].metadata) == [S("title", "only title")]


def test_several_records_share_columns():
    records = [("1", Metadata([S("title", "A", "vi"), S("creator", "X")])),
               ("2", Metadata([S("title", "B", "en"), S("subject", "s")]))]
    text = export_csv(records, bom=False)
    assert text.splitlines()[0] == "id,title[vi],title[en],creator,subject"
    result = import_csv(text)
    assert [grouped(r.metadata) for r in result.rows] == [grouped(m) for _, m in records]


def test_unwritable_column_is_refused():
    with pytest.raises(ValueError):
        export_csv([("1", Metadata([S("title", "x", "v i")]))])


VIETNAMESE = ("aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợ"
              "úùủũụứừửữựýỳỷỹỵĐĂÂÊÔƠƯ ")
TRICKY = "|'=+-@%\\\n\r\t,\";\x00[]^"
values = st.text(alphabet=VIETNAMESE + TRICKY, min_size=1, max_size=25)
terms = st.sampled_from(["title", "creator", "subject", "description", "audience", "issued",
                         "isPartOf", "accrualPolicy"])
langs = st.sampled_from([None, "vi", "en", "en-US", "vi-VN"])
schemes = st.sampled_from([None, None, "subjects", "audiences", "LCSH"])
statements = st.builds(Statement, terms, values, langs, schemes)
records = st.lists(
    st.tuples(st.text(alphabet=VIETNAMESE + TRICKY, min_size=1, max_size=8),
              st.lists(statements, min_size=1, max_size=12).map(Metadata)),
    min_size=1, max_size=4,
)


@settings(max_examples=200, deadline=None, database=None)
@given(records, st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_csv_round_trip_is_lossless(records, encoding):
    text = export_csv(records, bom=False)
    result = import_csv(text.encode(encoding))
    assert result.ok, (result.problems, [r.problems for r in result.rows])
    assert [row.id for row in result.rows] == [identifier for identifier, _ in records]
    assert [grouped(row.metadata) for row in result.rows] == [grouped(m) for _, m in records]


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(values, min_size=1, max_size=6))
def test_cell_round_trip(cell_values):
    assert decode_cell(encode_cell(cell_values)) == cell_values


@settings(max_examples=100, deadline=None, database=None)
@given(st.binary(max_size=200))
def test_import_never_raises_on_arbitrary_bytes(data):
    import_csv(b"id,title[vi]\r\n" + data)


def test_extra_columns_pass_through_untouched():
    from metadata import import_csv

    data = "id,title[vi],file,collection\nr1,Hậu cần,a.pdf||b.docx,'=x\n"
    result = import_csv(data, extra_columns=("file", "collection"))
    assert result.ok
    row = result.rows[0]
    assert row.id == "r1" and row.metadata.values("title") == ["Hậu cần"]
    assert row.extra == {"file": "a.pdf||b.docx", "collection": "=x"}


def test_extra_columns_are_unknown_headers_without_the_option():
    from metadata import import_csv

    result = import_csv("id,title[vi],file\nr1,Hậu cần,a.pdf\n")
    assert not result.ok
    assert result.problems[0].code == "unknown_header"
