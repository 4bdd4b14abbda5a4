"""Scenario 2 through the gateway on the embedded shape: hundreds of concurrent checkouts
for a SKU with 50 sellable units sell exactly 50, refuse the rest with the stock left,
and the ERP receives the 50 orders once each at the worker's configured rate, never in a
burst, until the queue is empty."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.e2e.scenarios.embedded_shop import (
    AS_OPERATOR,
    AS_STOREFRONT,
    PLACE_ORDER,
    RATE,
    embedded_shop,
)
from tests.integration.inventory.conftest import stock

SKU = "TOP-2"
SELLABLE = 50
BUYERS = 200
WAIT = 90.0

STOCK = """
query { product(sku: "TOP-2") {
  stock(locationId: "DC") { onHand committed reserved available }
  availability(channel: "web") { available }
} }
"""
QUEUE = "query { erpQueue { waiting deadLettered } }"


async def test_a_flash_sale_sells_exactly_the_sellable_units_and_the_erp_drains_at_its_rate(
    tmp_path: Path,
) -> None:
    async with embedded_shop(tmp_path / "data") as shop:
        inventory = shop.app.state.domains["inventory"]
        await stock(inventory, SKU, "DC", on_hand=SELLABLE)
        await stock(inventory, SKU, "ST", on_hand=0)

        async def buy() -> Any:
            return await shop.answer(
                PLACE_ORDER, AS_STOREFRONT, key=f"flash-{uuid.uuid4()}", sku=SKU, quantity=1
            )

        answers = await asyncio.gather(*(buy() for _ in range(BUYERS)))

        placed = [a["data"]["placeOrder"]["order"] for a in answers if "errors" not in a]
        refusals = Counter(e["extensions"]["code"] for a in answers for e in a.get("errors", []))
        assert len(placed) == SELLABLE
        assert refusals == {"INSUFFICIENT_STOCK": BUYERS - SELLABLE}
        assert len({order["number"] for order in placed}) == SELLABLE

        product = (await shop.post(STOCK, AS_OPERATOR))["product"]
        held = product["stock"]["committed"] + product["stock"]["reserved"]
        assert (product["stock"]["onHand"], held, product["stock"]["available"]) == (
            SELLABLE,
            SELLABLE,
            0,
        )
        # Each order's reservation becomes a commitment of its unit once inventory hears
        # of the order; none is left over.
        deadline = time.monotonic() + WAIT
        while product["stock"]["reserved"]:
            assert time.monotonic() < deadline, product
            await asyncio.sleep(0.1)
            product = (await shop.post(STOCK, AS_OPERATOR))["product"]
        assert product["stock"] == {
            "onHand": SELLABLE,
            "committed": SELLABLE,
            "reserved": 0,
            "available": 0,
        }
        assert product["availability"]["available"] == 0

        deadline = time.monotonic() + WAIT
        while (queue := (await shop.post(QUEUE, AS_OPERATOR))["erpQueue"])["waiting"]:
            assert time.monotonic() < deadline, f"the ERP queue did not drain: {queue}"
            await asyncio.sleep(0.2)
        assert queue == {"waiting": 0, "deadLettered": 0}

    posts = [p for p in shop.erp.posts() if p.operation == "post_sales_order"]
    numbers = sorted(order["number"] for order in placed)
    assert sorted(p.reference for p in posts) == numbers  # each order posted exactly once
    assert sorted(s.reference for s in shop.erp.sales()) == numbers
    # Paced at the worker's rate, never a burst: RATE + 1 consecutive posts span most of a
    # second (a stalled event loop may let one token's post go with the next one's), and
    # the 50 take at least 90% of 49 periods.
    arrivals = sorted(p.arrived_at for p in posts)
    step = int(RATE)
    spans = [later - earlier for earlier, later in zip(arrivals, arrivals[step:], strict=False)]
    assert min(spans) >= timedelta(seconds=(step - 1) / RATE * 0.9), spans
    assert arrivals[-1] - arrivals[0] >= timedelta(seconds=0.9 * (SELLABLE - 1) / RATE)
