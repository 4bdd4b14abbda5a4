"""The KPI gauges: read by a background task every few seconds, served from its cache.

prometheus_client asks its collectors synchronously, on the thread that serves the
scrape; a database read there would block the event loop (or need a loop of its own).
So each process that owns the data runs ``refreshing`` in its lifespan: a task that calls
its probes (bounded reads: an indexed count over the pending rows, with a statement
timeout) every ``interval`` seconds and keeps the readings; the one collector in the
default registry hands out the latest. A probe that fails or overruns drops its series
until it reads again, so a dashboard shows a gap rather than a stale, reassuring number.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reading:
    """One gauge's value for one set of labels."""

    name: str
    value: float
    labels: tuple[tuple[str, str], ...] = ()


Probe = Callable[[], Awaitable[Sequence[Reading]]]

# The gauges (their names and labels are part of the product's interface), with help.
GAUGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "retailgraph_erp_backlog": (
        "ERP postings not yet posted (pending or in progress), by document kind.",
        ("kind",),
    ),
    "retailgraph_erp_backlog_oldest_seconds": (
        "Age of the oldest ERP posting not yet posted, in seconds (0 with no backlog).",
        (),
    ),
    "retailgraph_erp_dead_letters": (
        "ERP postings given up on, waiting for a fix and a replay, by document kind.",
        ("kind",),
    ),
    "retailgraph_outbox_depth": (
        "Events committed by a domain but not yet relayed to the bus.",
        ("domain",),
    ),
    "retailgraph_event_lag_seconds": (
        "Age of the oldest event a consumer has been given and not yet handled, in seconds.",
        ("consumer",),
    ),
    "retailgraph_inventory_divergence_pairs": (
        "SKU-location pairs where the ERP's on hand and ours differed at the newest "
        "reconciliation, by likely cause.",
        ("cause",),
    ),
    "retailgraph_inventory_divergence_units": (
        "Units by which the ERP's on hand and ours differed at the newest reconciliation "
        "(absolute differences summed), by likely cause.",
        ("cause",),
    ),
    "retailgraph_price_parity_violations": (
        "SKUs whose effective base price differs between the channels that must share one "
        "([pricing] parity_channels), by currency.",
        ("currency",),
    ),
}


class CachedGauges(Collector):
    """The collector: the readings of every running refresher, merged by labels."""

    def __init__(self) -> None:
        self._readings: dict[int, dict[str, list[Reading]]] = {}

    def store(self, source: int, probe: str, readings: Sequence[Reading]) -> None:
        self._readings.setdefault(source, {})[probe] = list(readings)

    def forget(self, source: int, probe: str | None = None) -> None:
        if probe is None:
            self._readings.pop(source, None)
        else:
            self._readings.get(source, {}).pop(probe, None)

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
        for by_probe in list(self._readings.values()):
            for readings in list(by_probe.values()):
                for reading in readings:
                    merged.setdefault(reading.name, {})[reading.labels] = reading.value
        for name, (documentation, label_names) in GAUGES.items():
            family = GaugeMetricFamily(name, documentation, labels=list(label_names))
            for labels, value in sorted(merged.get(name, {}).items()):
                named = dict(labels)
                family.add_metric([named.get(label, "") for label in label_names], value)
            yield family


KPI_GAUGES = CachedGauges()
REGISTRY.register(KPI_GAUGES)
_sources = itertools.count(1)


async def refresh(source: int, probes: dict[str, Probe], *, each_within: float) -> None:
    """One pass: each probe in turn, each within ``each_within`` seconds."""
    for name, probe in probes.items():
        try:
            async with asyncio.timeout(each_within):
                readings = await probe()
        except Exception:
            log.warning("KPI probe %s failed; its gauges are dropped until it reads", name)
            log.debug("KPI probe %s", name, exc_info=True)
            KPI_GAUGES.forget(source, name)
        else:
            KPI_GAUGES.store(source, name, readings)


@contextlib.asynccontextmanager
async def refreshing(probes: dict[str, Probe], *, interval: float = 5.0) -> AsyncIterator[None]:
    """Keeps the gauges of ``probes`` (by name) fresh every ``interval`` seconds while the
    block runs; read once before it starts, so the first scrape has them."""
    source = next(_sources)
    timeout = max(interval, 1.0)
    await refresh(source, probes, each_within=timeout)

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            await refresh(source, probes, each_within=timeout)

    task = asyncio.create_task(loop(), name="kpi-gauges")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        KPI_GAUGES.forget(source)
