"""The KPI gauges the console shows beside what GraphQL answers: event lag per consumer,
outbox depth per domain, and the ERP backlog as Prometheus sees it.

They exist only as gauges, kept by the processes that own the data
(``retailgraph/kpis.py``). ``retailgraph run`` keeps them all in its own registry; a split
deployment keeps them in each subgraph's and worker's, which the console reads from their
``/metrics`` (Prometheus' text format), bounded in size and time like any call the gateway
makes. The gateway knows the metrics by their names only: they are the product's
interface (docs/operations.md), not the domains' code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import aiohttp
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from gateway.sessions import open_session

EVENT_LAG = "retailgraph_event_lag_seconds"
OUTBOX_DEPTH = "retailgraph_outbox_depth"
ERP_BACKLOG = "retailgraph_erp_backlog"
ERP_BACKLOG_OLDEST = "retailgraph_erp_backlog_oldest_seconds"
ERP_DEAD_LETTERS = "retailgraph_erp_dead_letters"
_WANTED = frozenset({EVENT_LAG, OUTBOX_DEPTH, ERP_BACKLOG, ERP_BACKLOG_OLDEST, ERP_DEAD_LETTERS})
# A process's whole exposition is a few hundred kilobytes at most; more is not /metrics.
MAX_SCRAPE_BYTES = 4_000_000
SCRAPE_TIMEOUT = 2.0

Series = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True, slots=True)
class KpiReading:
    """The KPIs at one moment; a gauge no source reported is absent, not zero."""

    at: datetime
    event_lag: Mapping[str, float]  # consumer -> seconds
    outbox_depth: Mapping[str, float]  # domain -> events
    erp_backlog: Mapping[str, float]  # kind -> postings
    erp_backlog_oldest: float | None  # seconds
    erp_dead_letters: Mapping[str, float]  # kind -> postings
    # The sources that could not be read this time, with why.
    unreachable: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "eventLag": dict(self.event_lag),
            "outboxDepth": dict(self.outbox_depth),
            "erpBacklog": dict(self.erp_backlog),
            "erpBacklogOldestSeconds": self.erp_backlog_oldest,
            "erpDeadLetters": dict(self.erp_dead_letters),
            "unreachable": dict(self.unreachable),
        }


def reading_of(
    samples: Mapping[Series, float], at: datetime, unreachable: Mapping[str, str] | None = None
) -> KpiReading:
    def by(name: str, label: str) -> dict[str, float]:
        return {
            dict(labels).get(label, ""): value
            for (series, labels), value in sorted(samples.items())
            if series == name
        }

    return KpiReading(
        at=at,
        event_lag=by(EVENT_LAG, "consumer"),
        outbox_depth=by(OUTBOX_DEPTH, "domain"),
        erp_backlog=by(ERP_BACKLOG, "kind"),
        erp_backlog_oldest=samples.get((ERP_BACKLOG_OLDEST, ())),
        erp_dead_letters=by(ERP_DEAD_LETTERS, "kind"),
        unreachable=dict(unreachable or {}),
    )


def kpi_samples(samples: Iterable[Sample], into: dict[Series, float]) -> None:
    """Adds the KPI series among ``samples`` to ``into``. Two processes may keep the same
    series (the orders subgraph and the ERP worker both read the ERP backlog): the larger
    value stands, the one that does not hide a problem."""
    for sample in samples:
        if sample.name not in _WANTED:
            continue
        series = (sample.name, tuple(sorted(sample.labels.items())))
        into[series] = max(sample.value, into.get(series, sample.value))


class KpiSource(Protocol):
    name: str

    async def read(self, into: dict[Series, float]) -> None:
        """Adds what the source keeps to ``into``; raises when it cannot be read."""
        ...

    async def aclose(self) -> None: ...


class RegistrySource:
    """This process's registry: the whole system's KPIs in ``retailgraph run``."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.name = "this process"
        self._registry = registry

    async def read(self, into: dict[Series, float]) -> None:
        for family in self._registry.collect():
            kpi_samples(family.samples, into)

    async def aclose(self) -> None:
        pass


class ScrapeSource:
    """Another process's ``/metrics``, read as Prometheus reads it."""

    def __init__(self, url: str, *, proxy: str | None = None) -> None:
        self.name = url
        self._proxy = proxy
        # opened on first use, inside the event loop that owns it
        self._session: aiohttp.ClientSession | None = None

    async def read(self, into: dict[Series, float]) -> None:
        if self._session is None:
            self._session = open_session(1, proxy=self._proxy)
        body = bytearray()
        async with self._session.get(
            self.name,
            timeout=aiohttp.ClientTimeout(total=SCRAPE_TIMEOUT),
            allow_redirects=False,
            raise_for_status=True,
        ) as response:
            async for chunk in response.content.iter_any():
                body += chunk
                if len(body) > MAX_SCRAPE_BYTES:
                    raise ValueError(f"more than {MAX_SCRAPE_BYTES} bytes")
        for family in text_string_to_metric_families(body.decode("utf-8", errors="replace")):
            kpi_samples(family.samples, into)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def read_all(sources: Sequence[KpiSource], at: datetime) -> KpiReading:
    """The KPIs from every source; one that fails is named in ``unreachable``."""
    samples: dict[Series, float] = {}
    unreachable: dict[str, str] = {}

    async def read(source: KpiSource) -> None:
        try:
            await source.read(samples)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as error:
            unreachable[source.name] = str(error)[:200] or type(error).__name__

    # At once: one process that does not answer costs its timeout, not everyone's.
    await asyncio.gather(*(read(source) for source in sources))
    return reading_of(samples, at, unreachable)
