"""The last hour of KPI readings, in memory, so the console can plot lag over time.

Prometheus keeps the real history; the console keeps just enough to draw an hour without
one. Each gateway replica keeps its own, from its start: nothing here needs to survive or
be shared (an hour of readings every 15 s is 240 small records).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from gateway.console.kpis import KpiReading, KpiSource, read_all
from gateway.security.clock import Clock

log = logging.getLogger("gateway.console")
KEPT = timedelta(hours=1)


class KpiHistory:
    """Reads ``sources`` every ``interval`` seconds while started; keeps an hour."""

    def __init__(self, sources: Sequence[KpiSource], clock: Clock, interval: float) -> None:
        self.sources = tuple(sources)
        self.interval = interval
        self._clock = clock
        self._readings: deque[KpiReading] = deque(maxlen=int(KEPT.total_seconds() / interval) + 1)
        self._task: asyncio.Task[None] | None = None

    @property
    def readings(self) -> list[KpiReading]:
        return list(self._readings)

    async def sample(self) -> KpiReading:
        """Reads the KPIs now and keeps the reading."""
        reading = await read_all(self.sources, self._clock.now())
        self._readings.append(reading)
        oldest = reading.at - KEPT
        while self._readings and self._readings[0].at < oldest:
            self._readings.popleft()
        return reading

    def to_json(self) -> dict[str, Any]:
        readings = self.readings
        return {
            "interval": self.interval,
            "latest": readings[-1].to_json() if readings else None,
            "history": [reading.to_json() for reading in readings],
        }

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="console-kpis")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for source in self.sources:
            await source.aclose()

    async def _run(self) -> None:
        while True:
            try:
                await self.sample()
            except Exception:
                # A reading that fails leaves a gap on the plot; the next one may work.
                log.exception("reading the KPIs for the console failed")
            await asyncio.sleep(self.interval)
