"""Injected time, so that tests control expiry and deadlines without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        self._now = when


def as_utc(value: datetime) -> datetime:
    """A user-supplied time as aware UTC; a time without offset is taken to be UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sqlite_time_text(value: datetime) -> str:
    """The text ``db.UTCDateTime`` stores on SQLite (naive UTC), for SQL run through the
    driver: times compare as text there, so they must be written exactly so. (Here, not
    in ``db``: import workers use it and need no SQLAlchemy.)"""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
