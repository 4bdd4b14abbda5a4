"""The demo retailer as an ERP: a simulator holding its item master, prices and stock, so
the sync commands show something real on the embedded default.

The demo's stock is one snapshot, in our inventory and in the simulator's seed alike, and
the demo orders are its past: their sales and cancellations reach the simulator as
history (``post_history``), which moves none of its stock, while their returns, which our
stock took back as the demo loaded, move its stock as they would. A fresh demo then
reconciles without a divergence.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from erp.port import Item
from erp.posting import queue
from erp.posting.worker import ErpSyncWorker
from erp.posting.worker_settings import WorkerSettings
from erp.rate_limit import LocalRateLimiter
from erp.simulator import SimulatedErp
from erp.simulator_store import StoredSimulator
from kernel.clock import Clock
from retailgraph.demo.catalog import DemoCatalog, demo_catalog

# One-off: the demo's past goes to the simulator in one go, not at an ERP's pace.
_HISTORY = WorkerSettings(concurrency=8, poll_interval=0.01, rate=10_000, burst=10_000)


def demo_simulator(
    catalog: DemoCatalog | None = None, *, clock: Clock | None = None
) -> SimulatedErp:
    """A simulator holding the demo retailer, as the ERP of the embedded default."""
    catalog = catalog or demo_catalog()
    items = [
        Item(
            sku=item.sku,
            name=item.name,
            list_price=item.base_prices["EUR"],
            attributes={
                "brand": item.brand,
                "category": item.category,
                "unit_of_measure": item.unit_of_measure,
                "description": item.description,
                "style": item.style,
            },
        )
        for item in catalog.items
    ]
    stock = {(row.sku, row.location_id): Decimal(row.on_hand) for row in catalog.stock}
    return SimulatedErp(items=items, stock=stock, clock=clock)


async def post_history(
    orders: AsyncEngine, erp: SimulatedErp | StoredSimulator, clock: Clock
) -> int:
    """Post what the just-loaded demo orders owe the ERP as the demo's history; returns
    how many documents were posted. Run before the ERP worker starts, on a fresh demo."""
    worker = ErpSyncWorker(
        orders,
        erp,
        settings=_HISTORY,
        limiter=LocalRateLimiter(rate=_HISTORY.rate, capacity=_HISTORY.burst),
        clock=clock,
        owner="demo-history",
    )
    erp.history = True
    try:
        while True:
            backlog = await queue.backlog(orders)
            if backlog.pending + backlog.in_progress == 0:
                return worker.posted
            if not await worker.run_once():
                await asyncio.sleep(0.01)  # a retry waits out its backoff
    finally:
        erp.history = False
