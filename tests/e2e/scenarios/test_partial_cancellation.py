"""Scenario 8 through the gateway on the embedded shape: a partial cancellation.

A web order of three lines shipped from the DC: 3 TOP-1 at 20.00, 1 TOP-2 at 35.50 and
2 MUG-1 at 9.99 (115.48), posted to the ERP (the simulator). The operator cancels the
MUG-1 line, then one TOP-1, sends that request again (a retry after a lost answer),
and cancels a second TOP-1. Each cancellation releases exactly its units, the totals
follow (55.50 left), the ERP's sale is amended once per cancellation by exactly its
units (under "<number>/C1..C3", none dead-lettered), and once the stock poller has read
the ERP's moves, `retailgraph reconcile inventory` finds no divergence.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.e2e.scenarios.embedded_shop import (
    AS_OPERATOR,
    AS_STOREFRONT,
    SKUS,
    Shop,
    embedded_shop,
)

CATALOGUE = (*SKUS, "MUG-1")
PLACE = """mutation ($key: String!) {
  placeOrder(input: {
    idempotencyKey: $key, channel: "web", customerReference: "scenario-8"
    fulfilment: { type: SHIP_FROM_DC, locationId: "DC" }
    lines: [{ sku: "TOP-1", quantity: 3 }, { sku: "TOP-2", quantity: 1 },
            { sku: "MUG-1", quantity: 2 }]
  }) { order { id number lines { id sku } totals { total { amount } } } }
}"""
CANCEL = """mutation ($id: ID!, $key: String!, $line: ID!, $quantity: Int!) {
  cancelOrderLines(id: $id, idempotencyKey: $key, reason: "customer call",
                   lines: [{ lineId: $line, quantity: $quantity }]) {
    status
    lines { sku quantity quantityCancelled status }
    totals { subtotal { amount } total { amount } }
  }
}"""
STOCK = """query ($sku: ID!) {
  product(sku: $sku) { stock(locationId: "DC") { onHand committed available } }
}"""
WAIT = 60.0


async def availability(shop: Shop) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for sku in CATALOGUE:
        found[sku] = (await shop.post(STOCK, AS_OPERATOR, sku=sku))["product"]["stock"]
    return found


async def settled(shop: Shop, expected: dict[str, dict[str, int]]) -> None:
    """Wait for the DC's stock to read ``expected`` (inventory hears of orders by events)."""
    seen: dict[str, dict[str, int]] = {}
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        seen = await availability(shop)
        if seen == expected:
            return
        await asyncio.sleep(0.05)
    assert seen == expected


async def posted(shop: Shop, order_id: str) -> dict[str, Any]:
    """The order's ERP sync once every document it owes is posted."""
    deadline = time.monotonic() + WAIT
    while (sync := await shop.erp_sync(order_id))["status"] != "POSTED":
        assert sync["status"] != "DEAD_LETTERED", sync
        assert time.monotonic() < deadline, f"the order's documents were not posted: {sync}"
        await asyncio.sleep(0.1)
    return sync


async def test_partial_cancellations_release_their_units_amend_the_erp_once_and_reconcile(
    tmp_path: Path,
) -> None:
    async with embedded_shop(tmp_path / "data", skus=CATALOGUE) as shop:
        assert "First poll" in await shop.command("sync", "stock")  # the ERP's position
        data = await shop.post(PLACE, AS_STOREFRONT, key=f"scenario-8-{uuid.uuid4()}")
        order = data["placeOrder"]["order"]
        assert order["totals"] == {"total": {"amount": "115.48"}}
        line = {ln["sku"]: ln["id"] for ln in order["lines"]}
        await settled(
            shop,
            {
                "TOP-1": {"onHand": 10, "committed": 3, "available": 7},
                "TOP-2": {"onHand": 10, "committed": 1, "available": 9},
                "MUG-1": {"onHand": 10, "committed": 2, "available": 8},
            },
        )
        await posted(shop, order["id"])

        async def cancel(key: str, sku: str, quantity: int) -> Any:
            return await shop.answer(
                CANCEL, AS_OPERATOR, id=order["id"], key=key, line=line[sku], quantity=quantity
            )

        mug = (await cancel("cancel-mug", "MUG-1", 2))["data"]["cancelOrderLines"]
        one = (await cancel("cancel-top-1", "TOP-1", 1))["data"]["cancelOrderLines"]
        retried = (await cancel("cancel-top-1", "TOP-1", 1))["data"]["cancelOrderLines"]
        reused = await cancel("cancel-top-1", "TOP-1", 2)
        two = (await cancel("cancel-top-2", "TOP-1", 1))["data"]["cancelOrderLines"]

        assert mug["status"] == "PARTIALLY_CANCELLED"
        assert mug["totals"] == {"subtotal": {"amount": "95.50"}, "total": {"amount": "95.50"}}
        assert one["totals"] == {"subtotal": {"amount": "75.50"}, "total": {"amount": "75.50"}}
        assert retried == one  # the same answer, and no second unit cancelled
        assert reused["data"] is None
        assert [e["extensions"]["code"] for e in reused["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
        assert two == {
            "status": "PARTIALLY_CANCELLED",
            "lines": [
                {"sku": "TOP-1", "quantity": 3, "quantityCancelled": 2, "status": "OPEN"},
                {"sku": "TOP-2", "quantity": 1, "quantityCancelled": 0, "status": "OPEN"},
                {"sku": "MUG-1", "quantity": 2, "quantityCancelled": 2, "status": "CANCELLED"},
            ],
            "totals": {"subtotal": {"amount": "55.50"}, "total": {"amount": "55.50"}},
        }
        # Each cancellation gave back exactly its units.
        await settled(
            shop,
            {
                "TOP-1": {"onHand": 10, "committed": 1, "available": 9},
                "TOP-2": {"onHand": 10, "committed": 1, "available": 9},
                "MUG-1": {"onHand": 10, "committed": 0, "available": 10},
            },
        )

        # The ERP's sale is amended once per cancellation, by exactly its units.
        sync = await posted(shop, order["id"])
        assert sync["attempts"] == 1
        number = order["number"]
        assert [(p.operation, p.reference) for p in shop.erp.posts()] == [
            ("post_sales_order", number),
            ("post_cancellation", f"{number}/C1"),
            ("post_cancellation", f"{number}/C2"),
            ("post_cancellation", f"{number}/C3"),
        ]
        [sale] = shop.erp.sales_by_reference(number)
        assert sale.state == "confirmed"
        assert [(ln.sku, ln.quantity) for ln in sale.lines] == [
            ("TOP-1", Decimal(1)),
            ("TOP-2", Decimal(1)),
        ]

        # The ERP's moves come back to us; then the ERP and we agree everywhere.
        await shop.command("sync", "stock")
        report = json.loads(await shop.command("reconcile", "inventory", "--json"))
        assert report["divergences"] == []
        assert report["compared"] == 6
        assert (await availability(shop))["TOP-1"] == {
            "onHand": 9,
            "committed": 0,
            "available": 9,
        }
