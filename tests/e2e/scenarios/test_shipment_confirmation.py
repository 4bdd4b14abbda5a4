"""Scenario 6 through the gateway: the warehouse confirms a partial shipment, then the
rest; the order goes to partially shipped, then shipped, and each step reaches the
customer's channel by subscription. A shipment confirmed twice counts once."""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.gateway.subscriptions.served import eventually, receive, send, socket_to, subscribe
from tests.e2e.scenarios.conftest import Retailer

PLACE = """mutation ($key: String!) {
  placeOrder(input: {idempotencyKey: $key, channel: "web", customerReference: "shipments",
                     fulfilment: {type: SHIP_FROM_DC, locationId: "DC"},
                     lines: [{sku: "TOP-1", quantity: 3}]}) {
    order { id lines { id } }
  }
}"""
STEP = "mutation ($id: ID!, $key: String!) { %s(id: $id, idempotencyKey: $key) { status } }"
SHIP = """mutation ($id: ID!, $line: ID!, $quantity: Int!, $reference: String!) {
  confirmShipment(id: $id, idempotencyKey: $reference,
                  lines: [{lineId: $line, quantity: $quantity}], reference: $reference) {
    status lines { quantityShipped }
  }
}"""
FOLLOW = """subscription ($id: ID!) {
  orderStatusChanged(orderId: $id) { status previousStatus }
}"""


async def status_update(socket: Any) -> dict[str, Any]:
    message = await receive(socket)
    assert message["type"] == "next", message
    update: dict[str, Any] = message["payload"]["data"]["orderStatusChanged"]
    return update


async def test_a_partial_shipment_then_the_rest_reach_the_customer_once_each(
    retailer: Retailer,
) -> None:
    placed = (await retailer.post(PLACE, key=str(uuid.uuid4())))["placeOrder"]["order"]
    order, line = placed["id"], placed["lines"][0]["id"]
    hub = retailer.apps["orders"].state.domain.runtime.hub
    async with socket_to(retailer.gateway) as customer:
        await send(customer, subscribe("o", FOLLOW, id=order))
        await eventually(lambda: hub.subscriber_count == 1)
        previous = "PENDING"
        for step, status in (
            ("confirmOrder", "CONFIRMED"),
            ("authorizePayment", "PAYMENT_AUTHORIZED"),
            ("releaseOrderToFulfilment", "RELEASED_TO_FULFILMENT"),
        ):
            await retailer.post(STEP % step, id=order, key=f"{order}-{step}")
            assert await status_update(customer) == {"status": status, "previousStatus": previous}
            previous = status

        first = await retailer.post(SHIP, id=order, line=line, quantity=2, reference="SHIP-1")
        assert first["confirmShipment"] == {
            "status": "PARTIALLY_SHIPPED",
            "lines": [{"quantityShipped": 2}],
        }
        assert await status_update(customer) == {
            "status": "PARTIALLY_SHIPPED",
            "previousStatus": "RELEASED_TO_FULFILMENT",
        }

        repeated = await retailer.post(SHIP, id=order, line=line, quantity=2, reference="SHIP-1")
        assert repeated["confirmShipment"]["lines"] == [{"quantityShipped": 2}]

        rest = await retailer.post(SHIP, id=order, line=line, quantity=1, reference="SHIP-2")
        assert rest["confirmShipment"] == {"status": "SHIPPED", "lines": [{"quantityShipped": 3}]}
        # The next update is the second shipment's: the repeated first one sent none.
        assert await status_update(customer) == {
            "status": "SHIPPED",
            "previousStatus": "PARTIALLY_SHIPPED",
        }
