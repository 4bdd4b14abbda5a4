"""Scenario 1 through the gateway, the whole weekend: a promotion for TOP-1 on web, app
and a chosen store, scheduled for Saturday 00:00 to Sunday 23:59, versioned and
published. When the clock passes the start, subscribers hear the window open and
checkout applies it; low stock in the north pauses it there and a receipt lifts the
pause (autoResume); rolling back restores the first version's terms everywhere; past
the end, subscribers hear the window close and nothing is discounted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kernel.clock import SettableClock
from tests.e2e.gateway.subscriptions.served import eventually, receive, send, socket_to, subscribe
from tests.e2e.operations.support import value
from tests.e2e.scenarios.conftest import Retailer, open_retailer
from tests.support import TEST_NOW

SATURDAY = datetime(2026, 11, 28, tzinfo=UTC)  # the weekend after TEST_NOW (a Sunday)
SUNDAY_END = datetime(2026, 11, 29, 23, 59, tzinfo=UTC)

CHANGES = """subscription {
  promotionStatusChanged(channel: "web") {
    change status reason sku region promotion { currentVersion }
  }
}"""

PROMOTION = """
  name: $name, startsAt: $startsAt, endsAt: $endsAt, skus: ["TOP-1"],
  channels: ["web", "app", "store"], locations: ["ST"],
  discount: {kind: PERCENT_OFF, percent: $percent}, lowStockThreshold: 5, autoResume: true
