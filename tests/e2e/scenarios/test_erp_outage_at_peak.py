"""Scenario 7 through the gateway on the embedded shape: the operator takes the simulated
ERP down (`retailgraph erp simulate outage on`, its own process), checkouts carry on and
every order shows its ERP sync PENDING with the reason; the ERP comes back and every order
is posted exactly once, at the worker's configured rate (the simulator's record of when
each post arrived), not in a burst."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from datetime import timedelta
from pathlib import Path

from tests.e2e.scenarios.embedded_shop import RATE, Shop, embedded_shop

ORDERS = 8
WAIT = 60.0


async def _until(shop: Shop, orders: list[dict[str, str]], status: str) -> list[dict[str, object]]:
    deadline = time.monotonic() + WAIT
    while True:
        syncs = [await shop.erp_sync(order["id"]) for order in orders]
        if all(sync["status"] == status and (status != "PENDING" or sync["lastError"])
               for sync in syncs):  # fmt: skip
            return syncs
        assert time.monotonic() < deadline, f"not all {status}: {syncs}"
        await asyncio.sleep(0.1)


async def test_orders_queue_during_an_erp_outage_and_drain_once_each_at_the_erps_rate(
    tmp_path: Path,
) -> None:
    async with embedded_shop(tmp_path / "data") as shop:
        down = await shop.command("erp", "simulate", "outage", "on")
        assert "is down" in down
        orders = [await shop.place(f"peak-{uuid.uuid4()}") for _ in range(ORDERS)]

        waiting = await _until(shop, orders, "PENDING")
        assert all("ERP is down" in str(sync["lastError"]) for sync in waiting)
        assert all(sync["nextAttemptAt"] and sync["erpDocumentId"] is None for sync in waiting)
        assert shop.erp.sales() == []

        up = await shop.command("erp", "simulate", "outage", "off")
        assert "is up" in up
        posted = await _until(shop, orders, "POSTED")

    numbers = sorted(order["number"] for order in orders)
    posts = [p for p in shop.erp.posts() if p.operation == "post_sales_order"]
    assert sorted(p.reference for p in posts) == numbers  # each order posted exactly once
    sales = shop.erp.sales()
    assert sorted(s.reference for s in sales) == numbers
    assert all([(line.sku, line.quantity) for line in s.lines] == [("TOP-1", 1)] for s in sales)
    assert {str(sync["erpDocumentId"]) for sync in posted} == {s.document_id for s in sales}
    # The drain is paced: one post per 1/RATE s (the bucket holds one token), never a burst.
    arrivals = [p.arrived_at for p in posts]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert min(gaps) >= timedelta(seconds=0.5 / RATE), gaps
    assert arrivals[-1] - arrivals[0] >= timedelta(seconds=0.9 * (ORDERS - 1) / RATE)
