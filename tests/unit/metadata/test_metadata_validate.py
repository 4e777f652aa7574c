import unicodedata

import pytest

from metadata import Metadata, Statement, is_incomplete, validate

S = Statement

COMPLETE = [
    S("title", "Giáo trình Hậu cần", "vi"),
    S("creator", "Nguyễn Văn An"),
    S("subject", "petroleum", None, "subjects"),
    S("issued", "2024-09-05"),
    S("type", "Text"),
    S("audience", "cadet-year-1", None, "audiences"),
    S("rights", "Lưu hành nội bộ", "vi"),
]


def codes(result, severity=None):
    return [p.code for p in result.problems if severity is None or p.severity == severity]


def only(result, code):
    found = [p for p in result.problems if p.code == code]
    assert len(found) == 1, result.problems
    return found[0]


def test_complete_record_has_no_problem():
    result = validate(COMPLETE)
    assert result.problems == ()
    assert result.ok and not result.incomplete
    assert result.statements[4] == S("type", "Text", None, "DCMIType")


def test_fixture_record_is_valid_and_already_normal(record):
    result = validate(record)
    assert result.problems == ()
    assert result.statements == record


def test_missing_title_is_an_error_in_both_modes():
    for mode in ("deposit", "import"):
        result = validate(COMPLETE[1:], mode=mode)
        problem = only(result, "missing_title")
        assert problem.severity == "error" and problem.term == "title" and problem.index is None
        assert problem.message_vi == "Thiếu nhan đề."
        assert problem.message("en") == "The title is missing."
        assert not result.ok


def test_deposit_requires_profile_fields():
    result = validate([S("title", "Nhan đề", "vi")])
    assert sorted(codes(result, "error")) == ["missing_required"] * 6
    assert {p.term for p in result.errors} == {"creator", "subject", "issued", "type",
                                               "audience", "rights"}
    assert "Tác giả" in result.for_term("creator")[0].message_vi
    assert "Creator" in result.for_term("creator")[0].message_en


def test_import_needs_only_a_title_and_flags_incomplete():
    result = validate([S("title", "Harvested", "en")], mode="import")
    assert result.ok
    assert codes(result, "error") == []
    assert "missing_required_language" in codes(result, "warning")
    assert codes(result, "warning").count("missing_required") == 6
    assert is_incomplete(result) and result.incomplete


def test_title_must_be_in_vietnamese_for_deposit():
    record = [S("title", "English only", "en"), *COMPLETE[1:]]
    problem = only(validate(record), "missing_required_language")
    assert problem.severity == "error" and problem.term == "title"
    assert "vi" in problem.message_en


def test_bad_date():
    record = [*COMPLETE, S("created", "2024-13-45")]
    problem = only(validate(record), "bad_date")
    assert (problem.term, problem.index, problem.severity) == ("created", 7, "error")
    assert "2024-13-45" in problem.message_vi and "2024-13-45" in problem.message_en
    assert only(validate([*COMPLETE[:3], S("issued", "2024-02-30"), *COMPLETE[4:]]),
                "bad_date").index == 3


def test_type_outside_dcmi_type():
    record = [*COMPLETE[:4], S("type", "Article"), *COMPLETE[5:]]
    problem = only(validate(record), "unknown_type")
    assert (problem.term, problem.index) == ("type", 4)


@pytest.mark.parametrize("given", ["text", "Văn bản", "VAN BAN", "http://purl.org/dc/dcmitype/Text",
                                   "Text "])
def test_type_forms_normalise_to_the_class_name(given):
    record = [*COMPLETE[:4], S("type", given), *COMPLETE[5:]]
    result = validate(record)
    assert result.problems == ()
    assert result.statements.get("type") == [S("type", "Text", None, "DCMIType")]


def test_unknown_language_code():
    problem = only(validate([*COMPLETE, S("language", "xx-yy-zz")]), "unknown_language")
    assert (problem.term, problem.index, problem.severity) == ("language", 7, "error")


def test_language_values_are_normalised():
    result = validate([*COMPLETE, S("language", "EN-us"), S("language", "Tiếng Việt")])
    assert result.problems == ()
    assert result.statements.values("language") == ["en-US", "vi"]


def test_ten_thousand_subjects_are_capped():
    subjects = [S("subject", f"Chủ đề {i}", "vi") for i in range(10_000)]
    result = validate([*COMPLETE, *subjects])
    problem = only(result, "too_many_values")
    assert problem.term == "subject" and problem.severity == "error"
    assert problem.index == len(COMPLETE) + 499  # the 501st subject
    assert len(result.statements.get("subject")) == 500
    assert "500" in problem.message_vi


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ufffe"])
def test_control_characters_are_errors(char):
    problem = only(validate([*COMPLETE, S("description", f"a{char}b", "vi")]), "control_chars")
    assert (problem.term, problem.index, problem.severity) == ("description", 7, "error")


def test_tab_and_newline_are_fine_and_crlf_becomes_lf():
    result = validate([*COMPLETE, S("description", "Dòng 1\r\n\tDòng 2\rDòng 3", "vi")])
    assert result.problems == ()
    assert result.statements.values("description") == ["Dòng 1\n\tDòng 2\nDòng 3"]


def test_decomposed_vietnamese_is_normalised_to_nfc():
    title = "Giáo trình Hậu cần Quân đội nhân dân Việt Nam"
    decomposed = unicodedata.normalize("NFD", title)
    assert decomposed != title
    result = validate([S("title", decomposed, "vi"), *COMPLETE[1:]])
    assert result.problems == ()
    assert result.statements.first("title") == title