"""
CREATE = f"""mutation ($name: String!, $startsAt: DateTime!, $endsAt: DateTime!,
                      $percent: String!) {{
  createPromotion(input: {{{PROMOTION}}}) {{ id }}
}}"""
PUBLISH = f"""mutation ($id: ID!, $name: String!, $startsAt: DateTime!, $endsAt: DateTime!,
                      $percent: String!) {{
  publishPromotionVersion(id: $id, input: {{{PROMOTION}}}) {{ currentVersion }}
}}"""
ACTIVATE = "mutation ($id: ID!) { activatePromotion(id: $id) { status } }"
ROLLBACK = "mutation ($id: ID!) { rollbackPromotion(id: $id) { status currentVersion } }"

QUOTE = """query ($channel: String!, $region: String, $location: String) {
  quote(lines: [{sku: "TOP-1", quantity: 1}], channel: $channel, currency: "EUR",
        region: $region, location: $location) { discount { amount } }
}"""
PLACE = """mutation ($key: String!, $channel: String!, $type: FulfilmentType!, $at: ID!) {
  placeOrder(input: {idempotencyKey: $key, channel: $channel, customerReference: "weekend",
                     fulfilment: {type: $type, locationId: $at},
                     lines: [{sku: "TOP-1", quantity: 1}]}) {
    order { totals { discount { amount } total { amount } } }
  }
}"""


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(TEST_NOW)


@pytest.fixture
async def weekend(tmp_path: Path, clock: SettableClock) -> AsyncIterator[Retailer]:
    async with open_retailer(tmp_path, clock=clock, store_promotion=False) as retailer:
        yield retailer


async def discount(retailer: Retailer, channel: str, **where: str) -> Decimal:
    data = await retailer.post(QUOTE, channel=channel, **where)
    return Decimal(data["quote"]["discount"]["amount"])


async def checkout(retailer: Retailer, channel: str, fulfilment: str, at: str) -> dict[str, Any]:
    data = await retailer.post(
        PLACE, key=str(uuid.uuid4()), channel=channel, type=fulfilment, at=at
    )
    totals: dict[str, Any] = data["placeOrder"]["order"]["totals"]
    return {"discount": totals["discount"]["amount"], "total": totals["total"]["amount"]}


async def change(subscriber: Any) -> dict[str, Any]:
    message = await receive(subscriber)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    update: dict[str, Any] = message["payload"]["data"]["promotionStatusChanged"]
    return update


def seen(update: dict[str, Any]) -> tuple[Any, ...]:
    return (update["change"], update["status"], update["reason"], update["sku"], update["region"])


async def test_a_weekend_promotion_opens_pauses_resumes_rolls_back_and_closes(
    weekend: Retailer, clock: SettableClock
) -> None:
    retailer = weekend
    hub = retailer.apps["pricing"].state.domain.runtime.hub
    started = value("retailgraph_promotion_activations_total", result="started")
    window = {"startsAt": SATURDAY.isoformat(), "endsAt": SUNDAY_END.isoformat()}
    async with socket_to(retailer.gateway) as subscriber:
        await send(subscriber, subscribe("w", CHANGES))
        await eventually(lambda: hub.subscriber_count == 1)

        # Merchandising creates it (15%), publishes a second version (20%), activates it.
        created = await retailer.post(CREATE, name="Weekend 15%", percent="15", **window)
        pid = created["createPromotion"]["id"]
        await retailer.post(PUBLISH, id=pid, name="Weekend 20%", percent="20", **window)
        activated = await retailer.post(ACTIVATE, id=pid)
        assert activated == {"activatePromotion": {"status": "SCHEDULED"}}
        assert [seen(await change(subscriber)) for _ in range(3)] == [
            ("CREATED", "DRAFT", None, None, None),
            ("VERSION_PUBLISHED", "DRAFT", None, None, None),
            ("ACTIVATED", "SCHEDULED", None, None, None),
        ]
        assert await discount(retailer, "web", region="north") == 0  # not before Saturday

        # Saturday 00:00: the scheduler announces the window open, once.
        clock.set(SATURDAY + timedelta(seconds=1))
        opened = await change(subscriber)
        assert seen(opened) == ("WINDOW_STARTED", "ACTIVE", "WINDOW_STARTED", None, None)
        assert opened["promotion"] == {"currentVersion": 2}
        assert value("retailgraph_promotion_activations_total", result="started") == started + 1

        # Every channel, and the chosen store only: 20% of 20.00.
        assert await discount(retailer, "web", region="north") == Decimal("4.00")
        assert await discount(retailer, "app", region="north") == Decimal("4.00")
        assert await discount(retailer, "store", region="south", location="ST") == Decimal("4.00")
        assert await discount(retailer, "store", region="south", location="ST-9") == 0
        shipped = await checkout(retailer, "web", "SHIP_FROM_DC", "DC")  # north: 9 left
        assert shipped == {"discount": "4.00", "total": "16.00"}
        picked_up = await checkout(retailer, "store", "PICKUP_AT_STORE", "ST")
        assert picked_up == {"discount": "4.00", "total": "16.00"}

        # The north drops to 3 units, under the threshold of 5: paused there only.
        await retailer.move("PICK", 6, "PICK-1")
        paused = await change(subscriber)
        assert seen(paused) == ("PAUSED_FOR_LOW_STOCK", "PAUSED", "LOW_STOCK", "TOP-1", "north")
        assert await discount(retailer, "web", region="north") == 0
        assert await discount(retailer, "store", region="south", location="ST") == Decimal("4.00")

        # 200 units arrive at the DC: the pause lifts on its own.
        await retailer.move("RECEIPT", 200, "GRN-1")
        resumed = await change(subscriber)
        assert seen(resumed) == (
            "RESUMED_AFTER_LOW_STOCK",
            "ACTIVE",
            "STOCK_RECOVERED",
            "TOP-1",
            "north",
        )
        assert await discount(retailer, "web", region="north") == Decimal("4.00")

        # Rolling back restores the 15% terms everywhere.
        rolled = await retailer.post(ROLLBACK, id=pid)
        assert rolled == {"rollbackPromotion": {"status": "ROLLED_BACK", "currentVersion": 1}}
        assert seen(await change(subscriber)) == ("ROLLED_BACK", "ROLLED_BACK", None, None, None)
        assert await discount(retailer, "web", region="north") == Decimal("3.00")
        assert await discount(retailer, "app", region="north") == Decimal("3.00")
        assert await discount(retailer, "store", region="south", location="ST") == Decimal("3.00")
        shipped = await checkout(retailer, "web", "SHIP_FROM_DC", "DC")
        assert shipped == {"discount": "3.00", "total": "17.00"}

        # Sunday 23:59: the window closes, announced once; nothing is discounted.
        clock.set(SUNDAY_END + timedelta(seconds=1))
        closed = await change(subscriber)
        assert seen(closed) == ("WINDOW_ENDED", "ENDED", "WINDOW_ENDED", None, None)
        assert closed["promotion"] == {"currentVersion": 1}
        assert await discount(retailer, "web", region="north") == 0
