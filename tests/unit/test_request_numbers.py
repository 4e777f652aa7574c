"""The bound on numbers a request may name (lms.web.request_int and the ``int`` converter)."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from lms.web import MAX_REQUEST_INT, request_int


def test_numbers_up_to_the_bound_are_read_and_beyond_it_are_not_numbers():
    values = MultiDict([("id", str(MAX_REQUEST_INT)), ("id", str(MAX_REQUEST_INT + 1)),
                        ("id", "-3"), ("id", "x"), ("page", "9" * 5000)])
    assert values.getlist("id", type=request_int) == [MAX_REQUEST_INT, -3]
    assert values.get("page", 1, type=request_int) == 1


def test_the_route_converter_matches_up_to_the_bound(app):
    adapter = app.url_map.bind("localhost")
    assert adapter.match(f"/records/{MAX_REQUEST_INT}")[1] == {"record_id": MAX_REQUEST_INT}
    with pytest.raises(NotFound):
        adapter.match(f"/records/{MAX_REQUEST_INT + 1}")
