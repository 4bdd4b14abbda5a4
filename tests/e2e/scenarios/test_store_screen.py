"""Scenario 10 through the gateway: a store associate's screen sees the store's new
pickup orders and their status changes live, with product names from the products
subgraph, and after a reconnect it gets exactly what it missed."""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.gateway.subscriptions.served import eventually, receive, send, socket_to, subscribe
from tests.e2e.scenarios.conftest import Retailer

PICKUPS = """subscription ($after: String) {
  ordersAtLocation(locationId: "ST", after: $after) {
    cursor kind status order { number lines { product { name } } }
  }
}"""

PLACE = """mutation ($key: String!, $channel: String!, $type: FulfilmentType!, $at: ID!) {
  placeOrder(input: {idempotencyKey: $key, channel: $channel, customerReference: "screen",
                     fulfilment: {type: $type, locationId: $at},
                     lines: [{sku: "TOP-1", quantity: 1}]}) {
    order { id number }
  }
}"""


async def place(retailer: Retailer, fulfilment: str, location: str) -> dict[str, str]:
    channel = "store" if fulfilment == "PICKUP_AT_STORE" else "web"
    data = await retailer.post(
        PLACE, key=str(uuid.uuid4()), channel=channel, type=fulfilment, at=location
    )
    order: dict[str, str] = data["placeOrder"]["order"]
    return order


async def update(screen: Any) -> dict[str, Any]:
    message = await receive(screen)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    data: dict[str, Any] = message["payload"]["data"]["ordersAtLocation"]
    return data


async def test_the_store_screen_sees_new_pickup_orders_and_their_changes_and_resumes(
    retailer: Retailer,
) -> None:
    hub = retailer.apps["orders"].state.domain.runtime.hub
    async with socket_to(retailer.gateway) as screen:
        await send(screen, subscribe("s", PICKUPS))
        await eventually(lambda: hub.subscriber_count == 1)
        await place(retailer, "SHIP_FROM_DC", "DC")  # shipped from the DC: not the store's
        order = await place(retailer, "PICKUP_AT_STORE", "ST")
        created = await update(screen)
        assert {k: created[k] for k in ("kind", "status", "order")} == {
            "kind": "CREATED",
            "status": "PENDING",
            "order": {
                "number": order["number"],
                "lines": [{"product": {"name": "Merino crew top"}}],
            },
        }
    await eventually(lambda: hub.subscriber_count == 0)  # the gateway let go upstream

    # While the screen is away, the order is confirmed.
    await retailer.post(
        'mutation ($id: ID!) { confirmOrder(id: $id, idempotencyKey: "confirm") { id } }',
        id=order["id"],
    )
    async with socket_to(retailer.gateway) as screen:
        await send(screen, subscribe("s", PICKUPS, after=created["cursor"]))
        confirmed = await update(screen)
        assert (confirmed["kind"], confirmed["status"]) == ("STATUS_CHANGED", "CONFIRMED")
        assert confirmed["order"]["number"] == order["number"]
        # Nothing else was missed, and nothing comes twice: the next one is a new order.
        later = await place(retailer, "PICKUP_AT_STORE", "ST")
        assert (await update(screen))["order"]["number"] == later["number"]
