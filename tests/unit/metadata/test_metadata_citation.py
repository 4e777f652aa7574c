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
