import pytest

from metadata import Metadata, ShapeError, Statement


def test_statement_is_frozen_and_hashable():
    statement = Statement("title", "Nhan đề", "vi")
    with pytest.raises(AttributeError):
        statement.value = "x"  # type: ignore[misc]
    assert {statement, Statement("title", "Nhan đề", "vi")} == {statement}


def test_lookup_helpers(record):
    assert record.values("creator") == ["Nguyễn Văn An", "Trần Thị Bích Ngọc"]
    assert record.values("title", "en") == ["Petroleum Logistics: a Textbook"]
    assert record.first("title") == "Giáo trình Hậu cần xăng dầu"
    assert record.first("title", "en") == "Petroleum Logistics: a Textbook"
    assert record.first("title", "fr") == "Giáo trình Hậu cần xăng dầu"
    assert record.first("mediator") is None
    assert record.terms()[:3] == ["title", "alternative", "creator"]
    assert record[0] == Statement("title", "Giáo trình Hậu cần xăng dầu", "vi")
    assert isinstance(record[:2], Metadata) and len(record[:2]) == 2


def test_first_prefers_language_then_untagged():
    md = Metadata([Statement("title", "A", "en"), Statement("title", "B"),
                   Statement("title", "C", "vi-VN")])
    assert md.first("title", "vi") == "C"
    assert md.first("title", "fr") == "B"


def test_dict_round_trip(record):
    data = record.to_dict()
    assert data["title"] == [{"value": "Giáo trình Hậu cần xăng dầu", "lang": "vi"},
                             {"value": "Petroleum Logistics: a Textbook", "lang": "en"}]
    assert data["audience"][0] == {"value": "cadet-year-3", "scheme": "audiences"}
    back = Metadata.from_dict(data)
    assert back.to_dict() == data
    assert sorted(back, key=repr) == sorted(record, key=repr)


def test_from_dict_accepts_plain_strings():
    md = Metadata.from_dict({"title": "Nhan đề", "creator": ["A", {"value": "B"}]})
    assert list(md) == [Statement("title", "Nhan đề"), Statement("creator", "A"),
                        Statement("creator", "B")]


@pytest.mark.parametrize("data", [
    [], "title", {"title": 5}, {"title": [{"value": 5}]}, {"title": [{"value": "x", "foo": 1}]},
    {"title": [{"value": "x", "lang": 3}]}, {"title": [[]]},
])
def test_from_dict_rejects_bad_shapes(data):
    with pytest.raises(ShapeError):
        Metadata.from_dict(data)
