"""A circuit breaker in front of the ERP: stop calling it while it is down.

After ``failure_threshold`` consecutive failures the breaker opens and nothing is sent
for ``reset_timeout`` seconds; then it lets one probe through (half-open). The probe's
success closes it, its failure opens it again. While open, postings are not claimed at
all, so an outage does not burn their attempts towards the dead-letter limit.

The breaker is per process: each worker finds out for itself, after a few failures, that
the ERP is down, which costs at most ``failure_threshold`` calls per worker per timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        reset_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or reset_timeout <= 0:
            raise ValueError("A breaker needs a threshold of 1 or more and a positive timeout")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.reset_timeout:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def permits(self, wanted: int) -> int:
        """How many calls may start now, out of ``wanted``: all when closed, one probe
        when half-open (and none while that probe is out), none when open."""
        state = self.state
        if state is BreakerState.CLOSED:
            return wanted
        if state is BreakerState.HALF_OPEN and not self._probing and wanted > 0:
            self._probing = True
            return 1
        return 0

    def retry_in(self) -> float:
        """Seconds until the breaker lets a probe through (0 when it already would)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.reset_timeout - self._clock())

    def abandon_probe(self) -> None:
        """The probe let through was not used (there was nothing to send)."""
        self._probing = False

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
            self._probing = False
