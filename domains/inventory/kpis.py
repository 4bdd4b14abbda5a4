"""Inventory's KPI gauges: the divergence the newest stored reconciliation found.

One indexed read of the newest reconciliation's row (its totals per cause are stored
with it), so the cost does not grow with the number of divergences. Before the first
reconciliation there is no series: nothing has been measured, which is not zero.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import bounded_read
from adapters.metrics.gauges import Probe, Reading
from domains.inventory import repository


def divergence_probe(engine: AsyncEngine, *, timeout: float = 2.0) -> Probe:
    async def probe() -> Sequence[Reading]:
        async with bounded_read(engine, statement_timeout=timeout) as conn:
            newest = await repository.load_reconciliations(conn, last=1)
        if not newest:
            return []
        readings: list[Reading] = []
        for cause, totals in newest[0].by_cause.items():
            labels = (("cause", cause.value),)
            readings.append(Reading("retailgraph_inventory_divergence_pairs", totals.pairs, labels))
            readings.append(Reading("retailgraph_inventory_divergence_units", totals.units, labels))
        return readings

    return probe
