"""What a report or a target may be about: the courses and tracks offered, and the item a
form posts."""

from __future__ import annotations

import pytest

from lms.extensions import db
from lms.reports.services import report_item, reportable_items
from tests.factories import CourseFactory, TrackFactory


def test_drafts_are_not_offered_and_the_rest_are_in_title_order(app_ctx):
    CourseFactory(title="Tin học", published=True)
    CourseFactory(title="An toàn", archived=True)
    CourseFactory(title="Bản nháp")
    TrackFactory(title="Lộ trình số", published=True)
    TrackFactory(title="Lộ trình nháp")
    db.session.flush()
    courses, tracks = reportable_items()
    assert ([c.title for c in courses], [t.title for t in tracks]) == (
        ["An toàn", "Tin học"], ["Lộ trình số"])


def test_an_item_names_its_course_or_its_track(app_ctx):
    course, track = CourseFactory(published=True), TrackFactory(published=True)
    db.session.flush()
    assert report_item(f"course:{course.id}") == (course, None)
    assert report_item(f"track:{track.id}") == (None, track)


@pytest.mark.parametrize("value", ["", "course:", "course:x", "lesson:1", "course:-1",
                                   "course:999999", "track:999999",
                                   "course:99999999999999999999999"])
def test_an_item_not_understood_or_not_found_names_nothing(app_ctx, value):
    assert report_item(value) == (None, None)
