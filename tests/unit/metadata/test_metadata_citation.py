import pytest

from metadata import Metadata, RecordContext, Statement
from metadata.crosswalks.citation import bibtex_escape, bibtex_key, to_bibtex, to_ris


def test_bibtex_exact_output(record, context, golden):
    assert to_bibtex(record, context) == golden("record.bib")


def test_ris_exact_output(record, context, golden):
    assert to_ris(record, context) == golden("record.ris")


def test_bibtex_escaping():
    assert bibtex_escape("50% & $5 #1 a_b {x} ~ ^ \\") == (
        r"50\% \& \$5 \#1 a\_b \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{}")
    assert bibtex_escape("dòng 1\n\tdòng 2\x00") == "dòng 1 dòng 2"


def test_bibtex_braces_cannot_close_the_entry():
    md = Metadata([Statement("title", "}, evil = {x", "vi"), Statement("type", "Image")])
    text = to_bibtex(md, RecordContext("a b/c"))
    assert text.startswith("@misc{a_b_c,\n")
    assert "title = {\\}, evil = \\{x}," in text
    depth = 0
    for char in text.replace("\\{", "").replace("\\}", ""):
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0


def test_bibtex_key_is_stable():
    assert bibtex_key("oai:kho.hvhc.edu.vn:42") == "oai:kho.hvhc.edu.vn:42"
    assert bibtex_key("tài liệu 7") == "t_i_li_u_7"


def test_ris_preferred_language_and_termination():
    md = Metadata([Statement("title", "English", "en"), Statement("title", "Tiếng Việt", "vi"),
                   Statement("abstract", "Dòng 1\nDòng 2", "vi"), Statement("issued", "2024")])
    lines = to_ris(md, RecordContext("x", lang="vi")).split("\r\n")
    assert lines[:4] == ["TY  - GEN", "ID  - x", "TI  - Tiếng Việt", "TT  - English"]
    assert "PY  - 2024" in lines and "DA  - 2024///" in lines
    assert "AB  - Dòng 1 Dòng 2" in lines
    assert lines[-2:] == ["ER  - ", ""]
    english = to_ris(md, RecordContext("x", lang="en")).split("\r\n")
    assert english[2] == "TI  - English"


# --- read back by independent parsers -------------------------------------------------------

def parse_bibtex(text: str):
    import bibtexparser
    from bibtexparser import middlewares

    # Names are split as BibTeX does, braces kept (a braced name is one unit).
    library = bibtexparser.parse_string(text, append_middleware=[
        middlewares.SeparateCoAuthors(), middlewares.SplitNameParts()])
    assert library.failed_blocks == []
    [entry] = library.entries
    return entry


def test_bibtexparser_reads_every_field(record, context):
    entry = parse_bibtex(to_bibtex(record, context))
    fields = {key: field.value for key, field in entry.fields_dict.items()}
    assert entry.entry_type == "book"  # "Giáo trình ..." is a textbook
    assert [(n.last, n.first) for n in fields["author"]] == [
        (["Nguyễn"], ["Văn", "An"]), (["Trần"], ["Thị", "Bích", "Ngọc"])]
    assert fields["title"] == "Giáo trình Hậu cần xăng dầu"
    assert fields["titleaddon"] == "Petroleum Logistics: a Textbook"
    assert fields["doi"] == "10.1234/hvhc.2024.42"
    assert fields["copyright"] == "Lưu hành nội bộ; © 2024 Học viện Hậu cần"
    assert fields["keywords"] == "Xăng dầu, Kho xăng dầu dã chiến"
    assert "Đối tượng người học: Học viên năm thứ ba; Người dân" in fields["note"]
    assert fields["url"] == context.url


def test_bibtex_organisations_stay_whole():
    md = Metadata([Statement("title", "Tin chiến sự", "vi"), Statement("creator", "VnExpress"),
                   Statement("creator", "Phòng Đào tạo"), Statement("type", "Text")])
    entry = parse_bibtex(to_bibtex(md, RecordContext("x")))
    assert [(n.last, n.first) for n in entry.fields_dict["author"].value] == [
        (["{VnExpress}"], []), (["{Phòng Đào tạo}"], [])]


@pytest.mark.parametrize(("title", "dcmi_type", "bibtex", "ris"), [
    ("Giáo trình Hậu cần", "Text", "book", "BOOK"),
    ("Luận án tiến sĩ: Hậu cần", "Text", "phdthesis", "THES"),
    ("Luận văn thạc sĩ", "Text", "mastersthesis", "THES"),
    ("Báo cáo tổng kết năm 2024", "Text", "techreport", "RPRT"),
    ("Bài báo về xăng dầu", "Text", "article", "JOUR"),
    ("Kỷ yếu hội thảo khoa học", "Text", "proceedings", "CONF"),
    ("Thông tư 12/2024/TT-BQP", "Text", "misc", "STAT"),
    ("Bài giảng điện tử", "Text", "misc", "GEN"),
    ("Phim tư liệu", "MovingImage", "misc", "VIDEO"),
    ("Bộ dữ liệu", "Dataset", "misc", "DATA"),
])
def test_types_follow_the_dcmi_type_and_genre(title, dcmi_type, bibtex, ris):
    import rispy

    md = Metadata([Statement("title", title, "vi"), Statement("type", dcmi_type)])
    assert parse_bibtex(to_bibtex(md, RecordContext("x"))).entry_type == bibtex
    [entry] = rispy.loads(to_ris(md, RecordContext("x")))
    assert entry["type_of_reference"] == ris


def test_rispy_reads_every_field(record, context):
    import rispy

    [entry] = rispy.loads(to_ris(record, context))
    assert entry["type_of_reference"] == "BOOK"
    assert entry["authors"] == ["Nguyễn, Văn An", "Trần, Thị Bích Ngọc"]
    assert entry["translated_title"] == "Petroleum Logistics: a Textbook"
    assert entry["doi"] == "10.1234/hvhc.2024.42"
    assert entry["urls"] == [context.url]
    assert entry["file_attachments1"] == context.pdf_url
    assert entry["type_of_work"] == "textbook"
    assert "Bản quyền: Lưu hành nội bộ; © 2024 Học viện Hậu cần" in entry["notes"]
    assert "Đối tượng người học: Học viên năm thứ ba; Người dân" in entry["notes"]
    assert entry["keywords"] == ["Xăng dầu", "Kho xăng dầu dã chiến"]


def test_ris_identifiers_in_their_fields():
    import rispy

    md = Metadata([Statement("title", "Sách", "vi"),
                   Statement("identifier", "urn:isbn:9786040000000"),
                   Statement("identifier", "hdl:123456789/42")])
    [entry] = rispy.loads(to_ris(md, RecordContext("x")))
    assert entry["issn"] == "9786040000000"  # rispy names SN "issn"; it holds ISBNs too
    assert entry["accession_number"] == "hdl:123456789/42"
