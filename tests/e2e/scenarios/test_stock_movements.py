"""Scenario 5 through the gateway: an inbound receipt at a DC and a transfer out of a
store arrive as deltas; availability per channel is recomputed, the store's screen
subscribed through the gateway sees its new level, and replaying the same movements
changes nothing."""

from __future__ import annotations

from typing import Any

from tests.e2e.gateway.subscriptions.served import eventually, receive, send, socket_to, subscribe
from tests.e2e.scenarios.conftest import Retailer

STORE_SCREEN = """subscription {
  stockChanged(locationId: "ST", skus: ["TOP-1"]) {
    locationId stockLevel { onHand incoming available } product { name }
  }
}"""

MOVEMENTS = """mutation {
  applyStockMovements(movements: [
    { type: RECEIPT, sku: "TOP-1", locationId: "DC", quantity: 6, sourceDocumentId: "ASN-1" }
    { type: TRANSFER, sku: "TOP-1", locationId: "ST", toLocationId: "DC", quantity: 4,
      sourceDocumentId: "TO-1" }
  ]) {
    applied { sourceDocumentId } duplicates { sourceDocumentId } rejected { code }
  }
}"""

FOUND_ONE = """mutation {
  applyStockMovements(movements: [{ type: ADJUSTMENT, sku: "TOP-1", locationId: "ST",
                                    quantity: 1, sourceDocumentId: "FOUND-1" }]) {
    rejected { code }
  }
}"""

LEVELS = """query {
  product(sku: "TOP-1") {
    dc: stock(locationId: "DC") { onHand incoming available }
    store: stock(locationId: "ST") { onHand incoming available }
    web: availability(channel: "web") { available }
    app: availability(channel: "app") { available }
    inStore: availability(channel: "store") { available }
  }
}"""


async def test_a_receipt_and_a_transfer_update_channels_and_the_store_screen_once(
    retailer: Retailer,
) -> None:
    hub = retailer.apps["inventory"].state.domain.runtime.hub
    async with socket_to(retailer.gateway) as screen:
        await send(screen, subscribe("s", STORE_SCREEN))
        await eventually(lambda: hub.subscriber_count == 1)

        first = await retailer.post(MOVEMENTS)
        seen: dict[str, Any] = (await receive(screen))["payload"]["data"]["stockChanged"]

        assert first["applyStockMovements"] == {
            "applied": [{"sourceDocumentId": "ASN-1"}, {"sourceDocumentId": "TO-1"}],
            "duplicates": [],
            "rejected": [],
        }
        # The store's screen: 4 of its 10 units left for the DC.
        assert seen == {
            "locationId": "ST",
            "stockLevel": {"onHand": 6, "incoming": 0, "available": 6},
            "product": {"name": "Merino crew top"},
        }
        after = (await retailer.post(LEVELS))["product"]
        # DC: 10 + 6 received on hand, the 4 on their way from the store in transit. The web
        # counts in-transit units (20 at the DC) and sells from the store too (6); the app
        # takes half the DC's sellable units (8); the store channel sells the store's 6.
        assert after == {
            "dc": {"onHand": 16, "incoming": 4, "available": 16},
            "store": {"onHand": 6, "incoming": 0, "available": 6},
            "web": {"available": 26},
            "app": {"available": 8},
            "inStore": {"available": 6},
        }

        again = await retailer.post(MOVEMENTS)
        assert again["applyStockMovements"] == {
            "applied": [],
            "duplicates": [{"sourceDocumentId": "ASN-1"}, {"sourceDocumentId": "TO-1"}],
            "rejected": [],
        }
        assert (await retailer.post(LEVELS))["product"] == after
        # The screen's next update is the next real change: the replay sent none.
        found = await retailer.post(FOUND_ONE)
        assert found["applyStockMovements"]["rejected"] == []
        following = (await receive(screen))["payload"]["data"]["stockChanged"]
        assert following["stockLevel"]["onHand"] == 7
