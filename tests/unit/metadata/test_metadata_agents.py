import pytest

from metadata.agents import agent


@pytest.mark.parametrize(("name", "organisation", "family", "given"), [
    ("Trần Văn Giảng", False, "Trần", "Văn Giảng"),
    ("Nguyen Van An", False, "Nguyen", "Van An"),
    ("John Smith", False, "Smith", "John"),
    ("Smith, John", False, "Smith", "John"),
    ("Homer", False, "Homer", None),
    ("VnExpress", True, None, None),
    ("BQP", True, None, None),
    ("Phòng Đào tạo", True, None, None),
    ("Học viện Hậu cần", True, None, None),
    ("Nhà xuất bản Quân đội nhân dân", True, None, None),
    ("Vietnam National University", True, None, None),
])
def test_people_and_organisations(name, organisation, family, given):
    found = agent(name)
    assert (found.is_organisation, found.family, found.given) == (organisation, family, given)


def test_inverted_name():
    assert agent("Trần Văn Giảng").inverted == "Trần, Văn Giảng"
    assert agent("Phòng Đào tạo").inverted == "Phòng Đào tạo"
