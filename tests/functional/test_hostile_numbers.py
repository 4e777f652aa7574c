"""Numbers in URLs and forms beyond what the database holds: bad input, answered as such (404,
or the value ignored), never a 500 from a driver that cannot bind them."""

from __future__ import annotations

import pytest

from tests.training_world import signed_in, text

pytestmark = pytest.mark.functional

TOO_LARGE = ("2147483648", "99999999999999999999999", "9" * 5000)


@pytest.mark.parametrize("number", TOO_LARGE)
@pytest.mark.parametrize("path", ["/records/{}", "/train/courses/{}", "/quizzes/{}",
                                  "/admin/users/{}", "/jobs/{}"])
def test_an_id_in_the_path_beyond_the_database_is_not_found(app, world, path, number):
    admin = signed_in(app, "admin")
    assert admin.client.get(path.format(number)).status_code == 404


@pytest.mark.parametrize("number", TOO_LARGE)
def test_a_page_or_a_filter_beyond_the_database_is_ignored(app, world, number):
    admin = signed_in(app, "admin")
    users = admin.client.get(f"/admin/users?page={number}&unit={number}")
    assert users.status_code == 200
    assert "hv1" in text(users)  # page 1 of every unit's people
    assert admin.client.get(f"/train/assignments?course={number}&page={number}") \
        .status_code == 200
    report = admin.client.get(f"/reports/?unit={number}&audience={number}")
    assert report.status_code == 200


def test_a_digit_that_is_not_a_number_is_not_a_unit(app, world):
    admin = signed_in(app, "admin")
    assert admin.client.get("/reports/?unit=²&group=³").status_code == 200
