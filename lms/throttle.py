"""Fixed-window failure counters shared by all worker processes.

Redis when ``REDIS_URL`` is set, otherwise a table in the application database: never
per-process memory, which gunicorn's several workers would each count separately.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from lms.db import utcnow
from lms.extensions import db
from lms.models import ThrottleCounter


class CounterStore(Protocol):
    def count(self, key: str) -> int: ...
    def hit(self, key: str) -> int: ...
    def reset(self, key: str) -> None: ...


class DatabaseCounterStore:
    """Counters in ``throttle_counters``, each written in its own short transaction."""

    def __init__(self, window: timedelta) -> None:
        self.window = window

    def count(self, key: str) -> int:
        row = db.session.get(ThrottleCounter, key)
        if row is None or utcnow() - row.window_start >= self.window:
            return 0
        return row.count

    def hit(self, key: str) -> int:
        try:
            return self._hit(key)
        except IntegrityError:
            # Another process created the row between our read and our insert.
            return self._hit(key)

    def _hit(self, key: str) -> int:
        now = utcnow()
        with db.engine.begin() as connection:
            row = connection.execute(
                select(ThrottleCounter.window_start, ThrottleCounter.count)
                .where(ThrottleCounter.key == key)
                .with_for_update()
            ).first()
            table = ThrottleCounter.__table__
            if row is None:
                connection.execute(table.insert().values(key=key, window_start=now, count=1))
                count = 1
            elif now - row.window_start >= self.window:
                connection.execute(
                    table.update().where(table.c.key == key).values(window_start=now, count=1)
                )
                count = 1
            else:
                connection.execute(
                    table.update().where(table.c.key == key).values(count=table.c.count + 1)
                )
                count = row.count + 1
        db.session.expire_all()
        return count

    def reset(self, key: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))
        db.session.expire_all()


class RedisCounterStore:
    def __init__(self, url: str, window: timedelta) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self.window = window

    def count(self, key: str) -> int:
        return int(self.redis.get(f"lms:throttle:{key}") or 0)

    def hit(self, key: str) -> int:
        name = f"lms:throttle:{key}"
        with self.redis.pipeline() as pipe:
            pipe.incr(name)
            pipe.expire(name, int(self.window.total_seconds()), nx=True)
            count, _ = pipe.execute()
        return int(count)

    def reset(self, key: str) -> None:
        self.redis.delete(f"lms:throttle:{key}")


def counter_store(window: timedelta | None = None) -> CounterStore:
    """Counters over fixed windows of ``window`` (by default the login throttle's)."""
    if window is None:
        window = timedelta(seconds=current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    if current_app.config.get("REDIS_URL"):
        return RedisCounterStore(current_app.config["REDIS_URL"], window)
    return DatabaseCounterStore(window)
