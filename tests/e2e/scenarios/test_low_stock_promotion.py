"""Scenario 1 through the gateway: regional availability of a SKU drops below a
promotion's threshold, the promotion pauses for that SKU and region, a store screen
subscribed through the gateway sees it with the product's name, and checkout quotes in
that region stop applying it until stock comes back."""

from __future__ import annotations

from decimal import Decimal

from tests.e2e.gateway.subscriptions.served import (
    eventually,
    receive,
    send,
    socket_to,
    subscribe,
)
from tests.e2e.operations.support import value
from tests.e2e.scenarios.conftest import Retailer

PROMOTIONS = """subscription {
  promotionStatusChanged(channel: "store") {
    change status sku region product { name } promotion { name }
  }
}"""


async def test_low_stock_pauses_a_promotion_in_one_region_and_the_store_screen_sees_it(
    retailer: Retailer,
) -> None:
    hub = retailer.apps["pricing"].state.domain.runtime.hub
    pauses = value("retailgraph_promotion_activations_total", result="paused_low_stock")
    async with socket_to(retailer.gateway) as screen:
        await send(screen, subscribe("p", PROMOTIONS))
        await eventually(lambda: hub.subscriber_count == 1)

        await retailer.move("PICK", 7, "PICK-1")  # the north region is down to 3 units
        message = await receive(screen)
        assert message == {
            "id": "p",
            "type": "next",
            "payload": {
                "data": {
                    "promotionStatusChanged": {
                        "change": "PAUSED_FOR_LOW_STOCK",
                        "status": "PAUSED",
                        "sku": "TOP-1",
                        "region": "north",
                        "product": {"name": "Merino crew top"},
                        "promotion": {"name": "20% off"},
                    }
                }
            },
        }
    assert await retailer.store_discount("north") == 0
    assert await retailer.store_discount("south") == Decimal("4.00")
    paused = value("retailgraph_promotion_activations_total", result="paused_low_stock")
    assert paused == pauses + 1
