import pytest

from metadata.schemes import (
    fold_ascii,
    language_codes,
    parse_dcmi_type,
    parse_language_tag,
    parse_language_value,
    parse_media_type,
    parse_uri,
    parse_w3cdtf,
)


@pytest.mark.parametrize(("value", "precision"), [
    ("2024", "year"),
    ("2024-02", "year-month"),
    ("2024-02-29", "date"),
    ("2024-03-05T10:00Z", "datetime"),
    ("2024-03-05T10:00:59+07:00", "datetime"),
    ("2024-03-05T23:59:59.5-05:00", "datetime"),
])
def test_w3cdtf_accepts(value, precision):
    parsed = parse_w3cdtf(value)
    assert parsed is not None and parsed.precision == precision and parsed.text == value


@pytest.mark.parametrize("value", [
    "2024-13-45", "2024-02-30", "2023-02-29", "2024-00", "0000", "24", "2024/03/05",
    "05/03/2024", "2024-03-05T10:00", "2024-03-05T24:00Z", "2024-03-05T10:00+25:00",
    "2024-3-5", " 2024", "năm 2024",
])
def test_w3cdtf_rejects(value):
    assert parse_w3cdtf(value) is None


def test_iso639_tables():
    codes = language_codes()
    assert len(codes.part1) == 184
    assert {"vi", "en", "fr", "ru", "zh", "lo", "km"} <= codes.part1
    assert {"vie", "eng", "fra", "fre", "rus"} <= codes.part2
    assert len(codes.part3) > 7000 and "vie" in codes.part3


@pytest.mark.parametrize(("tag", "canonical"), [
    ("vi", "vi"), ("en", "en"), ("en-US", "en-US"), ("vi-VN", "vi-VN"), ("EN-us", "en-US"),
    ("vie", "vie"), ("zh-hant-tw", "zh-Hant-TW"), ("es-419", "es-419"),
])
def test_language_tags_accepted(tag, canonical):
    assert parse_language_tag(tag) == canonical


@pytest.mark.parametrize("tag", ["xx-yy-zz", "xx", "english", "vi_VN", "", "vi-", "q1", "en-US-"])
def test_language_tags_rejected(tag):
    assert parse_language_tag(tag) is None


def test_language_names_map_to_codes():
    assert parse_language_value("Tiếng Việt") == "vi"
    assert parse_language_value("vietnamese") == "vi"
    assert parse_language_value("English") == "en"
    assert parse_language_value("Klingonese") is None


def test_fold_ascii_handles_d_with_stroke():
    assert fold_ascii("  ĐẠI   học ") == "dai hoc"
    assert fold_ascii("Xăng Dầu") == "xang dau"


@pytest.mark.parametrize(("value", "normalised"), [
    ("application/pdf", "application/pdf"),
    ("Application/PDF", "application/pdf"),
    ("text/html; charset=utf-8", "text/html; charset=utf-8"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
])
def test_media_types_accepted(value, normalised):
    assert parse_media_type(value) == normalised


@pytest.mark.parametrize("value", ["pdf", "application/", "foo/bar", "application/pdf;", "a b/c"])
def test_media_types_rejected(value):
    assert parse_media_type(value) is None


@pytest.mark.parametrize("value", [
    "https://kho.hvhc.edu.vn/records/42?x=1#top", "http://example.org", "HTTPS://EXAMPLE.ORG/",
    "urn:isbn:9786040000000", "doi:10.1234/abc.def", "hdl:20.500.12345/678",
    "oai:kho.hvhc.edu.vn:42",
])
def test_uris_accepted(value):
    assert parse_uri(value) is not None


@pytest.mark.parametrize("value", [
    "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>", "ftp://x.org/f",
    "file:///etc/passwd", "https://exa mple.org", "http:///nohost", "https:example.org",
    "//example.org", "example.org", "doi:11.1/x", "urn:x", "oai:nodot:1", "https://a.org/<x>",
    "http://example.org:99999/",
])
def test_uris_rejected(value):
    assert parse_uri(value) is None


def test_dcmi_type_forms():
    assert parse_dcmi_type("Text") == "Text"
    assert parse_dcmi_type("movingimage") == "MovingImage"
    assert parse_dcmi_type("http://purl.org/dc/dcmitype/Sound") == "Sound"
    assert parse_dcmi_type("dcmitype:Dataset") == "Dataset"
    assert parse_dcmi_type("Article") is None
