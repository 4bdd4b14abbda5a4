"""Inventory's subscriptions over a real graphql-transport-ws socket, on the in-process bus."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domains.inventory import service
from domains.inventory.app import create_app
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.model import StockLevel
from tests.integration.inventory.conftest import new_sku, seed_locations, stock
from tests.integration.subscriptions.conftest import RuntimeFactory
from tests.live_subscriptions import serving_over_tcp, subscribers_reach, ws_client
from tests.support import local_runtime

STOCK = """subscription ($loc: ID!, $skus: [ID!], $after: String) {
  stockChanged(locationId: $loc, skus: $skus, after: $after) {
    cursor sku locationId product { sku }
    stockLevel { onHand reserved available }
  }
}"""

AVAILABILITY = """subscription ($sku: ID!, $channel: String!) {
  availabilityChanged(sku: $sku, channel: $channel) { cursor sku channel available product { sku } }
}"""


@pytest.fixture
async def live(
    engine: AsyncEngine, make_runtime: RuntimeFactory
) -> AsyncIterator[tuple[str, InventoryDomain]]:
    app = create_app(make_runtime(), engine=engine)
    async with serving_over_tcp(app) as base_url:
        domain: InventoryDomain = app.state.domain
        await seed_locations(domain)
        yield base_url, domain


async def test_stock_changed_sends_the_named_quantities_of_the_skus_asked_for(
    live: tuple[str, InventoryDomain],
) -> None:
    base_url, domain = live
    sku, other = new_sku(), new_sku()
    async with ws_client(base_url) as client:
        await client.subscribe("1", STOCK, {"loc": "DC", "skus": [sku]})
        await subscribers_reach(domain.runtime.hub, 1)
        await stock(domain, other, "DC", on_hand=3)
        await stock(domain, sku, "ST", on_hand=4)
        await stock(domain, sku, "DC", on_hand=7, safety_stock=2)
        change = (await client.next_data("1"))["stockChanged"]
        assert change["sku"] == sku
        assert change["locationId"] == "DC"
        assert change["product"] == {"sku": sku}
        assert change["stockLevel"] == {"onHand": 7, "reserved": 0, "available": 5}
        assert change["cursor"]


async def test_availability_changed_follows_one_sku_in_one_channel(
    live: tuple[str, InventoryDomain],
) -> None:
    base_url, domain = live
    sku = new_sku()
    async with ws_client(base_url) as client:
        await client.subscribe("a", AVAILABILITY, {"sku": sku, "channel": "store"})
        await subscribers_reach(domain.runtime.hub, 1)
        await stock(domain, sku, "DC", on_hand=9)  # the DC does not serve the store channel
        await stock(domain, sku, "ST", on_hand=6)
        change = (await client.next_data("a"))["availabilityChanged"]
        assert change == {
            "cursor": change["cursor"],
            "sku": sku,
            "channel": "store",
            "available": 6,
            "product": {"sku": sku},
        }


async def test_stock_changed_resumes_after_a_cursor_with_no_gap_and_no_duplicate(
    live: tuple[str, InventoryDomain],
) -> None:
    base_url, domain = live
    sku = new_sku()
    variables = {"loc": "DC", "skus": [sku]}
    async with ws_client(base_url) as client:
        await client.subscribe("1", STOCK, variables)
        await subscribers_reach(domain.runtime.hub, 1)
        await stock(domain, sku, "DC", on_hand=1)
        seen = (await client.next_data("1"))["stockChanged"]
    await subscribers_reach(domain.runtime.hub, 0)  # the disconnect unsubscribed it
    await stock(domain, sku, "DC", on_hand=2)  # missed while away
    await stock(domain, sku, "ST", on_hand=9)  # another location: not wanted
    await stock(domain, sku, "DC", on_hand=3)  # missed while away
    async with ws_client(base_url) as client:
        await client.subscribe("2", STOCK, {**variables, "after": seen["cursor"]})
        await subscribers_reach(domain.runtime.hub, 1)
        await stock(domain, sku, "DC", on_hand=4)
        await stock(domain, sku, "DC", on_hand=5)
        got = [(await client.next_data("2"))["stockChanged"] for _ in range(4)]
    assert [g["stockLevel"]["onHand"] for g in got] == [2, 3, 4, 5]


async def test_stock_changed_with_a_cursor_it_never_gave_is_an_error_frame(
    live: tuple[str, InventoryDomain],
) -> None:
    base_url, domain = live
    async with ws_client(base_url) as client:
        await client.subscribe("1", STOCK, {"loc": "DC", "after": "nonsense"})
        message = await client.next_message("1")
        await client.subscribe("2", STOCK, {"loc": "x" * 65})
        too_long = await client.next_message("2")
        await client.subscribe("3", STOCK, {"loc": "DC", "after": "0-0," * 1000})
        huge_cursor = await client.next_message("3")
    assert message["type"] == "error"
    assert [e["extensions"]["code"] for e in message["payload"]] == ["INVALID_CURSOR"]
    assert too_long["type"] == "error"
    assert [e["extensions"]["code"] for e in too_long["payload"]] == ["BAD_USER_INPUT"]
    assert [e["extensions"]["code"] for e in huge_cursor["payload"]] == ["INVALID_CURSOR"]
    assert domain.runtime.hub.subscriber_count == 0


async def test_a_subscriber_that_falls_behind_is_dropped_with_a_cursor_to_resume_from(
    engine: AsyncEngine,
) -> None:
    runtime = local_runtime()
    runtime.hub.queue_size = 2
    app = create_app(runtime, engine=engine)
    skus = sorted(new_sku() for _ in range(5))
    async with serving_over_tcp(app) as base_url:
        domain: InventoryDomain = app.state.domain
        await seed_locations(domain)
        async with ws_client(base_url) as client:
            await client.subscribe("1", STOCK, {"loc": "DC", "skus": skus})
            await subscribers_reach(runtime.hub, 1)
            # One commit, relayed as one batch: five events before the socket sends one.
            await service.import_stock_levels(
                domain.uow(), [StockLevel(sku, "DC", on_hand=n) for n, sku in enumerate(skus, 1)]
            )
            dropped = await client.next_message("1")
            assert (await client.next_message("1"))["type"] == "complete"
            (error,) = dropped["payload"]["errors"]
            assert error["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW"
            assert runtime.hub.subscriber_count == 0
            # Nothing is lost: resuming from the cursor in the error replays all five.
            after = error["extensions"]["cursor"]
            await client.subscribe("2", STOCK, {"loc": "DC", "skus": skus, "after": after})
            got = [(await client.next_data("2"))["stockChanged"] for _ in range(5)]
    assert [(g["sku"], g["stockLevel"]["onHand"]) for g in got] == [
        (sku, n) for n, sku in enumerate(skus, 1)
    ]
    await runtime.close()
