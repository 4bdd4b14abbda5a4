"""Where every "now" comes from: a clock the process hands to each domain and worker.

Business rules never read the machine's time themselves. Promotions, reservation expiry,
effective prices, outbox and feed timestamps and ERP retry schedules all ask the clock
they were given, so a test (or a replay of a past day) can fix or move time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock:
    """A clock set to a moment: it stands still there, or with ``running`` it goes on from
    it at the machine's pace (so timeouts and expiries still pass, on a fixed calendar)."""

    def __init__(self, at: datetime, *, running: bool = False) -> None:
        self._at = _aware(at)
        self._running = running
        self._since = time.monotonic()

    def now(self) -> datetime:
        if not self._running:
            return self._at
        return self._at + timedelta(seconds=time.monotonic() - self._since)

    def set(self, at: datetime) -> None:
        self._at = _aware(at)
        self._since = time.monotonic()

    def advance(self, by: timedelta) -> datetime:
        self._at = self.now() + by
        self._since = time.monotonic()
        return self._at


def as_utc(moment: datetime) -> datetime:
    """A moment in UTC; a naive one (as SQLite hands timestamps back) is taken to be UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a clock's moment must carry a timezone")
    return at.astimezone(UTC)
