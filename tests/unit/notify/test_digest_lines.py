"""The lines of an e-mail digest: one rendering per printed text, never a wrong date."""

from __future__ import annotations

from lms.notify.digests import LineRenderer


def test_lines_that_print_the_same_day_share_one_rendering(app_ctx):
    render = LineRenderer()

    def due(moment: str) -> str:
        return render("en", "due_soon", {"title": "Kỹ năng số", "date": moment})

    # 09:00 and 16:59 UTC fall on 5 December in Hà Nội; 17:30 UTC is already the 6th there.
    morning, evening = due("2026-12-05T09:00:00+00:00"), due("2026-12-05T16:59:00+00:00")
    next_day = due("2026-12-05T17:30:00+00:00")
    assert morning == evening == "Kỹ năng số is due on Dec 5, 2026."
    assert next_day == "Kỹ năng số is due on Dec 6, 2026."
    assert len(render.cache) == 2


def test_a_date_that_does_not_parse_prints_nothing_and_keeps_its_own_line(app_ctx):
    render = LineRenderer()
    assert render("en", "due_soon", {"title": "A", "date": "not a date"}) == "A is due on ."
    assert render("en", "due_soon", {"title": "A", "date": "2026-12-05T09:00:00+00:00"}) == \
        "A is due on Dec 5, 2026."
