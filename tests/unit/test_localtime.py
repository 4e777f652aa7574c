"""The academy's local time (Asia/Ho_Chi_Minh, UTC+7) and UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lms.localtime import (
    local_date,
    local_day,
    local_day_end,
    local_day_start,
    local_now,
    local_to_utc,
    utc_to_local,
)


def test_a_day_starts_and_ends_where_the_academy_is(app_ctx):
    assert local_day_start(date(2026, 3, 1)) == datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
    assert local_day_end(date(2026, 3, 1)) == datetime(2026, 3, 1, 16, 59, 59, tzinfo=UTC)


def test_a_moment_after_five_in_the_afternoon_utc_is_the_next_local_day(app_ctx):
    assert local_date(datetime(2026, 3, 1, 17, 30, tzinfo=UTC)) == date(2026, 3, 2)
    assert local_day(datetime(2026, 3, 1, 16, 30, tzinfo=UTC)) == date(2026, 3, 1)


def test_local_now_is_the_same_moment_at_seven_hours_ahead(app_ctx):
    now = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    assert local_now(now).isoformat() == "2026-03-02T06:00:00+07:00"


def test_a_typed_local_time_goes_to_utc_and_back_to_the_same_form_value(app_ctx):
    typed = datetime(2026, 3, 2, 8, 15)
    stored = local_to_utc(typed)
    assert stored == datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
    assert utc_to_local(stored) == typed


def test_no_value_stays_no_value(app_ctx):
    assert [local_day(None), local_day_start(None), local_day_end(None), local_to_utc(None),
            utc_to_local(None)] == [None, None, None, None, None]
