"""The probes of the gauges every domain has: its outbox depth and its consumers' lag."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import func, select

from adapters.db.engine import bounded_read
from adapters.metrics.gauges import Probe, Reading
from adapters.metrics.lag import EventLag
from adapters.runtime import DomainBase


def outbox_probe(domains: Mapping[str, DomainBase], *, timeout: float = 2.0) -> Probe:
    """Each domain's events not yet relayed: a count over the outbox's index of its
    unpublished rows, cancelled past ``timeout``."""

    async def probe() -> Sequence[Reading]:
        readings = []
        for name, domain in domains.items():
            table = domain.relay.table
            unpublished = select(func.count()).select_from(table)
            unpublished = unpublished.where(table.c.published_at.is_(None))
            async with bounded_read(domain.engine, statement_timeout=timeout) as conn:
                depth = (await conn.execute(unpublished)).scalar_one()
            readings.append(Reading("retailgraph_outbox_depth", depth, (("domain", name),)))
        return readings

    return probe


def lag_probe(lag: EventLag) -> Probe:
    async def probe() -> Sequence[Reading]:
        return lag.readings()

    return probe