def test_look_alike_eth_is_kept():
    result = validate([S("title", "ÐẠI HỌC", "vi"), *COMPLETE[1:]])  # U+00D0, not U+0110
    assert result.statements.first("title") == "ÐẠI HỌC"


def test_unknown_term():
    problem = only(validate([*COMPLETE, S("colour", "đỏ")]), "unknown_term")
    assert (problem.term, problem.index, problem.severity) == ("colour", 7, "error")
    assert "colour" in problem.message_en
    assert "colour" not in validate([*COMPLETE, S("colour", "đỏ")]).statements.terms()


def test_bad_language_tag_on_a_value():
    problem = only(validate([*COMPLETE, S("description", "x", "xx-yy-zz")]), "bad_language_tag")
    assert (problem.term, problem.index) == ("description", 7)


def test_language_tags_are_canonicalised():
    result = validate([S("title", "Nhan đề", "VI-vn"), *COMPLETE[1:]])
    assert result.statements[0].lang == "vi-VN"
    assert result.problems == ()


def test_language_tag_on_a_date_is_dropped_with_a_warning():
    record = [*COMPLETE[:3], S("issued", "2024", "vi"), *COMPLETE[4:]]
    result = validate(record)
    assert codes(result) == ["lang_not_allowed"]
    assert result.statements[3] == S("issued", "2024")


def test_not_repeatable():
    problem = only(validate([*COMPLETE, S("issued", "2025")]), "not_repeatable")
    assert (problem.term, problem.index) == ("issued", 7)


def test_one_title_per_language():
    problem = only(validate([*COMPLETE, S("title", "Khác", "vi")]), "duplicate_language")
    assert (problem.term, problem.index) == ("title", 7)
    assert validate([*COMPLETE, S("title", "Other", "en")]).problems == ()


def test_too_long():
    problem = only(validate([*COMPLETE, S("creator", "A" * 301)]), "too_long")
    assert problem.term == "creator" and "301" in problem.message_en


@pytest.mark.parametrize("value", ["javascript:alert(1)", "không phải URL", "ftp://x.org/a"])
def test_bad_uri(value):
    problem = only(validate([*COMPLETE, S("isPartOf", value)]), "bad_uri")
    assert problem.term == "isPartOf"


def test_relation_refinements_outside_the_profile_are_uris_too():
    assert "bad_uri" in codes(validate([*COMPLETE, S("hasVersion", "phiên bản 2")]))


def test_bad_media_type():
    assert only(validate([*COMPLETE, S("format", "PDF file")]), "bad_media_type").term == "format"


def test_vocabulary_labels_normalise_to_slugs():
    record = [*COMPLETE[:2], S("subject", "XĂNG DẦU", "vi"), S("subject", "Quân y"),
              *COMPLETE[3:5], S("audience", "Người dân"), *COMPLETE[6:]]
    result = validate(record)
    assert result.problems == ()
    assert result.statements.get("subject") == [S("subject", "petroleum", None, "subjects"),
                                                S("subject", "military-medicine", None,
                                                  "subjects")]
    assert result.statements.get("audience") == [S("audience", "bdhvs-citizens", None,
                                                    "audiences")]


def test_free_text_subjects_are_allowed_but_closed_vocabularies_are_not():
    result = validate([*COMPLETE, S("subject", "Kho dã chiến", "vi")])
    assert result.problems == ()
    assert result.statements.get("subject")[-1] == S("subject", "Kho dã chiến", "vi")
    problem = only(validate([*COMPLETE, S("audience", "aliens")]), "unknown_vocabulary_value")
    assert problem.term == "audience"
    problem = only(validate([*COMPLETE, S("subject", "nope", None, "subjects")]),
                   "unknown_vocabulary_value")
    assert problem.term == "subject"


def test_unknown_scheme_is_a_warning():
    result = validate([*COMPLETE, S("subject", "Fuel", "en", "my-thesaurus")])
    assert codes(result) == ["unknown_scheme"]
    assert result.ok
    assert validate([*COMPLETE, S("subject", "Petroleum", "en", "LCSH")]).problems == ()


def test_empty_and_repeated_values_are_dropped_with_warnings():
    result = validate([*COMPLETE, S("creator", "   "), S("creator", " Nguyễn Văn An ")])
    assert codes(result) == ["empty_value", "duplicate_value"]
    assert result.ok
    assert result.statements.values("creator") == ["Nguyễn Văn An"]


def test_dict_input_and_bad_shapes_never_raise():
    result = validate({"title": [{"value": "Nhan đề", "lang": "vi"}]}, mode="import")
    assert result.ok
    result = validate({"title": 5})
    assert codes(result) == ["bad_shape"]
    result = validate([*COMPLETE, ("title", "tuple")])  # type: ignore[list-item]
    assert codes(result) == ["bad_shape"]


def test_every_problem_has_both_messages():
    record = [S("issued", "2024-13-45"), S("type", "Article"), S("language", "xx-yy-zz"),
              S("description", "\x00"), S("colour", "x"), S("format", "x"),
              S("isPartOf", "javascript:x"), S("audience", "x"), S("title", "t", "q!")]
    result = validate(record)
    assert len(result.problems) >= 9
    for problem in result.problems:
        assert problem.message_vi and problem.message_en
        assert problem.message_vi != problem.message_en
        assert "{" not in problem.message_vi + problem.message_en


def test_mode_is_checked():
    with pytest.raises(ValueError):
        validate([], mode="harvest")  # type: ignore[arg-type]


def test_result_statements_are_metadata():
    assert isinstance(validate(COMPLETE).statements, Metadata)
