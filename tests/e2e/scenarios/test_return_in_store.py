"""Scenario 3 through the gateway: bought online with a promotion, returned in store.

A web order for 2 units of TOP-1 (20.00 EUR, 15% off on the web: 17.00 paid a unit),
shipped from the DC and delivered, is brought back to the store ST. The store finds it by
its number and sees the discount applied, and receives one unit restocked and one damaged
as one return. The store's stock takes both (on hand 10 -> 12, quarantined 0 -> 1,
available 10 -> 11), the refund is the 34.00 paid, not the 40.00 list price, and the ERP
(the simulator) gets one return document at ST for the two units. Receiving it again
changes nothing, and the ERP's own move of the return, read back by the stock poller, is
not counted a second time. Until the ERP has the return document, the units the store took
back are a pending movement in the reconciliation, not an unexplained difference.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx

from erp.port import Item
from erp.simulator import SimulatedErp
from erp.sync.reconcile import reconcile_inventory
from erp.sync.stock import StockPoller
from tests.e2e.scenarios.conftest import Retailer
from tests.integration.orders.erp_support import drain, fast_worker
from tests.integration.pricing.support import live_promotion, percent_terms, settle

PLACE = """mutation ($key: String!) {
  placeOrder(input: {idempotencyKey: $key, channel: "web", customerReference: "online",
                     fulfilment: {type: SHIP_FROM_DC, locationId: "DC"},
                     lines: [{sku: "TOP-1", quantity: 2}]}) {
    order { id number lines { id } }
  }
}"""

FULFIL = """mutation ($id: ID!, $line: ID!) {
  confirmOrder(id: $id, idempotencyKey: "confirm") { status }
  authorizePayment(id: $id, idempotencyKey: "pay", reference: "PAY-1") { status }
  releaseOrderToFulfilment(id: $id, idempotencyKey: "release") { status }
  confirmShipment(id: $id, idempotencyKey: "ship", lines: [{lineId: $line, quantity: 2}],
                  reference: "SHIP-1") {
    status
  }
  confirmDelivery(id: $id, idempotencyKey: "deliver") { status }
  requestReturn(id: $id, idempotencyKey: "return", lines: [{lineId: $line, quantity: 2}],
                reason: "changed mind") {
    status
  }
}"""

BY_NUMBER = """query ($number: String!) {
  orderByNumber(number: $number) {
    id number channel status fulfilment { locationId }
    lines {
      id sku quantity quantityReturnRequested
      unitPrice { amount } promotionalUnitPrice { amount } discount { amount }
    }
    totals { subtotal { amount } discount { amount } total { amount } }
  }
}"""

RECEIVE = """mutation ($id: ID!, $line: ID!) {
  confirmReturn(id: $id, idempotencyKey: "ST-RETURN-1", locationId: "ST",
                reference: "ST-RETURN-1",
                lines: [{lineId: $line, quantity: 1, disposition: RESTOCK},
                        {lineId: $line, quantity: 1, disposition: DAMAGED}]) {
    status lines { quantityReturned }
  }
}"""

REFUND = """mutation ($id: ID!) {
  refundOrder(id: $id, idempotencyKey: "REFUND-1", reference: "REFUND-1") {
    status totals { refunded { amount } }
  }
}"""

STOCK = """query ($at: ID!) {
  product(sku: "TOP-1") { stock(locationId: $at) { onHand committed quarantined available } }
}"""


async def stock_at(retailer: Retailer, location: str) -> dict[str, int]:
    data = await retailer.post(STOCK, at=location)
    found: dict[str, int] = data["product"]["stock"]
    return found


async def settled_stock(retailer: Retailer, location: str, expected: dict[str, int]) -> None:
    """Wait for the stock at ``location`` to read ``expected`` (events are asynchronous)."""
    seen: dict[str, Any] = {}
    for _ in range(300):
        seen = await stock_at(retailer, location)
        if seen == expected:
            return
        await asyncio.sleep(0.02)
    assert seen == expected


async def test_a_web_order_with_a_promotion_is_returned_in_store_restocked_and_quarantined(
    retailer: Retailer,
) -> None:
    pricing = retailer.apps["pricing"].state.domain
    await live_promotion(pricing, percent_terms("15", skus=["TOP-1"], channels=["web"]), "WEB-15")
    await settle(pricing)
    orders = retailer.apps["orders"].state.domain
    inventory = retailer.apps["inventory"].state.domain
    erp = SimulatedErp(
        items=[Item("TOP-1", "Merino crew top", Decimal("20.00"))],
        stock={("TOP-1", "DC"): Decimal(10), ("TOP-1", "ST"): Decimal(10)},
    )
    poller = StockPoller(erp, inventory)
    await poller.poll_once()  # the ERP's starting position

    placed = (await retailer.post(PLACE, key=str(uuid.uuid4())))["placeOrder"]["order"]
    order_id, number, line = placed["id"], placed["number"], placed["lines"][0]["id"]
    steps = await retailer.post(FULFIL, id=order_id, line=line)
    assert steps["requestReturn"] == {"status": "RETURN_REQUESTED"}
    before = {"onHand": 10, "committed": 0, "quarantined": 0, "available": 10}
    assert await stock_at(retailer, "ST") == before

    # At the store: the receipt's number finds the web order and the discount it had.
    found = (await retailer.post(BY_NUMBER, number=number))["orderByNumber"]
    assert found["id"] == order_id
    assert (found["channel"], found["status"]) == ("web", "RETURN_REQUESTED")
    assert found["fulfilment"] == {"locationId": "DC"}
    assert found["lines"] == [
        {
            "id": line,
            "sku": "TOP-1",
            "quantity": 2,
            "quantityReturnRequested": 2,
            "unitPrice": {"amount": "20.00"},
            "promotionalUnitPrice": {"amount": "17.00"},
            "discount": {"amount": "6.00"},
        }
    ]
    assert found["totals"] == {
        "subtotal": {"amount": "40.00"},
        "discount": {"amount": "6.00"},
        "total": {"amount": "34.00"},
    }

    received = (await retailer.post(RECEIVE, id=order_id, line=line))["confirmReturn"]
    assert received == {"status": "RETURNED", "lines": [{"quantityReturned": 2}]}
    after = {"onHand": 12, "committed": 0, "quarantined": 1, "available": 11}
    await settled_stock(retailer, "ST", after)

    refunded = (await retailer.post(REFUND, id=order_id))["refundOrder"]
    assert refunded == {"status": "REFUNDED", "totals": {"refunded": {"amount": "34.00"}}}

    # Nothing has reached the ERP yet: the store's two returned units are on their way.
    waiting = await reconcile_inventory(erp, inventory, orders=orders.engine)
    assert [
        (d.sku, d.location_id, d.erp, d.ours, d.pending, d.cause.value) for d in waiting.divergences
    ] == [("TOP-1", "ST", 10, 12, -2, "pending-movement")]
    repaired = await reconcile_inventory(erp, inventory, orders=orders.engine, repair=True)
    assert repaired.repaired == []

    await drain(orders.engine, fast_worker(orders.engine, erp))
    [document] = erp.sales_by_reference(f"{number}/R1")
    assert document.location == "ST"
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in document.lines] == [
        ("TOP-1", Decimal(-1), Decimal("17.00")),
        ("TOP-1", Decimal(-1), Decimal("17.00")),
    ]

    # The same receipt again changes nothing, here or in the ERP.
    again = (await retailer.post(RECEIVE, id=order_id, line=line))["confirmReturn"]
    assert again == {"status": "REFUNDED", "lines": [{"quantityReturned": 2}]}
    await drain(orders.engine, fast_worker(orders.engine, erp))
    assert erp.sales_by_reference(f"{number}/R2") == []
    assert erp.calls.count("post_return") == 1

    # The ERP's moves come back: the sale's pick leaves the DC; the return's move into ST
    # was taken in already.
    polled = await poller.poll_once()
    assert [(m.type.value, m.location_id, m.quantity) for m in polled.applied] == [
        ("PICK", "DC", 2)
    ]
    await asyncio.sleep(0.1)  # any late event would land here
    assert await stock_at(retailer, "ST") == after
    assert await stock_at(retailer, "DC") == {
        "onHand": 8,
        "committed": 0,
        "quarantined": 0,
        "available": 8,
    }
    assert (await reconcile_inventory(erp, inventory, orders=orders.engine)).divergences == []


RECEIVE_AT = """mutation ($id: ID!, $key: String!, $line: ID!, $at: ID,
                          $disposition: ReturnDisposition) {
  confirmReturn(id: $id, idempotencyKey: $key, locationId: $at,
                lines: [{lineId: $line, quantity: 1}],
                disposition: $disposition) { status }
}"""


async def refused(retailer: Retailer, query: str, **variables: Any) -> list[Any]:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"http://{retailer.gateway}/graphql", json={"query": query, "variables": variables}
        )
    body = response.json()
    assert body["data"] is None, body
    return [(error["extensions"]["code"], error["message"]) for error in body["errors"]]


async def test_a_return_names_a_location_that_takes_it_and_a_disposition_for_each_unit(
    retailer: Retailer,
) -> None:
    placed = (await retailer.post(PLACE, key=str(uuid.uuid4())))["placeOrder"]["order"]
    order_id, line = placed["id"], placed["lines"][0]["id"]
    await retailer.post(FULFIL, id=order_id, line=line)

    nowhere = await refused(
        retailer,
        RECEIVE_AT,
        id=order_id,
        key="at-nowhere",
        line=line,
        at="NOWHERE",
        disposition="RESTOCK",
    )
    undecided = await refused(
        retailer, RECEIVE_AT, id=order_id, key="undecided", line=line, at="ST"
    )

    assert nowhere == [("UNKNOWN_LOCATION", "No location has the id 'NOWHERE'")]
    assert undecided == [
        (
            "BAD_USER_INPUT",
            "Give each returned line a disposition, or the mutation one for all of them",
        )
    ]
    # Neither took a unit back.
    assert await stock_at(retailer, "ST") == {
        "onHand": 10,
        "committed": 0,
        "quarantined": 0,
        "available": 10,
    }
    unchanged = (await retailer.post(BY_NUMBER, number=placed["number"]))["orderByNumber"]
    assert unchanged["status"] == "RETURN_REQUESTED"

    # Without a location, the unit comes back where the order was fulfilled (the DC,
    # where the order's 2 units are still committed: the ERP's pick has not come back).
    dc = await stock_at(retailer, "DC")
    one = await retailer.post(
        RECEIVE_AT, id=order_id, key="one-back", line=line, disposition="RESTOCK"
    )
    assert one == {"confirmReturn": {"status": "RETURN_REQUESTED"}}
    await settled_stock(retailer, "DC", {**dc, "onHand": dc["onHand"] + 1, "available": 9})
    assert dc == {"onHand": 10, "committed": 2, "quarantined": 0, "available": 8}
