"""The academy's local time. Dates and times are typed and shown where the academy is
(``BABEL_DEFAULT_TIMEZONE``) and stored in UTC; these are the only conversions between the
two."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


def academy_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_now(now: datetime) -> datetime:
    return now.astimezone(academy_zone())


def local_date(moment: datetime) -> date:
    return moment.astimezone(academy_zone()).date()


def local_day(value: datetime | None) -> date | None:
    return None if value is None else local_date(value)


def local_day_start(day: date | None) -> datetime | None:
    """The first second of ``day`` where the academy is, in UTC."""
    if day is None:
        return None
    return datetime.combine(day, time(0, 0), academy_zone()).astimezone(UTC)


def local_day_end(day: date | None) -> datetime | None:
    """The last second of ``day`` where the academy is, in UTC (a due date)."""
    if day is None:
        return None
    return datetime.combine(day, time(23, 59, 59), academy_zone()).astimezone(UTC)


def local_to_utc(value: datetime | None) -> datetime | None:
    """A date and time typed where the academy is (naive), in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=academy_zone()).astimezone(UTC)


def utc_to_local(value: datetime | None) -> datetime | None:
    """A UTC date and time as the academy's naive local one, for a form's field."""
    if value is None:
        return None
    return value.astimezone(academy_zone()).replace(tzinfo=None)
